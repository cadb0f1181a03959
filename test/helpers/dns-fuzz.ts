// Seeded malformed DNS messages (random bytes, truncated headers, counts the message cannot hold,
// compression pointers that loop or point forward, bit-flipped valid queries) and a sender that
// collects whatever comes back over UDP or on one TCP connection.
import {createSocket} from 'node:dgram'
import {connect} from 'node:net'
import {decode, encode, type DecodedPacket} from 'dns-packet'
import {SeededRng} from '../../src/lib/rng.js'

export interface BadDnsMessage {
  kind: 'random' | 'short-header' | 'huge-qdcount' | 'huge-ancount' | 'pointer-loop' | 'pointer-forward' | 'truncated-question' | 'bit-flip' | 'long-label'
  bytes: Buffer
  /** Structurally broken: the only acceptable replies are FORMERR or none. */
  mustFormErr: boolean
}

const header = (id: number, qd: number, an = 0, ns = 0, ar = 0): Buffer => {
  const bytes = Buffer.alloc(12)
  bytes.writeUInt16BE(id, 0)
  bytes.writeUInt16BE(0x0100, 2) // a query, RD
  bytes.writeUInt16BE(qd, 4)
  bytes.writeUInt16BE(an, 6)
  bytes.writeUInt16BE(ns, 8)
  bytes.writeUInt16BE(ar, 10)
  return bytes
}

export function validQuery(id: number, name = 'consul.service.consul'): Buffer {
  return encode({type: 'query', id, flags: 1 << 8, questions: [{name, type: 'A', class: 'IN'}]})
}

export function generateBadDns(seed: number, count: number): BadDnsMessage[] {
  const rng = new SeededRng(seed)
  const out: BadDnsMessage[] = []
  // Message i carries id i + 1 (random ones get ids from 0x8000 up), so a reply names its message.
  let next = 0
  const id = () => next
  for (let i = 0; i < count && i < 0x7fff; i++) {
    next = i + 1
    switch (i % 9) {
      case 0: {
        const bytes = Buffer.alloc(rng.int(0, 600))
        for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(0, 256)
        // Keep the QR bit clear half the time, so some get past the "a response: ignore" rule.
        if (bytes.length > 2 && rng.chance(0.5)) bytes[2] &= 0x7f
        if (bytes.length >= 2) bytes.writeUInt16BE(0x8000 + rng.int(0, 0x7fff), 0)
        out.push({kind: 'random', bytes, mustFormErr: false})
        break
      }
      case 1: out.push({kind: 'short-header', bytes: validQuery(id()).subarray(0, rng.int(0, 12)), mustFormErr: true}); break
      case 2: out.push({kind: 'huge-qdcount', bytes: Buffer.concat([header(id(), 0xffff), validQuery(1).subarray(12)]), mustFormErr: true}); break
      case 3: out.push({kind: 'huge-ancount', bytes: Buffer.concat([header(id(), 1, 0xffff, 0xffff, 0xffff), validQuery(1).subarray(12)]), mustFormErr: true}); break
      case 4: {
        // The question's name is a pointer to itself (offset 12), or two pointers to each other.
        const loop = rng.chance(0.5)
          ? Buffer.from([0xc0, 12, 0, 1, 0, 1])
          : Buffer.from([1, 0x61, 0xc0, 16, 0xc0, 12, 0, 1, 0, 1])
        out.push({kind: 'pointer-loop', bytes: Buffer.concat([header(id(), 1), loop]), mustFormErr: true})
        break
      }
      case 5: out.push({kind: 'pointer-forward', bytes: Buffer.concat([header(id(), 1), Buffer.from([0xc0, 200, 0, 1, 0, 1])]), mustFormErr: true}); break
      case 6: {
        const valid = validQuery(id())
        out.push({kind: 'truncated-question', bytes: valid.subarray(0, rng.int(13, valid.length - 1)), mustFormErr: true})
        break
      }
      case 7: {
        const bytes = Buffer.from(validQuery(id()))
        for (let flips = rng.int(1, 6); flips > 0; flips--) bytes[rng.int(2, bytes.length)] ^= 1 << rng.int(0, 8)
        out.push({kind: 'bit-flip', bytes, mustFormErr: false})
        break
      }
      default: {
        // A label longer than 63 bytes (the length byte's top bits then mean "pointer" or reserved).
        const label = Buffer.alloc(rng.int(64, 192), 0x61)
        out.push({kind: 'long-label', bytes: Buffer.concat([header(id(), 1), Buffer.from([label.length]), label, Buffer.from([0, 0, 1, 0, 1])]), mustFormErr: false})
      }
    }
  }
  return out
}

export type DnsReplyInfo = DecodedPacket & {rcode?: string}

/** Sends every message from one UDP socket; replies are matched by id, silence after `settleMs`. */
export async function sendUdp(host: string, port: number, messages: readonly Buffer[], settleMs = 500): Promise<Buffer[]> {
  const socket = createSocket('udp4')
  const replies: Buffer[] = []
  socket.on('message', (msg) => replies.push(msg))
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  for (const bytes of messages) await new Promise<void>((resolve) => socket.send(bytes, port, host, () => resolve()))
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  socket.close()
  return replies
}

/**
 * Writes `frames` (each already length-prefixed or deliberately not) on one TCP connection and
 * collects reply frames until `untilId` is answered or `timeoutMs` passes.
 */
export function sendTcp(host: string, port: number, frames: readonly Buffer[], untilId: number, timeoutMs = 5000): Promise<{replies: Buffer[]; sawId: boolean}> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    const replies: Buffer[] = []
    let buffered = Buffer.alloc(0)
    const finish = (sawId: boolean) => { clearTimeout(timer); socket.destroy(); resolve({replies, sawId}) }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.on('connect', () => socket.write(Buffer.concat(frames)))
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const reply = buffered.subarray(2, 2 + buffered.readUInt16BE(0))
        buffered = buffered.subarray(2 + reply.length)
        replies.push(reply)
        if (reply.length >= 2 && reply.readUInt16BE(0) === untilId) return finish(true)
      }
    })
    socket.on('error', () => finish(false))
    socket.on('close', () => finish(false))
  })
}

export function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2)
  prefix.writeUInt16BE(message.length)
  return Buffer.concat([prefix, message])
}

/** What is wrong with a reply to a malformed message, or undefined. */
export function judgeDnsReply(reply: Buffer, structurallyBroken: boolean): string | undefined {
  let decoded: DnsReplyInfo
  try {
    decoded = decode(reply) as DnsReplyInfo
  } catch (error) {
    return `reply does not decode: ${(error as Error).message}`
  }
  if (decoded.type !== 'response') return 'reply is not a response (QR clear)'
  if (structurallyBroken && decoded.rcode !== 'FORMERR') return `broken message answered ${decoded.rcode}, not FORMERR`
  return undefined
}
