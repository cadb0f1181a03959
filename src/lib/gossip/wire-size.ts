// Encoded sizes of gossip messages, for filling datagrams up to the byte budget and for the
// simulation's bandwidth figures. They follow codec.ts's msgpack encoding exactly for ASCII names
// (codec.test.ts checks it): arrays with a type code first, strings and byte strings with their
// shortest msgpack header, unsigned integers in their shortest form. Non-ASCII names encode longer
// than their UTF-16 length; encodePacket then splits rather than exceed the datagram limit. Pure
// arithmetic, no encoding happens here.
import type {GossipMessage, MemberSnapshot, PushPullState, Tags} from './types.js'

/**
 * Per-packet framing budgeted when filling a datagram: version byte, the [from, messages] array
 * header and the messages array's header at its largest (3 bytes, up to 65,535 messages), so
 * adding piggybacked messages never outgrows the budget. Sender name added separately.
 */
export const PACKET_OVERHEAD_BYTES = 5
/** Per-message framing inside a compound packet: the message array's header and its type code. */
export const MESSAGE_OVERHEAD_BYTES = 2

function str(s: string): number {
  const n = s.length
  return (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5) + n
}

function bin(n: number): number {
  return (n < 256 ? 2 : n < 65536 ? 3 : 5) + n
}

function num(n: number): number {
  return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : n < 2 ** 32 ? 5 : 9
}

function arrayHeader(count: number): number {
  return count <= 15 ? 1 : count <= 65535 ? 3 : 5
}

function tags(t: Tags): number {
  const entries = Object.entries(t)
  let size = entries.length <= 15 ? 1 : 3
  for (const [k, v] of entries) size += str(k) + str(v)
  return size
}

export function messageSizeBytes(m: GossipMessage): number {
  switch (m.type) {
    case 'ping':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo) + str(m.target)
    case 'indirectPing':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo) + str(m.target) + str(m.targetAddress.address) + num(m.targetAddress.port) + 1
    case 'ack':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo) + (m.payload ? bin(m.payload.length) : 0)
    case 'nack':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo)
    case 'suspect':
    case 'dead':
      return MESSAGE_OVERHEAD_BYTES + str(m.node) + num(m.incarnation) + str(m.from)
    case 'alive':
      return MESSAGE_OVERHEAD_BYTES + str(m.node) + num(m.incarnation) + str(m.address) + num(m.port) + tags(m.tags)
    case 'leave':
      return MESSAGE_OVERHEAD_BYTES + str(m.node) + num(m.incarnation) + num(m.ltime)
    case 'userEvent':
      return MESSAGE_OVERHEAD_BYTES + num(m.ltime) + str(m.name) + bin(m.payload.length)
    case 'query':
      return MESSAGE_OVERHEAD_BYTES + num(m.id) + str(m.origin) + str(m.address) + num(m.port) + str(m.name) + bin(m.payload.length) + num(m.timeoutMs) + num(m.relayFactor)
    case 'queryResponse':
      return MESSAGE_OVERHEAD_BYTES + num(m.id) + str(m.from) + bin(m.payload.length)
    case 'queryRelay':
      return MESSAGE_OVERHEAD_BYTES + str(m.address) + num(m.port) + messageSizeBytes(m.response)
  }
}

/** The budget a datagram of `messages` from `from` is filled against (never below its encoded size). */
export function packetSizeBytes(from: string, messages: readonly GossipMessage[]): number {
  let size = PACKET_OVERHEAD_BYTES + str(from)
  for (const m of messages) size += messageSizeBytes(m)
  return size
}

/** What the datagram encodes to (codec.ts encodePacket): the budget less the unused part of the messages array header. */
export function encodedPacketSizeBytes(from: string, messages: readonly GossipMessage[]): number {
  return packetSizeBytes(from, messages) - 3 + arrayHeader(messages.length)
}

function snapshotSizeBytes(m: MemberSnapshot): number {
  return 1 + str(m.name) + str(m.address) + num(m.port) + num(m.incarnation) + 1 + tags(m.tags)
}

/** Version byte, [0, from, join, ltime, members] and one [name, address, port, incarnation, state, tags] per member. */
export function pushPullSizeBytes(s: PushPullState): number {
  let size = 1 + 1 + 1 + str(s.from) + 1 + num(s.ltime) + arrayHeader(s.members.length)
  for (const m of s.members) size += snapshotSizeBytes(m)
  return size
}

/**
 * The sizes the core fills datagrams against. coord's codec is the default; the simulation can
 * hand the core another wire's sizes (memberlist's, test/sim/memberlist-wire-size.ts) so a model
 * of that system packs its datagrams as it would.
 */
export interface WireSizes {
  /** A datagram from `from` carrying `messages` (framing included). */
  packet(from: string, messages: readonly GossipMessage[]): number
  /** One message as a piggybacked broadcast adds it to a datagram (its framing included). */
  message(m: GossipMessage): number
}

export const coordWireSizes: WireSizes = {packet: packetSizeBytes, message: messageSizeBytes}
