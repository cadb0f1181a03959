// The stepped snapshot decode (state/snapshot-decode.ts, StateMachine.prepareRestore): the same
// document as one decode of the whole buffer, in steps that each do a bounded batch of records,
// for the streamed layout and the older one (kv before the small tables); bad bytes refused.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness, bytes as text_, text} from './harness.js'
import {decodeValue, encodeValue} from '../../../src/lib/state/codec.js'
import {decodeSnapshotSteps, SNAPSHOT_DECODE_RECORDS, skipValue, type StepWait} from '../../../src/lib/state/snapshot-decode.js'
import type {ChunkReader} from '../../../src/lib/handed-bytes.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'

/** Runs the steps to the end; returns the result and how many steps it took. Bytes in one buffer never make a step wait. */
function run<T>(steps: Generator<StepWait, T>): {value: T; steps: number} {
  for (let n = 0; ; n++) {
    const step = steps.next()
    if (step.done) return {value: step.value, steps: n}
    assert.equal(step.value, undefined, 'a step over bytes in memory waits for nothing')
  }
}

/** Runs steps that may wait (a streamed snapshot), as the Raft driver does; counts the waits. */
async function runStreamed<T>(steps: Generator<StepWait, T>): Promise<{value: T; waits: number}> {
  let waits = 0
  for (;;) {
    const step = steps.next()
    if (step.done) return {value: step.value, waits}
    if (step.value !== undefined) {
      waits++
      try {
        await step.value
      } catch (error) {
        steps.return(undefined as T)
        throw error
      }
    }
  }
}

/** `bytes` as a reader handing out chunks of `size` (the last may be shorter); records what was read and whether it was cancelled. */
function chunked(bytes: Uint8Array, size: number, failAt?: number): ChunkReader & {reads: number; cancelled?: string; held: () => number} {
  let at = 0
  const reader = {
    reads: 0,
    cancelled: undefined as string | undefined,
    held: () => bytes.length - at,
    read: async (): Promise<Uint8Array | undefined> => {
      reader.reads++
      if (reader.cancelled !== undefined) throw new Error(`read after cancel: ${reader.cancelled}`)
      if (failAt !== undefined && at >= failAt) throw new Error('the source failed')
      if (at >= bytes.length) return undefined
      const chunk = bytes.slice(at, at + size)
      at += chunk.length
      return chunk
    },
    cancel: (reason: Error) => { reader.cancelled ??= reason.message },
  }
  return reader
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

  it('streamed in chunks of any size (records and values split across chunks), gives the same document', async () => {
    const body = decodeValue(sizable(3000, 700).sm.snapshot()) as Record<string, unknown>
    // A value far larger than a window pull (WINDOW_PULL_BYTES, 1 MiB) must span many chunks too.
    const bytes = encodeValue({...body, big: new Uint8Array(3_000_000).fill(7)})
    const whole = decodeValue(bytes)
    for (const size of [1, 7, 4096, 65536, bytes.length]) {
      if (size === 1 && bytes.length > 500_000) {
        // One byte per read over 3 MB is slow in a test; a 1-byte reader over the small snapshot covers it.
        const small = sizable(300, 50).sm.snapshot()
        assert.deepEqual((await runStreamed(decodeSnapshotSteps(chunked(small, 1, undefined), () => {}))).value, decodeValue(small))
        continue
      }
      const reader = chunked(bytes, size)
      const {value, waits} = await runStreamed(decodeSnapshotSteps(reader, () => {}))
      assert.deepEqual(value, whole, `chunks of ${size}`)
      assert.ok(waits >= 1, `chunks of ${size}: waited for bytes`)
      assert.equal(reader.held(), 0, `chunks of ${size}: read to the end`)
      assert.equal(reader.cancelled, undefined)
    }
  })

  it('a streamed decode holds about a window of bytes, not the snapshot', async () => {
    const records = 60_000
    const bytes = sizable(records).sm.snapshot()
    const perRecord = Math.ceil((bytes.length / records) * 1.5)
    let most = 0
    const reader = chunked(bytes, 16384)
    const read = reader.read
    let consumedBatches = 0
    reader.read = async () => {
      const chunk = await read()
      most = Math.max(most, bytes.length - reader.held())
      return chunk
    }
    // By the time the last batch is decoded, the reader has been read to the end; what is bounded
    // is how far reading runs ahead of decoding: checked at each batch.
    const steps = decodeSnapshotSteps(reader, (field, batch) => {
      consumedBatches++
      const decodedUpTo = consumedBatches * SNAPSHOT_DECODE_RECORDS
      assert.ok(batch.length <= SNAPSHOT_DECODE_RECORDS)
      assert.ok(bytes.length - reader.held() <= decodedUpTo * perRecord + 2 * (1 << 20), `read ahead of decoding: ${bytes.length - reader.held()} bytes after ${decodedUpTo} records`)
    })
    const {value} = await runStreamed(steps)
    assert.deepEqual(value, decodeValue(bytes))
    assert.ok(most === bytes.length && bytes.length > 4 * (1 << 20), `the snapshot (${bytes.length} B) is larger than what the bound allows at the start`)
  })

  it('a stream that ends early, runs on, or fails is refused, and the source is cancelled when the decode gives up', async () => {
    const bytes = sizable(3000).sm.snapshot()
    for (const cut of [1, Math.floor(bytes.length / 2), bytes.length - 1]) {
      await assert.rejects(runStreamed(decodeSnapshotSteps(chunked(bytes.subarray(0, cut), 1000), () => {})), /undecodable msgpack|not a coord state snapshot/, `cut at ${cut}`)
    }
    const longer = new Uint8Array(bytes.length + 3)
    longer.set(bytes)
    await assert.rejects(runStreamed(decodeSnapshotSteps(chunked(longer, 1000), () => {})), /extra byte/)
    const failing = chunked(bytes, 1000, Math.floor(bytes.length / 2))
    await assert.rejects(runStreamed(decodeSnapshotSteps(failing, () => {})), /the source failed/)
    assert.ok(failing.cancelled !== undefined, 'cancelled after its read failed')
    // Larger than one window pull (1 MiB), so the decode fails with the source not yet read through.
    const large = sizable(20_000).sm.snapshot()
    const refused = chunked(large, 1000)
    await assert.rejects(runStreamed(decodeSnapshotSteps(refused, () => { throw new Error('the batch is refused') })), /the batch is refused/)
    assert.match(refused.cancelled ?? '', /the batch is refused/)
    assert.ok(refused.held() > 0, 'not read to the end once the decode gave up')
  })

  it('prepareRestore takes a streamed snapshot and installs the same state', async () => {
    const bytes = sizable(2500, 10).sm.snapshot()
    const streamed = new StateMachine()
    ;(await runStreamed(streamed.prepareRestore(chunked(bytes, 5000), 1_000_000))).value.install()
    const reference = new StateMachine()
    run(reference.prepareRestore(bytes, 1_000_000)).value.install()
    assert.deepEqual(streamed.snapshot(), reference.snapshot())
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
