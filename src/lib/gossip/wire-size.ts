// Estimated encoded sizes of gossip messages, for filling datagrams up to the byte budget and for
// the simulation's bandwidth figures. The estimate follows a compact binary encoding (msgpack-like:
// a type byte, length-prefixed strings, varint-sized numbers); the real codec must stay at or below
// it, or packets could exceed packetBudgetBytes. Pure arithmetic, no encoding happens here.
import type {GossipMessage, MemberSnapshot, PushPullState, Tags} from './types.js'

/** Per-packet framing: compound header, sender name length and checksum (sender name added separately). */
export const PACKET_OVERHEAD_BYTES = 8
/** Per-message framing inside a compound packet (type and length). */
export const MESSAGE_OVERHEAD_BYTES = 3

function str(s: string): number {
  return 2 + s.length
}

function num(n: number): number {
  return n < 128 ? 1 : n < 65536 ? 3 : n < 2 ** 32 ? 5 : 9
}

function tags(t: Tags): number {
  let size = 1
  for (const [k, v] of Object.entries(t)) size += str(k) + str(v)
  return size
}

export function messageSizeBytes(m: GossipMessage): number {
  switch (m.type) {
    case 'ping':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo) + str(m.target)
    case 'indirectPing':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo) + str(m.target) + str(m.targetAddress.address) + 3 + 1
    case 'ack':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo) + (m.payload ? 5 + m.payload.length : 0)
    case 'nack':
      return MESSAGE_OVERHEAD_BYTES + num(m.seqNo)
    case 'suspect':
    case 'dead':
      return MESSAGE_OVERHEAD_BYTES + str(m.node) + num(m.incarnation) + str(m.from)
    case 'alive':
      return MESSAGE_OVERHEAD_BYTES + str(m.node) + num(m.incarnation) + str(m.address) + 3 + tags(m.tags)
    case 'leave':
      return MESSAGE_OVERHEAD_BYTES + str(m.node) + num(m.incarnation) + num(m.ltime)
    case 'userEvent':
      return MESSAGE_OVERHEAD_BYTES + num(m.ltime) + str(m.name) + 5 + m.payload.length
    case 'query':
      return MESSAGE_OVERHEAD_BYTES + num(m.id) + str(m.origin) + str(m.address) + 3 + str(m.name) + 5 + m.payload.length + num(m.timeoutMs) + 1
    case 'queryResponse':
      return MESSAGE_OVERHEAD_BYTES + num(m.id) + str(m.from) + 5 + m.payload.length
    case 'queryRelay':
      return MESSAGE_OVERHEAD_BYTES + str(m.address) + 3 + messageSizeBytes(m.response)
  }
}

export function packetSizeBytes(from: string, messages: readonly GossipMessage[]): number {
  let size = PACKET_OVERHEAD_BYTES + str(from)
  for (const m of messages) size += messageSizeBytes(m)
  return size
}

function snapshotSizeBytes(m: MemberSnapshot): number {
  return str(m.name) + str(m.address) + 3 + num(m.incarnation) + 1 + tags(m.tags)
}

export function pushPullSizeBytes(s: PushPullState): number {
  let size = PACKET_OVERHEAD_BYTES + str(s.from) + 1 + num(s.ltime)
  for (const m of s.members) size += snapshotSizeBytes(m)
  return size
}
