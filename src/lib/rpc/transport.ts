// Server-to-server messages on the server RPC port (8300): coord's own protocol, not Consul's
// (ARCHITECTURE.md, house rule 8: compatibility lives at the edges). Two kinds of traffic share one connection:
//   - one-way messages (Raft's AppendEntries, votes, ...: Raft tolerates their loss, so a send
//     never waits and a full queue drops the oldest; full by count or by bytes (and what waited
//     longer than maxQueuedAgeMs is dropped when the connection comes up), so a peer that is
//     down while the leader writes megabytes of entries costs it a few MiB, not its whole stream,
//     and a returning peer is caught up by the leader's probe or a snapshot, not by a backlog), and
//   - requests with a response (forwarding a client's write or read to the leader), matched by id
//     and bounded by a timeout.
// Frames are msgpack (bigint and bytes preserved). Connections are made lazily, one outbound per
// peer, and re-made with capped exponential backoff after a failure.
// A connection in use that hears nothing back is probed, and dropped when the probe goes
// unanswered (deadAfterMs): after a network partition heals, a TCP connection whose packets were
// lost waits out its retransmission backoff (it doubles: ~25 s after a 13 s cut) before anything
// flows again, so a server would go without its leader's heartbeats long after the network is back.
// A fresh connection's SYN is retried at once, as hashicorp/raft's NetworkTransport drops a pooled
// connection whose RPC times out.
// With TLS (tls/rpc-tls.ts) a connection opens with the type byte 3 and a handshake; the peer's
// certificate then decides what it may send: with verify_server_hostname only a peer proving
// server.<dc>.<domain> may send Raft messages and server-only requests, so a client certificate
// cannot pose as a server. Every refusal is reported once per peer address and reason.
import {metrics} from '../metrics/metrics.js'
import {createConnection, createServer, type Server, type Socket} from 'node:net'
import {Decoder, Encoder} from '@msgpack/msgpack'
import {encodeFrame, FrameDecoder} from '../frame.js'
import {listenTcp} from '../listen.js'
import {CoordError} from '../errors.js'
import {RPC_TLS_BYTE, type PeerIdentity, type RpcTls} from '../tls/rpc-tls.js'
import {isAppendWithEntries, SharedEntries} from './append-frame.js'

const codecOptions = {useBigInt64: true} as const
/** The largest frame a peer accepts unless configured otherwise: a message or request carrying more is refused by it. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
// One encoder and decoder for every frame: msgpack's encode()/decode() functions build a new one
// (and a fresh 2 KiB buffer) per call, which showed up per Raft message and forwarded write.
let wireEncoder = new Encoder(codecOptions)
const wireDecoder = new Decoder(codecOptions)
/** Past this, the shared encoder (whose buffer grew to fit, e.g. a snapshot) is replaced rather than kept. */
const ENCODER_KEEP_BYTES = 1 << 20

/** A wire message as one length-prefixed frame (encodeFrame copies the encoder's shared bytes out). */
function frameOf(wire: Wire): Buffer {
  const bytes = wireEncoder.encodeSharedRef(wire)
  const frame = encodeFrame(bytes)
  if (bytes.length > ENCODER_KEEP_BYTES) wireEncoder = new Encoder(codecOptions)
  return frame
}
/** A msgpack payload made of two parts (append-frame.ts) as one length-prefixed frame. */
function frameOfParts(head: Uint8Array, tail: Uint8Array): Buffer {
  const length = head.length + tail.length
  const frame = Buffer.allocUnsafe(4 + length)
  frame.writeUInt32BE(length, 0)
  frame.set(head, 4)
  frame.set(tail, 4 + head.length)
  return frame
}

const encodeShared = (value: unknown): Uint8Array => wireEncoder.encodeSharedRef(value)
const encodeCopy = (value: unknown): Uint8Array => {
  const bytes = wireEncoder.encode(value)
  if (bytes.length > ENCODER_KEEP_BYTES) wireEncoder = new Encoder(codecOptions)
  return bytes
}

const decodeWire = (frame: Uint8Array): Wire => wireDecoder.decode(frame) as Wire

type Wire =
  | {k: 'hello'; from: string}
  | {k: 'msg'; body: unknown}
  | {k: 'req'; id: number; method: string; body: unknown}
  | {k: 'res'; id: number; ok: true; body: unknown}
  | {k: 'res'; id: number; ok: false; error: string; code?: string; status?: number}

/** One-way bytes held per peer while it cannot be reached: a few of Raft's largest appends. */
const DEFAULT_MAX_QUEUED_BYTES = 8 << 20
/** One-way messages older than this are not sent when a connection comes up (a few election timeouts). */
const DEFAULT_MAX_QUEUED_AGE_MS = 5_000

/** The request that proves a connection still carries answers (any answer does, even an error). */
const PROBE_METHOD = 'link-probe'
/** The probe's request id: never a caller's (theirs count up from 1), so its answer matches nothing pending. */
const PROBE_ID = 0

export interface TransportOptions {
  /** This server's ID, announced to peers in the first frame. */
  localId: string
  maxFrameBytes?: number
  /** One-way messages buffered per peer while (re)connecting; older ones are dropped past this. */
  maxQueuedMessages?: number
  /** Bytes of those messages buffered per peer; older ones are dropped past this (the newest is always kept). */
  maxQueuedBytes?: number
  /**
   * A one-way message queued longer than this when the connection comes up is dropped, not sent:
   * Raft's messages (the only one-way ones) are stale by then, and the leader's current ones follow;
   * a follower back from a long outage is not first made to read megabytes of old appends.
   */
  maxQueuedAgeMs?: number
  connectTimeoutMs?: number
  maxBackoffMs?: number
  /** A connection written to that has heard nothing back for this long is sent a probe. */
  probeIdleMs?: number
  /**
   * A probe unanswered for this long drops the connection (it is re-made with backoff). Longer than
   * a paused or overloaded peer's stall (SIGSTOP 3 s in the soak), so a slow peer keeps its connection.
   */
  deadAfterMs?: number
  /**
   * Source address for outbound connections (the server's bind address). Without it every server on
   * one machine would dial out from 127.0.0.1, and a test could not cut one server's traffic off.
   */
  localAddress?: string
  onError?: (peer: string, error: Error) => void
  /** TLS on this port (accepting and dialing); absent: plain only, and a TLS dialer is refused. */
  tls?: RpcTls
  /** A connection or message refused for its (missing) credentials: called once per peer address and reason. */
  onRefused?: (peer: string, reason: string) => void
}

/** Who may call a request method: only servers (Raft, bootstrap, operator) or any verified peer (client agents). */
export type RequestAccess = 'servers' | 'any'

const PLAIN_PEER: PeerIdentity = {tls: false, verified: false, server: false, name: ''}
/** Distinct refusals remembered (so each is logged once) before the memory is reset. */
const MAX_REFUSALS_REMEMBERED = 4096

export class RpcRequestError extends CoordError {
  /**
   * False when the request never left this process (no connection took its frame), so the peer
   * cannot have acted on it and the caller may safely try another peer. True when it was written
   * to a socket, or when the peer itself answered with an error.
   */
  readonly sent: boolean
  /** The peer answered with this error (its handler failed): the connection itself is fine. */
  readonly remote: boolean

  /**
   * `code` and `httpStatus` are the peer's own when its handler failed with a CoordError (carried
   * on the wire), else RPC_REQUEST_FAILED and 500.
   */
  constructor(message: string, opts: {sent?: boolean; remote?: boolean; code?: string; httpStatus?: number} = {}) {
    super(opts.code ?? 'RPC_REQUEST_FAILED', message, {httpStatus: opts.httpStatus ?? 500})
    this.name = 'RpcRequestError'
    this.sent = opts.sent ?? true
    this.remote = opts.remote ?? false
  }
}

type MessageHandler = (from: string, body: unknown) => void
type RequestHandler = (from: string, body: unknown) => Promise<unknown>

interface PendingRequest {
  resolve: (body: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
  /** The request's frame was written to a socket (the peer may have acted on it). */
  sent: boolean
}

/** A frame waiting for the connection; `requestId` marks a request's frame. */
interface QueuedFrame {
  frame: Buffer
  requestId?: number
  queuedAtMs: number
}

/** One outbound connection to a peer address, with its queue and reconnect state. */
class PeerLink {
  socket: Socket | undefined
  connected = false
  queue: QueuedFrame[] = []
  /** Bytes of the frames in `queue`. */
  queuedBytes = 0
  failures = 0
  retryTimer: NodeJS.Timeout | undefined
  pending = new Map<number, PendingRequest>()
  /** When the connection last delivered bytes to us (or was made), and when we last wrote to it. */
  heardAtMs = 0
  wroteAtMs = 0
  /** When the unanswered probe was sent, if one is out. */
  probeSentAtMs: number | undefined

  constructor(readonly address: string) {}
}

export class RpcTransport {
  #server: Server | undefined
  #links = new Map<string, PeerLink>()
  #inbound = new Set<Socket>()
  #nextId = 1
  #closed = false
  #onMessage: MessageHandler = () => {}
  #requestHandlers = new Map<string, {handler: RequestHandler; access: RequestAccess}>()
  #refusals = new Set<string>()
  #tls: RpcTls | undefined
  /** Datacenter of a peer address in another datacenter (its certificate names that datacenter). */
  #peerDatacenters = new Map<string, string>()
  #probeTimer: NodeJS.Timeout | undefined
  /** AppendEntries' entries, encoded once for every follower of a round (append-frame.ts). */
  readonly sharedEntries = new SharedEntries()
  readonly opts: Required<Omit<TransportOptions, 'onError' | 'localAddress' | 'tls' | 'onRefused'>> & Pick<TransportOptions, 'onError' | 'localAddress' | 'tls' | 'onRefused'>

  constructor(options: TransportOptions) {
    this.opts = {maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxQueuedMessages: 1024, maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES, maxQueuedAgeMs: DEFAULT_MAX_QUEUED_AGE_MS, connectTimeoutMs: 2000, maxBackoffMs: 2000, probeIdleMs: 1000, deadAfterMs: 5000, ...options}
    this.setTls(options.tls)
  }

  /**
   * Probes the connections in use that went quiet, and drops those whose probe went unanswered
   * (see the top of the file). One timer for all links, started with the first one.
   */
  #checkLinks(): void {
    const now = performance.now()
    for (const link of this.#links.values()) {
      if (!link.connected || !link.socket) continue
      if (link.probeSentAtMs !== undefined) {
        if (now - link.probeSentAtMs >= this.opts.deadAfterMs) link.socket.destroy(new Error(`no answer from ${link.address} for ${Math.round(now - link.heardAtMs)} ms`))
        continue
      }
      // Idle both ways is a quiet connection, not a dead one: only one we wrote to since we last heard from it.
      if (link.wroteAtMs > link.heardAtMs && now - link.heardAtMs >= this.opts.probeIdleMs) {
        link.probeSentAtMs = now
        writeCoalesced(link.socket, frameOf({k: 'req', id: PROBE_ID, method: PROBE_METHOD, body: null}))
      }
    }
  }

  onMessage(handler: MessageHandler): void {
    this.#onMessage = handler
  }

  onRequest(method: string, handler: RequestHandler, access: RequestAccess = 'servers'): void {
    this.#requestHandlers.set(method, {handler, access})
  }

  /** A server in another datacenter: with verify_server_hostname its certificate must name that datacenter. */
  expectDatacenter(address: string, datacenter: string): void {
    this.#peerDatacenters.set(address, datacenter)
  }

  /** Reports a refusal once per peer host and reason (a peer retrying does not flood the log). */
  #refuse(peer: string, reason: string): void {
    const key = `${peer.replace(/:\d+$/, '')} ${reason}`
    if (this.#refusals.has(key)) return
    if (this.#refusals.size >= MAX_REFUSALS_REMEMBERED) this.#refusals.clear()
    this.#refusals.add(key)
    this.opts.onRefused?.(peer, reason)
  }

  /** The TLS in use on this port (undefined: plain only). */
  get tls(): RpcTls | undefined {
    return this.#tls
  }

  /**
   * Turns TLS on, swaps it, or turns it off (a reload): new connections follow; open ones keep
   * what they negotiated. Outbound links are re-dialed so verify_outgoing takes effect at once.
   */
  setTls(tls: RpcTls | undefined): void {
    const changed = tls !== this.#tls
    this.#tls = tls
    tls?.handle((secure, peer) => {
      if (this.#closed) return void secure.destroy()
      this.#inbound.add(secure)
      secure.once('close', () => this.#inbound.delete(secure))
      this.#serveConnection(secure, peer, tls.identity(secure))
    }, (error, peer) => this.#refuse(peer, `TLS connection refused: ${error.message === 'socket hang up' ? 'the peer ended the handshake (it does not trust this server\'s certificate, or sent none it could)' : error.message}`))
    if (changed) for (const link of this.#links.values()) link.socket?.destroy()
  }

  /** Starts accepting peers; resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.#accept(socket))
    this.#server = server
    return listenTcp(server, host, port)
  }

  /** Fire-and-forget: queued until the link is up; dropped (oldest first) when the queue is full. */
  send(address: string, body: unknown): void {
    if (this.#closed) return
    const link = this.#link(address)
    this.#write(link, this.#messageFrame(body))
  }

  #messageFrame(body: unknown): Buffer {
    if (isAppendWithEntries(body)) {
      const parts = this.sharedEntries.parts(body, encodeShared, encodeCopy)
      if (parts) return frameOfParts(parts.head, parts.tail)
    }
    return frameOf({k: 'msg', body})
  }

  /** A request with a response, failing after `timeoutMs`. */
  request(address: string, method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    metrics.incrCounter(['client', 'rpc'])
    const sent = this.#request(address, method, body, timeoutMs)
    sent.catch(() => metrics.incrCounter(['client', 'rpc', 'failed']))
    return sent
  }

  #request(address: string, method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RpcRequestError('transport is closed', {sent: false}))
    const link = this.#link(address)
    // A request does not wait out the reconnect backoff: it dials now, so a peer that is gone
    // refuses it at once (unsent) and the caller can turn to another server or leader without
    // losing up to maxBackoffMs. One-way messages keep waiting for the scheduled reconnect.
    if (!link.socket) {
      clearTimeout(link.retryTimer)
      this.#connect(link)
    }
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = link.pending.get(id)
        link.pending.delete(id)
        this.#dropQueuedRequest(link, id)
        reject(new RpcRequestError(`${method} to ${address} timed out after ${timeoutMs} ms`, {sent: pending?.sent ?? true}))
      }, timeoutMs)
      link.pending.set(id, {resolve, reject, timer, sent: false})
      this.#write(link, frameOf({k: 'req', id, method, body}), id)
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#probeTimer)
    for (const link of this.#links.values()) {
      clearTimeout(link.retryTimer)
      link.socket?.destroy()
      this.#failPending(link, 'transport is closed')
    }
    for (const socket of this.#inbound) socket.destroy()
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
  }

  #link(address: string): PeerLink {
    let link = this.#links.get(address)
    if (!link) {
      if (this.#probeTimer === undefined) {
        this.#probeTimer = setInterval(() => this.#checkLinks(), Math.max(10, Math.floor(this.opts.probeIdleMs / 2)))
        this.#probeTimer.unref()
      }
      link = new PeerLink(address)
      this.#links.set(address, link)
      this.#connect(link)
    }
    return link
  }

  #write(link: PeerLink, frame: Buffer, requestId?: number): void {
    if (link.connected && link.socket) {
      link.wroteAtMs = performance.now()
      writeCoalesced(link.socket, frame)
      this.#markSent(link, requestId)
      return
    }
    link.queue.push({frame, requestId, queuedAtMs: performance.now()})
    link.queuedBytes += frame.length
    while (link.queue.length > 1 && (link.queue.length > this.opts.maxQueuedMessages || link.queuedBytes > this.opts.maxQueuedBytes)) {
      link.queuedBytes -= link.queue.shift()!.frame.length
    }
  }

  #markSent(link: PeerLink, requestId: number | undefined): void {
    if (requestId === undefined) return
    const pending = link.pending.get(requestId)
    if (pending) pending.sent = true
  }

  /** A request that failed before its frame left must not be sent later: the caller may retry it elsewhere. */
  #dropQueuedRequest(link: PeerLink, requestId: number): void {
    const at = link.queue.findIndex((queued) => queued.requestId === requestId)
    if (at !== -1) link.queuedBytes -= link.queue.splice(at, 1)[0].frame.length
  }

  #connect(link: PeerLink): void {
    if (this.#closed) return
    const [host, portText] = splitHostPort(link.address)
    const raw = createConnection({host, port: Number(portText), ...(this.opts.localAddress ? {localAddress: this.opts.localAddress} : {})})
    raw.setNoDelay(true)
    const tls = this.#tls?.state.verifyOutgoing ? this.#tls : undefined
    // With verify_outgoing every connection is TLS: the type byte, then the handshake over the same socket.
    const socket = tls ? tls.connect(raw, host, this.#peerDatacenters.get(link.address)) : raw
    link.socket = socket
    const connectTimer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.opts.connectTimeoutMs} ms`)), this.opts.connectTimeoutMs)
    if (tls) {
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code?.startsWith('ERR_TLS') || error.code?.includes('CERT') || /certificate|handshake|alert/i.test(error.message)) {
          this.#refuse(link.address, `TLS to ${link.address} failed: ${error.message}`)
        }
      })
    }
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer)
      link.connected = true
      link.failures = 0
      link.heardAtMs = performance.now()
      link.probeSentAtMs = undefined
      if (link.queue.length > 0) link.wroteAtMs = link.heardAtMs
      socket.write(frameOf({k: 'hello', from: this.opts.localId}))
      link.queuedBytes = 0
      const staleBefore = link.heardAtMs - this.opts.maxQueuedAgeMs
      for (const queued of link.queue.splice(0)) {
        if (queued.requestId === undefined && queued.queuedAtMs < staleBefore) continue
        socket.write(queued.frame)
        this.#markSent(link, queued.requestId)
      }
    })
    const decoder = new FrameDecoder(this.opts.maxFrameBytes)
    socket.on('data', (chunk: Buffer) => {
      link.heardAtMs = performance.now()
      link.probeSentAtMs = undefined
      try {
        for (const frame of decoder.push(chunk)) this.#onResponse(link, decodeWire(frame))
      } catch (error) {
        socket.destroy(error as Error)
      }
    })
    socket.on('error', (error) => this.opts.onError?.(link.address, error))
    socket.once('close', () => {
      clearTimeout(connectTimer)
      raw.destroy()
      link.connected = false
      link.socket = undefined
      // Requests in flight on a dead connection will never be answered.
      this.#failPending(link, `connection to ${link.address} closed`)
      if (this.#closed) return
      link.failures++
      const backoff = Math.min(this.opts.maxBackoffMs, 50 * 2 ** Math.min(link.failures, 10))
      link.retryTimer = setTimeout(() => this.#connect(link), backoff)
      link.retryTimer.unref()
    })
  }

  #failPending(link: PeerLink, why: string): void {
    for (const [id, pending] of link.pending) {
      clearTimeout(pending.timer)
      this.#dropQueuedRequest(link, id)
      pending.reject(new RpcRequestError(why, {sent: pending.sent}))
      link.pending.delete(id)
    }
  }

  #onResponse(link: PeerLink, wire: Wire): void {
    if (wire.k !== 'res') return
    const pending = link.pending.get(wire.id)
    if (!pending) return
    link.pending.delete(wire.id)
    clearTimeout(pending.timer)
    if (wire.ok) pending.resolve(wire.body)
    else pending.reject(new RpcRequestError(wire.error, {remote: true, code: wire.code, httpStatus: wire.status}))
  }

  /**
   * Reads the first byte to tell TLS (RPC_TLS_BYTE) from plain. With verify_incoming a plain
   * connection is refused before any frame is read, and a TLS one without a certificate the CA
   * signed fails its handshake.
   */
  #accept(socket: Socket): void {
    this.#inbound.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.once('close', () => this.#inbound.delete(socket))
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`
    const onFirst = () => {
      const first = socket.read(1) as Buffer | null
      if (first === null) {
        socket.once('readable', onFirst)
        return
      }
      const tls = this.#tls
      if (first[0] === RPC_TLS_BYTE) {
        if (!tls) {
          this.#refuse(peer, 'TLS connection refused: TLS is not configured on this RPC port')
          socket.destroy()
          return
        }
        tls.accept(socket)
        return
      }
      if (tls?.state.verifyIncoming) {
        this.#refuse(peer, 'plain connection refused: verify_incoming requires TLS with a certificate signed by the CA')
        socket.destroy()
        return
      }
      socket.unshift(first)
      this.#serveConnection(socket, peer, PLAIN_PEER)
    }
    onFirst()
  }

  #serveConnection(socket: Socket, peer: string, identity: PeerIdentity): void {
    const decoder = new FrameDecoder(this.opts.maxFrameBytes)
    let from: string | undefined
    const tls = this.#tls
    const mayActAsServer = !tls || tls.mayActAsServer(identity)
    const refuseServerTraffic = (what: string) => {
      this.#refuse(peer, `${what} refused: the peer's certificate${identity.name ? ` (${identity.name})` : ''} does not name ${tls?.state.serverName} (verify_server_hostname)`)
      socket.destroy()
    }
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[]
      try {
        frames = decoder.push(chunk)
      } catch (error) {
        this.opts.onError?.(from ?? socket.remoteAddress ?? '?', error as Error)
        socket.destroy()
        return
      }
      for (const frame of frames) {
        let wire: Wire
        try {
          wire = decodeWire(frame)
        } catch (error) {
          this.opts.onError?.(from ?? '?', new Error(`undecodable frame: ${(error as Error).message}`))
          socket.destroy()
          return
        }
        if (wire.k === 'hello') from = wire.from
        else if (from === undefined) {
          socket.destroy() // a peer must introduce itself first
          return
        } else if (wire.k === 'msg') {
          // One-way messages are Raft's: server to server only.
          if (!mayActAsServer) return refuseServerTraffic('Raft message')
          this.#onMessage(from, wire.body)
        } else if (wire.k === 'req') {
          // Any peer that said hello may ask whether the connection still carries answers.
          if (wire.method === PROBE_METHOD && wire.id === PROBE_ID) {
            writeCoalesced(socket, frameOf({k: 'res', id: PROBE_ID, ok: true, body: null}))
            continue
          }
          const access = this.#requestHandlers.get(wire.method)?.access ?? 'servers'
          if (access === 'servers' && !mayActAsServer) return refuseServerTraffic(`${wire.method} request`)
          this.#serve(socket, from, wire)
        }
      }
    })
    socket.on('error', () => {})
  }

  #serve(socket: Socket, from: string, wire: Extract<Wire, {k: 'req'}>): void {
    const reply = (response: Wire) => {
      if (!socket.destroyed) writeCoalesced(socket, frameOf(response))
    }
    metrics.incrCounter(['rpc', 'request'])
    const handler = this.#requestHandlers.get(wire.method)?.handler
    if (!handler) {
      reply({k: 'res', id: wire.id, ok: false, error: `unknown method ${wire.method}`})
      return
    }
    // The answer needs only the id: the callbacks must not keep the request (its body, a restore's
    // state bytes, and the frame under it) alive while the handler runs.
    const id = wire.id
    handler(from, wire.body).then(
      (body) => reply({k: 'res', id, ok: true, body}),
      (error: Error) => reply({k: 'res', id, ok: false, error: error.message, ...(error instanceof CoordError ? {code: error.code, status: error.httpStatus} : {})}),
    )
  }
}

const uncork = (socket: Socket): void => { socket.uncork() }

/**
 * Writes a frame so that every frame written to this socket in the same tick leaves in one writev:
 * the first corks the socket and the next tick uncorks it. A Ready round's AppendEntries and the
 * answers to a batch of forwarded writes then cost one system call, not one each.
 */
function writeCoalesced(socket: Socket, frame: Buffer): void {
  if (socket.writableCorked === 0) {
    socket.cork()
    process.nextTick(uncork, socket)
  }
  socket.write(frame)
}

/** "10.0.0.1:8300" and "[::1]:8300" → [host, port]. */
export function splitHostPort(address: string): [string, string] {
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(address)
  if (bracketed) return [bracketed[1], bracketed[2]]
  const colon = address.lastIndexOf(':')
  if (colon <= 0) throw new Error(`address "${address}" has no port`)
  return [address.slice(0, colon), address.slice(colon + 1)]
}
