// The gossip transport (memberlist's transport.go / net_transport.go): UDP datagrams for probes and
// piggybacked gossip, TCP streams on the same port for push-pull. It moves bytes only: encoding is
// codec.ts, protocol is the core, the driver (node.ts) ties them together. When a cipher is set,
// every datagram and every stream frame is sealed on the way out and opened on the way in; what
// does not open is dropped and counted (a member with the wrong key cannot join, and says why in
// the counters, as Consul's "No installed keys could decrypt the message" does in its log).
//
// Bounds: a datagram larger than maxDatagramBytes is not sent; a stream carries exactly one frame
// each way of at most maxStreamBytes, and the whole exchange (dial included) must finish within
// streamTimeoutMs; at most maxInboundStreams are served at once (more are refused).
import {createSocket, type Socket as UdpSocket} from 'node:dgram'
import {createConnection, createServer, type Server, type Socket} from 'node:net'
import {encodeFrame, FrameDecoder} from '../frame.js'
import type {PacketCipher} from './keyring.js'
import type {PeerAddress} from './types.js'
import {listenTcp} from '../listen.js'

/** Structural, so the agent's Logger (agent/logger.ts) fits as is. */
export interface GossipLogger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

export const silentLogger: GossipLogger = {debug: () => {}, info: () => {}, warn: () => {}, error: () => {}}

export interface GossipTransportOptions {
  bindAddress: string
  /** 0 picks a free port (the same one for UDP and TCP). */
  bindPort: number
  /** Largest datagram sent, sealed bytes included (received ones are bounded by UDP itself). */
  maxDatagramBytes: number
  /** Largest stream frame (push-pull state), sealed bytes included. */
  maxStreamBytes: number
  streamTimeoutMs: number
  maxInboundStreams: number
  cipher: PacketCipher | null
  log: GossipLogger
  /** Whom to hear (memberlist's CIDRsAllowed): datagrams and streams from other addresses are dropped. */
  acceptFrom?: (address: string) => boolean
  /** A datagram arrived (already opened). Called synchronously from the socket's event. */
  onPacket: (data: Uint8Array, from: PeerAddress) => void
  /** A peer opened a stream and sent `data` (already opened); resolve with the reply payload. */
  onStream: (data: Uint8Array, from: PeerAddress) => Promise<Uint8Array>
}

export interface TransportStats {
  packetsSent: number
  packetsReceived: number
  /** Datagrams dropped on receipt because no key could open them. */
  packetsDropped: number
  /** Datagrams and stream frames no key could open. */
  decryptFailures: number
  sendErrors: number
  streamsOut: number
  streamsIn: number
  streamFailures: number
  streamsRefused: number
}

export class GossipStreamError extends Error {
  readonly code = 'GOSSIP_STREAM_FAILED'
  constructor(message: string) {
    super(message)
    this.name = 'GossipStreamError'
  }
}

const BIND_ATTEMPTS = 8

/**
 * An inbound stream we cannot serve is answered with one plaintext frame [ERROR_FRAME, UTF-8
 * reason] instead of a silent close, so the dialer (a joiner) can say why. It carries no state:
 * the worst a forger can do is what closing the connection already does.
 */
const ERROR_FRAME = 0xee
/** memberlist's wording, so operators searching Consul's docs find the cause. */
export const NO_KEY_MESSAGE = 'No installed keys could decrypt the message'
/** One "could not decrypt" warning per sender per this period; the rest are counted. */
const DECRYPT_LOG_PERIOD_MS = 10_000
const DECRYPT_LOG_SENDERS = 256

export class GossipTransport {
  readonly #o: GossipTransportOptions
  #udp: UdpSocket | undefined
  #tcp: Server | undefined
  #port = 0
  #closed = false
  readonly #sockets = new Set<Socket>()
  #inbound = 0
  /** Per sender address: when its last decrypt warning was logged and how many were not since. */
  readonly #decryptLog = new Map<string, {atMs: number; suppressed: number}>()
  readonly stats: TransportStats = {packetsSent: 0, packetsReceived: 0, packetsDropped: 0, decryptFailures: 0, sendErrors: 0, streamsOut: 0, streamsIn: 0, streamFailures: 0, streamsRefused: 0}

  constructor(options: GossipTransportOptions) {
    this.#o = options
  }

  /** The bound port (after listen). */
  get port(): number {
    return this.#port
  }

  /** Bytes available to the codec in one datagram (the cipher's overhead set aside). */
  get maxPlainDatagramBytes(): number {
    return this.#o.maxDatagramBytes - (this.#o.cipher?.overheadBytes ?? 0)
  }

  /** Bind TCP then UDP on the same port; with port 0, retry if the UDP side of a free TCP port is taken. */
  async listen(): Promise<number> {
    let lastError: unknown
    for (let attempt = 0; attempt < (this.#o.bindPort === 0 ? BIND_ATTEMPTS : 1); attempt++) {
      const tcp = createServer((socket) => this.#accept(socket))
      try {
        const port = await listenTcp(tcp, this.#o.bindAddress, this.#o.bindPort)
        try {
          this.#udp = await bindUdp(this.#o.bindAddress, port, (msg, from) => this.#onDatagram(msg, from))
        } catch (error) {
          tcp.close()
          throw error
        }
        this.#tcp = tcp
        this.#port = port
        this.#udp.on('error', (error) => this.#o.log.warn('gossip: UDP socket error', {error: error.message}))
        return port
      } catch (error) {
        lastError = error
      }
    }
    throw lastError
  }

  /** Best effort: errors are counted and logged at debug (loss is part of the protocol). */
  sendPacket(to: PeerAddress, data: Uint8Array): void {
    const udp = this.#udp
    if (this.#closed || !udp) return
    const sealed = this.#o.cipher ? this.#o.cipher.seal(data) : data
    if (sealed.length > this.#o.maxDatagramBytes) {
      this.stats.sendErrors++
      this.#o.log.warn('gossip: datagram over the size limit not sent', {bytes: sealed.length, limit: this.#o.maxDatagramBytes})
      return
    }
    this.stats.packetsSent++
    udp.send(sealed, to.port, to.address, (error) => {
      if (!error) return
      this.stats.sendErrors++
      this.#o.log.debug('gossip: send failed', {to: `${to.address}:${to.port}`, error: error.message})
    })
  }

  /** Dial `to`, send one frame, read one frame back; rejects with GossipStreamError on any failure or timeout. */
  exchange(to: PeerAddress, data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new GossipStreamError('transport is closed'))
    this.stats.streamsOut++
    const where = `${to.address}:${to.port}`
    return new Promise((resolve, reject) => {
      // Dial from the bound address (as UDP already sends from it), so peers see and log the
      // address this member is known by, not whatever source the OS picks on a shared interface.
      const local = this.#o.bindAddress
      const fromBound = local !== '' && local !== '0.0.0.0' && local !== '::' && local.includes(':') === to.address.includes(':')
      const socket = createConnection({host: to.address, port: to.port, ...(fromBound ? {localAddress: local} : {})})
      this.#sockets.add(socket)
      socket.setNoDelay(true)
      let done = false
      const finish = (error: Error | null, reply?: Uint8Array): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        if (error) {
          this.stats.streamFailures++
          socket.destroy()
          reject(error instanceof GossipStreamError ? error : new GossipStreamError(`push-pull with ${where}: ${error.message}`))
        } else {
          socket.end()
          resolve(reply as Uint8Array)
        }
      }
      const timer = setTimeout(() => finish(new GossipStreamError(`push-pull with ${where} timed out after ${this.#o.streamTimeoutMs} ms`)), this.#o.streamTimeoutMs)
      socket.once('connect', () => socket.write(encodeFrame(this.#seal(data))))
      this.#readOneFrame(socket, (error, frame) => {
        if (error) return finish(error)
        const bytes = frame as Uint8Array
        // A refusal: a plaintext reason (never sealed: the peer may not share our key).
        if (bytes[0] === ERROR_FRAME) {
          const reason = Buffer.from(bytes.subarray(1)).toString('utf8')
          const hint = reason === NO_KEY_MESSAGE ? ' (our gossip encryption key is not in its keyring)' : ''
          return finish(new GossipStreamError(`${where} refused the exchange: ${reason}${hint}`))
        }
        const opened = this.#open(bytes)
        if (opened) finish(null, opened)
        else finish(new GossipStreamError(`push-pull with ${where}: ${NO_KEY_MESSAGE} (its reply; the gossip encryption keys differ)`))
      })
      socket.on('error', (error) => finish(error))
      socket.once('close', () => {
        this.#sockets.delete(socket)
        finish(new GossipStreamError(`push-pull with ${where}: connection closed before a reply`))
      })
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const socket of this.#sockets) socket.destroy()
    const udp = this.#udp
    await Promise.all([
      new Promise<void>((resolve) => (this.#tcp ? this.#tcp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (udp ? udp.close(() => resolve()) : resolve())),
    ])
  }

  #seal(data: Uint8Array): Uint8Array {
    return this.#o.cipher ? this.#o.cipher.seal(data) : data
  }

  /** Opened bytes, or null (counted) when the cipher refuses them. */
  #open(data: Uint8Array): Uint8Array | null {
    if (!this.#o.cipher) return data
    const opened = this.#o.cipher.open(data)
    if (!opened) this.stats.decryptFailures++
    return opened
  }

  #onDatagram(msg: Buffer, from: PeerAddress): void {
    if (this.#closed) return
    if (this.#o.acceptFrom && !this.#o.acceptFrom(from.address)) {
      this.stats.packetsDropped++
      this.#o.log.debug('memberlist: Rejected UDP packet: not in an allowed network', {from: from.address})
      return
    }
    // No size check here: UDP bounds a datagram at 64 KiB, and peers may use a larger budget than ours.
    const opened = this.#open(msg)
    if (!opened) {
      this.stats.packetsDropped++
      this.#warnUndecryptable('memberlist: Decrypt packet failed', from.address)
      return
    }
    this.stats.packetsReceived++
    this.#o.onPacket(opened, from)
  }

  #accept(socket: Socket): void {
    const allowed = !this.#o.acceptFrom || this.#o.acceptFrom(socket.remoteAddress ?? '')
    if (!allowed) this.#o.log.debug('memberlist: Rejected TCP connection: not in an allowed network', {from: socket.remoteAddress})
    if (this.#closed || !allowed || this.#inbound >= this.#o.maxInboundStreams) {
      this.stats.streamsRefused++
      socket.destroy()
      return
    }
    this.#inbound++
    this.#sockets.add(socket)
    this.stats.streamsIn++
    socket.setNoDelay(true)
    const from = {address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0}
    const timer = setTimeout(() => socket.destroy(), this.#o.streamTimeoutMs)
    socket.on('error', () => {})
    socket.once('close', () => {
      clearTimeout(timer)
      this.#inbound--
      this.#sockets.delete(socket)
    })
    this.#readOneFrame(socket, (error, frame) => {
      if (error) {
        this.stats.streamFailures++
        this.#o.log.debug('gossip: inbound stream failed', {from: from.address, error: error.message})
        socket.destroy()
        return
      }
      const opened = this.#open(frame as Uint8Array)
      if (!opened) {
        this.stats.streamFailures++
        this.#warnUndecryptable('memberlist: failed to receive a stream', from.address)
        this.#refuse(socket, NO_KEY_MESSAGE)
        return
      }
      this.#o.onStream(opened, from).then(
        (reply) => {
          if (!socket.destroyed) socket.end(encodeFrame(this.#seal(reply)))
        },
        (error: Error) => {
          this.stats.streamFailures++
          this.#o.log.debug('gossip: inbound stream rejected', {from: from.address, error: error.message})
          this.#refuse(socket, error.message)
        },
      )
    })
  }

  /** Tell the dialer why we will not answer (ERROR_FRAME), then close. */
  #refuse(socket: Socket, reason: string): void {
    if (socket.destroyed) return
    const text = Buffer.from(reason.slice(0, 512), 'utf8')
    socket.end(encodeFrame(Buffer.concat([Uint8Array.of(ERROR_FRAME), text])))
  }

  /** A rate-limited warning naming the sender: a member with the wrong key shows up in the log, once per period. */
  #warnUndecryptable(what: string, address: string): void {
    const now = Date.now()
    const entry = this.#decryptLog.get(address)
    if (entry && now - entry.atMs < DECRYPT_LOG_PERIOD_MS) {
      entry.suppressed++
      return
    }
    if (!entry && this.#decryptLog.size >= DECRYPT_LOG_SENDERS) this.#decryptLog.delete(this.#decryptLog.keys().next().value as string)
    this.#decryptLog.set(address, {atMs: now, suppressed: 0})
    this.#o.log.warn(`${what}: ${NO_KEY_MESSAGE}`, {from: address, suppressed: entry?.suppressed ?? 0, total: this.stats.decryptFailures})
  }

  /** Calls `done` once: with the first complete frame, or with the error that prevented it. */
  #readOneFrame(socket: Socket, done: (error: Error | null, frame?: Uint8Array) => void): void {
    const decoder = new FrameDecoder(this.#o.maxStreamBytes)
    let called = false
    const onData = (chunk: Buffer): void => {
      let frames: Buffer[]
      try {
        frames = decoder.push(chunk)
      } catch (error) {
        called = true
        socket.off('data', onData)
        done(error as Error)
        return
      }
      if (frames.length === 0) return
      called = true
      socket.off('data', onData)
      done(null, frames[0])
    }
    socket.on('data', onData)
    socket.once('end', () => {
      if (!called) {
        called = true
        done(new GossipStreamError('stream ended before a complete frame'))
      }
    })
  }
}


function bindUdp(host: string, port: number, onMessage: (msg: Buffer, from: PeerAddress) => void): Promise<UdpSocket> {
  const socket = createSocket({type: host.includes(':') ? 'udp6' : 'udp4'})
  socket.on('message', (msg, rinfo) => onMessage(msg, {address: rinfo.address, port: rinfo.port}))
  return new Promise((resolve, reject) => {
    socket.once('error', (error) => {
      socket.close()
      reject(error)
    })
    socket.bind(port, host, () => {
      socket.removeAllListeners('error')
      resolve(socket)
    })
  })
}
