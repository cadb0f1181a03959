// The one place bytes go over the wire to an agent: an undici Client per agent address.
// undici's index module pulls in fetch, caches and mocks (~100 ms of module loading); the CLI's
// cold start budget (≤150 ms for `coord kv get`) only affords the bare Client, so it is loaded by path.
import {createRequire} from 'node:module'
import type {Client as UndiciClient} from 'undici'
import {type AgentAddress} from './address.js'
import {ApiConnectionError, goNetReason} from './errors.js'

export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>
  cert?: string | Buffer
  key?: string | Buffer
  serverName?: string
  /** false turns certificate verification off (CONSUL_HTTP_SSL_VERIFY=false). */
  verify?: boolean
}

export interface WireRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  /** Path plus query string, e.g. `/v1/kv/foo?recurse=`. */
  path: string
  headers: Record<string, string>
  body?: Uint8Array | string
  signal?: AbortSignal
}

export interface WireResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export class Transport {
  readonly #address: AgentAddress
  readonly #client: UndiciClient

  constructor(address: AgentAddress, tls: TlsOptions = {}) {
    this.#address = address
    const require = createRequire(import.meta.url)
    const Client = require('undici/lib/dispatcher/client.js') as typeof UndiciClient
    const connect = address.scheme === 'https'
      ? {ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName, rejectUnauthorized: tls.verify !== false}
      : undefined
    // Blocking queries hold the request up to wait (≤10 m) plus jitter: no header/body timeouts.
    this.#client = new Client(address.origin, {
      socketPath: address.socketPath, connect, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000,
    })
  }

  async send(request: WireRequest): Promise<WireResponse> {
    let response
    try {
      response = await this.#client.request({
        method: request.method, path: request.path, headers: request.headers, body: request.body, signal: request.signal,
      })
    } catch (error) {
      throw this.#connectionError(request, error)
    }
    let body: Buffer
    try {
      body = Buffer.from(await response.body.arrayBuffer())
    } catch (error) {
      throw this.#connectionError(request, error)
    }
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    }
    return {status: response.statusCode, headers, body}
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => undefined)
  }

  /** Go's form: `Get "http://127.0.0.1:8500/v1/kv/foo": dial tcp 127.0.0.1:8500: connect: connection refused`. */
  #connectionError(request: WireRequest, error: unknown): Error {
    const err = error as NodeJS.ErrnoException & {name?: string}
    if (err?.name === 'AbortError' || request.signal?.aborted) return err instanceof Error ? err : new Error(String(err))
    const code = err?.code ?? (err?.cause as NodeJS.ErrnoException | undefined)?.code
    const verb = request.method[0] + request.method.slice(1).toLowerCase()
    const url = `${this.#address.origin}${request.path}`
    const network = this.#address.socketPath === undefined ? 'tcp' : 'unix'
    const dialing = code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'EHOSTUNREACH' ||
      code === 'ENETUNREACH' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
    let reason: string
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') reason = `dial ${network}: lookup ${this.#address.host}: no such host`
    else if (dialing) reason = `dial ${network} ${this.#address.dialTarget}: ${goNetReason(code, err?.message ?? String(err))}`
    else if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') reason = 'EOF'
    else reason = err?.message ?? String(err)
    return new ApiConnectionError(`${verb} "${url}": ${reason}`, code, error)
  }
}
