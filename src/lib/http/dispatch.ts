// The HTTP pipeline without a socket: a request forwarded by a client agent runs through exactly the
// routes, handlers and error mapping a direct request does (server.ts `serve`), writing into a
// captured response that is sent back over the RPC as status + headers + body.
import {EventEmitter} from 'node:events'
import type {IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse} from 'node:http'
import type {AgentContext, Route} from './context.js'
import {tooLarge} from '../errors.js'
import type {ForwardedRequest, ForwardedResponse} from '../forward/forwarded.js'
import {ParkedRun, serve, type RoutedRequest, type RunParking} from './server.js'
import type {ParkedRequest} from './blocking.js'
import {performance} from 'node:perf_hooks'
import {errorCodeOf} from './answer-error-code.js'

/**
 * The part of ServerResponse the handlers use, recorded instead of written to a socket. Handlers
 * are typed against ServerResponse; this stands in for it (cast once, in `dispatch`).
 */
export class CapturedResponse extends EventEmitter {
  statusCode = 200
  statusMessage = ''
  headersSent = false
  destroyed = false
  writableEnded = false
  readonly #headers = new Map<string, {name: string; value: string | string[]}>()
  readonly #chunks: Buffer[] = []
  readonly finished: Promise<void>
  #finish: () => void = () => {}

  constructor() {
    super()
    this.finished = new Promise((resolve) => { this.#finish = resolve })
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), {name, value: typeof value === 'number' ? String(value) : Array.isArray(value) ? [...value] : String(value)})
    return this
  }

  getHeader(name: string): string | string[] | undefined {
    return this.#headers.get(name.toLowerCase())?.value
  }

  getHeaders(): OutgoingHttpHeaders {
    return Object.fromEntries([...this.#headers].map(([key, {value}]) => [key, value]))
  }

  getHeaderNames(): string[] {
    return [...this.#headers.keys()]
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase())
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase())
  }

  writeHead(status: number, reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], maybeHeaders?: OutgoingHttpHeaders): this {
    this.statusCode = status
    const headers = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders
    if (headers && !Array.isArray(headers)) {
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value)
    }
    this.headersSent = true
    return this
  }

  flushHeaders(): void {
    this.headersSent = true
  }

  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    this.headersSent = true
    this.#chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk))
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    return true
  }

  end(chunk?: string | Uint8Array | (() => void), ...rest: unknown[]): this {
    if (this.writableEnded) return this
    if (chunk !== undefined && typeof chunk !== 'function') this.write(chunk)
    this.headersSent = true
    this.writableEnded = true
    const callback = [chunk, ...rest].find((arg) => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    this.#finish()
    // Handlers that act once the answer is out (a leave, say) listen for 'close'.
    setImmediate(() => { this.emit('finish'); this.emit('close') })
    return this
  }

  destroy(): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.#finish()
    setImmediate(() => this.emit('close'))
    return this
  }

  toForwarded(): ForwardedResponse {
    const headers: Record<string, string | string[]> = {}
    for (const {name, value} of this.#headers.values()) headers[name] = value
    // A response destroyed half-written is a server error to the client, as a cut connection is.
    if (this.destroyed && !this.writableEnded) return {status: 500, headers: {}, body: Buffer.from('request was aborted by the server')}
    const errorCode = errorCodeOf(this)
    return {status: this.statusCode, headers, body: Buffer.concat(this.#chunks), ...(errorCode ? {errorCode} : {})}
  }
}

/**
 * Runs a forwarded request through the HTTP pipeline and resolves with the captured answer.
 * `cancelled` resolves when the client agent says its caller went away: a parked blocking read
 * lets go of its watcher, and the answer is no longer awaited.
 *
 * A blocking read parks as a small record without its handler, as one on this agent's own socket
 * does (server.ts ParkedExchange): a wake-up or the deadline runs the request again from the
 * route's ACL rule on a fresh captured response. So a server holding the parked reads of many
 * client agents keeps no suspended handler frames, captured responses or request contexts for them.
 */
export async function dispatch(agent: AgentContext, routes: Route[], request: ForwardedRequest, cancelled: Promise<void> = new Promise(() => {})): Promise<ForwardedResponse> {
  const parking = new DispatchParking(agent, routes, request, cancelled, performance.now())
  const res = await runCaptured(parking)
  // A read that parked answers from the run that answers it (which may have run already, from a
  // wake-up before this first run returned); one that answered on this run never parked.
  // Returned, not awaited: this frame (and the first run's captured response) is not kept while it waits.
  const record = parking.record
  if (record !== undefined && (record.waiting || record.closed)) return record.answer
  return answerOf(res, cancelled)
}

/** One run of a forwarded request through the pipeline, into a fresh captured response. */
async function runCaptured(parking: DispatchParking): Promise<CapturedResponse> {
  const {request} = parking
  const res = new CapturedResponse()
  // The body came whole with the RPC: nothing is left to read (or to drain after a refusal, 413).
  const req = {method: request.method, url: request.url, headers: {...request.headers}, httpVersion: '1.1', readableEnded: true}
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength)
  await serve(parking.agent, parking.routes, {
    req: req as unknown as IncomingMessage,
    res: res as unknown as ServerResponse,
    closed: parking.cancelled,
    ...(request.fromDc ? {fromDc: request.fromDc} : {}),
    readBody: async (limit, message) => {
      if (body.length > limit) throw tooLarge(message(body.length))
      return body
    },
    parking,
  })
  return res
}

const CANCELLED: ForwardedResponse = {status: 500, headers: {}, body: Buffer.from('request cancelled by the client agent')}

/** The answer a run wrote, once it is whole (a large body is gzip'd off the loop), unless the client agent cancelled first. */
async function answerOf(res: CapturedResponse, cancelled: Promise<void>): Promise<ForwardedResponse> {
  const outcome = await Promise.race([res.finished.then(() => 'answered' as const), cancelled.then(() => 'cancelled' as const)])
  if (outcome === 'cancelled' && !res.writableEnded) return CANCELLED
  return res.toForwarded()
}

/** How a forwarded request's blocking read parks: as a ParkedDispatch, the request run again when it wakes. */
class DispatchParking implements RunParking {
  record: ParkedDispatch | undefined
  routed: RoutedRequest | undefined
  constructor(
    readonly agent: AgentContext, readonly routes: Route[], readonly request: ForwardedRequest, readonly cancelled: Promise<void>,
    readonly startedAt: number, readonly resumed?: ParkedDispatch,
  ) {
    this.record = resumed
  }

  park(minIndex: number, deadline: number): ParkedRequest {
    return this.record = new ParkedDispatch(minIndex, deadline, this)
  }
}

/** A forwarded request's parked blocking read: the request, the client agent's cancel, and the answer the dispatch awaits. */
class ParkedDispatch extends ParkedRun {
  readonly request: ForwardedRequest
  readonly cancelled: Promise<void>
  /** Resolves with the answer of the run that answers (or the cancellation's). */
  readonly answer: Promise<ForwardedResponse>
  #settle: ((answer: ForwardedResponse | Promise<ForwardedResponse>) => void) | undefined
  #cancelledNow = false

  constructor(minIndex: number, deadline: number, first: DispatchParking) {
    super(minIndex, deadline, first)
    this.request = first.request
    this.cancelled = first.cancelled
    this.answer = new Promise((resolve) => { this.#settle = resolve })
    void first.cancelled.then(() => {
      this.#cancelledNow = true
      this.close()
    })
  }

  protected rerun(): Promise<void> {
    return runCaptured(new DispatchParking(this.agent, this.routes, this.request, this.cancelled, this.startedAt, this)).then((res) => {
      // Parked again (a wake-up that did not move the index), or the run answered.
      if (!this.waiting) this.#answerWith(answerOf(res, this.cancelled))
    })
  }

  protected override close(): void {
    super.close()
    // Cancelled by the client agent, or a run that failed past serve's own error answers.
    this.#answerWith(this.#cancelledNow ? CANCELLED : {status: 500, headers: {}, body: Buffer.from('request failed')})
  }

  #answerWith(answer: ForwardedResponse | Promise<ForwardedResponse>): void {
    const settle = this.#settle
    this.#settle = undefined
    settle?.(answer)
  }
}
