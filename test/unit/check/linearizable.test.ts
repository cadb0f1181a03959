import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {checkLinearizable} from '../../../src/lib/check/linearizable.js'
import type {Operation} from '../../../src/lib/check/history.js'
import {CoordError} from '../../../src/lib/errors.js'
import {cas, del, read, write} from './ops.js'

const passes = (history: Operation[]): void => {
  const result = checkLinearizable(history)
  assert.deepEqual(result.anomalies, [])
  assert.equal(result.ok, true)
}

/** Asserts exactly one anomaly and returns its explanation. */
const fails = (history: Operation[]): string => {
  const result = checkLinearizable(history)
  assert.equal(result.ok, false)
  assert.equal(result.anomalies.length, 1, JSON.stringify(result.anomalies))
  return result.anomalies[0].explanation
}

describe('checkLinearizable: known-good histories', () => {
  it('accepts a sequential history of every operation kind', () => passes([
    read(1, null, 0, 5),
    write(1, 'a', 10, 20),
    read(2, 'a', 30, 40),
    cas(1, 'a', 'b', true, 50, 60),
    cas(2, 'a', 'c', false, 70, 80),
    read(2, 'b', 90, 100),
    del(1, 110, 120),
    read(2, null, 130, 140),
    cas(3, null, 'd', true, 150, 160),
    read(3, 'd', 170, 180),
  ]))

  it('lets overlapping writes land in either order', () => {
    passes([write(1, 'a', 0, 100), write(2, 'b', 10, 90), read(3, 'a', 120, 130)])
    passes([write(1, 'a', 0, 100), write(2, 'b', 10, 90), read(3, 'b', 120, 130)])
    // Both orders visible in turn while the writes are in flight: b lands, then a.
    passes([write(1, 'a', 0, 100), write(2, 'b', 10, 90), read(3, 'b', 20, 30), read(3, 'a', 40, 50)])
  })

  it('lets a read concurrent with a write see the old or the new value', () => {
    passes([write(1, 'a', 0, 10), write(1, 'b', 20, 40), read(2, 'a', 25, 30)])
    passes([write(1, 'a', 0, 10), write(1, 'b', 20, 40), read(2, 'b', 25, 30)])
  })

  it('accepts a CAS race with one winner', () => passes([
    write(1, 'a', 0, 10),
    cas(2, 'a', 'b', true, 20, 40),
    cas(3, 'a', 'c', false, 25, 35),
    read(4, 'b', 50, 60),
  ]))

  it('accepts an unknown-outcome write that applied, late or on time, or never did', () => {
    passes([write(1, 'a', 0, 10), write(2, 'b', 20), read(3, 'b', 50, 60)])
    passes([write(1, 'a', 0, 10), write(2, 'b', 20), read(3, 'a', 50, 60)])
    // Took effect long after the client gave up: the old value, then the new one.
    passes([write(1, 'a', 0, 10), write(2, 'b', 20), read(3, 'a', 50, 60), read(3, 'b', 500, 510)])
  })

  it('accepts an unknown-outcome CAS either way', () => {
    passes([write(1, 'a', 0, 10), cas(2, 'a', 'b', undefined, 20), read(3, 'b', 50, 60)])
    passes([write(1, 'a', 0, 10), cas(2, 'a', 'b', undefined, 20), read(3, 'a', 50, 60)])
  })

  it('lets an unknown write explain a failed CAS', () => passes([
    write(1, 'a', 0, 10), write(2, 'z', 15), cas(3, 'a', 'b', false, 20, 30),
  ]))

  it('ignores reads that never got an answer', () => passes([
    write(1, 'a', 0, 10), {clientId: 2, op: 'read', input: {key: 'k'}, invokeMs: 20}, read(3, 'a', 30, 40),
  ]))

  it('treats operations that touch at one instant as concurrent', () => passes([
    write(1, 'a', 0, 10), read(2, null, 10, 20),
  ]))

  it('checks many unobserved timed-out writes quickly', () => {
    const history: Operation[] = [write(0, 'a', 0, 10)]
    for (let c = 1; c <= 40; c++) history.push(write(c, `lost-${c}`, 20 + c))
    history.push(read(99, 'a', 100, 110))
    const result = checkLinearizable(history)
    assert.equal(result.ok, true)
    assert.ok(result.steps < 1_000, `took ${result.steps} steps`)
  })
})

describe('checkLinearizable: known-bad histories', () => {
  it('rejects a stale read after an acknowledged write, naming both', () => {
    const why = fails([write(1, 'a', 0, 10), write(2, 'b', 20, 30), read(3, 'a', 40, 50)])
    assert.match(why, /read by client 3 at t=40\.\.50ms returned "a"/)
    assert.match(why, /must hold "b"/)
    assert.match(why, /write "b" by client 2 at t=20\.\.30ms was acknowledged before it was invoked/)
  })

  it('rejects a read of a value never written', () => {
    const why = fails([write(1, 'a', 0, 10), read(2, 'zzz', 20, 30)])
    assert.match(why, /returned "zzz", a value no operation on this key wrote/)
  })

  it('rejects two CAS with the same expected value both succeeding', () => {
    const why = fails([write(1, 'a', 0, 10), cas(2, 'a', 'b', true, 20, 40), cas(3, 'a', 'c', true, 25, 45)])
    assert.match(why, /cas "a"→"[bc]" .* \(succeeded\), but the register must hold "[bc]", not "a"/)
  })

  it('rejects a lost acknowledged write', () => {
    fails([write(1, 'a', 0, 10), write(2, 'b', 20, 30), read(3, 'a', 40, 50), read(1, 'a', 60, 70)])
    const why = fails([write(1, 'a', 0, 10), write(2, 'b', 20, 30), cas(3, 'b', 'c', false, 40, 50)])
    assert.match(why, /\(failed\), but the register must hold the expected "b"/)
  })

  it('rejects an acknowledged write that reads never see', () => {
    fails([write(1, 'a', 0, 10), read(2, null, 20, 30)])
  })

  it('rejects an older value read after a newer one was read, by another client or the same one', () => {
    const why = fails([write(1, 'a', 0, 10), write(2, 'b', 20, 100), read(3, 'b', 30, 40), read(4, 'a', 50, 60)])
    assert.match(why, /read by client 4 .* returned "a", but the register must hold "b"/)
    fails([write(1, 'a', 0, 10), write(2, 'b', 20, 100), read(3, 'b', 30, 40), read(3, 'a', 50, 60)])
  })

  it('rejects a CAS that fails although nothing changed the value', () => {
    fails([write(1, 'a', 0, 10), cas(2, 'a', 'b', false, 20, 30)])
  })
})

describe('checkLinearizable: reporting', () => {
  it('checks keys independently and blames only the bad one', () => {
    const result = checkLinearizable([
      write(1, 'a', 0, 10, 'x'), read(2, 'a', 20, 30, 'x'),
      write(1, 'a', 0, 10, 'y'), write(1, 'b', 20, 30, 'y'), read(2, 'a', 40, 50, 'y'),
    ])
    assert.equal(result.keysChecked, 2)
    assert.equal(result.opsChecked, 5)
    assert.deepEqual(result.anomalies.map((a) => a.key), ['y'])
  })

  it('shrinks an anomaly to the operations that cause it', () => {
    const history: Operation[] = []
    for (let i = 0; i < 20; i++) history.push(write(1, `v${i}`, i * 100, i * 100 + 10), read(2, `v${i}`, i * 100 + 20, i * 100 + 30))
    history.push(read(3, 'v5', 1_000, 1_010))
    const [anomaly] = checkLinearizable(history).anomalies
    const minimal = anomaly.minimalOps ?? []
    assert.ok(minimal.length <= 3, JSON.stringify(minimal))
    assert.ok(minimal.some((op) => op.op === 'read' && op.invokeMs === 1_000))
    assert.ok(minimal.some((op) => op.op === 'write' && op.input.value === 'v5'))
    assert.match(anomaly.explanation, /returned "v5", but the register must hold "v6" by then: write "v6" .* was acknowledged before/)
  })

  it('gives up within its step budget instead of hanging, and says so', () => {
    // Forty concurrent acknowledged writes then a read of a value nobody wrote: refuting it means
    // visiting every subset of the writes.
    const history: Operation[] = []
    for (let c = 0; c < 40; c++) history.push(write(c, `w${c}`, c, 1_000 + c))
    history.push(read(99, 'w-never', 2_000, 2_010), read(99, 'w3', 2_020, 2_030))
    const result = checkLinearizable([...history, write(1, 'a', 0, 10, 'other')], {maxStepsPerKey: 20_000})
    assert.equal(result.ok, false)
    assert.equal(result.timedOut, true)
    assert.deepEqual(result.undecidedKeys, ['k'])
    assert.equal(result.keysChecked, 1)
  })

  it('gives up at its time budget', () => {
    let t = 0
    const history: Operation[] = []
    for (let c = 0; c < 40; c++) history.push(write(c, `w${c}`, c, 1_000 + c))
    history.push(read(99, 'w-never', 2_000, 2_010))
    const result = checkLinearizable(history, {timeBudgetMs: 50, now: () => (t += 1)})
    assert.equal(result.timedOut, true)
    assert.ok(result.steps < 100_000)
  })

  it('rejects a malformed record with a typed error', () => {
    assert.throws(() => checkLinearizable([write(1, 'a', 10, 5)]),
      (error: unknown) => error instanceof CoordError && error.code === 'HISTORY_INVALID' && /history\[0\]/.test(error.message))
  })
})
