// The stepped snapshot decode (state/snapshot-decode.ts, StateMachine.prepareRestore): the same
// document as one decode of the whole buffer, in steps that each do a bounded batch of records,
// for the streamed layout and the older one (kv before the small tables); bad bytes refused.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness, bytes as text_, text} from './harness.js'
import {decodeValue, encodeValue} from '../../../src/lib/state/codec.js'
import {decodeSnapshotSteps, SNAPSHOT_DECODE_RECORDS, skipValue} from '../../../src/lib/state/snapshot-decode.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'

/** Runs the steps to the end; returns the result and how many steps it took. */
function run<T>(steps: Generator<void, T>): {value: T; steps: number} {
  for (let n = 0; ; n++) {
    const step = steps.next()
    if (step.done) return {value: step.value, steps: n}
  }
}

function sizable(keys: number, deletes = 0): Harness {
  const h = new Harness()
  h.registerNode('n1')
  h.createSession('s1', {ttl: '30s'})
  for (let i = 0; i < keys; i++) h.put(`k/${String(i).padStart(6, '0')}`, `value ${i}`)
  for (let i = 0; i < deletes; i++) h.kv({verb: 'delete', key: `k/${String(i).padStart(6, '0')}`})
  return h
}

describe('stepped snapshot decode', () => {
  it('gives the document one decode gives, a batch of records per step', () => {
    const bytes = sizable(5000, 1500).sm.snapshot()
    const batches: Array<[string, number]> = []
    const {value, steps} = run(decodeSnapshotSteps(bytes, (field, batch) => batches.push([field, batch.length])))
    assert.deepEqual(value, decodeValue(bytes))
    assert.ok(batches.every(([, n]) => n <= SNAPSHOT_DECODE_RECORDS), 'no batch larger than the bound')
    assert.equal(batches.filter(([f]) => f === 'entries').reduce((n, [, k]) => n + k, 0), 3500)
    assert.equal(batches.filter(([f]) => f === 'tombstones').reduce((n, [, k]) => n + k, 0), 1500)
    assert.ok(steps >= Math.ceil(3500 / SNAPSHOT_DECODE_RECORDS) + Math.ceil(1500 / SNAPSHOT_DECODE_RECORDS), `${steps} steps`)
  })

  it('reads the older layout (kv before the other tables) and values of every msgpack kind', () => {
    const body = decodeValue(sizable(40).sm.snapshot()) as Record<string, unknown>
    const {kv, ...rest} = body
    const extra = {ints: [0, -1, 127, 128, -33, 65535, 65536, 2 ** 32, -(2 ** 31) - 1, 2n ** 63n - 1n], f: 1.5, nil: null, t: true, s: 'x'.repeat(300), b: new Uint8Array(70000), m: Object.fromEntries(Array.from({length: 20}, (_, i) => [`k${i}`, i]))}
    const old = encodeValue({kv, ...rest, extra})
    assert.deepEqual(run(decodeSnapshotSteps(old, () => {})).value, decodeValue(old))
    assert.equal(skipValue(old, 0), old.length)
  })

  it('refuses truncated bytes, extra bytes and what is not a map', () => {
    const bytes = sizable(3000).sm.snapshot()
    for (const cut of [1, 10, Math.floor(bytes.length / 2), bytes.length - 1]) {
      assert.throws(() => run(decodeSnapshotSteps(bytes.subarray(0, cut), () => {})), /undecodable msgpack|not a coord state snapshot/, `cut at ${cut}`)
    }
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    assert.throws(() => run(decodeSnapshotSteps(longer, () => {})), /extra byte/)
    assert.throws(() => run(decodeSnapshotSteps(encodeValue([1, 2]), () => {})), /not a coord state snapshot/)
    assert.throws(() => run(decodeSnapshotSteps(Uint8Array.of(0x81, 0xc1, 0x01), () => {})), /invalid byte 0xc1/)
  })

  it('prepareRestore installs the same state restore does, and the state at the restore index with one', () => {
    const source = sizable(2500, 10)
    const bytes = source.sm.snapshot()
    const exact = new StateMachine()
    const prepared = run(exact.prepareRestore(bytes)).value
    assert.equal(exact.kvGet('k/000100').value, undefined, 'nothing changes before install')
    prepared.install()
    const reference = new StateMachine()
    reference.restore(bytes)
    assert.deepEqual(exact.snapshot(), reference.snapshot())
    assert.equal(text(exact.kvGet('k/002499').value!.value), 'value 2499')

    const at = new StateMachine()
    const staged = run(at.prepareRestore(bytes, 1_000_000)).value
    staged.install()
    assert.equal(at.lastIndex, 1_000_000)
    assert.equal(at.kvList('').index, 1_000_000)
    const again = new StateMachine()
    again.restore(concatAll(staged.chunks()))
    assert.deepEqual(again.snapshot(), at.snapshot(), 'its chunks encode the prepared state')
    assert.throws(() => run(new StateMachine().prepareRestore(encodeValue({format: 'nope'}))), /not a coord state snapshot/)
  })

  it('prepareRestore shares the live entries a restore leaves unchanged, and only those', () => {
    const source = sizable(3000)
    const bytes = source.sm.snapshot()
    // Live entries that differ from the snapshot's in one field each: value bytes, flags, index.
    const h = new Harness()
    h.sm.restore(bytes)
    h.index = source.index
    h.put('k/000200', 'value 20X')
    h.kv({verb: 'set', key: 'k/000300', value: text_('value 300'), flags: 7n})
    h.put('k/000400', 'value 400')
    const live = h.sm
    const keep = live.kvGet('k/000100').value!
    const changed = ['k/000200', 'k/000300', 'k/000400'].map((key) => live.kvGet(key).value!)
    run(live.prepareRestore(bytes, h.index + 1)).value.install()
    assert.equal(live.kvGet('k/000100').value, keep, 'an equal record is the live entry itself')
    for (const old of changed) {
      const now = live.kvGet(old.key).value!
      assert.notEqual(now, old, `${old.key}: a different record is not shared`)
      assert.deepEqual(now, source.sm.kvGet(old.key).value, `${old.key}: the snapshot's record`)
    }
    const clamped = new StateMachine()
    run(clamped.prepareRestore(bytes, h.index + 1)).value.install()
    assert.deepEqual(live.snapshot(), clamped.snapshot(), 'the same state as a restore into an empty machine')
  })

  it('prepareRestore at an index below some records clamps entries and tombstones as the restore command does', () => {
    const bytes = sizable(3000, 1200).sm.snapshot()
    const stepped = new StateMachine()
    run(stepped.prepareRestore(bytes, 2000)).value.install()
    const command = new StateMachine()
    assert.deepEqual(command.apply(2000, {type: 'restore', now: 1, data: bytes}), {type: 'restore'})
    assert.deepEqual(stepped.snapshot(), command.snapshot())
    assert.equal(stepped.kvGet('k/002999').value!.modifyIndex, 2000, 'a later record clamped to the restore index')
  })
})

function concatAll(chunks: Iterable<Uint8Array>): Uint8Array {
  const parts = [...chunks]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
