// Decodes a state snapshot document a slice at a time, so a restore of millions of keys never
// holds the event loop: the driver runs the steps and lets the loop run between them
// (server/raft-driver.ts). The document is the msgpack map snapshot-stream.ts writes (and every
// older coord wrote): small tables decoded whole, and the two tables that grow with the keys,
// kv.entries and kv.tombstones, decoded SNAPSHOT_DECODE_RECORDS elements per step. A small
// positional reader finds where each value ends (msgpack's lengths), and @msgpack/msgpack decodes
// the bytes between; the result is the document one `decode` of the whole buffer would give.
import {Decoder} from '@msgpack/msgpack'
import {CodecError} from './codec.js'
import {decodeKVRecords} from './kv-records.js'
import {concat} from './snapshot-stream.js'
import {isChunkReader, type ByteSource, type ChunkReader, type StepWait} from '../handed-bytes.js'

export type {StepWait}

/** Records decoded per step: a few ms of work at 100-byte values. */
export const SNAPSHOT_DECODE_RECORDS = 1024

const decoder = new Decoder({useBigInt64: true})

/**
 * A batch of decoded kv records, handed over before the next step (the caller may complete them in
 * place). `valuesOwned`: the entries' values are already in a buffer of their own (kv-records.ts
 * read them), not views of the snapshot bytes.
 */
export type BatchHook = (field: 'entries' | 'tombstones', batch: unknown[], valuesOwned: boolean) => void

/** Bytes pulled into the window at a time, at least (a batch of records is ~200 KB). */
const WINDOW_PULL_BYTES = 1 << 20

/**
 * The bytes being decoded: the whole snapshot, or for a streamed one the part from the current
 * position on, refilled as the decoder needs more. Positions are offsets into `bytes`; a refill
 * drops what lies before the position it is given, so the caller's position becomes 0.
 */
class Window {
  bytes: Uint8Array
  #reader: ChunkReader | undefined

  constructor(source: ByteSource) {
    if (isChunkReader(source)) {
      this.bytes = new Uint8Array(0)
      this.#reader = source
    } else {
      this.bytes = source
    }
  }

  /** True once every byte of the source is in the window. */
  get complete(): boolean {
    return this.#reader === undefined
  }

  /** Keeps the bytes from `pos` on and appends at least WINDOW_PULL_BYTES, and at least as many as it kept, more (or the rest). */
  async refill(pos: number): Promise<void> {
    const reader = this.#reader
    if (reader === undefined) return
    const parts = [this.bytes.subarray(pos)]
    let pulled = 0
    // At least as much as is kept: a value larger than the window (a big catalog table) is then
    // copied O(its size) times in all, not once per pull.
    const want = Math.max(WINDOW_PULL_BYTES, parts[0].length)
    while (pulled < want) {
      const chunk = await reader.read()
      if (chunk === undefined) {
        this.#reader = undefined
        break
      }
      parts.push(chunk)
      pulled += chunk.length
    }
    this.bytes = concat(parts)
  }

  /** Gives up the source (the decode failed or was abandoned). */
  cancel(reason: Error): void {
    this.#reader?.cancel(reason)
    this.#reader = undefined
  }
}

/** Thrown by the positional reader when the bytes end inside a value: for a streamed snapshot, a cue to read on. */
class Truncated extends CodecError {
  constructor() {
    super('undecodable msgpack: the snapshot ends in the middle of a value')
  }
}

/**
 * The snapshot document in `source` (one buffer, or a reader whose chunks are decoded as they come
 * and let go), decoded in steps (each `next()` does one step; the generator returns the document).
 * Byte values outside the kv records are views of the bytes (as @msgpack/msgpack returns them):
 * `onBatch` sees each kv batch first and may copy them out. Throws CodecError on anything that is
 * not one complete msgpack map.
 */
export function* decodeSnapshotSteps(source: ByteSource, onBatch: BatchHook): Generator<StepWait, Record<string, unknown>> {
  const window = new Window(source)
  try {
    return yield* decodeWindow(window, onBatch)
  } catch (error) {
    window.cancel(error instanceof Error ? error : new Error(String(error)))
    throw error
  } finally {
    // A consumer that stops early (generator.return) releases the source too.
    window.cancel(new Error('the snapshot decode ended'))
  }
}

function* decodeWindow(w: Window, onBatch: BatchHook): Generator<StepWait, Record<string, unknown>> {
  let pos = 0
  /** Runs `read` (a positional read from `pos`) until the window holds what it needs. */
  function* need<T>(read: () => T): Generator<StepWait, T> {
    for (;;) {
      try {
        return read()
      } catch (error) {
        if (!(error instanceof Truncated) || w.complete) throw error
      }
      yield w.refill(pos)
      pos = 0
    }
  }
  const top = yield* need(() => containerAt(w.bytes, pos))
  if (top?.kind !== 'map') throw new CodecError('not a coord state snapshot')
  const document: Record<string, unknown> = {}
  pos = top.next
  for (let i = 0; i < top.count; i++) {
    const key = yield* need(() => decodeValue(w.bytes, pos))
    pos = key.end
    const kv = key.value === 'kv' ? yield* need(() => containerAt(w.bytes, pos)) : undefined
    if (kv?.kind === 'map') {
      const table: Record<string, unknown> = {}
      pos = kv.next
      for (let j = 0; j < kv.count; j++) {
        const field = yield* need(() => decodeValue(w.bytes, pos))
        pos = field.end
        const list = field.value === 'entries' || field.value === 'tombstones' ? yield* need(() => containerAt(w.bytes, pos)) : undefined
        if (list?.kind === 'array') {
          const items: unknown[] = []
          pos = list.next
          for (let done = 0; done < list.count;) {
            const n = Math.min(SNAPSHOT_DECODE_RECORDS, list.count - done)
            const end = yield* need(() => {
              let at = pos
              for (let k = 0; k < n; k++) at = skipValue(w.bytes, at)
              return at
            })
            const bytes = w.bytes
            // Entries as snapshot-stream.ts writes them are read straight into KVEntry objects
            // (fewer objects per record than the generic decoder: less work and less garbage).
            const direct = field.value === 'entries' ? decodeKVRecords(bytes, pos, n) : undefined
            const owned = direct !== undefined && direct.end === end
            const batch = owned ? direct.entries : decodeSequence(bytes, pos, end, n)
            onBatch(field.value as 'entries' | 'tombstones', batch, owned)
            for (const item of batch) items.push(item)
            pos = end
            done += n
            yield
          }
          table[field.value as string] = items
        } else {
          const value = yield* need(() => decodeValue(w.bytes, pos))
          table[String(field.value)] = value.value
          pos = value.end
        }
      }
      document.kv = table
    } else {
      const value = yield* need(() => decodeValue(w.bytes, pos))
      document[String(key.value)] = value.value
      pos = value.end
    }
    yield
  }
  while (!w.complete && pos === w.bytes.length) {
    yield w.refill(pos)
    pos = 0
  }
  if (pos !== w.bytes.length) throw new CodecError(`undecodable msgpack: ${w.bytes.length - pos} extra byte(s) after the snapshot`)
  return document
}

/** The value starting at `start` and where it ends (Truncated when the bytes end inside it). */
function decodeValue(bytes: Uint8Array, start: number): {value: unknown; end: number} {
  const end = skipValue(bytes, start)
  return {value: decodeOne(bytes, start, end), end}
}

function decodeOne(bytes: Uint8Array, start: number, end: number): unknown {
  try {
    return decoder.decode(bytes.subarray(start, end))
  } catch (err) {
    throw new CodecError(`undecodable msgpack: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function decodeSequence(bytes: Uint8Array, start: number, end: number, n: number): unknown[] {
  const out: unknown[] = []
  try {
    for (const item of decoder.decodeMulti(bytes.subarray(start, end))) out.push(item)
  } catch (err) {
    throw new CodecError(`undecodable msgpack: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (out.length !== n) throw new CodecError(`undecodable msgpack: ${out.length} of ${n} records`)
  return out
}

interface Container {
  kind: 'map' | 'array'
  count: number
  /** Where its first element starts. */
  next: number
}

/** The map or array header at `pos`, or undefined when another kind of value starts there. */
function containerAt(bytes: Uint8Array, pos: number): Container | undefined {
  const head = bytes[pos]
  if (head === undefined) throw truncated()
  if (head >= 0x80 && head <= 0x8f) return {kind: 'map', count: head & 0x0f, next: pos + 1}
  if (head >= 0x90 && head <= 0x9f) return {kind: 'array', count: head & 0x0f, next: pos + 1}
  if (head === 0xdc || head === 0xde) return {kind: head === 0xdc ? 'array' : 'map', count: u16(bytes, pos + 1), next: pos + 3}
  if (head === 0xdd || head === 0xdf) return {kind: head === 0xdd ? 'array' : 'map', count: u32(bytes, pos + 1), next: pos + 5}
  return undefined
}

/** Where the msgpack value starting at `pos` ends (its lengths read, nothing decoded). */
export function skipValue(bytes: Uint8Array, pos: number): number {
  // Values still to pass over: containers add their elements instead of recursing.
  let pending = 1
  for (; pending > 0; pending--) {
    const head = bytes[pos]
    if (head === undefined) throw truncated()
    if (head <= 0x7f || head >= 0xe0) pos += 1 // fixint
    else if (head <= 0x8f) { pending += 2 * (head & 0x0f); pos += 1 } // fixmap
    else if (head <= 0x9f) { pending += head & 0x0f; pos += 1 } // fixarray
    else if (head <= 0xbf) pos += 1 + (head & 0x1f) // fixstr
    else {
      switch (head) {
        case 0xc0: case 0xc2: case 0xc3: pos += 1; break // nil, false, true
        case 0xc4: case 0xd9: pos += 2 + u8(bytes, pos + 1); break // bin8, str8
        case 0xc5: case 0xda: pos += 3 + u16(bytes, pos + 1); break // bin16, str16
        case 0xc6: case 0xdb: pos += 5 + u32(bytes, pos + 1); break // bin32, str32
        case 0xc7: pos += 3 + u8(bytes, pos + 1); break // ext8
        case 0xc8: pos += 4 + u16(bytes, pos + 1); break // ext16
        case 0xc9: pos += 6 + u32(bytes, pos + 1); break // ext32
        case 0xcc: case 0xd0: pos += 2; break
        case 0xcd: case 0xd1: pos += 3; break
        case 0xca: case 0xce: case 0xd2: pos += 5; break
        case 0xcb: case 0xcf: case 0xd3: pos += 9; break
        case 0xd4: pos += 3; break // fixext 1..16: head, type, data
        case 0xd5: pos += 4; break
        case 0xd6: pos += 6; break
        case 0xd7: pos += 10; break
        case 0xd8: pos += 18; break
        case 0xdc: pending += u16(bytes, pos + 1); pos += 3; break
        case 0xdd: pending += u32(bytes, pos + 1); pos += 5; break
        case 0xde: pending += 2 * u16(bytes, pos + 1); pos += 3; break
        case 0xdf: pending += 2 * u32(bytes, pos + 1); pos += 5; break
        default: throw new CodecError(`undecodable msgpack: invalid byte 0x${head.toString(16)} at ${pos}`)
      }
    }
    if (pos > bytes.length) throw truncated()
  }
  return pos
}

function u8(bytes: Uint8Array, at: number): number {
  if (at >= bytes.length) throw truncated()
  return bytes[at]
}

function u16(bytes: Uint8Array, at: number): number {
  if (at + 2 > bytes.length) throw truncated()
  return (bytes[at] << 8) | bytes[at + 1]
}

function u32(bytes: Uint8Array, at: number): number {
  if (at + 4 > bytes.length) throw truncated()
  return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3])
}

function truncated(): CodecError {
  return new Truncated()
}
