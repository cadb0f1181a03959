// The gossip wire: how the core's messages (types.ts) become datagrams and stream payloads. coord's
// own format (ARCHITECTURE.md, house rule 8: compatibility lives at the edges; Consul agents never gossip with coord).
//
// Datagram (one UDP packet, before the optional cipher, keyring.ts):
//   [0x01 version] msgpack [from, [msg, msg, ...]]        (a compound packet: several messages)
// Each msg is a msgpack array whose first element is a type code (MESSAGE_CODES), then its fields
// in a fixed order, e.g. ping = [0, seqNo, target]; an ack is [2, seqNo] or [2, seqNo, payload]. Arrays rather than maps keep the encoding at or
// below wire-size.ts's estimate, which the core fills datagrams against: for ASCII strings under
// 256 bytes, msgpack spends ≤ 2 + len per string (the estimate's figure), 2 bytes of framing per
// message (estimate: 3) and ≤ 5 per packet (estimate: 8). Non-ASCII names can exceed the estimate;
// encodePacket then splits the messages over several datagrams rather than exceed maxBytes.
//
// Stream payload (one length-prefixed frame each way, rpc/frame.ts, before the optional cipher):
//   [0x01 version] msgpack [0 (push-pull), from, join, ltime, [[name, address, port, incarnation, state, tags], ...]]
//
// Decoding never trusts the bytes: unknown versions, truncated or trailing bytes, wrong types and
// out-of-range numbers all raise GossipDecodeError (and nothing else).
import {decode, encode} from '@msgpack/msgpack'
import {CoordError} from '../errors.js'
import type {GossipMessage, MemberSnapshot, MemberState, Packet, PushPullState, QueryResponse, Tags} from './types.js'

export const WIRE_VERSION = 1
const STREAM_PUSH_PULL = 0

const MESSAGE_CODES = {ping: 0, indirectPing: 1, ack: 2, nack: 3, suspect: 4, alive: 5, dead: 6, leave: 7, userEvent: 8, query: 9, queryResponse: 10, queryRelay: 11} as const
const STATE_CODES: readonly MemberState[] = ['alive', 'suspect', 'failed', 'leaving', 'left']

/** Datagrams and stream payloads are bounded elsewhere; these stop a hostile length field early. */
const decodeLimits = {maxStrLength: 64 * 1024, maxBinLength: 16 * 1024 * 1024, maxArrayLength: 1024 * 1024, maxMapLength: 1024}

export class GossipDecodeError extends CoordError {
  constructor(message: string, cause?: unknown) {
    super('GOSSIP_DECODE_FAILED', message, {cause})
    this.name = 'GossipDecodeError'
  }
}

// ---- encoding ----

function messageFields(m: GossipMessage): unknown[] {
  const code = MESSAGE_CODES[m.type]
  switch (m.type) {
    case 'ping':
      return [code, m.seqNo, m.target]
    case 'indirectPing':
      return [code, m.seqNo, m.target, m.targetAddress.address, m.targetAddress.port, m.wantNack]
    case 'ack':
      return m.payload ? [code, m.seqNo, m.payload] : [code, m.seqNo]
    case 'nack':
      return [code, m.seqNo]
    case 'suspect':
    case 'dead':
      return [code, m.node, m.incarnation, m.from]
    case 'alive':
      return [code, m.node, m.incarnation, m.address, m.port, m.tags]
    case 'leave':
      return [code, m.node, m.incarnation, m.ltime]
    case 'userEvent':
      return [code, m.ltime, m.name, m.payload]
    case 'query':
      return [code, m.id, m.origin, m.address, m.port, m.name, m.payload, m.timeoutMs, m.relayFactor]
    case 'queryResponse':
      return [code, m.id, m.from, m.payload]
    case 'queryRelay':
      return [code, m.address, m.port, messageFields(m.response)]
  }
}

export function encodeMessage(m: GossipMessage): Uint8Array {
  return encode(messageFields(m))
}

/** msgpack array header for `n` elements. */
function arrayHeader(n: number): Uint8Array {
  if (n <= 15) return Uint8Array.of(0x90 | n)
  if (n <= 0xffff) return Uint8Array.of(0xdc, n >> 8, n & 0xff)
  return Uint8Array.of(0xdd, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

export interface EncodedPacket {
  /** One or more datagrams, each at most maxBytes (more than one only when the estimate was exceeded). */
  datagrams: Uint8Array[]
  /** Messages too large for a datagram of their own, left out. */
  dropped: number
}

/** Encode a compound packet into datagrams of at most `maxBytes`, splitting if need be (order kept). */
export function encodePacket(packet: Packet, maxBytes: number): EncodedPacket {
  const from = encode(packet.from)
  const fixed = 2 + from.length // version byte, [from, msgs] header, from
  const datagrams: Uint8Array[] = []
  let dropped = 0
  let chunk: Uint8Array[] = []
  let chunkBytes = 0
  const sizeWith = (count: number, bytes: number): number => fixed + arrayHeader(count).length + bytes
  const flush = (): void => {
    if (chunk.length === 0) return
    datagrams.push(assemble(from, chunk, chunkBytes))
    chunk = []
    chunkBytes = 0
  }
  for (const m of packet.messages) {
    const bytes = encodeMessage(m)
    if (sizeWith(1, bytes.length) > maxBytes) {
      dropped++
      continue
    }
    if (sizeWith(chunk.length + 1, chunkBytes + bytes.length) > maxBytes) flush()
    chunk.push(bytes)
    chunkBytes += bytes.length
  }
  flush()
  if (packet.messages.length === 0 && fixed + 1 <= maxBytes) datagrams.push(assemble(from, [], 0))
  return {datagrams, dropped}
}

function assemble(from: Uint8Array, messages: Uint8Array[], messageBytes: number): Uint8Array {
  const header = arrayHeader(messages.length)
  const out = new Uint8Array(2 + from.length + header.length + messageBytes)
  out[0] = WIRE_VERSION
  out[1] = 0x92
  out.set(from, 2)
  let at = 2 + from.length
  out.set(header, at)
  at += header.length
  for (const m of messages) {
    out.set(m, at)
    at += m.length
  }
  return out
}

export function encodePushPull(state: PushPullState): Uint8Array {
  const members = state.members.map((m) => [m.name, m.address, m.port, m.incarnation, STATE_CODES.indexOf(m.state), m.tags])
  return withVersion(encode([STREAM_PUSH_PULL, state.from, state.join, state.ltime, members]))
}

function withVersion(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length)
  out[0] = WIRE_VERSION
  out.set(body, 1)
  return out
}

// ---- decoding ----

function unwrap(bytes: Uint8Array, what: string): unknown {
  if (bytes.length < 2) throw new GossipDecodeError(`${what}: ${bytes.length} bytes is too short`)
  if (bytes[0] !== WIRE_VERSION) throw new GossipDecodeError(`${what}: unknown wire version ${bytes[0]}`)
  try {
    return decode(bytes.subarray(1), decodeLimits)
  } catch (error) {
    throw new GossipDecodeError(`${what}: malformed msgpack: ${(error as Error).message}`, error)
  }
}

/** Decode one datagram (already opened by the cipher, if any). */
export function decodePacket(bytes: Uint8Array): Packet {
  const body = unwrap(bytes, 'packet')
  const [from, messages] = tuple(body, 2, 'packet')
  if (!Array.isArray(messages)) throw new GossipDecodeError('packet: messages is not an array')
  return {from: name(from, 'packet.from'), messages: messages.map(decodeMessage)}
}

export function decodeMessage(raw: unknown): GossipMessage {
  if (!Array.isArray(raw) || raw.length === 0) throw new GossipDecodeError('message: not a non-empty array')
  const at = (i: number): unknown => raw[i]
  const arity = (n: number, type: string): void => {
    if (raw.length !== n) throw new GossipDecodeError(`${type}: expected ${n} fields, got ${raw.length}`)
  }
  switch (raw[0]) {
    case MESSAGE_CODES.ping:
      arity(3, 'ping')
      return {type: 'ping', seqNo: uint(at(1), 'ping.seqNo'), target: name(at(2), 'ping.target')}
    case MESSAGE_CODES.indirectPing:
      arity(6, 'indirectPing')
      return {type: 'indirectPing', seqNo: uint(at(1), 'indirectPing.seqNo'), target: name(at(2), 'indirectPing.target'), targetAddress: {address: name(at(3), 'indirectPing.address'), port: port(at(4), 'indirectPing.port')}, wantNack: bool(at(5), 'indirectPing.wantNack')}
    case MESSAGE_CODES.ack:
      // [2, seqNo] from members without ack payloads; [2, seqNo, payload] from those with them.
      if (raw.length === 3) return {type: 'ack', seqNo: uint(at(1), 'ack.seqNo'), payload: bytes(at(2), 'ack.payload')}
      arity(2, 'ack')
      return {type: 'ack', seqNo: uint(at(1), 'ack.seqNo')}
    case MESSAGE_CODES.nack:
      arity(2, 'nack')
      return {type: 'nack', seqNo: uint(at(1), 'nack.seqNo')}
    case MESSAGE_CODES.suspect:
      arity(4, 'suspect')
      return {type: 'suspect', node: name(at(1), 'suspect.node'), incarnation: uint(at(2), 'suspect.incarnation'), from: name(at(3), 'suspect.from')}
    case MESSAGE_CODES.alive:
      arity(6, 'alive')
      return {type: 'alive', node: name(at(1), 'alive.node'), incarnation: uint(at(2), 'alive.incarnation'), address: name(at(3), 'alive.address'), port: port(at(4), 'alive.port'), tags: tags(at(5), 'alive.tags')}
    case MESSAGE_CODES.dead:
      arity(4, 'dead')
      return {type: 'dead', node: name(at(1), 'dead.node'), incarnation: uint(at(2), 'dead.incarnation'), from: name(at(3), 'dead.from')}
    case MESSAGE_CODES.leave:
      arity(4, 'leave')
      return {type: 'leave', node: name(at(1), 'leave.node'), incarnation: uint(at(2), 'leave.incarnation'), ltime: uint(at(3), 'leave.ltime')}
    case MESSAGE_CODES.userEvent: {
      arity(4, 'userEvent')
      const payload = at(3)
      if (!(payload instanceof Uint8Array)) throw new GossipDecodeError('userEvent.payload: not bytes')
      return {type: 'userEvent', ltime: uint(at(1), 'userEvent.ltime'), name: name(at(2), 'userEvent.name'), payload}
    }
    case MESSAGE_CODES.query:
      arity(9, 'query')
      return {type: 'query', id: uint(at(1), 'query.id'), origin: name(at(2), 'query.origin'), address: name(at(3), 'query.address'), port: port(at(4), 'query.port'), name: name(at(5), 'query.name'), payload: bytes(at(6), 'query.payload'), timeoutMs: uint(at(7), 'query.timeoutMs'), relayFactor: uint(at(8), 'query.relayFactor')}
    case MESSAGE_CODES.queryResponse:
      arity(4, 'queryResponse')
      return {type: 'queryResponse', id: uint(at(1), 'queryResponse.id'), from: name(at(2), 'queryResponse.from'), payload: bytes(at(3), 'queryResponse.payload')}
    case MESSAGE_CODES.queryRelay: {
      arity(4, 'queryRelay')
      const inner = at(3)
      if (!Array.isArray(inner) || inner[0] !== MESSAGE_CODES.queryResponse) throw new GossipDecodeError('queryRelay.response: not a queryResponse')
      return {type: 'queryRelay', address: name(at(1), 'queryRelay.address'), port: port(at(2), 'queryRelay.port'), response: decodeMessage(inner) as QueryResponse}
    }
    default:
      throw new GossipDecodeError(`message: unknown type code ${String(raw[0])}`)
  }
}

/** Decode a push-pull stream payload (one frame, already opened by the cipher, if any). */
export function decodePushPull(bytes: Uint8Array): PushPullState {
  const body = unwrap(bytes, 'push-pull')
  const [kind, from, join, ltime, members] = tuple(body, 5, 'push-pull')
  if (kind !== STREAM_PUSH_PULL) throw new GossipDecodeError(`stream: unknown kind ${String(kind)}`)
  if (!Array.isArray(members)) throw new GossipDecodeError('push-pull.members: not an array')
  return {from: name(from, 'push-pull.from'), join: bool(join, 'push-pull.join'), ltime: uint(ltime, 'push-pull.ltime'), members: members.map(decodeSnapshot)}
}

function decodeSnapshot(raw: unknown): MemberSnapshot {
  const [memberName, address, memberPort, incarnation, state, memberTags] = tuple(raw, 6, 'push-pull member')
  const stateName = typeof state === 'number' ? STATE_CODES[state] : undefined
  if (stateName === undefined) throw new GossipDecodeError(`push-pull member: unknown state ${String(state)}`)
  return {name: name(memberName, 'member.name'), address: name(address, 'member.address'), port: port(memberPort, 'member.port'), incarnation: uint(incarnation, 'member.incarnation'), state: stateName, tags: tags(memberTags, 'member.tags')}
}

function tuple(raw: unknown, n: number, what: string): unknown[] {
  if (!Array.isArray(raw) || raw.length !== n) throw new GossipDecodeError(`${what}: expected an array of ${n}`)
  return raw
}

function name(raw: unknown, what: string): string {
  if (typeof raw !== 'string' || raw === '') throw new GossipDecodeError(`${what}: not a non-empty string`)
  return raw
}

function uint(raw: unknown, what: string): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) throw new GossipDecodeError(`${what}: not a non-negative integer`)
  return raw
}

function port(raw: unknown, what: string): number {
  const p = uint(raw, what)
  if (p > 65535) throw new GossipDecodeError(`${what}: ${p} is not a port`)
  return p
}

function bytes(raw: unknown, what: string): Uint8Array {
  if (!(raw instanceof Uint8Array)) throw new GossipDecodeError(`${what}: not bytes`)
  return raw
}

function bool(raw: unknown, what: string): boolean {
  if (typeof raw !== 'boolean') throw new GossipDecodeError(`${what}: not a boolean`)
  return raw
}

function tags(raw: unknown, what: string): Tags {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) throw new GossipDecodeError(`${what}: not a map`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k === '__proto__') throw new GossipDecodeError(`${what}: forbidden key __proto__`)
    if (typeof v !== 'string') throw new GossipDecodeError(`${what}.${k}: not a string`)
    out[k] = v
  }
  return out
}
