// The DNS listener: UDP and TCP on one port per client address (Consul's ports.dns, 8600).
// Port 0 picks a free port for UDP and binds TCP to the same number. Every datagram or TCP frame
// is decoded defensively: a packet that does not parse gets FORMERR (or nothing, when not even a
// header is there), and no input can throw out of a handler.
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'
import {createSocket, type Socket} from 'node:dgram'
import {createServer, type Server, type Socket as TcpSocket} from 'node:net'
import {isIP} from 'node:net'
import {decode, encode, type DecodedPacket} from 'dns-packet'
import {Rcode, type DnsLog, type DnsResolver, type Reply, type Transport} from './resolver.js'

export interface DnsServerHandle {
  host: string
  port: number
  close(): Promise<void>
}

/** A TCP connection idle this long is closed (Consul's miekg/dns idle timeout is 8 s). */
/** consul.dns.ptr_query / domain_query, made once (no series lookup per query). */
const ptrQuery = metrics.timer(['dns', 'ptr_query'])
const domainQuery = metrics.timer(['dns', 'domain_query'])
const tcpIdleMs = 8000
/** Concurrent TCP connections per listener; more are refused at accept. */
const maxTcpConnections = 512
/** Bind attempts when port 0 must find a number free for both UDP and TCP. */
const bindAttempts = 10

/** Reply for a datagram that does not decode: FORMERR with the request's id, or undefined. */
function formErr(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 12) return undefined
  if ((bytes[2] & 0x80) !== 0) return undefined // a response: never answer those
  const reply = Buffer.alloc(12)
  bytes.copy(reply, 0, 0, 2)
  reply[2] = 0x80 | (bytes[2] & 0x79) // QR, same opcode and RD
  reply[3] = Rcode.FORMERR
  return reply
}

/** A bare reply with `rcode`, echoing the request's id, opcode, RD bit and first question. */
function errorReply(request: DecodedPacket, bytes: Buffer, rcode: number): Buffer {
  const opcodeAndRd = ((bytes[2] & 0x78) | (bytes[2] & 0x01)) << 8
  return encode({type: 'response', id: request.id, flags: opcodeAndRd | rcode, questions: request.questions?.slice(0, 1) ?? []})
}

/**
 * Whether the header's section counts could fit in the message at all: a question takes at least
 * 5 bytes, a record 11. dns-packet allocates and walks every declared entry before failing, so a
 * 13-byte datagram declaring 60 000 records costs ~100 ms; this check refuses it up front.
 */
function countsFit(bytes: Buffer): boolean {
  if (bytes.length < 12) return false
  const questions = bytes.readUInt16BE(4)
  const records = bytes.readUInt16BE(6) + bytes.readUInt16BE(8) + bytes.readUInt16BE(10)
  return 12 + questions * 5 + records * 11 <= bytes.length
}

/** Decodes and answers one message; undefined = send nothing. */
export async function handleMessage(bytes: Buffer, transport: Transport, resolver: DnsResolver, log?: DnsLog): Promise<Buffer | undefined> {
  let request: DecodedPacket & {opcode?: string}
  try {
    if (!countsFit(bytes)) throw new Error('section counts exceed the message')
    request = decode(bytes)
  } catch {
    return formErr(bytes)
  }
  if (request.type === 'response') return undefined
  try {
    if (request.opcode !== 'QUERY') return errorReply(request, bytes, Rcode.NOTIMP)
    if (request.questions?.length !== 1) return errorReply(request, bytes, Rcode.FORMERR)
    const start = performance.now()
    const reply: Reply = await resolver.resolve(request, transport)
    // Consul's consul.dns.ptr_query / consul.dns.domain_query (agent/dns.go handlePtr, handleQuery).
    const name = request.questions[0].name.toLowerCase()
    const timer = name.endsWith('.arpa') ? ptrQuery : domainQuery
    timer.measureSince(start)
    return 'raw' in reply ? reply.raw : encode(reply.packet)
  } catch (error) {
    log?.warn('DNS request failed', {error: (error as Error).message})
    try {
      return errorReply(request, bytes, Rcode.SERVFAIL)
    } catch {
      return formErr(bytes)
    }
  }
}

function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({type: isIP(host) === 6 ? 'udp6' : 'udp4'})
    socket.once('error', reject)
    socket.bind(port, host, () => {
      socket.off('error', reject)
      resolve(socket)
    })
  })
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()))
}

/** Serves DNS on `host:port` over UDP and TCP until closed. */
export async function startDnsServer(opts: {host: string; port: number; resolver: DnsResolver; log?: DnsLog}): Promise<DnsServerHandle> {
  const {host, resolver, log} = opts
  const connections = new Set<TcpSocket>()
  const tcp = createServer({pauseOnConnect: false}, (socket) => serveTcp(socket))
  tcp.maxConnections = maxTcpConnections

  function serveTcp(socket: TcpSocket): void {
    connections.add(socket)
    socket.setTimeout(tcpIdleMs, () => socket.destroy())
    socket.on('close', () => connections.delete(socket))
    socket.on('error', () => socket.destroy())
    let buffered: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      // Frames are a 2-byte length then the message (RFC 1035 §4.2.2); several may be pipelined.
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0)
        if (buffered.length < 2 + length) break
        const message = buffered.subarray(2, 2 + length)
        buffered = buffered.subarray(2 + length)
        void handleMessage(Buffer.from(message), 'tcp', resolver, log).then((reply) => {
          if (!reply || socket.destroyed) return
          const frame = Buffer.alloc(2 + reply.length)
          frame.writeUInt16BE(reply.length)
          reply.copy(frame, 2)
          socket.write(frame)
        })
      }
    })
  }

  let udp: Socket | undefined
  let lastError: unknown
  for (let attempt = 0; attempt < (opts.port === 0 ? bindAttempts : 1) && !udp; attempt++) {
    const candidate = await bindUdp(host, opts.port)
    try {
      await listenTcp(tcp, host, candidate.address().port)
      udp = candidate
    } catch (error) {
      lastError = error
      await closeUdp(candidate)
    }
  }
  if (!udp) throw lastError instanceof Error ? lastError : new Error(`could not bind DNS on ${host}:${opts.port}`)
  const socket = udp
  socket.on('message', (message, remote) => {
    void handleMessage(message, 'udp', resolver, log).then((reply) => {
      if (reply) socket.send(reply, remote.port, remote.address, () => {})
    })
  })
  socket.on('error', (error) => log?.warn('DNS UDP socket error', {error: error.message}))
  const port = socket.address().port
  let closing: Promise<void> | undefined
  return {
    host, port,
    close: () => {
      closing ??= (async () => {
        for (const connection of connections) connection.destroy()
        await Promise.all([closeUdp(socket), new Promise<void>((resolve) => tcp.close(() => resolve()))])
      })()
      return closing
    },
  }
}
