// Reads batched per event-loop turn (server/read-index-batch.ts): the callers of one key in one turn
// share one run and its outcome (success or failure), keys run apart, a later turn runs again, and
// nothing runs before the turn ends (so every caller of the batch joined before it asked). The
// leader's side reads an older peer's body-less 'read-index' request as 'consistent' and refuses a
// bad mode; a follower refuses an answer that is no index.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {systemClock} from '../../../src/lib/clock.js'
import {answeredIndex, PerTurn, requestedReadMode} from '../../../src/lib/server/read-index-batch.js'

describe('PerTurn', () => {
  it('runs once per key for the callers of one turn, after the turn; a later turn runs again', async () => {
    const batches = new PerTurn<string, number>(systemClock)
    const runs: string[] = []
    let next = 0
    const run = (key: string) => async () => {
      runs.push(key)
      return ++next
    }
    const leader = [1, 2, 3, 4].map(() => batches.join('leader', run('leader')))
    const consistent = [1, 2, 3].map(() => batches.join('consistent', run('consistent')))
    assert.deepEqual(runs, [], 'nothing runs before the turn ends')
    const [l, c] = await Promise.all([Promise.all(leader), Promise.all(consistent)])
    assert.deepEqual(runs, ['leader', 'consistent'], 'one run per key for seven callers')
    assert.equal(new Set(l).size, 1, `the four share one outcome: ${l.join(', ')}`)
    assert.equal(new Set(c).size, 1, `the three share one outcome: ${c.join(', ')}`)
    assert.notEqual(l[0], c[0])
    const later = await batches.join('leader', run('leader'))
    assert.deepEqual(runs, ['leader', 'consistent', 'leader'], 'a later turn runs again')
    assert.equal(later, 3)
  })

  it('fails every caller of a run that fails', async () => {
    const batches = new PerTurn<string, number>(systemClock)
    const settled = await Promise.allSettled([1, 2, 3].map(() => batches.join('k', async () => { throw new Error('no leader') })))
    assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected'])
    for (const s of settled) assert.match(String((s as PromiseRejectedResult).reason), /no leader/)
  })
})

describe('read-index requests and answers', () => {
  it('the leader reads an older peer\'s body-less request as consistent and refuses an unknown mode', () => {
    assert.equal(requestedReadMode(null), 'consistent')
    assert.equal(requestedReadMode(undefined), 'consistent')
    assert.equal(requestedReadMode('consistent'), 'consistent')
    assert.equal(requestedReadMode('leader'), 'leader')
    assert.throws(() => requestedReadMode('stale'), /takes the read mode 'leader' or 'consistent'/)
    assert.throws(() => requestedReadMode({mode: 'leader'}), /takes the read mode/)
  })

  it('a follower takes only a non-negative integer as a read index', () => {
    assert.equal(answeredIndex(0, 'x'), 0)
    assert.equal(answeredIndex(1234, 'x'), 1234)
    for (const bad of ['7', -1, 1.5, null, undefined, Number.NaN]) assert.throws(() => answeredIndex(bad, '127.0.0.2:8300'), /read-index from 127\.0\.0\.2:8300 answered .*, not an index/)
  })
})
