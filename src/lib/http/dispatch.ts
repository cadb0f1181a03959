// The HTTP pipeline without a socket: a request forwarded by a client agent runs through exactly the
// routes, handlers and error mapping a direct request does (server.ts `serve`), writing into a
// captured response that is sent back over the RPC as status + headers + body.
import {EventEmitter} from 'node:events'
import type {IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse} from 'node:http'
import type {AgentContext, Route} from './context.js'
import {tooLarge} from '../errors.js'
import type {ForwardedRequest, ForwardedResponse} from '../forward/forwarded.js'
import {serve} from './server.js'
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
 * `cancelled` resolves when the client agent says its caller went away: the request's `closed`
 * (a parked blocking query lets go of its watcher), and the answer is no longer awaited.
 */
export async function dispatch(agent: AgentContext, routes: Route[], request: ForwardedRequest, cancelled: Promise<void> = new Promise(() => {})): Promise<ForwardedResponse> {
  const res = new CapturedResponse()
  // The body came whole with the RPC: nothing is left to read (or to drain after a refusal, 413).
  const req = {method: request.method, url: request.url, headers: {...request.headers}, httpVersion: '1.1', readableEnded: true}
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength)
  await serve(agent, routes, {
    req: req as unknown as IncomingMessage,
    res: res as unknown as ServerResponse,
    closed: cancelled,
    ...(request.fromDc ? {fromDc: request.fromDc} : {}),
    readBody: async (limit, message) => {
      if (body.length > limit) throw tooLarge(message(body.length))
      return body
    },
  })
  const outcome = await Promise.race([res.finished.then(() => 'answered' as const), cancelled.then(() => 'cancelled' as const)])
  if (outcome === 'cancelled' && !res.writableEnded) return {status: 500, headers: {}, body: Buffer.from('request cancelled by the client agent')}
  return res.toForwarded()
}
