// memberlist's encoded message sizes, for the simulation's model of memberlist (the LAN, WAN and
// local profiles): the model runs coord's SWIM core with memberlist's timings, and with these sizes
// it fills and counts its datagrams as memberlist would. From hashicorp/memberlist net.go and
// util.go: each message is one type byte plus the msgpack encoding of its struct (ugorji's
// MsgpackHandle: a struct is a map keyed by its field names; strings and []byte as raw with a
// 1-byte header under 32 bytes; unsigned ints in their shortest form); a datagram with piggybacked
// broadcasts is a compound message (type byte, count byte, a 2-byte length per part); a lone message
// is sent as is. Probes carry SourceAddr/SourcePort/SourceNode (state.go probeNode). Addresses are
// 4-byte IPv4s; a member's Meta is serf's encoded tags (a magic byte and a msgpack map). Not counted,
// as for coord: encryption, the optional label and CRC headers, the ack payload of a ping delegate,
// serf's user state in push-pull. The sizes are arithmetic, like wire-size.ts.
//
// Compression: memberlist's default configs set EnableCompression, so it LZW-compresses every
// push-pull stream and every datagram where that is smaller (net.go rawSendMsgPacket,
// rawSendMsgStream; util.go compressPayload: Go's compress/lzw, LSB order, 8-bit literals, wrapped in
// a compress{Algo, Buf} message). The compressed sizes below are estimates: an image of the message
// bytes (msgpack maps with memberlist's field names, via @msgpack/msgpack) run through an LZW coder
// that counts its output bits as Go's writer emits them.
import {encode} from '@msgpack/msgpack'
import type {GossipMessage, PushPullState, Tags} from '../../src/lib/gossip/types.js'
import type {WireSizes} from '../../src/lib/gossip/wire-size.js'

const IPV4_BYTES = 4
/** Vsn: six protocol/delegate version bytes as a raw byte string. */
const VSN = 1 + 6

/** msgpack (old spec, as ugorji writes it without WriteExt) raw string/bytes of `n` bytes. */
function raw(n: number): number {
  return n < 32 ? 1 + n : n < 65536 ? 3 + n : 5 + n
}

function uint(n: number): number {
  return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5
}

/** One map entry: the field name as a key, then the value's bytes. */
function field(name: string, valueBytes: number): number {
  return raw(name.length) + valueBytes
}

/** serf's encodeTags: a magic byte, then the tags as a msgpack map. */
function meta(t: Tags): number {
  let size = 1 + 1
  for (const [k, v] of Object.entries(t)) size += raw(k.length) + raw(v.length)
  return raw(size)
}

const MAP_HEADER = 1
const TYPE_BYTE = 1
const UINT16 = 3
const BOOL = 1
const NIL = 1

function source(from: string): number {
  return field('SourceAddr', raw(IPV4_BYTES)) + field('SourcePort', UINT16) + field('SourceNode', raw(from.length))
}

/** A message as memberlist encodes it alone (type byte + msgpack map); `from` is the sender. */
export function memberlistMessageBytes(m: GossipMessage, from: string): number {
  let body: number
  switch (m.type) {
    case 'ping':
      body = field('SeqNo', uint(m.seqNo)) + field('Node', raw(m.target.length)) + source(from)
      break
    case 'indirectPing':
      body = field('SeqNo', uint(m.seqNo)) + field('Target', raw(IPV4_BYTES)) + field('Port', UINT16) + field('Node', raw(m.target.length)) + field('Nack', BOOL) + source(from)
      break
    case 'ack':
      body = field('SeqNo', uint(m.seqNo)) + field('Payload', m.payload ? raw(m.payload.length) : NIL)
      break
    case 'nack':
      body = field('SeqNo', uint(m.seqNo))
      break
    case 'suspect':
    case 'dead':
      body = field('Incarnation', uint(m.incarnation)) + field('Node', raw(m.node.length)) + field('From', raw(m.from.length))
      break
    case 'alive':
      body = field('Incarnation', uint(m.incarnation)) + field('Node', raw(m.node.length)) + field('Addr', raw(IPV4_BYTES)) + field('Port', UINT16) + field('Meta', meta(m.tags)) + field('Vsn', VSN)
      break
    case 'leave':
      // memberlist: a leave is a dead message from the node about itself.
      body = field('Incarnation', uint(m.incarnation)) + field('Node', raw(m.node.length)) + field('From', raw(m.node.length))
      break
    default:
      // serf's user events and queries ride as memberlist user messages; the simulation sends none.
      throw new Error(`no memberlist size for a ${m.type} message`)
  }
  return TYPE_BYTE + MAP_HEADER + body
}

/** Compound header: type byte and message count. */
const COMPOUND_HEADER = 2
/** Per part in a compound message: its 2-byte length. */
const COMPOUND_PART = 2

export function memberlistPacketBytes(from: string, messages: readonly GossipMessage[]): number {
  if (messages.length === 1) return memberlistMessageBytes(messages[0], from)
  let size = COMPOUND_HEADER
  for (const m of messages) size += COMPOUND_PART + memberlistMessageBytes(m, from)
  return size
}

/** A push-pull's one direction: type byte, pushPullHeader, one pushNodeState per member (net.go sendLocalState). */
export function memberlistPushPullBytes(s: PushPullState): number {
  let size = TYPE_BYTE + MAP_HEADER + field('Nodes', uint(s.members.length)) + field('UserStateLen', 1) + field('Join', BOOL)
  for (const m of s.members) {
    size += MAP_HEADER + field('Name', raw(m.name.length)) + field('Addr', raw(IPV4_BYTES)) + field('Port', UINT16) + field('Meta', meta(m.tags)) +
      field('Incarnation', uint(m.incarnation)) + field('State', 1) + field('Vsn', VSN)
  }
  return size
}

/**
 * For the core's packing (memberlist net.go sendMsg: the budget less the compound header, each
 * broadcast costing its bytes plus a 2-byte part length). The sender is not in memberlist's
 * broadcasts, so a broadcast's size does not depend on who sends it.
 */
export const memberlistWireSizes: WireSizes = {
  packet: (from, messages) => (messages.length === 0 ? COMPOUND_HEADER : COMPOUND_HEADER + messages.reduce((n, m) => n + COMPOUND_PART + memberlistMessageBytes(m, from), 0)),
  message: (m) => COMPOUND_PART + memberlistMessageBytes(m, ''),
}

// ---- compression (estimated) ----

/** Bits Go's lzw.NewWriter(w, lzw.LSB, 8) writes for `input`: 9- to 12-bit codes, a clear code when the table fills, EOF. */
export function lzwBits(input: Uint8Array): number {
  let table = new Map<number, number>()
  let next = 258
  let width = 9
  let bits = 0
  let prefix = -1
  for (const b of input) {
    if (prefix < 0) {
      prefix = b
      continue
    }
    const key = prefix * 256 + b
    const hit = table.get(key)
    if (hit !== undefined) {
      prefix = hit
      continue
    }
    bits += width
    if (next >= 4095) {
      bits += width
      table = new Map()
      next = 258
      width = 9
    } else {
      table.set(key, next)
      if (next >= 1 << width && width < 12) width++
      next++
    }
    prefix = b
  }
  if (prefix >= 0) bits += width
  return bits + width
}

/** memberlist's compress{Algo, Buf} message around `compressed` bytes of LZW output. */
function compressWrapper(compressed: number): number {
  return TYPE_BYTE + MAP_HEADER + field('Algo', 1) + field('Buf', raw(compressed))
}

function compressedBytes(image: Uint8Array): number {
  return compressWrapper(Math.ceil(lzwBits(image) / 8))
}

function addrImage(address: string): Uint8Array {
  const parts = address.split('.').map(Number)
  return parts.length === 4 && parts.every((n) => n >= 0 && n < 256) ? Uint8Array.from(parts) : new Uint8Array(IPV4_BYTES)
}

function metaImage(t: Tags): Uint8Array {
  const body = encode(t)
  const out = new Uint8Array(1 + body.length)
  out[0] = 255
  out.set(body, 1)
  return out
}

const VSN_IMAGE = Uint8Array.of(1, 5, 2, 2, 5, 4)
const TYPE_CODES: Record<string, number> = {ping: 0, indirectPing: 1, ack: 2, suspect: 3, alive: 4, dead: 5, nack: 13, leave: 5}

/** The message's bytes as memberlist would send them (type byte, msgpack map), for the LZW estimate. */
function messageImage(m: GossipMessage, from: string, fromAddress: string): Uint8Array {
  const src = {SourceAddr: addrImage(fromAddress), SourcePort: 8301, SourceNode: from}
  let body: unknown
  switch (m.type) {
    case 'ping':
      body = {SeqNo: m.seqNo, Node: m.target, ...src}
      break
    case 'indirectPing':
      body = {SeqNo: m.seqNo, Target: addrImage(m.targetAddress.address), Port: m.targetAddress.port, Node: m.target, Nack: m.wantNack, ...src}
      break
    case 'ack':
      body = {SeqNo: m.seqNo, Payload: m.payload ?? null}
      break
    case 'nack':
      body = {SeqNo: m.seqNo}
      break
    case 'suspect':
    case 'dead':
      body = {Incarnation: m.incarnation, Node: m.node, From: m.from}
      break
    case 'leave':
      body = {Incarnation: m.incarnation, Node: m.node, From: m.node}
      break
    case 'alive':
      body = {Incarnation: m.incarnation, Node: m.node, Addr: addrImage(m.address), Port: m.port, Meta: metaImage(m.tags), Vsn: VSN_IMAGE}
      break
    default:
      throw new Error(`no memberlist image for a ${m.type} message`)
  }
  const encoded = encode(body)
  const out = new Uint8Array(1 + encoded.length)
  out[0] = TYPE_CODES[m.type]
  out.set(encoded, 1)
  return out
}

/** A datagram's bytes on memberlist's wire: compressed when LZW makes it smaller (a lone small message never is). */
export function memberlistSentPacketBytes(from: string, fromAddress: string, messages: readonly GossipMessage[]): number {
  const plain = memberlistPacketBytes(from, messages)
  // A compressed datagram carries an 11-byte wrapper and LZW's 9-bit codes start out larger than bytes.
  if (plain < 120) return plain
  const images = messages.map((m) => messageImage(m, from, fromAddress))
  let image: Uint8Array
  if (images.length === 1) {
    image = images[0]
  } else {
    const total = images.reduce((n, i) => n + i.length, 0)
    image = new Uint8Array(COMPOUND_HEADER + COMPOUND_PART * images.length + total)
    image[0] = 7
    image[1] = images.length
    let at = COMPOUND_HEADER + COMPOUND_PART * images.length
    images.forEach((img, k) => {
      image[COMPOUND_HEADER + COMPOUND_PART * k] = img.length >> 8
      image[COMPOUND_HEADER + COMPOUND_PART * k + 1] = img.length & 255
      image.set(img, at)
      at += img.length
    })
  }
  return Math.min(plain, compressedBytes(image))
}

/** A push-pull direction on memberlist's wire: always compressed (rawSendMsgStream). */
export function memberlistSentPushPullBytes(s: PushPullState): number {
  const parts: Uint8Array[] = [Uint8Array.of(6), encode({Nodes: s.members.length, UserStateLen: 0, Join: s.join})]
  for (const m of s.members) {
    parts.push(encode({Name: m.name, Addr: addrImage(m.address), Port: m.port, Meta: metaImage(m.tags), Incarnation: m.incarnation, State: ['alive', 'suspect', 'failed', 'left', 'leaving'].indexOf(m.state), Vsn: VSN_IMAGE}))
  }
  const total = parts.reduce((n, p) => n + p.length, 0)
  const image = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    image.set(p, at)
    at += p.length
  }
  return compressedBytes(image)
}
