// ApiClient: the configured connection to one agent, plus the request/metadata plumbing every
// endpoint module (kv.ts, session.ts, ...) shares. Mirrors Consul's Go api.Config/QueryOptions.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {formatDuration} from '../duration.js'
import {parseAddress, type AgentAddress} from './address.js'
import {ApiConfigError, ApiDecodeError, ApiResponseError} from './errors.js'
import {parseJsonPreservingFlags} from './json.js'
import {Transport, type WireResponse} from './transport.js'

export interface ClientConfig {
  /** `host:port`, `http(s)://host:port` or `unix:///path`; default 127.0.0.1:8500. */
  address?: string
  /** Use https when the address has no scheme (CONSUL_HTTP_SSL). */
  useTls?: boolean
  token?: string
  /** A file whose trimmed content is the token; wins over `token`. */
  tokenFile?: string
  /** `user:pass` or `user` (CONSUL_HTTP_AUTH). */
  httpAuth?: string
  caFile?: string
  caPath?: string
  clientCert?: string
  clientKey?: string
  tlsServerName?: string
  /** false: skip certificate verification (CONSUL_HTTP_SSL_VERIFY=false). */
  tlsVerify?: boolean
  /** Default datacenter for every request (`?dc=`). */
  datacenter?: string
}

export interface QueryOptions {
  datacenter?: string
  stale?: boolean
  consistent?: boolean
  /** Blocking query: wait for an index other than this (a bigint carries a uint64 exactly). */
  waitIndex?: number | bigint
  /** Blocking query: maximum wait in milliseconds. */
  waitMs?: number
  filter?: string
  token?: string
  signal?: AbortSignal
}

export interface QueryMeta {
  /** X-Consul-Index as a number: exact for Raft indexes, rounded above 2^53 (the event list's hash index). */
  lastIndex: number
  /** X-Consul-Index exactly (a uint64). Set by the client; hand-built metas may leave it out (see exactIndex). */
  lastIndexExact?: bigint
  knownLeader: boolean
  lastContactMs: number
}

/** A string[] value repeats the parameter (`?tag=a&tag=b`). */
export type QueryParams = Record<string, string | number | bigint | boolean | string[] | undefined>

export interface CallOptions extends QueryOptions {
  params?: QueryParams
  body?: Uint8Array | string
  /** Statuses answered without throwing (404 on a KV read, 409 on a txn). */
  accept?: number[]
}

export class ApiClient {
  readonly address: AgentAddress
  readonly config: Readonly<ClientConfig>
  readonly #transport: Transport
  readonly #token?: string
  readonly #auth?: string

  constructor(config: ClientConfig = {}) {
    this.config = Object.freeze({...config})
    this.address = parseAddress(config.address ?? '', config.useTls === true)
    this.#token = config.tokenFile ? readTokenFile(config.tokenFile) : (config.token || undefined)
    this.#auth = config.httpAuth ? Buffer.from(config.httpAuth.includes(':') ? config.httpAuth : `${config.httpAuth}:`).toString('base64') : undefined
    this.#transport = new Transport(this.address, {
      ca: readCa(config.caFile, config.caPath),
      cert: config.clientCert ? readTlsFile(config.clientCert, 'client cert') : undefined,
      key: config.clientKey ? readTlsFile(config.clientKey, 'client key') : undefined,
      serverName: config.tlsServerName || undefined,
      verify: config.tlsVerify,
    })
  }

  /** The request's path with Consul's query parameters, and its headers (token, basic auth). */
  #target(path: string, options: CallOptions): {path: string; headers: Record<string, string>} {
    const query = new URLSearchParams()
    const dc = options.datacenter ?? this.config.datacenter
    if (dc) query.set('dc', dc)
    if (options.stale) query.set('stale', '')
    if (options.consistent) query.set('consistent', '')
    if (options.waitIndex !== undefined && options.waitIndex > 0) query.set('index', String(options.waitIndex))
    if (options.waitMs !== undefined && options.waitMs > 0) query.set('wait', formatDuration(Math.round(options.waitMs)))
    if (options.filter) query.set('filter', options.filter)
    for (const [name, value] of Object.entries(options.params ?? {})) {
      if (value === undefined || value === false) continue
      if (Array.isArray(value)) for (const item of value) query.append(name, item)
      else query.set(name, value === true ? '' : String(value))
    }
    const headers: Record<string, string> = {}
    const token = options.token ?? this.#token
    if (token) headers['x-consul-token'] = token
    if (this.#auth) headers.authorization = `Basic ${this.#auth}`
    const qs = query.toString()
    return {path: `${encodePath(path)}${qs ? `?${qs}` : ''}`, headers}
  }

  /** Sends one request; throws ApiConnectionError or, for an unaccepted status, ApiResponseError. */
  async call(method: 'GET' | 'PUT' | 'DELETE' | 'POST', path: string, options: CallOptions = {}): Promise<WireResponse & {meta: QueryMeta}> {
    const response = await this.#transport.send({method, ...this.#target(path, options), body: options.body, signal: options.signal})
    if (response.status !== 200 && !(options.accept ?? []).includes(response.status)) {
      throw new ApiResponseError(response.status, response.body.toString('utf8'))
    }
    return {...response, meta: readMeta(response.headers)}
  }

  /** GET returning decoded JSON (Flags kept exact) and the query metadata. */
  async getJson(path: string, options: CallOptions = {}): Promise<{status: number; value: unknown; meta: QueryMeta}> {
    const response = await this.call('GET', path, options)
    return {status: response.status, value: decodeJson(response), meta: response.meta}
  }

  /**
   * GET whose body is read as a stream (the log monitor, a snapshot being saved), with the query
   * metadata of its headers; a non-200 answer throws ApiResponseError.
   */
  async open(path: string, options: CallOptions = {}): Promise<{body: NodeJS.ReadableStream; meta: QueryMeta}> {
    const response = await this.#transport.open({method: 'GET', ...this.#target(path, options), signal: options.signal})
    if (response.status !== 200) {
      const chunks: Buffer[] = []
      for await (const chunk of response.body) chunks.push(chunk as Buffer)
      throw new ApiResponseError(response.status, Buffer.concat(chunks).toString('utf8'))
    }
    return {body: response.body, meta: readMeta(response.headers)}
  }

  /** open()'s body alone. */
  async stream(path: string, options: CallOptions = {}): Promise<NodeJS.ReadableStream> {
    return (await this.open(path, options)).body
  }

  async close(): Promise<void> {
    await this.#transport.close()
  }
}

export function decodeJson(response: WireResponse): unknown {
  const text = response.body.toString('utf8')
  if (text.trim() === '') return null
  try {
    return parseJsonPreservingFlags(text)
  } catch (error) {
    throw new ApiDecodeError(`Failed to decode response: ${(error as Error).message}`, error)
  }
}

/** X-Consul-Index (exact, and as a number), X-Consul-KnownLeader, X-Consul-LastContact. */
export function readMeta(headers: Record<string, string>): QueryMeta {
  const text = headers['x-consul-index'] ?? ''
  const exact = /^\d{1,20}$/.test(text) ? BigInt(text) : 0n
  return {
    lastIndex: Number(exact),
    lastIndexExact: exact,
    knownLeader: headers['x-consul-knownleader'] === 'true',
    lastContactMs: Number(headers['x-consul-lastcontact'] ?? '0') || 0,
  }
}

/** A result's index exactly: the client's lastIndexExact, else the number (which is then exact). */
export function exactIndex(meta: QueryMeta): bigint {
  if (meta.lastIndexExact !== undefined) return meta.lastIndexExact
  return Number.isSafeInteger(meta.lastIndex) && meta.lastIndex > 0 ? BigInt(meta.lastIndex) : 0n
}

/** Percent-encodes each path segment the way Go's url.URL does, keeping `/`. */
function encodePath(path: string): string {
  return path.split('/').map((segment) => encodeURIComponent(segment).replace(/%40/g, '@').replace(/%3A/gi, ':')).join('/')
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new ApiConfigError(`Error loading token file: ${(error as Error).message}`, error)
  }
}

function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    throw new ApiConfigError(`Error loading ${what}: ${(error as Error).message}`, error)
  }
}

function readCa(caFile?: string, caPath?: string): Buffer[] | undefined {
  const cas: Buffer[] = []
  if (caFile) cas.push(readTlsFile(caFile, 'CA File'))
  if (caPath) {
    let names: string[]
    try {
      names = readdirSync(caPath).sort()
    } catch (error) {
      throw new ApiConfigError(`Error loading CA Path: ${(error as Error).message}`, error)
    }
    for (const name of names) if (/\.(pem|crt|cer)$/i.test(name)) cas.push(readTlsFile(join(caPath, name), 'CA Path'))
  }
  return cas.length > 0 ? cas : undefined
}
