// The agent's HTTP server: routes /v1/* to endpoint modules, maps errors to Consul's status codes
// and bodies in this one place, and never lets a bad request take the agent down.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer, type Server as HttpsServer} from 'node:https'
import type {TlsMaterial} from '../tls/material.js'
import type {AddressInfo} from 'node:net'
import type {AgentContext, Handler, Parking, RequestContext, ResolvedToken, Route} from './context.js'
import {ParkedRequest} from './blocking.js'
import {claimReplay, holdConnection, type HeldConnection, type HoldingServer} from './held-socket.js'
import {VERBATIM_CODES, oneLine} from './errors.js'
import {CoordError, HttpError, badRequest, methodNotAllowed, noPathToDatacenter, tooLarge} from '../errors.js'
import {parseQueryOptions, type QueryOptions} from './query.js'
import {sendText} from './respond.js'
import {noteErrorCode} from './answer-error-code.js'
import {redactTokens, requestIdentity, type RequestIdentity} from './identity.js'
import {writeAllowList} from '../agent/http-config.js'
import {NoLeaderError} from '../consensus.js'
import {kvRoutes} from './kv-endpoint.js'
import {txnRoutes} from './txn-endpoint.js'
import {queryRoutes} from './query-endpoint.js'
import {sessionRoutes} from './session-endpoint.js'
import {statusRoutes} from './status-endpoint.js'
import {agentRoutes} from './agent-endpoint.js'
import {agentMetricsRoutes} from './agent-metrics-endpoint.js'
import {operatorRoutes} from './operator-endpoint.js'
import {snapshotRoutes} from './snapshot-endpoint.js'
import {monitorRoutes} from './monitor-endpoint.js'
import {keyringRoutes} from './keyring-endpoint.js'
import {eventRoutes} from './event-endpoint.js'
import {agentLocalRoutes} from './agent-local-endpoint.js'
import {agentHealthRoutes} from './agent-health-endpoint.js'
import {catalogRoutes} from './catalog-endpoint.js'
import {healthRoutes} from './health-endpoint.js'
import {coordinateRoutes} from './coordinate-endpoint.js'
import {uiRoutes} from './ui-endpoint.js'
import {aclRoutes} from './acl-endpoint.js'
import {effectiveSecret, prepareToken, resolveToken} from './acl-authorize.js'
import {enforceRoute} from './route-acl.js'
import {resolveNearAgent} from './catalog-query.js'
import {routeRequest} from '../forward/request-route.js'
import {FORWARD_BODY_MAX, HOP_BY_HOP, forwardedHeaders, type ForwardedRequest, type ForwardedResponse} from '../forward/forwarded.js'
import {uiAssets, type UiAssets} from './ui-assets.js'
import {recordHttp} from './http-metrics.js'
import {performance} from 'node:perf_hooks'
import {ANONYMOUS_TOKEN_SECRET} from '../state/acl.js'
import {TurnBudget} from './turn-budget.js'

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

export function buildRoutes(agent: AgentContext): Route[] {
  const routes = [
    ...kvRoutes(agent),
    ...txnRoutes(agent),
    ...sessionRoutes(agent),
    ...statusRoutes(agent),
    ...agentRoutes(agent),
    ...agentMetricsRoutes(agent),
    ...operatorRoutes(agent),
    ...snapshotRoutes(agent),
    ...keyringRoutes(agent),
    ...eventRoutes(agent),
    ...catalogRoutes(agent),
    ...healthRoutes(agent),
    ...queryRoutes(agent),
    ...coordinateRoutes(agent),
    ...uiRoutes(agent),
    ...agentLocalRoutes(agent),
    ...agentHealthRoutes(agent),
    ...monitorRoutes(agent),
    ...aclRoutes(agent),
  ]
  // Longest prefix first, so '/v1/session/info/' wins over a shorter prefix.
  return routes.sort((a, b) => b.path.length - a.path.length)
}

/** A path up to its third slash ('/v1/kv/a/b' → '/v1/kv'), or the whole path when it has no third. */
function prefixOf(path: string): string {
  const second = path.indexOf('/', 1)
  const third = second === -1 ? -1 : path.indexOf('/', second + 1)
  return third === -1 ? path : path.slice(0, third)
}

/**
 * The routes a path can match, by its prefixOf: each list is `routes` in order (longest first) less
 * the routes that only match paths of another prefix ('/v1/kv/' matches only paths under '/v1/kv'),
 * so a lookup tries a handful of routes instead of all of them. A route that can match paths of
 * several prefixes (a bare '/v1/', a non-exact '/v1/kv') is in every list.
 */
interface RouteIndex {byPrefix: Map<string, Route[]>; anyPrefix: Route[]}
const routeIndexes = new WeakMap<Route[], RouteIndex>()

/** One per process, as the event loop is: how much request work each turn takes (turn-budget.ts). */
const requestTurns = new TurnBudget()

function routeIndex(routes: Route[]): RouteIndex {
  let index = routeIndexes.get(routes)
  if (index) return index
  const only = (route: Route): string | undefined => {
    const prefix = prefixOf(route.path)
    return route.path.startsWith(`${prefix}/`) || (route.exact && prefix === route.path) ? prefix : undefined
  }
  const anyPrefix = routes.filter((route) => only(route) === undefined)
  const byPrefix = new Map<string, Route[]>()
  for (const route of routes) {
    const prefix = only(route)
    if (prefix !== undefined && !byPrefix.has(prefix)) byPrefix.set(prefix, routes.filter((r) => only(r) === prefix || only(r) === undefined))
  }
  routeIndexes.set(routes, index = {byPrefix, anyPrefix})
  return index
}

export function findRoute(routes: Route[], path: string): {route: Route; tail: string} | undefined {
  const index = routeIndex(routes)
  for (const route of index.byPrefix.get(prefixOf(path)) ?? index.anyPrefix) {
    if (route.exact ? path === route.path : path.startsWith(route.path)) return {route, tail: path.slice(route.path.length)}
  }
  return undefined
}

function readBody(req: IncomingMessage, limit: number, tooLargeMessage: (size: number) => string): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1)
  if (declared > limit) return Promise.reject(tooLarge(tooLargeMessage(declared)))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.pause()
        reject(tooLarge(tooLargeMessage(size)))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

/**
 * One request as the pipeline sees it: the request and response objects handlers write to, how to
 * read the body, and when the caller went away. A socket gives real ones (handleRequest); a request
 * forwarded from a client agent gives captured ones (dispatch.ts).
 */
export interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  /** The body, at most `limit` bytes; rejects with a 413 HttpError past that. */
  readBody(limit: number, tooLargeMessage: (size: number) => string): Promise<Buffer>
  closed: Promise<void>
  /** Set when another datacenter's server sent this request (it must not cross a datacenter again). */
  fromDc?: string
  /** A request that can be run again (this agent's socket, or a client agent's forward): a blocking read parks without its handler (context.ts Parking). */
  parking?: RunParking
  /**
   * The client's address, for a request that came on this agent's own socket: the http_config
   * checks (block_endpoints, allow_write_http_from) apply to those only, as Consul's HTTP wrapper
   * does; a request another agent forwarded passed its own agent's checks.
   */
  remoteAddress?: string
}

export async function handleRequest(agent: AgentContext, routes: Route[], req: IncomingMessage, res: ServerResponse, opts: {writeAllowed?: (address: string) => boolean; ui?: UiAssets; holding?: HoldingServer} = {}): Promise<void> {
  setResponseHeaders(agent, res)
  // The web UI (and `/` redirecting to it) is this agent's own: never forwarded, never under /v1/.
  if (opts.ui && await serveUi(agent, opts.ui, req, res)) return
  const parking = new SocketParking(agent, routes, req, res, opts.writeAllowed, performance.now(), opts.holding)
  await serve(agent, routes, new SocketExchange(parking), opts.writeAllowed)
  // A read that parked waits with its connection held outside node:http (held-socket.ts).
  parking.record?.hold()
}

/** The agent's configured http_config.response_headers, on every answer. */
function setResponseHeaders(agent: AgentContext, res: ServerResponse): void {
  const headers = agent.config.http.responseHeaders
  for (const name in headers) res.setHeader(name, headers[name])
}

/** Whether the client of this socket request has gone away (or its answer was written). */
function responseClosed(req: IncomingMessage, res: ServerResponse): boolean {
  return res.destroyed || res.writableFinished || (req.socket as IncomingMessage['socket'] | null)?.destroyed !== false
}

/**
 * A socket request's exchange for one run through the pipeline (its first, or a parked read's re-run).
 * A class, not an object literal with getters: V8 builds such a literal through the runtime, in
 * dictionary mode, about 60 times slower, and every request makes one (the bench's reads lost a
 * third of their rate to it and the request context below).
 */
class SocketExchange implements Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  #closed: Promise<void> | undefined = undefined

  constructor(readonly parking: SocketParking) {
    this.req = parking.req
    this.res = parking.res
  }

  /** Made when first asked (a forwarded request, an awaited blocking read): a parked read listens for itself. */
  get closed(): Promise<void> {
    const {req, res} = this
    return this.#closed ??= responseClosed(req, res) ? Promise.resolve() : new Promise<void>((resolve) => res.once('close', () => resolve()))
  }

  /** Asked only by a write's allow_write_http_from check: a parked read never makes Node look up its peer. */
  get remoteAddress(): string {
    return this.req.socket?.remoteAddress ?? ''
  }

  readBody(limit: number, tooLargeMessage: (size: number) => string): Promise<Buffer> {
    return readBody(this.req, limit, tooLargeMessage)
  }
}

/** What a run worked out from a request's URL and headers (server.ts route), kept by a parked read for its re-runs. */
export interface RoutedRequest {
  readonly found: {route: Route; tail: string}
  readonly method: string
  readonly handler: Handler
  /** The query string's parameters: on the run that parsed them (a parked read's record does not keep them). */
  readonly params?: URLSearchParams
  readonly query: QueryOptions
  readonly identity: RequestIdentity
}

/** A parked read's record that runs its request again from the route's ACL rule, with what its first run routed. */
export abstract class ParkedRun extends ParkedRequest {
  readonly agent: AgentContext
  readonly routes: Route[]
  /** When the request's first run began: the http metrics time the whole request, parked time included. */
  readonly startedAt: number
  /** What the first run worked out from the URL and headers: a re-run starts at the route's ACL rule. */
  readonly routed: RoutedRequest | undefined

  constructor(minIndex: number, deadline: number, first: {agent: AgentContext; routes: Route[]; startedAt: number; routed: RoutedRequest | undefined}) {
    super(minIndex, deadline)
    this.agent = first.agent
    this.routes = first.routes
    this.startedAt = first.startedAt
    this.routed = keptRouting(first.routed)
  }
}

/** What one run of a request that can be run again tells serve, and serve tells the run (context.ts Parking). */
export interface RunParking extends Parking {
  readonly resumed?: ParkedRun
  /** The parked read's record, once it has one: while it waits, the run that parked it records no http timing. */
  readonly record: ParkedRun | undefined
  /** This run's route, query and identity (serve sets it before the handler runs; a parked read keeps it). */
  routed: RoutedRequest | undefined
  /** When the request's first run began: the http metrics time the whole request, parked time included. */
  readonly startedAt: number
}

/** What a parked read keeps of its first run's routing (not the URLSearchParams: a re-run parses the query string again). */
function keptRouting(routed: RoutedRequest | undefined): RoutedRequest | undefined {
  return routed && {found: routed.found, method: routed.method, handler: routed.handler, query: routed.query, identity: routed.identity}
}

/** How a socket request's blocking read parks: as a ParkedExchange, the request run again when it wakes. */
class SocketParking implements RunParking {
  record: ParkedExchange | undefined
  /** This run's route, query and identity (serve sets it before the handler runs; a parked read keeps it). */
  routed: RoutedRequest | undefined
  constructor(
    readonly agent: AgentContext, readonly routes: Route[], readonly req: IncomingMessage, readonly res: ServerResponse,
    readonly writeAllowed: ((address: string) => boolean) | undefined,
    /** When the request's first run began: the http metrics time the whole request, parked time included. */
    readonly startedAt: number,
    /** The listener's server and held connections: a parked read's connection is held there while it waits. */
    readonly holding: HoldingServer | undefined,
    readonly resumed?: ParkedExchange,
  ) {
    this.record = resumed
  }

  park(minIndex: number, deadline: number): ParkedRequest {
    return this.record = new ParkedExchange(minIndex, deadline, this)
  }
}

/**
 * A socket request's parked blocking read: what it takes to run the request again, and its
 * client's hang-up. While it waits, its connection is held outside node:http when it can be
 * (held-socket.ts), and a wake-up hands it back and replays the request: each run has the request
 * and response node:http made for it.
 */
class ParkedExchange extends ParkedRun {
  readonly writeAllowed: ((address: string) => boolean) | undefined
  readonly holding: HoldingServer | undefined
  /** The request and response of the latest run, while node:http has the connection. */
  #req: IncomingMessage | undefined
  #res: ServerResponse | undefined
  /** The connection, while held outside node:http. */
  #held: HeldConnection | undefined
  /** Runs under way: the connection is held only when none is (a wake-up can start one before the last returned). */
  #running = 0
  readonly #onClose = (): void => this.close()

  constructor(minIndex: number, deadline: number, first: SocketParking) {
    super(minIndex, deadline, first)
    this.writeAllowed = first.writeAllowed
    this.holding = first.holding
    this.#attach(first.req, first.res)
  }

  #attach(req: IncomingMessage, res: ServerResponse): void {
    this.#req = req
    this.#res = res
    if (responseClosed(req, res)) this.close()
    else res.once('close', this.#onClose)
  }

  /** After a run: a read still waiting gives its request and response back and holds only its connection. */
  hold(): void {
    const req = this.#req
    const res = this.#res
    if (this.holding === undefined || req === undefined || res === undefined || this.#running > 0 || !this.waiting) return
    const held = holdConnection(this.holding, req, res, this.#onClose)
    if (held === undefined) return
    res.off('close', this.#onClose)
    this.#held = held
    this.#req = this.#res = undefined
  }

  protected rerun(): Promise<void> {
    const held = this.#held
    if (held !== undefined) {
      this.#held = undefined
      const made = held.replay()
      if (made === undefined) {
        this.close()
        return Promise.resolve()
      }
      setResponseHeaders(this.agent, made.res)
      this.#attach(made.req, made.res)
    }
    const req = this.#req
    const res = this.#res
    if (req === undefined || res === undefined || this.closed) return Promise.resolve()
    this.#running++
    return serve(this.agent, this.routes, new SocketExchange(new SocketParking(this.agent, this.routes, req, res, this.writeAllowed, this.startedAt, this.holding, this)), this.writeAllowed)
      .finally(() => {
        this.#running--
        this.hold()
      })
  }

  protected override close(): void {
    super.close()
    const held = this.#held
    this.#held = undefined
    held?.destroy()
  }
}

/** Consul's http_config guards for a request on this agent's socket: blocked endpoints, then where writes may come from. */
function checkHttpAccess(agent: AgentContext, method: string, path: string, remoteAddress: () => string, writeAllowed?: (address: string) => boolean): void {
  if (agent.config.http.blockEndpoints.some((prefix) => path.startsWith(prefix))) throw new HttpError(403, 'Endpoint is blocked by agent configuration', 'ENDPOINT_BLOCKED')
  const write = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS'
  if (write && writeAllowed && !writeAllowed(remoteAddress())) throw new HttpError(403, 'Access is restricted', 'WRITE_RESTRICTED')
}

async function serveUi(agent: AgentContext, ui: UiAssets, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const rawUrl = req.url ?? '/'
  // The API's paths, without decoding them twice (percent-decoding leaves a literal '/v1/' as it is).
  if (rawUrl.startsWith('/v1/')) return false
  const queryStart = rawUrl.indexOf('?')
  let path: string
  try {
    path = decodeURIComponent(queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart))
  } catch {
    return false // the pipeline answers a malformed path with its 400
  }
  if (path.startsWith('/v1/') || hasControlCharacter(path)) return false
  try {
    return await ui.handle(req, res, path)
  } catch (error) {
    sendError(agent, req, res, error, true)
    return true
  }
}

/** The whole HTTP pipeline, socket or not: routing (or forwarding, on a client), the handler, errors mapped to Consul's answers. */
export async function serve(agent: AgentContext, routes: Route[], exchange: Exchange, writeAllowed?: (address: string) => boolean): Promise<void> {
  const {req, res} = exchange
  let ctx: PipelineContext | undefined
  let bodyUnread = true
  try {
    // A parked read run again starts at the route's ACL rule: what its first run worked out from
    // the URL and headers (route, query, identity) is kept on its record and cannot have changed.
    const routed: RoutedRequest | undefined = exchange.parking?.resumed?.routed ?? await route(agent, routes, exchange, writeAllowed, () => { bodyUnread = false })
    if (routed === undefined) return
    const {found, method, handler, identity} = routed
    // The record keeps no URLSearchParams (a third of what it keeps): a re-run reads the query string again.
    const params = routed.params ?? searchParams(req.url ?? '/')
    if (exchange.parking) exchange.parking.routed = routed
    ctx = new PipelineContext(agent, exchange, routed, params)
    // ACLs: every route's rule (route-acl.ts) is checked here, before its handler runs (a client
    // agent first asks the servers about the token: prepareToken); on every run of a parked read.
    if (agent.config.acl.enabled) {
      // Only a client agent has anything to wait for (a server resolves from its own tables).
      if (agent.aclResolver) await prepareToken(agent, identity)
      enforceRoute(found.route.path, ctx, method, agent)
    }
    const parking = exchange.parking
    const start = parking?.startedAt ?? performance.now()
    try {
      await handler(ctx)
    } finally {
      // A read that parked is timed when it answers, on the run that answers it.
      if (parking?.record?.waiting !== true) recordHttp(method, found.route.path, start)
    }
  } catch (error) {
    sendError(agent, req, res, error, bodyUnread && ctx?.bodyUnread !== false)
  }
}

/**
 * What a handler sees of its request (context.ts RequestContext). A class for the reason
 * SocketExchange is one: handlers read it many times, and a literal with a getter is a slow object.
 */
class PipelineContext implements RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly tail: string
  readonly query: QueryOptions
  readonly identity: RequestIdentity
  readonly parking: RunParking | undefined
  /** Until a handler asks for the body: an error answer then drains it first (sendError). */
  bodyUnread = true

  constructor(readonly agent: AgentContext, readonly exchange: Exchange, readonly routed: RoutedRequest, readonly params: URLSearchParams) {
    this.req = exchange.req
    this.res = exchange.res
    this.tail = routed.found.tail
    this.query = routed.query
    this.identity = routed.identity
    this.parking = exchange.parking
  }

  get closed(): Promise<void> {
    return this.exchange.closed
  }

  authorize(): ResolvedToken {
    return resolveToken(this.agent, this.identity)
  }

  body(limit: number, tooLargeMessage: (size: number) => string = (n) => `Request body(${n} bytes) too large, max size: ${limit} bytes.`): Promise<Buffer> {
    this.bodyUnread = false
    // The handler's work (decode, propose) follows the body: it waits for a turn with time left.
    return this.exchange.readBody(limit, tooLargeMessage).then((body) => requestTurns.admit()?.then(() => body) ?? body)
  }

  async forwardToDatacenter(target: string, body: Buffer): Promise<void> {
    const toDatacenter = this.agent.forwardToDatacenter
    if (this.exchange.fromDc !== undefined || !toDatacenter) throw noPathToDatacenter()
    const {req, res} = this
    const answer = await toDatacenter(target, {method: this.routed.method, url: req.url ?? '/', headers: forwardedHeaders(req), body}, this.exchange.closed)
    writeForwardedAnswer(res, answer)
  }
}

function searchParams(rawUrl: string): URLSearchParams {
  const queryStart = rawUrl.indexOf('?')
  return new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1))
}

/**
 * What a request's URL and headers say: its route, handler, query options and identity; or
 * undefined when this agent answered it already (`/`, 404, OPTIONS) or handed it on (a client
 * agent's forward to a server, another datacenter). Throws the 4xx of a malformed request.
 */
async function route(agent: AgentContext, routes: Route[], exchange: Exchange, writeAllowed: ((address: string) => boolean) | undefined, bodyRead: () => void): Promise<RoutedRequest | undefined> {
  const {req, res} = exchange
  const rawUrl = req.url ?? '/'
  const queryStart = rawUrl.indexOf('?')
  const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart)
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    throw badRequest(`Invalid URL path: malformed percent-encoding in "${rawPath}"`)
  }
  // Consul rejects non-printable characters before routing: keys must stay printable.
  if (hasControlCharacter(path)) throw badRequest('Invalid URL path: contains non-printable characters')
  if ('remoteAddress' in exchange) checkHttpAccess(agent, req.method ?? 'GET', path, () => exchange.remoteAddress ?? '', writeAllowed)
  if (path === '/') {
    sendText(req, res, 200, 'Consul Agent')
    return
  }
  const params = searchParams(rawUrl)
  // A client agent answers only its own endpoints; a server runs everything else,
  // and hands what names another datacenter to a server there (request-route.ts).
  const dc = params.get('dc') ?? ''
  const where = routeRequest(path, dc, {datacenter: agent.config.datacenter, client: agent.forwardToServer !== undefined}, exchange.fromDc !== undefined)
  if (where === 'server' && agent.forwardToServer) {
    bodyRead()
    req.url = resolveNearAgent(rawUrl, agent.config.nodeName)
    await forwardExchange(agent, agent.forwardToServer, exchange, params, defaultTokenHeader(agent, params, req))
    return
  }
  if (where === 'datacenter' || where === 'no-path') {
    // Consul checks the method on the agent that received the request, before any RPC: a wrong
    // method is a 405 here, not a trip to another datacenter (or a 500 "No path" for a HEAD).
    const target = findRoute(routes, path)
    const method = req.method ?? 'GET'
    if (target && method !== 'OPTIONS' && !target.route.methods[method as keyof Route['methods']]) throw methodNotAllowed(method, Object.keys(target.route.methods))
    const toDatacenter = agent.forwardToDatacenter
    if (where === 'no-path' || !toDatacenter) throw noPathToDatacenter()
    bodyRead()
    await forwardExchange(agent, (request, closed) => toDatacenter(dc, request, closed), exchange, params, defaultTokenHeader(agent, params, req))
    return
  }
  const found = findRoute(routes, path)
  if (!found) {
    sendText(req, res, 404, '')
    return
  }
  const method = req.method ?? 'GET'
  const allowed = Object.keys(found.route.methods)
  if (method === 'OPTIONS') {
    res.setHeader('Allow', ['OPTIONS', ...allowed].join(','))
    sendText(req, res, 200, '')
    return
  }
  const handler = found.route.methods[method as keyof Route['methods']]
  if (!handler) throw methodNotAllowed(method, allowed)
  // A `?dc=` still naming another datacenter here is one this path ignores (the agent's own
  // endpoints, the datacenter lists), as Consul's handlers do.
  return {found, method, handler, params, query: parseQueryOptions(params, agent.config.dev), identity: requestIdentity(params, req.headers)}
}

/**
 * A request without a token of its own leaves this agent with the agent's default token
 * (acl.tokens.default, or as set through /v1/agent/token/default), as Consul's agent fills the
 * RPC's token in; without one, the server applies its own default (else anonymous).
 */
function defaultTokenHeader(agent: AgentContext, params: URLSearchParams, req: IncomingMessage): Record<string, string> {
  if (!agent.config.acl.enabled || requestIdentity(params, req.headers).token !== '') return {}
  const secret = effectiveSecret(agent, {token: '', source: 'none'})
  return secret === ANONYMOUS_TOKEN_SECRET ? {} : {'x-consul-token': secret}
}

/** Hands the request to a server (client agents, or another datacenter's) and writes its answer back unchanged. */
async function forwardExchange(agent: AgentContext, forward: NonNullable<AgentContext['forwardToServer']>, exchange: Exchange, params: URLSearchParams, extraHeaders: Record<string, string> = {}): Promise<void> {
  const {req, res} = exchange
  const body = await exchange.readBody(FORWARD_BODY_MAX, (n) => `Request body(${n} bytes) too large, max size: ${FORWARD_BODY_MAX} bytes.`)
  const request = {method: req.method ?? 'GET', url: req.url ?? '/', headers: {...forwardedHeaders(req), ...extraHeaders}, body}
  if (isBlockingGet(request.method, params) && exchange.parking instanceof SocketParking) {
    const held = holdWhileForwarded(exchange.parking)
    if (held !== undefined) {
      // Not awaited: the pipeline's frames (and the request and response they hold) end here.
      void answerHeld(agent, held, request, forward)
      return
    }
  }
  writeForwardedAnswer(res, await forward(request, exchange.closed))
}

/** A GET with ?index= above 0: a blocking query, which may wait minutes for its answer. */
function isBlockingGet(method: string, params: URLSearchParams): boolean {
  return method === 'GET' && Number(params.get('index') ?? 0) > 0
}

/**
 * A blocking query handed to a server (a client agent's, or one for another datacenter) waits for
 * its answer with the connection held outside node:http (held-socket.ts), as a parked read on a
 * server does; `gone` resolves if the client leaves meanwhile (the server is then told to let go).
 */
function holdWhileForwarded(parking: SocketParking): {connection: HeldConnection; gone: Promise<void>} | undefined {
  if (parking.holding === undefined) return undefined
  let leave: () => void = () => {}
  const gone = new Promise<void>((resolve) => { leave = resolve })
  const connection = holdConnection(parking.holding, parking.req, parking.res, () => leave())
  return connection && {connection, gone}
}

/** Forwards a held blocking query and writes the answer through the request node:http makes of the replay. */
async function answerHeld(agent: AgentContext, held: {connection: HeldConnection; gone: Promise<void>}, request: ForwardedRequest, forward: NonNullable<AgentContext['forwardToServer']>): Promise<void> {
  let answer: ForwardedResponse | undefined
  let failure: unknown
  try {
    answer = await forward(request, held.gone)
  } catch (error) {
    failure = error
  }
  // Gone meanwhile: nobody to answer.
  const made = held.connection.replay()
  if (made === undefined) return
  setResponseHeaders(agent, made.res)
  if (answer !== undefined) writeForwardedAnswer(made.res, answer)
  else sendError(agent, made.req, made.res, failure, false)
}

/** A server's answer (this datacenter's or another's), written back unchanged but for hop-by-hop headers. */
function writeForwardedAnswer(res: ServerResponse, answer: ForwardedResponse): void {
  if (res.destroyed) return
  res.statusCode = answer.status
  if (answer.errorCode) noteErrorCode(res, answer.errorCode)
  for (const [name, value] of Object.entries(answer.headers)) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) res.setHeader(name, value)
  }
  res.end(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength))
}

function sendError(agent: AgentContext, req: IncomingMessage, res: ServerResponse, error: unknown, bodyUnread: boolean): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  let status = 500
  let message = 'internal error'
  if (error instanceof CoordError) {
    noteErrorCode(res, error.code)
    status = error.httpStatus
    message = error.message
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value)
  } else {
    message = error instanceof Error ? error.message : String(error)
  }
  // Errors made for an answer (HttpError, No cluster leader) are the client's news, not the log's.
  if (!(error instanceof HttpError) && !(error instanceof NoLeaderError)) agent.log.error('request failed', {method: req.method, url: redactTokens(req.url ?? ''), error: message})
  if (!(error instanceof CoordError && VERBATIM_CODES.has(error.code))) message = oneLine(message)
  // A body we refused to read would otherwise be parsed as the next request on this connection.
  if (status === 413 || (bodyUnread && req.headers['content-length'] && req.headers['content-length'] !== '0')) {
    res.setHeader('Connection', 'close')
    // Read (and drop) the rest first: a client still writing it would get EPIPE instead of our answer.
    void drainBody(req).then(() => { if (!res.destroyed) sendText(req, res, status, message) })
    return
  }
  sendText(req, res, status, message)
}

/** How much of a refused body is read and dropped before the connection closes anyway. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024
const DRAIN_MAX_MS = 2000

function drainBody(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    let seen = 0
    const done = () => {
      clearTimeout(timer)
      req.off('data', onData)
      resolve()
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.length
      if (seen > DRAIN_MAX_BYTES) done()
    }
    const timer = setTimeout(done, DRAIN_MAX_MS)
    req.on('data', onData)
    req.once('end', done)
    req.once('error', done)
    req.once('close', done)
    req.resume()
  })
}

export interface HttpServerHandle {
  server: Server
  address: AddressInfo
  /** Applies a reloaded config's ui_config (Consul reloads it too): later requests see the new UI. */
  reloadUi(config: AgentContext['config']): void
  /** This listener serves HTTPS. */
  tls: boolean
  /** Swaps in renewed certificates (HTTPS only; a no-op on plain HTTP). */
  updateTls(next: HttpsOptions): void
  close(): Promise<void>
}

/** The HTTPS listener's certificates and whether it demands a client certificate the CA signed. */
export interface HttpsOptions {
  material: TlsMaterial
  verifyIncoming: boolean
}

function httpsContextOptions(tls: HttpsOptions) {
  const {material} = tls
  return {
    ca: material.ca.length > 0 ? material.ca : undefined, cert: material.cert, key: material.key,
    minVersion: material.minVersion, ...(material.ciphers ? {ciphers: material.ciphers} : {}),
    // setSecureContext (reload) resets these two as well, so they travel with the certificates.
    requestCert: true, rejectUnauthorized: tls.verifyIncoming,
  }
}

/** Plain HTTP, or HTTPS when `tls` is given (its own listener: the same routes and error mapping). */
export async function startHttpServer(agent: AgentContext, host: string, port: number, tls?: HttpsOptions): Promise<HttpServerHandle> {
  const routes = buildRoutes(agent)
  const writeAllowed = writeAllowList(agent.config.http.allowWriteHttpFrom)
  let ui = uiAssets(agent.config)
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // A held read's replayed request: the read runs again on it (server.ts ParkedExchange).
    if (claimReplay(req, res)) return
    void handleRequest(agent, routes, req, res, {writeAllowed, ui, holding})
  }
  // With verify_incoming a client without a certificate the CA signed fails the handshake: no request is read.
  const server: Server = tls
    ? createHttpsServer({keepAliveTimeout: 30_000, ...httpsContextOptions(tls)}, onRequest) as unknown as Server
    : createServer({keepAliveTimeout: 30_000}, onRequest)
  // Blocking queries hold a response for up to 10m + jitter: no request timeout may cut them.
  server.requestTimeout = 0
  server.headersTimeout = 60_000
  server.maxHeadersCount = 200
  const holding: HoldingServer = {server, held: new Set()}
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // A deep accept queue: clients open thousands of blocking queries at once (the kernel caps it at somaxconn).
    server.listen({port, host, backlog: 4096}, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // An accept that fails (every file descriptor in use, when libuv's spare descriptor cannot
  // shed the connection either) is emitted as the server's 'error': logged, never fatal.
  server.on('error', (error: NodeJS.ErrnoException) => agent.log.warn('HTTP listener error', {address: `${host}:${port}`, error: error.message}))
  // Requests the parser refuses never reach a handler: answer as Go's net/http does, with the
  // reason as a one-line body (431 for headers over the limit, 400 for the rest).
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return
    const [status, reason] = error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request']
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(`${status} ${reason}`)}\r\nConnection: close\r\n\r\n${status} ${reason}`)
  })
  return {
    server,
    address: server.address() as AddressInfo,
    reloadUi: (config) => { ui = uiAssets(config) },
    tls: tls !== undefined,
    // Renewed certificates for new connections (reload); open ones keep theirs.
    updateTls: (next) => {
      if (tls) (server as unknown as HttpsServer).setSecureContext(httpsContextOptions(next))
    },
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
      // Connections of parked reads held outside node:http: node:http does not know them.
      for (const socket of holding.held) socket.destroy()
    }),
  }
}
