// A state snapshot as a sequence of chunks, so the agent can write a large one a piece at a time
// and answer requests in between (hashicorp/raft streams an FSMSnapshot to its sink the same way).
// The chunks concatenate to one msgpack map, the document StateMachine.snapshot() has always
// been: restore, `snapshot inspect` and `snapshot decode` read it unchanged. The small tables are
// encoded when the snapshot is taken; the KV table, which can hold millions of keys, is encoded
// lazily from copy-on-write clones of its trees (kv-table.ts KVView), a batch per chunk.
import {encodeValue} from './codec.js'
import {encodeKVRecords, kvRecordSize} from './kv-records.js'
import type {KVView} from './kv-table.js'

/** KV records per chunk: ~0.1 MB at 100-byte values, a few ms of encoding. */
export const SNAPSHOT_CHUNK_RECORDS = 512

/** Lazily encoded chunks; each is a fresh buffer the consumer may keep. */
export type SnapshotChunks = Iterable<Uint8Array>

/**
 * The snapshot document: `fields` (already-captured values, `undefined` ones left out) followed by
 * the KV table from `kv` under the key 'kv'. Nothing is read from live state after this returns
 * except through `kv`'s clones, so the live tables may change while the chunks are consumed.
 */
export function snapshotChunks(fields: Record<string, unknown>, kv: KVView): SnapshotDocument {
  const present = Object.entries(fields).filter(([, value]) => value !== undefined)
  const head: Uint8Array[] = [mapHeader(present.length + 1)]
  for (const [key, value] of present) head.push(encodeValue(key), encodeValue(value))
  return new SnapshotDocument(concat(head), kv)
}

/** The chunks of one snapshot (each iteration encodes them afresh, alike), and their total size. */
export class SnapshotDocument implements SnapshotChunks {
  readonly #head: Uint8Array
  readonly #kv: KVView

  constructor(head: Uint8Array, kv: KVView) {
    this.#head = head
    this.#kv = kv
  }

  [Symbol.iterator](): Iterator<Uint8Array> {
    return kvChunks(this.#head, this.#kv)
  }

  /**
   * The chunks' total length without encoding the KV records, a batch of records per step (a
   * million keys take tens of ms: the caller lets the event loop run between steps). A streamed
   * archive needs it up front: tar writes a file's size before its bytes.
   */
  *sizeSteps(): Generator<void, number> {
    const kv = this.#kv
    let size = opening(this.#head, kv).length + tombstonesHeader(kv).length + closing(kv).length
    let n = 0
    for (const entry of kv.entries.values()) {
      size += kvRecordSize(entry)
      if (++n % SIZE_STEP_RECORDS === 0) yield
    }
    for (const tombstone of kv.tombstones.entries()) {
      size += encodeValue(tombstone).length
      if (++n % SIZE_STEP_RECORDS === 0) yield
    }
    return size
  }
}

/** Records sized per step of sizeSteps (a few ms). */
const SIZE_STEP_RECORDS = 16_384

const opening = (head: Uint8Array, kv: KVView): Uint8Array => concat([head, encodeValue('kv'), mapHeader(4), encodeValue('entries'), arrayHeader(kv.entries.size)])
const tombstonesHeader = (kv: KVView): Uint8Array => concat([encodeValue('tombstones'), arrayHeader(kv.tombstones.size)])
const closing = (kv: KVView): Uint8Array => concat([encodeValue('lockDelays'), encodeValue(kv.lockDelays), encodeValue('index'), encodeValue(kv.index)])

function* kvChunks(head: Uint8Array, kv: KVView): Generator<Uint8Array> {
  yield opening(head, kv)
  yield* batches(kv.entries.values(), encodeKVRecords)
  yield tombstonesHeader(kv)
  yield* batches(kv.tombstones.entries(), (batch) => withoutArrayHeader(encodeValue(batch)))
  yield closing(kv)
}

/**
 * The records of `items`, SNAPSHOT_CHUNK_RECORDS at a time, as array elements without the array
 * header (`encode` writes a batch so; KV entries have their own writer, kv-records.ts).
 */
function* batches<T>(items: Iterable<T>, encode: (batch: T[]) => Uint8Array): Generator<Uint8Array> {
  let batch: T[] = []
  for (const item of items) {
    batch.push(item)
    if (batch.length === SNAPSHOT_CHUNK_RECORDS) {
      yield encode(batch)
      batch = []
    }
  }
  if (batch.length > 0) yield encode(batch)
}

/** msgpack map header for `n` pairs (fixmap, map16, map32). */
export function mapHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x80 | n)
  if (n < 0x10000) return Uint8Array.of(0xde, n >> 8, n & 0xff)
  return Uint8Array.of(0xdf, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

/** msgpack array header for `n` elements (fixarray, array16, array32). */
export function arrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n)
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff)
  return Uint8Array.of(0xdd, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

function withoutArrayHeader(bytes: Uint8Array): Uint8Array {
  const first = bytes[0]
  const skip = first >= 0x90 && first <= 0x9f ? 1 : first === 0xdc ? 3 : first === 0xdd ? 5 : -1
  if (skip < 0) throw new Error(`not a msgpack array (first byte 0x${first.toString(16)})`)
  return bytes.subarray(skip)
}

/** One buffer holding `parts` in order. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
