// How each system under test is asked to PUT and GET one key. Requests are prebuilt per key so
// the generator spends the same (near zero) time encoding for every system, and every response
// body is read in full, since a client that skips it would not see the value.
import {Pool} from 'undici'

/**
 * One operation as raw HTTP, for a generator outside this process (bench/wrk.ts): the request of
 * each key, and what a good answer is (always status 200; `equals`: the trimmed body is this;
 * `contains`: the body holds this).
 */
export interface WireOp {
  method: string
  /** Request path of key k at index k. */
  paths: string[]
  /** Request body of key k at index k, when the op has one. */
  bodies?: string[]
  headers: Record<string, string>
  equals?: string
  contains?: string
}

export interface Target {
  readonly name: string
  /** host:port and the requests as raw HTTP; absent for HTTPS (wrk presents no client certificate). */
  readonly wire?: {address: string; put: WireOp; get: WireOp}
  /** `signal` aborts the request (and closes its connection), for probes that must not hang. */
  put(key: number, signal?: AbortSignal): Promise<void>
  get(key: number): Promise<void>
  /** Waits for requests in flight, then closes the connections. */
  close(): Promise<void>
  /** Closes the connections now, failing whatever is in flight (a probe that must not linger). */
  destroy(): Promise<void>
}

export interface Workload {
  keys: number
  valueBytes: number
}

/** Deterministic printable value, so runs are comparable and nothing compresses it away. */
export function makeValue(bytes: number): Buffer {
  return Buffer.from(Array.from({length: bytes}, (_, i) => 33 + ((i * 31) % 94)))
}

const keyName = (k: number): string => `bench/${k}`

async function expectOk(res: {statusCode: number; body: {text(): Promise<string>}}, what: string): Promise<string> {
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${what}: HTTP ${res.statusCode} ${text.slice(0, 200)}`)
  return text
}

/** PEM text for an HTTPS target: the CA to trust and the client certificate to present. */
export interface TargetTls {
  ca: string
  cert: string
  key: string
}

/** A keep-alive pool with one connection per in-flight worker, and no pipelining. */
function pool(origin: string, connections: number, tls?: TargetTls): Pool {
  return new Pool(origin, {connections, pipelining: 1, keepAliveTimeout: 30_000, ...(tls ? {connect: {ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost'}} : {})})
}

/**
 * coord (or Consul): `PUT/GET /v1/kv/<key>`. GETs use the default consistency mode unless
 * `getQuery` names another (`?consistent`: a ReadIndex round per read; `?stale`: local).
 * `token`: sent as X-Consul-Token on every request (ACLs on).
 */
export function coordTarget(name: string, httpAddr: string, connections: number, w: Workload, getQuery = '', tls?: TargetTls, token?: string): Target {
  const pooled = pool(`${tls ? 'https' : 'http'}://${httpAddr}`, connections, tls)
  const headers = token ? {'x-consul-token': token} : undefined
  const http = {
    request: (opts: {method: 'PUT' | 'GET'; path: string; body?: Buffer; signal?: AbortSignal}) => pooled.request({...opts, headers}),
    close: () => pooled.close(),
    destroy: () => pooled.destroy(),
  }
  const value = makeValue(w.valueBytes)
  const paths = Array.from({length: w.keys}, (_, k) => `/v1/kv/${keyName(k)}`)
  const getPaths = paths.map((path) => path + getQuery)
  const tokenHeader: Record<string, string> = token ? {'X-Consul-Token': token} : {}
  const text = value.toString('latin1')
  return {
    name,
    ...(tls ? {} : {wire: {
      address: httpAddr,
      put: {method: 'PUT', paths, bodies: paths.map(() => text), headers: tokenHeader, equals: 'true'},
      get: {method: 'GET', paths: getPaths, headers: tokenHeader},
    }}),
    async put(k, signal) {
      const text = await expectOk(await http.request({method: 'PUT', path: paths[k], body: value, signal}), 'coord PUT')
      if (text.trim() !== 'true') throw new Error(`coord PUT answered ${text.slice(0, 100)}`)
    },
    async get(k) {
      await expectOk(await http.request({method: 'GET', path: getPaths[k]}), 'coord GET')
    },
    close: () => http.close(),
    destroy: () => http.destroy(),
  }
}

/**
 * etcd v3 through its JSON gateway (grpc-gateway, `/v3/kv/*`; v3.4 also answers `/v3beta`).
 * Keys and values travel base64-encoded. A range request is linearizable unless it sets
 * `serializable`, which we do not: each GET is a leader read confirmed by a ReadIndex round.
 */
export function etcdTarget(clientUrl: string, connections: number, w: Workload): Target {
  const http = pool(clientUrl, connections)
  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')
  const value = b64(makeValue(w.valueBytes))
  const putBodies = Array.from({length: w.keys}, (_, k) => JSON.stringify({key: b64(keyName(k)), value}))
  const rangeBodies = Array.from({length: w.keys}, (_, k) => JSON.stringify({key: b64(keyName(k))}))
  const headers = {'content-type': 'application/json'}
  return {
    name: 'etcd',
    wire: {
      address: new URL(clientUrl).host,
      put: {method: 'POST', paths: putBodies.map(() => '/v3/kv/put'), bodies: putBodies, headers: {'Content-Type': 'application/json'}},
      get: {method: 'POST', paths: rangeBodies.map(() => '/v3/kv/range'), bodies: rangeBodies, headers: {'Content-Type': 'application/json'}, contains: '"kvs"'},
    },
    async put(k, signal) {
      await expectOk(await http.request({method: 'POST', path: '/v3/kv/put', headers, body: putBodies[k], signal}), 'etcd put')
    },
    async get(k) {
      const text = await expectOk(await http.request({method: 'POST', path: '/v3/kv/range', headers, body: rangeBodies[k]}), 'etcd range')
      // An absent key is a 200 with no "kvs"; only the cheap substring test, not a JSON parse.
      if (!text.includes('"kvs"')) throw new Error(`etcd range found no key: ${text.slice(0, 200)}`)
    },
    close: () => http.close(),
    destroy: () => http.destroy(),
  }
}
