// KV records in a snapshot, written straight into bytes. The snapshot document (snapshot-stream.ts)
// holds each KV entry as a msgpack map of its seven fields; a million keys went through
// @msgpack/msgpack's generic Encoder one object at a time (property walk, type dispatch, a
// growing buffer), most of `GET /v1/snapshot`'s time. The entry's shape is fixed, so it is written
// here field by field: the same msgpack map the generic Encoder writes for an entry built as
// kv-ops.ts builds it (key, value, flags, createIndex, modifyIndex, lockIndex, session), decoded
// by anything that reads msgpack. A record with a string that is not plain ASCII goes through the
// generic encoder (so its UTF-8 is exactly what it always was).
import {encodeValue} from './codec.js'
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
  at += out.write(key, at, 'latin1')
  at = put(out, at, FIELD.value)
  at = binHeader(out, at, value.length)
  out.set(value, at)
  at += value.length
  at = put(out, at, FIELD.flags)
  // @msgpack/msgpack with useBigInt64: uint64 for a non-negative bigint, int64 otherwise.
  if (flags === 0n) {
    out[at] = 0xcf
    out.fill(0, at + 1, at + 9)
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
  at += out.write(session, at, 'latin1')
  return at
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
  if (n < 0x100) {
    out[at] = 0xd9
    out[at + 1] = n
    return at + 2
  }
  if (n < 0x10000) {
    out[at] = 0xda
    out.writeUInt16BE(n, at + 1)
    return at + 3
  }
  out[at] = 0xdb
  out.writeUInt32BE(n, at + 1)
  return at + 5
}

function binHeader(out: Buffer, at: number, n: number): number {
  if (n < 0x100) {
    out[at] = 0xc4
    out[at + 1] = n
    return at + 2
  }
  if (n < 0x10000) {
    out[at] = 0xc5
    out.writeUInt16BE(n, at + 1)
    return at + 3
  }
  out[at] = 0xc6
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
