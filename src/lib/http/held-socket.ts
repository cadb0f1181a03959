// A parked blocking read's connection held outside node:http, and handed back when the read wakes.
//
// node:http keeps a request it has not answered as an IncomingMessage, a ServerResponse, their
// stream states, an HTTP parser and a dozen bound closures: about 3 KB of heap per request above
// the socket's own ~0.9 KB (heap snapshots on Node 20, 22 and 24). Tens of thousands of blocking
// reads wait at once (`coord watch`, lock waiters, consul-template), so a parked read gives all of
// that back: its socket leaves node:http as node's own Upgrade path takes one (the parser freed,
// node:http's listeners removed), and all it keeps is the socket and its request's head as text.
// When the read wakes, the socket goes back to node:http as a new connection and the request's
// head is fed to it again: node:http parses it and emits 'request' with a fresh request and
// response, and the read runs again on them, answering through node:http as any request does.
//
// This reaches into node:http's internals (the socket's parser, `_http_common`'s freeParser, its
// connection listener), which node's own Upgrade handling uses and which are the same on Node 20,
// 22 and 24. Anything not as expected, and anything a replay could not reproduce (a request body,
// Expect, a request pipelined behind this one), leaves the request parked inside node:http as it
// always could be: holding is a saving, never a requirement.
import type {IncomingMessage, Server, ServerResponse} from 'node:http'
import type {Socket} from 'node:net'
import {createRequire} from 'node:module'
import {metrics} from '../metrics/metrics.js'

interface NodeHttpParser {
  incoming: IncomingMessage | null
  finish(): unknown
}
type ParsedSocket = Socket & {parser?: NodeHttpParser | null; _httpMessage?: ServerResponse | null}
type FreeParser = (parser: NodeHttpParser, req: IncomingMessage, socket: Socket) => void
type ConnectionListener = (this: Server, socket: Socket) => void

const nodeRequire = createRequire(import.meta.url)

/** node:http's own functions this module needs, or undefined where a Node release lacks one (nothing is then held). */
const internals = ((): {freeParser: FreeParser; connectionListener: ConnectionListener} | undefined => {
  try {
    const {freeParser} = nodeRequire('_http_common') as {freeParser?: unknown}
    const {_connectionListener: connectionListener} = nodeRequire('_http_server') as {_connectionListener?: unknown}
    if (typeof freeParser !== 'function' || typeof connectionListener !== 'function') return undefined
    return {freeParser: freeParser as FreeParser, connectionListener: connectionListener as ConnectionListener}
  } catch {
    return undefined
  }
})()

/**
 * The listener node:http puts on a connection it serves for each event, by name (lib/_http_server.js
 * connectionListenerInternal; the same on Node 20, 22 and 24). A TLS socket has listeners of its
 * own on some of these events, and a net.Socket one on 'end': only node:http's are taken off.
 */
const HTTP_LISTENERS: ReadonlyArray<readonly [string, string]> = [
  ['data', 'bound socketOnData'], ['end', 'bound socketOnEnd'], ['close', 'bound socketOnClose'], ['drain', 'bound socketOnDrain'],
  ['error', 'socketOnError'], ['timeout', 'socketOnTimeout'], ['resume', 'onSocketResume'], ['pause', 'onSocketPause'],
]

/** node:http's listener for each event on this connection, or undefined unless each is there exactly once. */
function nodeHttpListeners(socket: Socket): Array<[string, (...args: unknown[]) => void]> | undefined {
  const found: Array<[string, (...args: unknown[]) => void]> = []
  for (const [event, name] of HTTP_LISTENERS) {
    const matching = socket.listeners(event).filter((listener) => listener.name === name)
    if (matching.length !== 1) return undefined
    found.push([event, matching[0] as (...args: unknown[]) => void])
  }
  return found
}

/** A listener's server, and the connections of its parked reads held outside it (closed with it). */
export interface HoldingServer {
  readonly server: Server
  readonly held: Set<Socket>
}

/** Bytes a client may send while its read is held (a request pipelined behind it) before the connection is closed. */
export const HELD_PENDING_MAX = 64 * 1024

/** Connections held now, over every listener (the gauge http.blocking_held). */
let heldNow = 0

function countHeld(delta: number): void {
  heldNow += delta
  metrics.setGauge(['http', 'blocking_held'], heldNow)
}

/** A connection taken from node:http while its request's blocking read is parked. */
export class HeldConnection {
  /** Bytes that came while held (a pipelined request), replayed after the request's head. */
  #pending: Buffer | undefined = undefined
  readonly #onData = (chunk: Buffer): void => {
    const pending = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk])
    if (pending.length > HELD_PENDING_MAX) {
      this.socket.destroy()
      return
    }
    this.#pending = pending
  }

  readonly #onGone: () => void

  constructor(readonly socket: Socket, readonly holding: HoldingServer, readonly head: string, onGone: () => void) {
    const {held} = holding
    // A client that closes or half-closes its side while its read waits has gone away, as Go's
    // net/http sees a parked request's connection read EOF: the read ends, the socket is closed.
    this.#onGone = () => {
      if (held.delete(socket)) countHeld(-1)
      if (!socket.destroyed) socket.destroy()
      onGone()
    }
    held.add(socket)
    countHeld(1)
    socket.on('data', this.#onData)
    socket.on('end', this.#onGone)
    socket.on('close', this.#onGone)
    socket.on('error', this.#onGone)
  }

  /**
   * Hands the connection back to node:http and feeds it the request again: the request and
   * response node:http made of it, or undefined when it made none (the connection is then closed).
   */
  replay(): {req: IncomingMessage; res: ServerResponse} | undefined {
    const {socket} = this
    if (this.holding.held.delete(socket)) countHeld(-1)
    socket.off('data', this.#onData)
    socket.off('end', this.#onGone)
    socket.off('close', this.#onGone)
    socket.off('error', this.#onGone)
    if (socket.destroyed || internals === undefined) {
      socket.destroy()
      return undefined
    }
    internals.connectionListener.call(this.holding.server, socket)
    const head = Buffer.from(this.head, 'latin1')
    const bytes = this.#pending === undefined ? head : Buffer.concat([head, this.#pending])
    this.#pending = undefined
    replaying = {socket, made: undefined}
    try {
      // node:http parses the request and emits 'request' before emit returns (claimReplay takes it).
      socket.emit('data', bytes)
      return replaying.made
    } finally {
      replaying = undefined
    }
  }

  /** The agent is stopping (or the read ended while held): the connection goes with no answer. */
  destroy(): void {
    this.socket.destroy()
  }
}

/** The replay in progress: the socket it fed, and the request node:http made of it. */
let replaying: {socket: Socket; made: {req: IncomingMessage; res: ServerResponse} | undefined} | undefined

/** In the server's 'request' listener, first: true when this request is a held read's replay (its run is the replay's caller's). */
export function claimReplay(req: IncomingMessage, res: ServerResponse): boolean {
  if (replaying === undefined || replaying.socket !== req.socket || replaying.made !== undefined) return false
  replaying.made = {req, res}
  return true
}

/**
 * The request's head as the client sent it (node:http keeps header names and values as received,
 * in Latin-1), as one flat string: built with `+=` it would be a tree of V8 cons strings holding
 * every header name and value apart (about 750 bytes more per held read, heap snapshot).
 */
function requestHead(req: IncomingMessage, closeAfter: boolean): string {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (closeAfter && raw[i].toLowerCase() === 'connection') continue
    lines.push(`${raw[i]}: ${raw[i + 1]}`)
  }
  if (closeAfter) lines.push('Connection: close')
  lines.push('', '')
  return lines.join('\r\n')
}

/** Whether a replay of this request's head alone is the same request: no body, nothing asked before the answer. */
function replayable(req: IncomingMessage, maxHeaderPairs: number): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const {headers} = req
  if (headers['transfer-encoding'] !== undefined || headers.expect !== undefined || headers.upgrade !== undefined) return false
  if (headers['content-length'] !== undefined && headers['content-length'] !== '0') return false
  // node:http drops header pairs past maxHeadersCount: a replay would lose them.
  return req.complete && req.rawHeaders.length < maxHeaderPairs * 2
}

/**
 * Takes the connection of a parked read's request from node:http: undefined (nothing changed) when
 * the request cannot be replayed or node:http's state is not as this module knows it.
 * `onGone` runs when the client goes away while the connection is held.
 */
export function holdConnection(holding: HoldingServer, req: IncomingMessage, res: ServerResponse, onGone: () => void): HeldConnection | undefined {
  if (internals === undefined) return undefined
  const socket = req.socket as ParsedSocket | null
  const parser = socket?.parser
  if (!socket || !parser || parser.incoming !== req || socket._httpMessage !== res || res.headersSent) return undefined
  if (socket.destroyed || !socket.writable || socket.readableEnded || !replayable(req, holding.server.maxHeadersCount ?? 2000)) return undefined
  const listeners = nodeHttpListeners(socket)
  if (listeners === undefined) return undefined
  // What node's Upgrade path does to take a connection from node:http: the response lets go of
  // the socket, node:http's listeners come off, the parser stops reading and is freed.
  res.detachSocket(socket)
  for (const [event, listener] of listeners) socket.off(event, listener)
  // The parser has read everything the client sent; a request pipelined behind this one that it
  // had only begun to read cannot be handed back: the answer then closes the connection, and the
  // client sends that request again on a new one (as HTTP/1.1 clients do for unanswered requests).
  const partial = parser.finish() instanceof Error
  internals.freeParser(parser, req, socket)
  socket.setTimeout(0)
  return new HeldConnection(socket, holding, requestHead(req, partial), onGone)
}
