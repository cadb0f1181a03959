// Forwarding a whole HTTP request from a client agent to a server: the client side
// (timeout from the blocking-query parameters, the agent's own defaults filled in, retries through
// ServerRpc) and the server side (the 'http-forward' RPC, answered by the socket-less pipeline).
import {randomUUID} from 'node:crypto'
import {DEFAULT_WAIT_MS, MAX_WAIT_MS, parseDuration} from '../duration.js'
import type {ForwardedRequest, ForwardedResponse} from './forwarded.js'
import {firesOnServer, runsOnAgent} from './agent-local-paths.js'
import type {RpcTransport} from '../rpc/transport.js'
import {NEVER_APPLIED_CODES, SERVER_STOPPING, SERVER_STOPPING_MESSAGE, type ServerRpc} from './server-rpc.js'
import {CoordError, HttpError} from '../errors.js'

export const FORWARD_METHOD = 'http-forward'
export const CANCEL_METHOD = 'http-forward-cancel'

/** Time for the server to answer anything that is not a blocking query (it holds a request ≤ rpc_hold_timeout, 7 s, for a leader, and a write ≤ 10 s more to commit). */
const BASE_TIMEOUT_MS = 30_000

/**
 * Extra time for a hop after which the request may take one more (it names a datacenter, and the
 * server may forward it there with the plain timeout): the inner hop times out first and answers
 * with its reason, which is not retried on another server.
 */
export const DC_HOP_MARGIN_MS = 5_000

/**
 * Time a server gets to answer a session renewal before the client agent tries another server (a
 * renewal is idempotent). A lock holder trusts its lock for ~3 s after its last renewal
 * (cli/lock-runner.ts confirmWindowMs): a renewal stuck on a paused server (SIGSTOP: its
 * connection stays open, nothing answers) for the plain 30 s lost the lock even when another server
 * led within a second or two; a live server holds it until there is a leader, so the retry lands.
 */
export const RENEW_ATTEMPT_TIMEOUT_MS = 2_000

/** The RPC timeout of one attempt at forwarding `request` (forwardTimeoutMs, shorter for a session renewal). */
export function forwardAttemptTimeoutMs(request: Pick<ForwardedRequest, 'method' | 'url' | 'fromDc'>): number {
  const plain = forwardTimeoutMs(request.url, request.fromDc !== undefined)
  // Through another datacenter the hop ordering of forwardTimeoutMs applies.
  return isSessionRenewal(request) && namedDatacenter(queryOf(request.url)) === '' ? Math.min(plain, RENEW_ATTEMPT_TIMEOUT_MS) : plain
}

/**
 * RPC timeout for a forwarded request: a blocking query (?index > 0) may legitimately take its
 * whole wait plus Consul's jitter (wait/16) before answering, so it gets that on top of the base.
 * `lastHop`: the request will not be forwarded again (it already crossed a datacenter).
 */
export function forwardTimeoutMs(url: string, lastHop = false): number {
  const params = queryOf(url)
  const margin = !lastHop && namedDatacenter(params) !== '' ? DC_HOP_MARGIN_MS : 0
  return margin + blockingTimeoutMs(params)
}

function queryOf(url: string): URLSearchParams {
  const queryStart = url.indexOf('?')
  return new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1))
}

function namedDatacenter(params: URLSearchParams): string {
  return params.get('dc') ?? ''
}

function blockingTimeoutMs(params: URLSearchParams): number {
  const index = Number(params.get('index') ?? '0')
  if (!(index > 0)) return BASE_TIMEOUT_MS
  let waitMs = DEFAULT_WAIT_MS
  const waitText = params.get('wait')
  if (waitText) {
    try {
      waitMs = Math.min(Math.max(0, parseDuration(waitText)), MAX_WAIT_MS)
    } catch {
      // the server rejects the bad wait at once; the default timeout covers that answer
    }
  }
  return waitMs + Math.ceil(waitMs / 16) + BASE_TIMEOUT_MS
}

/**
 * What the receiving agent fills in before its request leaves it, as Consul's agent does in its
 * HTTP handlers: a session created without a Node belongs to the node it was asked on, not to the
 * server that runs the request.
 */
export function withAgentDefaults(request: ForwardedRequest, nodeName: string): ForwardedRequest {
  const path = request.url.replace(/\?.*$/, '')
  if (request.method !== 'PUT' || path !== '/v1/session/create') return request
  let input: unknown = {}
  const text = Buffer.from(request.body).toString('utf8')
  if (text.trim() !== '') {
    try {
      input = JSON.parse(text)
    } catch {
      return request // the server answers the decode error
    }
  }
  if (input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) return request
  const session = input as Record<string, unknown>
  if (typeof session.Node === 'string' && session.Node !== '') return request
  return {...request, body: Buffer.from(JSON.stringify({...session, Node: nodeName}))}
}

/** The client agent's forwarder: one RPC per request, retried on another server only when safe. */
export function createForwarder(rpc: ServerRpc, nodeName: string, onAnswer: (answer: ForwardedResponse, request: ForwardedRequest) => void): (request: ForwardedRequest, closed?: Promise<void>) => Promise<ForwardedResponse> {
  return async (request, closed) => {
    // Only a blocking query can be parked long enough for its caller to leave: name it for a cancel.
    const cancelId = isBlocking(request.url) ? randomUUID() : undefined
    let server: string | undefined
    let done = false
    void closed?.then(() => {
      if (done || !server || !cancelId) return
      rpc.transport.request(server, CANCEL_METHOD, cancelId, 5_000).catch(() => {})
    })
    try {
      const answer = await rpc.call(FORWARD_METHOD, {...withAgentDefaults(request, nodeName), ...(cancelId ? {cancelId} : {})}, {
        timeoutMs: forwardAttemptTimeoutMs(request),
        idempotent: isIdempotent(request),
        onAttempt: (to) => { server = to },
        // No cluster leader, a full disk, a write refused before it applied: another server may do it.
        notCarriedOut: (answer) => NEVER_APPLIED_CODES.has((answer as ForwardedResponse).errorCode ?? ''),
      }) as ForwardedResponse
      onAnswer(answer, request)
      return answer
    } finally {
      done = true
    }
  }
}

/**
 * May the request be sent to a server again after its answer was lost? Reads, and a session
 * renewal (renewing twice is renewing once); any other write may have been applied, so never.
 */
function isIdempotent(request: ForwardedRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true
  return isSessionRenewal(request)
}

function isSessionRenewal(request: Pick<ForwardedRequest, 'method' | 'url'>): boolean {
  return request.method === 'PUT' && request.url.startsWith('/v1/session/renew/')
}

function isBlocking(url: string): boolean {
  const queryStart = url.indexOf('?')
  return queryStart !== -1 && Number(new URLSearchParams(url.slice(queryStart + 1)).get('index') ?? '0') > 0
}

/** A malformed forwarded request (not from a coord client agent): rejected with the reason. */
export function parseForwarded(body: unknown): ForwardedRequest {
  const request = body as Partial<ForwardedRequest> | null
  if (!request || typeof request !== 'object') throw new Error('forwarded request: not an object')
  if (typeof request.method !== 'string' || typeof request.url !== 'string' || !request.url.startsWith('/')) {
    throw new Error('forwarded request: needs a method and a URL path')
  }
  if (!(request.body instanceof Uint8Array)) throw new Error('forwarded request: body must be bytes')
  // Agent-local endpoints (leave, join, local services...) act on the agent that receives them: a
  // client never forwards them, and a server must not run one on a remote caller's behalf.
  let path = request.url.replace(/\?.*$/, '')
  try {
    path = decodeURIComponent(path)
  } catch {
    // malformed: the pipeline answers 400
  }
  // Firing a user event is the exception: Consul's agents fire through a server (Internal.EventFire),
  // and a `?dc=` event reaches the other datacenter only that way.
  if (runsOnAgent(path) && !firesOnServer(path)) throw new Error(`forwarded request: ${path} runs on the agent that receives it, not on a server`)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers ?? {})) if (typeof value === 'string') headers[name.toLowerCase()] = value
  const cancelId = typeof request.cancelId === 'string' && request.cancelId !== '' ? request.cancelId : undefined
  const fromDc = typeof request.fromDc === 'string' && request.fromDc !== '' ? request.fromDc : undefined
  return {method: request.method, url: request.url, headers, body: request.body, ...(cancelId ? {cancelId} : {}), ...(fromDc ? {fromDc} : {})}
}

/**
 * Server side: answers client agents' forwarded requests with `run` (the socket-less pipeline).
 * A blocking query in flight can be cancelled by the client that sent it (its caller went away).
 * While this server shuts down (`stopping`), a request it cannot serve any more is answered with
 * SERVER_STOPPING_MESSAGE rather than its 5xx, so the client treats this server as gone and, for a
 * read, asks another one. `cancelAll()` (at shutdown) lets go of every parked blocking query, so
 * none keeps its wait timer, and the process, alive.
 */
export function serveForwardedRequests(transport: RpcTransport, run: (request: ForwardedRequest, cancelled: Promise<void>) => Promise<ForwardedResponse>, stopping: () => boolean = () => false): {cancelAll(): void} {
  // One entry per blocking query in flight, removed when it answers: bounded by what clients park.
  const inFlight = new Map<string, () => void>()
  transport.onRequest(FORWARD_METHOD, async (from, body) => {
    const request = parseForwarded(body)
    let cancel: () => void = () => {}
    const cancelled = new Promise<void>((resolve) => { cancel = resolve })
    const key = request.cancelId ? `${from}/${request.cancelId}` : undefined
    if (key) inFlight.set(key, cancel)
    try {
      if (stopping()) throw new CoordError(SERVER_STOPPING, SERVER_STOPPING_MESSAGE, {httpStatus: 503})
      const answer = await run(request, cancelled)
      if (answer.status >= 500 && stopping()) throw new CoordError(SERVER_STOPPING, SERVER_STOPPING_MESSAGE, {httpStatus: 503})
      return answer
    } finally {
      if (key) inFlight.delete(key)
    }
  }, 'any')
  transport.onRequest(CANCEL_METHOD, async (from, body) => {
    const cancel = inFlight.get(`${from}/${String(body)}`)
    cancel?.()
    return cancel !== undefined
  }, 'any')
  return {cancelAll: () => { for (const cancel of inFlight.values()) cancel() }}
}

/**
 * For agent-local code on a client agent that must read the servers' state (anti-entropy's view of
 * its own node in the catalog, say): runs GET `url` on a server through the forwarder. Resolves
 * with the parsed JSON on 200, undefined on 404; rejects with the server's one-line reason otherwise.
 */
export async function getFromServer(forward: (request: ForwardedRequest) => Promise<ForwardedResponse>, url: string): Promise<unknown> {
  const answer = await forward({method: 'GET', url, headers: {}, body: new Uint8Array()})
  const text = Buffer.from(answer.body).toString('utf8')
  if (answer.status === 404) return undefined
  if (answer.status !== 200) throw new HttpError(answer.status, text || `server answered ${answer.status}`, answer.errorCode ?? 'SERVER_ERROR')
  return JSON.parse(text) as unknown
}

/** For agent-local code on a client agent: PUT `body` as JSON to `url` on a server; rejects with the server's reason unless it answers 200. */
export async function putToServer(forward: (request: ForwardedRequest) => Promise<ForwardedResponse>, url: string, body: unknown): Promise<void> {
  const answer = await forward({method: 'PUT', url, headers: {'content-type': 'application/json'}, body: Buffer.from(JSON.stringify(body))})
  if (answer.status !== 200) throw new HttpError(answer.status, Buffer.from(answer.body).toString('utf8') || `server answered ${answer.status}`, answer.errorCode ?? 'SERVER_ERROR')
}

/**
 * The agent's own requests to servers (anti-entropy, coordinates, DNS reads) carry one of its ACL
 * tokens: `secret()` is read per request (a token set through /v1/agent/token/ applies at once);
 * '' adds nothing.
 */
export function withToken<C>(forward: (request: ForwardedRequest, closed?: C) => Promise<ForwardedResponse>, secret: () => string): (request: ForwardedRequest, closed?: C) => Promise<ForwardedResponse> {
  return (request, closed) => {
    const token = secret()
    return forward(token === '' || request.headers['x-consul-token'] !== undefined ? request : {...request, headers: {...request.headers, 'x-consul-token': token}}, closed)
  }
}
