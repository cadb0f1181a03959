// The one place bytes go over the wire to an agent. Built on node:http/https rather than undici:
// measured on the dev machine, loading undici's Client (llhttp wasm, h2) costs ~50–60 ms per process,
// a third of the CLI's cold-start budget (≤150 ms for `coord kv get`), while node:http is already in
// the runtime. One keep-alive agent per client; close() releases its sockets so the process can exit.
import http from 'node:http'
import type {RequestOptions} from 'node:https'
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

type RequestFn = (options: RequestOptions, callback: (res: http.IncomingMessage) => void) => http.ClientRequest

export class Transport {
  readonly #address: AgentAddress
  readonly #tls: TlsOptions
  #agent?: http.Agent
  #request?: RequestFn

  constructor(address: AgentAddress, tls: TlsOptions = {}) {
    this.#address = address
    this.#tls = tls
  }

  async send(request: WireRequest): Promise<WireResponse> {
    const send = await this.#requestFn()
    const body = request.body === undefined ? undefined : Buffer.from(request.body)
    const headers: Record<string, string> = {...request.headers}
    if (body !== undefined || request.method !== 'GET') headers['content-length'] = String(body?.length ?? 0)
    const tls = this.#address.scheme === 'https'
      ? {ca: this.#tls.ca, cert: this.#tls.cert, key: this.#tls.key, servername: this.#tls.serverName || undefined, rejectUnauthorized: this.#tls.verify !== false}
      : {}
    return new Promise<WireResponse>((resolve, reject) => {
      const req = send({
        ...tls,
        agent: this.#agent,
        method: request.method,
        path: request.path,
        headers,
        signal: request.signal,
        ...(this.#address.socketPath === undefined ? {host: this.#address.host, port: this.#address.port} : {socketPath: this.#address.socketPath}),
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', (error) => reject(this.#connectionError(request, error)))
        res.on('end', () => {
          const out: Record<string, string> = {}
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
          }
          resolve({status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks)})
        })
      })
      req.on('error', (error) => reject(this.#connectionError(request, error)))
      req.end(body)
    })
  }

  /** Like send, but hands back the response body as a stream (log monitor, long-lived reads). */
  async open(request: WireRequest): Promise<{status: number; headers: Record<string, string>; body: http.IncomingMessage}> {
    const send = await this.#requestFn()
    const tls = this.#address.scheme === 'https'
      ? {ca: this.#tls.ca, cert: this.#tls.cert, key: this.#tls.key, servername: this.#tls.serverName || undefined, rejectUnauthorized: this.#tls.verify !== false}
      : {}
    return new Promise((resolve, reject) => {
      const req = send({
        ...tls,
        // Its own connection: a stream must not hold a keep-alive socket others wait for.
        agent: false,
        method: request.method,
        path: request.path,
        headers: request.headers,
        signal: request.signal,
        ...(this.#address.socketPath === undefined ? {host: this.#address.host, port: this.#address.port} : {socketPath: this.#address.socketPath}),
      }, (res) => {
        const out: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
        }
        resolve({status: res.statusCode ?? 0, headers: out, body: res})
      })
      req.on('error', (error) => reject(this.#connectionError(request, error)))
      req.end()
    })
  }

  async close(): Promise<void> {
    this.#agent?.destroy()
  }

  async #requestFn(): Promise<RequestFn> {
    if (this.#request) return this.#request
    if (this.#address.scheme === 'https') {
      const https = await import('node:https')
      this.#agent = new https.Agent({keepAlive: true})
      this.#request = https.request
    } else {
      this.#agent = new http.Agent({keepAlive: true})
      this.#request = http.request
    }
    return this.#request
  }

  /** Go's form: `Get "http://127.0.0.1:8500/v1/kv/foo": dial tcp 127.0.0.1:8500: connect: connection refused`. */
  #connectionError(request: WireRequest, error: unknown): Error {
    const err = error as NodeJS.ErrnoException
    if (err?.name === 'AbortError' || request.signal?.aborted) return err instanceof Error ? err : new Error(String(err))
    const code = err?.code
    const verb = request.method[0] + request.method.slice(1).toLowerCase()
    const url = `${this.#address.origin}${request.path}`
    const network = this.#address.socketPath === undefined ? 'tcp' : 'unix'
    const dialing = code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'EHOSTUNREACH' ||
      code === 'ENETUNREACH' || code === 'ETIMEDOUT'
    let reason: string
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') reason = `dial ${network}: lookup ${this.#address.host}: no such host`
    else if (dialing) reason = `dial ${network} ${this.#address.dialTarget}: ${goNetReason(code, err?.message ?? String(err))}`
    else if (code === 'ECONNRESET') reason = 'EOF'
    else reason = tlsReason(err) ?? err?.message ?? String(err)
    return new ApiConnectionError(`${verb} "${url}": ${reason}`, code, error)
  }
}

/** OpenSSL's wording of a TLS failure → one line in Go's (`remote error: tls: certificate required`). */
function tlsReason(err: NodeJS.ErrnoException | undefined): string | undefined {
  const message = err?.message ?? ''
  const alert = /alert ([a-z ]+?)(?::|$)/i.exec(message)
  if (alert) return `remote error: tls: ${alert[1].replace(/^tlsv1[0-9]* /, '').toLowerCase()}`
  if (err?.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || err?.code === 'SELF_SIGNED_CERT_IN_CHAIN' || err?.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || err?.code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY') {
    return `tls: failed to verify certificate: x509: certificate signed by unknown authority (${message})`
  }
  if (err?.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: x509: ${message}`
  if (err?.code === 'CERT_HAS_EXPIRED') return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid'
  return undefined
}
