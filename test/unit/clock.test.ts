// clock.ts waitFor, the bounded event wait the Raft driver uses instead of polling, and signal.ts.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {systemClock, waitFor} from '../../src/lib/clock.js'
import {Signal} from '../../src/lib/signal.js'

describe('waitFor', () => {
  it('resolves true at once when the condition already holds', async () => {
    assert.equal(await waitFor(systemClock, () => true, () => () => {}, 10_000), true)
  })

  it('resolves true on the event that makes the condition hold, not on earlier ones', async () => {
    const signal = new Signal()
    let value = 0
    const started = performance.now()
    const waiting = waitFor(systemClock, () => value === 2, (wake) => signal.on(wake), 10_000)
    value = 1
    signal.emit()
    setTimeout(() => { value = 2; signal.emit() }, 20)
    assert.equal(await waiting, true)
    const waited = performance.now() - started
    console.log(`woken after ${waited.toFixed(1)} ms`)
    assert.ok(waited < 5_000, `took ${waited} ms`)
  })

  it('resolves false after its timeout when no event brings the condition, and stops listening', async () => {
    const signal = new Signal()
    let listeners = 0
    const started = performance.now()
    const result = await waitFor(systemClock, () => false, (wake) => {
      listeners++
      const off = signal.on(wake)
      return () => { listeners--; off() }
    }, 50)
    assert.equal(result, false)
    assert.ok(performance.now() - started >= 45)
    assert.equal(listeners, 0)
  })
})

describe('Signal', () => {
  it('calls every listener in order and none after it is removed', () => {
    const signal = new Signal<number>()
    const seen: string[] = []
    const offA = signal.on((n) => seen.push(`a${n}`))
    signal.on((n) => seen.push(`b${n}`))
    signal.emit(1)
    offA()
    signal.emit(2)
    assert.deepEqual(seen, ['a1', 'b1', 'b2'])
  })
})
