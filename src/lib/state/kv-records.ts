// KV records in a snapshot, written straight into bytes. The snapshot document (snapshot-stream.ts)
// holds each KV entry as a msgpack map of its seven fields; a million keys went through
// @msgpack/msgpack's generic Encoder one object at a time (property walk, type dispatch, a
// growing buffer), most of `GET /v1/snapshot`'s time. The entry's shape is fixed, so it is written
// here field by field: the same msgpack map the generic Encoder writes for an entry built as
// kv-ops.ts builds it (key, value, flags, createIndex, modifyIndex, lockIndex, session), decoded
// by anything that reads msgpack. A record with a string that is not plain ASCII goes through the
// generic encoder (so its UTF-8 is exactly what it always was).
import {decodeValue, encodeValue, msgpackEnd, MsgpackWalkError} from './codec.js'
import type {KVEntry} from './types.js'

const FIELD = Object.fromEntries(['key', 'value', 'flags', 'createIndex', 'modifyIndex', 'lockIndex', 'session'].map((name) => [name, Buffer.from(encodeValue(name))])) as Record<keyof KVEntry, Buffer>

/** Bytes a record takes besides its key, value and session text: map header, field names, headers, numbers. */
const RECORD_OVERHEAD = 1 + Object.values(FIELD).reduce((n, b) => n + b.length, 0) + 5 + 5 + 9 + 3 * 9 + 5

let scratch = Buffer.allocUnsafe(1 << 20)

/**
 * The records as consecutive msgpack maps (array elements without the array header), in a fresh
 * buffer of exactly their size.
 */
export function encodeKVRecords(entries: readonly KVEntry[]): Uint8Array {
  let bound = 0
  for (const e of entries) bound += RECORD_OVERHEAD + e.key.length * 3 + e.value.length + e.session.length * 3
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2))
  const out = scratch
  let at = 0
  for (const e of entries) at = writeRecord(out, at, e)
  return Uint8Array.prototype.slice.call(out, 0, at)
}

function writeRecord(out: Buffer, start: number, e: KVEntry): number {
  const {key, value, flags, session} = e
  // Buffer.byteLength equals the length only when every character is ASCII (one byte each).
  if (!(value instanceof Uint8Array) || typeof flags !== 'bigint' || Buffer.byteLength(key) !== key.length || Buffer.byteLength(session) !== session.length) {
    const generic = encodeValue({key, value, flags, createIndex: e.createIndex, modifyIndex: e.modifyIndex, lockIndex: e.lockIndex, session})
    out.set(generic, start)
    return start + generic.length
  }
  let at = start
  out[at++] = 0x87 // fixmap, 7 pairs
  at = put(out, at, FIELD.key)
  at = strHeader(out, at, key.length)
  at = putAscii(out, at, key)
  at = put(out, at, FIELD.value)
  at = binHeader(out, at, value.length)
  out.set(value, at)
  at += value.length
  at = put(out, at, FIELD.flags)
  // @msgpack/msgpack with useBigInt64: uint64 for a non-negative bigint, int64 otherwise.
  if (flags === 0n) {
    out[at] = 0xcf
    for (let i = 1; i < 9; i++) out[at + i] = 0
  } else if (flags > 0n) {
    out[at] = 0xcf
    out.writeBigUInt64BE(flags, at + 1)
  } else {
    out[at] = 0xd3
    out.writeBigInt64BE(flags, at + 1)
  }
  at += 9
  at = put(out, at, FIELD.createIndex)
  at = writeNumber(out, at, e.createIndex)
  at = put(out, at, FIELD.modifyIndex)
  at = writeNumber(out, at, e.modifyIndex)
  at = put(out, at, FIELD.lockIndex)
  at = writeNumber(out, at, e.lockIndex)
  at = put(out, at, FIELD.session)
  at = strHeader(out, at, session.length)
  return putAscii(out, at, session)
}

/**
 * An ASCII string's bytes (the caller checked it is ASCII). Keys are short: a loop here is a few
 * times cheaper than Buffer#write's call into C++, which was a fifth of a snapshot's encoding.
 */
function putAscii(out: Buffer, at: number, text: string): number {
  if (text.length > 64) return at + out.write(text, at, 'latin1')
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i)
  return at + text.length
}

/** A few bytes copied by hand (Buffer#copy costs a view per call, as much as the record's other fields). */
function put(out: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]
  return at + bytes.length
}

function strHeader(out: Buffer, at: number, n: number): number {
  if (n < 32) {
    out[at] = 0xa0 | n
    return at + 1
  }
  return lengthHeader(out, at, n, 0xd9, 0xda, 0xdb)
}

function binHeader(out: Buffer, at: number, n: number): number {
  return lengthHeader(out, at, n, 0xc4, 0xc5, 0xc6)
}

/** A msgpack str/bin header with an 8-, 16- or 32-bit length, whichever is the smallest that holds `n`. */
function lengthHeader(out: Buffer, at: number, n: number, code8: number, code16: number, code32: number): number {
  if (n < 0x100) {
    out[at] = code8
    out[at + 1] = n
    return at + 2
  }
  if (n < 0x10000) {
    out[at] = code16
    out.writeUInt16BE(n, at + 1)
    return at + 3
  }
  out[at] = code32
  out.writeUInt32BE(n, at + 1)
  return at + 5
}

/** As @msgpack/msgpack's encodeNumber with useBigInt64 (indexes are non-negative; anything else as it would). */
function writeNumber(out: Buffer, at: number, n: number): number {
  if (Number.isSafeInteger(n) && n >= 0 && n < 0x100000000) {
    if (n < 0x80) {
      out[at] = n
      return at + 1
    }
    if (n < 0x100) {
      out[at] = 0xcc
      out[at + 1] = n
      return at + 2
    }
    if (n < 0x10000) {
      out[at] = 0xcd
      out.writeUInt16BE(n, at + 1)
      return at + 3
    }
    out[at] = 0xce
    out.writeUInt32BE(n, at + 1)
    return at + 5
  }
  const generic = encodeValue(n)
  out.set(generic, at)
  return at + generic.length
}

// --- reading them back ---

const NAMES = Object.keys(FIELD) as Array<keyof KVEntry>
const ALL_FIELDS = (1 << NAMES.length) - 1
const NO_VALUE = new Uint8Array(0)

/**
 * `count` KV records from `bytes` at `pos`, as encodeKVRecords (or the generic encoder) wrote
 * them, with every value copied into one buffer shared by the batch (each a view of its stretch:
 * the caller may reuse `bytes`) and fresh entry objects of one shape. Undefined, having changed
 * nothing, when a record is not such a seven-field map: the caller then decodes generically.
 * Strings that are not plain ASCII are decoded by the generic decoder, so every record reads
 * back exactly as @msgpack/msgpack would read it.
 */
export function decodeKVRecords(bytes: Uint8Array, pos: number, count: number): {entries: KVEntry[]; end: number} | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const entries: KVEntry[] = []
  const valueAt: number[] = []
  const valueLength: number[] = []
  let total = 0
  let at = pos
  for (let r = 0; r < count; r++) {
    if (buf[at++] !== 0x87) return undefined
    let seen = 0
    let key = ''
    let flags = 0n
    let createIndex = 0
    let modifyIndex = 0
    let lockIndex = 0
    let session = ''
    for (let f = 0; f < 7; f++) {
      const field = fieldAt(buf, at)
      if (field < 0 || (seen & (1 << field)) !== 0) return undefined
      seen |= 1 << field
      at += FIELD[NAMES[field]].length
      if (at >= buf.length) return undefined
      switch (NAMES[field]) {
        case 'key':
        case 'session': {
          const text = stringAt(buf, bytes, at)
          if (text === undefined) return undefined
          if (field === 0) key = text.value
          else session = text.value
          at = text.end
          break
        }
        case 'value': {
          const t = buf[at]
          const header = t === 0xc4 ? 2 : t === 0xc5 ? 3 : t === 0xc6 ? 5 : 0
          if (header === 0 || at + header > buf.length) return undefined
          const n = t === 0xc4 ? buf[at + 1] : t === 0xc5 ? buf.readUInt16BE(at + 1) : buf.readUInt32BE(at + 1)
          if (at + header + n > buf.length) return undefined
          valueAt.push(at + header)
          valueLength.push(n)
          total += n
          at += header + n
          break
        }
        case 'flags': {
          const t = buf[at]
          if ((t !== 0xcf && t !== 0xd3) || at + 9 > buf.length) return undefined
          // 0n, the usual flags, is one shared value rather than a BigInt per key.
          const v = t === 0xcf ? buf.readBigUInt64BE(at + 1) : buf.readBigInt64BE(at + 1)
          flags = v === 0n ? 0n : v
          at += 9
          break
        }
        default: {
          const n = numberAt(buf, at)
          if (n === undefined) return undefined
          if (field === 3) createIndex = n.value
          else if (field === 4) modifyIndex = n.value
          else lockIndex = n.value
          at = n.end
        }
      }
    }
    if (seen !== ALL_FIELDS) return undefined
    entries.push({key, value: NO_VALUE, flags, createIndex, modifyIndex, lockIndex, session})
  }
  const slab = new Uint8Array(total)
  let offset = 0
  for (let i = 0; i < entries.length; i++) {
    const n = valueLength[i]
    // Copied by hand: a `subarray` to copy from would be one more object per value.
    const from = valueAt[i]
    for (let j = 0; j < n; j++) slab[offset + j] = buf[from + j]
    entries[i].value = new Uint8Array(slab.buffer, offset, n)
    offset += n
  }
  return {entries, end: at}
}

/** Which field name (index into NAMES) is at `at`, or -1. */
function fieldAt(buf: Buffer, at: number): number {
  for (let i = 0; i < NAMES.length; i++) {
    const name = FIELD[NAMES[i]]
    if (buf[at] !== name[0] || buf[at + 1] !== name[1] || buf[at + name.length - 1] !== name[name.length - 1] || at + name.length > buf.length) continue
    let same = true
    for (let j = 2; j < name.length - 1 && same; j++) same = buf[at + j] === name[j]
    if (same) return i
  }
  return -1
}

function stringAt(buf: Buffer, bytes: Uint8Array, at: number): {value: string; end: number} | undefined {
  const t = buf[at]
  let header: number
  let n: number
  if (t >= 0xa0 && t <= 0xbf) [header, n] = [1, t & 0x1f]
  else if (t === 0xd9 && at + 2 <= buf.length) [header, n] = [2, buf[at + 1]]
  else if (t === 0xda && at + 3 <= buf.length) [header, n] = [3, buf.readUInt16BE(at + 1)]
  else if (t === 0xdb && at + 5 <= buf.length) [header, n] = [5, buf.readUInt32BE(at + 1)]
  else return undefined
  const start = at + header
  const end = start + n
  if (end > buf.length) return undefined
  if (n === 0) return {value: '', end}
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) {
      const text = decodeValue(bytes.subarray(at, end))
      return typeof text === 'string' ? {value: text, end} : undefined
    }
  }
  return {value: buf.toString('latin1', start, end), end}
}

/** A number as the generic decoder reads it (a uint64 would be a bigint there: not an index, so undefined). */
function numberAt(buf: Buffer, at: number): {value: number; end: number} | undefined {
  const t = buf[at]
  if (t < 0x80) return {value: t, end: at + 1}
  if (t >= 0xe0) return {value: t - 0x100, end: at + 1}
  const size = t === 0xcc || t === 0xd0 ? 1 : t === 0xcd || t === 0xd1 ? 2 : t === 0xce || t === 0xd2 || t === 0xca ? 4 : t === 0xcb ? 8 : 0
  if (size === 0 || at + 1 + size > buf.length) return undefined
  const value = t === 0xcc ? buf[at + 1] : t === 0xcd ? buf.readUInt16BE(at + 1) : t === 0xce ? buf.readUInt32BE(at + 1)
    : t === 0xd0 ? buf.readInt8(at + 1) : t === 0xd1 ? buf.readInt16BE(at + 1) : t === 0xd2 ? buf.readInt32BE(at + 1)
      : t === 0xca ? buf.readFloatBE(at + 1) : buf.readDoubleBE(at + 1)
  return {value, end: at + 1 + size}
}

const KV_NAME = Buffer.from(encodeValue('kv'))
const ENTRIES_NAME = Buffer.from(encodeValue('entries'))

/**
 * A snapshot document (a msgpack map whose `kv` map holds `entries`, as snapshot-stream.ts writes
 * it) decoded with its KV entries read by decodeKVRecords and everything else by the generic
 * decoder: what decodeValue would give, with the entries' values already in one buffer.
 * Undefined when the document has no such layout or a record is not the usual map.
 */
export function decodeSnapshotDocument(bytes: Uint8Array): Record<string, unknown> | undefined {
  const top = mapAt(bytes, 0)
  if (top === undefined) return undefined
  let at = top.next
  for (let i = 0; i < top.count; i++) {
    const keyEnd = skipValue(bytes, at)
    if (keyEnd === undefined) return undefined
    const isKV = sameBytes(bytes, at, keyEnd, KV_NAME)
    at = keyEnd
    if (isKV) {
      const kv = mapAt(bytes, at)
      if (kv === undefined) return undefined
      let field = kv.next
      for (let j = 0; j < kv.count; j++) {
        const nameEnd = skipValue(bytes, field)
        if (nameEnd === undefined) return undefined
        if (sameBytes(bytes, field, nameEnd, ENTRIES_NAME)) {
          const list = arrayAt(bytes, nameEnd)
          if (list === undefined) return undefined
          const records = decodeKVRecords(bytes, list.next, list.count)
          if (records === undefined) return undefined
          // Everything but the records, with an empty entries array in their place.
          const rest = new Uint8Array(nameEnd + 1 + bytes.length - records.end)
          rest.set(bytes.subarray(0, nameEnd), 0)
          rest[nameEnd] = 0x90
          rest.set(bytes.subarray(records.end), nameEnd + 1)
          const document = decodeValue(rest) as {kv: {entries: KVEntry[]}}
          document.kv.entries = records.entries
          return document
        }
        const valueEnd = skipValue(bytes, nameEnd)
        if (valueEnd === undefined) return undefined
        field = valueEnd
      }
      return undefined
    }
    const valueEnd = skipValue(bytes, at)
    if (valueEnd === undefined) return undefined
    at = valueEnd
  }
  return undefined
}

function sameBytes(bytes: Uint8Array, from: number, to: number, want: Buffer): boolean {
  if (to - from !== want.length) return false
  for (let i = 0; i < want.length; i++) if (bytes[from + i] !== want[i]) return false
  return true
}

function mapAt(bytes: Uint8Array, at: number): {count: number; next: number} | undefined {
  const t = bytes[at]
  if (t >= 0x80 && t <= 0x8f) return {count: t & 0x0f, next: at + 1}
  if (t === 0xde && at + 3 <= bytes.length) return {count: (bytes[at + 1] << 8) | bytes[at + 2], next: at + 3}
  if (t === 0xdf && at + 5 <= bytes.length) return {count: readU32(bytes, at + 1), next: at + 5}
  return undefined
}

function arrayAt(bytes: Uint8Array, at: number): {count: number; next: number} | undefined {
  const t = bytes[at]
  if (t >= 0x90 && t <= 0x9f) return {count: t & 0x0f, next: at + 1}
  if (t === 0xdc && at + 3 <= bytes.length) return {count: (bytes[at + 1] << 8) | bytes[at + 2], next: at + 3}
  if (t === 0xdd && at + 5 <= bytes.length) return {count: readU32(bytes, at + 1), next: at + 5}
  return undefined
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3]
}

/** Where the msgpack value at `at` ends, or undefined if it is not whole msgpack. */
function skipValue(bytes: Uint8Array, at: number): number | undefined {
  try {
    return msgpackEnd(bytes, at)
  } catch (error) {
    if (error instanceof MsgpackWalkError) return undefined
    throw error
  }
}

/** Bytes encodeKVRecords writes for `e` (a snapshot's size is known before its records are written). */
export function kvRecordSize(e: KVEntry): number {
  const {key, value, flags, session} = e
  if (!(value instanceof Uint8Array) || typeof flags !== 'bigint' || Buffer.byteLength(key) !== key.length || Buffer.byteLength(session) !== session.length) {
    return encodeValue({key, value, flags, createIndex: e.createIndex, modifyIndex: e.modifyIndex, lockIndex: e.lockIndex, session}).length
  }
  return RECORD_NAMES + strHeaderSize(key.length) + key.length + (value.length < 0x100 ? 2 : value.length < 0x10000 ? 3 : 5) + value.length + 9
    + numberSize(e.createIndex) + numberSize(e.modifyIndex) + numberSize(e.lockIndex) + strHeaderSize(session.length) + session.length
}

/** The map header and the seven field names. */
const RECORD_NAMES = 1 + Object.values(FIELD).reduce((n, b) => n + b.length, 0)

function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

function numberSize(n: number): number {
  if (Number.isSafeInteger(n) && n >= 0 && n < 0x100000000) return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
  return encodeValue(n).length
}
