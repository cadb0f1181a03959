// Bytes for log entries and snapshots: msgpack, with bigint (KV flags are uint64) kept as bigint
// and byte values kept as Uint8Array. Encoding drops `undefined` fields, so an optional field
// that was absent stays absent after a round trip (instead of coming back as null).
//
// Decoded byte values are copied out of the input buffer: the log store may reuse its read
// buffers, and a stored KV value must never change under a reader.

import {Decoder, Encoder} from '@msgpack/msgpack'
import type {Command, KVOp, TxnOp} from './types.js'

const encoder = new Encoder({useBigInt64: true, ignoreUndefined: true})
const decoder = new Decoder({useBigInt64: true})

const COMMAND_TYPES: ReadonlySet<string> = new Set<Command['type']>([
  'kv', 'txn', 'session-create', 'session-destroy', 'session-renew', 'node-register', 'tombstone-reap', 'restore',
  'catalog-register', 'catalog-deregister', 'coordinate-batch-update', 'prepared-query-set', 'prepared-query-delete', 'acl',
  'autopilot-set',
])

/** A log entry or snapshot that does not decode to what coord wrote. */
export class CodecError extends Error {
  readonly code = 'STATE_CODEC'
  constructor(what: string) {
    super(what)
    this.name = 'CodecError'
  }
}

export function encodeValue(value: unknown): Uint8Array {
  return encoder.encode(value)
}

export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes)
  } catch (err) {
    throw new CodecError(`undecodable msgpack: ${err instanceof Error ? err.message : String(err)}`)
  }
}

export function encodeCommand(cmd: Command): Uint8Array {
  return encodeValue(cmd)
}

/** Decode a command written by `encodeCommand`; throws CodecError on anything else. */
export function decodeCommand(bytes: Uint8Array): Command {
  const raw = decodeValue(bytes)
  if (typeof raw !== 'object' || raw === null || !COMMAND_TYPES.has((raw as {type?: unknown}).type as string)) {
    throw new CodecError('log entry is not a coord state command')
  }
  const cmd = raw as Command
  if (typeof cmd.now !== 'number') throw new CodecError(`command ${cmd.type} has no numeric "now"`)
  if (cmd.type === 'kv') cmd.op = ownOp(cmd.op)
  if (cmd.type === 'txn') {
    if (!Array.isArray(cmd.ops)) throw new CodecError('txn command has no ops')
    cmd.ops = cmd.ops.map(checkTxnOp)
    ownValues(cmd.ops)
  }
  if ((cmd.type === 'catalog-register' || cmd.type === 'catalog-deregister') && (typeof cmd.request !== 'object' || cmd.request === null)) {
    throw new CodecError(`${cmd.type} command has no request`)
  }
  if (cmd.type === 'prepared-query-set' && (typeof cmd.query !== 'object' || cmd.query === null || typeof cmd.query.ID !== 'string')) {
    throw new CodecError('prepared-query-set command has no query')
  }
  if (cmd.type === 'acl' && (typeof cmd.op !== 'object' || cmd.op === null || typeof cmd.op.op !== 'string')) throw new CodecError('acl command has no op')
  // The snapshot bytes are decoded (and every value copied out) when the command is applied.
  if (cmd.type === 'restore' && !(cmd.data instanceof Uint8Array)) throw new CodecError('restore command has no snapshot data')
  return cmd
}

/** The codec the Raft driver is given for the state machine's commands (runtime/agent.ts injects it). */
export const commandCodec = {encode: encodeCommand, decode: decodeCommand}

/** KV ops have no `kind`; the catalog kinds carry plain records (no byte values to copy). */
function checkTxnOp(op: TxnOp): TxnOp {
  if (typeof op !== 'object' || op === null) throw new CodecError('txn op is not an object')
  if (op.kind === undefined) {
    if (typeof op.key !== 'string') throw new CodecError('KV op has no key')
    return op
  }
  if (!['node', 'service', 'check', 'session'].includes(op.kind) || typeof op.verb !== 'string') throw new CodecError('txn op has no kind or verb')
  return op
}

/**
 * A txn's KV values copied out of the entry's bytes into one buffer, each value a view of its
 * stretch: one allocation per txn rather than an ArrayBuffer per value (replaying a log of 64-op
 * txns allocated a million small buffers at a million keys). Ops are fresh from the decoder.
 */
export function ownValues(ops: TxnOp[]): void {
  let total = 0
  for (const op of ops) if (op.kind === undefined && op.value instanceof Uint8Array) total += op.value.length
  if (total === 0) return
  const slab = new ArrayBuffer(total)
  const bytes = new Uint8Array(slab)
  let offset = 0
  for (const op of ops) {
    if (op.kind !== undefined || !(op.value instanceof Uint8Array)) continue
    const length = op.value.length
    bytes.set(op.value, offset)
    op.value = new Uint8Array(slab, offset, length)
    offset += length
  }
}

function ownOp(op: KVOp): KVOp {
  if (typeof op !== 'object' || op === null || typeof op.key !== 'string') throw new CodecError('KV op has no key')
  return op.value instanceof Uint8Array ? {...op, value: op.value.slice()} : op
}

/** A msgpack value that runs past the end of its bytes ('truncated') or holds a byte no msgpack type starts with. */
export class MsgpackWalkError extends Error {}

/** Offset just past the msgpack value at `offset` (nested values included), without decoding it; throws MsgpackWalkError. */
export function msgpackEnd(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const need = (n: number): void => {
    if (offset + n > bytes.length) throw new MsgpackWalkError('truncated')
  }
  let pending = 1
  while (pending > 0) {
    need(1)
    const b = bytes[offset]
    pending--
    let head = 1
    let body = 0
    let children = 0
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) head = 1
    else if (b <= 0x8f) children = 2 * (b & 0x0f)
    else if (b <= 0x9f) children = b & 0x0f
    else if (b <= 0xbf) body = b & 0x1f
    else {
      const u8 = (): number => { need(2); return view.getUint8(offset + 1) }
      const u16 = (): number => { need(3); return view.getUint16(offset + 1) }
      const u32 = (): number => { need(5); return view.getUint32(offset + 1) }
      switch (b) {
        case 0xc4: case 0xd9: head = 2; body = u8(); break
        case 0xc5: case 0xda: head = 3; body = u16(); break
        case 0xc6: case 0xdb: head = 5; body = u32(); break
        case 0xc7: head = 3; body = u8(); break
        case 0xc8: head = 4; body = u16(); break
        case 0xc9: head = 6; body = u32(); break
        case 0xca: head = 5; break
        case 0xcb: head = 9; break
        case 0xcc: case 0xd0: head = 2; break
        case 0xcd: case 0xd1: head = 3; break
        case 0xce: case 0xd2: head = 5; break
        case 0xcf: case 0xd3: head = 9; break
        case 0xd4: head = 3; break
        case 0xd5: head = 4; break
        case 0xd6: head = 6; break
        case 0xd7: head = 10; break
        case 0xd8: head = 18; break
        case 0xdc: head = 3; children = u16(); break
        case 0xdd: head = 5; children = u32(); break
        case 0xde: head = 3; children = 2 * u16(); break
        case 0xdf: head = 5; children = 2 * u32(); break
        default: throw new MsgpackWalkError(`bad msgpack byte 0x${b.toString(16)}`)
      }
    }
    need(head + body)
    offset += head + body
    pending += children
  }
  return offset
}
