// TurnBudget: requests go on at once while their turn of the event loop has time left; after that
// they wait, in arrival order, one per later turn, with timers running between them.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {setImmediate as nextImmediate} from 'node:timers/promises'
import {TurnBudget} from '../../../src/lib/http/turn-budget.js'

/** A clock the test moves: the budget reads it, nothing else does. */
function manualClock(): {now: () => number; advance: (ms: number) => void} {
  let t = 1000
  return {now: () => t, advance: (ms) => { t += ms }}
}

describe('TurnBudget', () => {
  it('lets requests go on at once while the turn has run less than the budget', async () => {
    const clock = manualClock()
    const budget = new TurnBudget(10, clock.now)
    assert.equal(budget.admit(), undefined)
    clock.advance(4)
    assert.equal(budget.admit(), undefined)
    clock.advance(5)
    assert.equal(budget.admit(), undefined, '9 ms into the turn: still within 10')
    await nextImmediate()
    clock.advance(50)
    assert.equal(budget.admit(), undefined, 'a new turn starts its own count')
  })

  it('holds requests once the turn spent its budget, lets them go in arrival order one per later turn, newcomers behind them', async () => {
    const clock = manualClock()
    const budget = new TurnBudget(10, clock.now)
    // Counts turns of the event loop: an immediate queued from an immediate runs in the next turn.
    let turn = 0
    let counter: NodeJS.Immediate | undefined
    const count = (): void => {
      turn++
      counter = setImmediate(count)
    }
    counter = setImmediate(count)
    const went: Array<[string, number]> = []
    try {
      assert.equal(budget.admit(), undefined)
      clock.advance(12)
      const a = budget.admit()
      const b = budget.admit()
      assert.ok(a && b, 'over budget: both wait')
      void a.then(() => went.push(['a', turn]))
      void b.then(() => went.push(['b', turn]))
      assert.equal(budget.waiting, 2)
      for (let i = 0; i < 100 && went.length === 0; i++) await nextImmediate()
      assert.deepEqual(went.map(([name]) => name), ['a'], 'one per turn')
      // A newcomer in a later turn, its budget untouched, still queues behind the one waiting.
      const c = budget.admit()
      assert.ok(c, 'a newcomer waits while others wait')
      void c.then(() => went.push(['c', turn]))
      for (let i = 0; i < 100 && went.length < 3; i++) await nextImmediate()
      assert.deepEqual(went.map(([name]) => name), ['a', 'b', 'c'], 'in arrival order')
      assert.ok(went[0][1] < went[1][1] && went[1][1] < went[2][1], `each in a later turn than the one before (turns ${went.map(([, t]) => t).join(', ')})`)
      assert.equal(budget.waiting, 0)
      await nextImmediate()
      await nextImmediate()
      assert.equal(budget.admit(), undefined, 'with nobody waiting, a fresh turn admits at once again')
    } finally {
      clearImmediate(counter)
    }
  })
})
