import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {checkStaleHistory, classifyReads} from '../../../src/lib/check/stale.js'
import {cas, del, read, write} from './ops.js'

describe('classifyReads (?stale histories)', () => {
  it('counts a read of a value replaced before the read began, and by how long', () => {
    const report = classifyReads([write(1, 'a', 0, 10), write(2, 'b', 20, 30), read(3, 'a', 45, 50)])
    assert.equal(report.readsChecked, 1)
    assert.equal(report.staleReads.length, 1)
    const [stale] = report.staleReads
    assert.equal(stale.read.invokeMs, 45)
    assert.equal(stale.staleByMs, 15)
    assert.equal(stale.supersededBy.op === 'write' && stale.supersededBy.input.value, 'b')
    assert.deepEqual(report.anomalies, [])
  })

  it('does not count reads concurrent with the replacing write', () => {
    const report = classifyReads([write(1, 'a', 0, 10), write(2, 'b', 20, 30), read(3, 'a', 25, 35), read(3, 'a', 30, 40)])
    assert.deepEqual(report.staleReads, [])
  })

  it('does not count a value whose write overlapped the replacing write', () => {
    // a and b raced; either may have landed last, so reading a is not provably stale.
    const report = classifyReads([write(1, 'a', 0, 30), write(2, 'b', 10, 20), read(3, 'b', 40, 50), read(3, 'a', 60, 70)])
    assert.deepEqual(report.staleReads, [])
  })

  it('counts "absent" read after an acknowledged write, but not before any', () => {
    const report = classifyReads([read(1, null, 0, 5), write(1, 'a', 10, 20), read(2, null, 30, 40)])
    assert.deepEqual(report.staleReads.map((s) => s.read.invokeMs), [30])
  })

  it('counts "absent" as fresh after an acknowledged delete', () => {
    const report = classifyReads([write(1, 'a', 0, 10), del(1, 20, 30), read(2, null, 40, 50)])
    assert.deepEqual(report.staleReads, [])
  })

  it('never counts a value from an unknown-outcome write as stale', () => {
    const report = classifyReads([write(1, 'a', 0, 10), write(2, 'b', 15), write(1, 'c', 20, 30), read(3, 'b', 40, 50)])
    assert.deepEqual(report.staleReads, [])
  })

  it('flags a read of a value nobody wrote, and of a value written only after the read', () => {
    const report = classifyReads([read(1, 'ghost', 0, 5), read(1, 'b', 10, 15), write(2, 'b', 20, 30)])
    assert.equal(report.anomalies.length, 2)
    assert.match(report.anomalies[0].explanation, /"ghost", a value no operation on this key wrote/)
    assert.match(report.anomalies[1].explanation, /"b", a value first written after the read completed/)
  })
})

describe('checkStaleHistory', () => {
  it('passes a history whose only anomalies are stale reads, and reports them', () => {
    const result = checkStaleHistory([write(1, 'a', 0, 10), write(2, 'b', 20, 30), read(3, 'a', 40, 50), read(3, 'b', 60, 70), read(4, 'a', 80, 90)])
    assert.equal(result.ok, true)
    assert.equal(result.staleReads.length, 2)
    assert.equal(result.readsChecked, 3)
    assert.equal(result.opsChecked, 5)
    assert.equal(result.keysChecked, 1)
  })

  it('still requires writes and CAS to be linearizable', () => {
    const result = checkStaleHistory([write(1, 'a', 0, 10), cas(2, 'a', 'b', true, 20, 40), cas(3, 'a', 'c', true, 25, 45), read(4, 'a', 50, 60)])
    assert.equal(result.ok, false)
    assert.equal(result.anomalies.length, 1)
    assert.match(result.anomalies[0].explanation, /succeeded/)
  })

  it('fails on a read of a value nobody wrote', () => {
    const result = checkStaleHistory([write(1, 'a', 0, 10), read(2, 'ghost', 20, 30)])
    assert.equal(result.ok, false)
  })
})
