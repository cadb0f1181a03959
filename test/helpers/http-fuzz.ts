// Seeded generative bad-input requests for every /v1 route, and the checks every answer must pass.
// The routes come from the server's own table (buildRoutes) and the query parameters from what the
// endpoint modules read, so a new route or parameter is fuzzed without editing this file.
import {readFileSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildRoutes} from '../../src/lib/http/server.js'
import type {AgentContext} from '../../src/lib/http/context.js'
import {parseDuration} from '../../src/lib/duration.js'
import {SeededRng} from '../../src/lib/rng.js'

export interface RouteInfo {
  path: string
  exact: boolean
  methods: string[]
}

export interface FuzzRequest {
  /** What the case exercises, for the report ("path:control", "body:wrong-type Port", ...). */
  kind: string
  route: RouteInfo
  method: string
  /** Raw request target (already percent-encoded as the fuzzer wants it on the wire). */
  url: string
  headers: Record<string, string>
  body?: Buffer
}

/**
 * An agent whose every property is another inert stand-in: enough for the route builders, which
 * only capture the agent in closures. No handler is ever called with it.
 */
function inertAgent(): AgentContext {
  const handler: ProxyHandler<() => void> = {get: (_target, prop) => (prop === Symbol.toPrimitive ? () => '' : inert), apply: () => inert}
  const inert: unknown = new Proxy(() => {}, handler)
  return inert as AgentContext
}

/** The server's route table: path, exact or prefix, and the methods it answers. */
export function routeTable(): RouteInfo[] {
  return buildRoutes(inertAgent()).map((route) => ({path: route.path, exact: route.exact === true, methods: Object.keys(route.methods)}))
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * Every query parameter name the HTTP layer reads, scanned from its compiled modules
 * (`params.get('x')`, `flag(params, 'x')`, `parseUint(params, 'x')`, ...). Shared options read
 * through a name list (ns, partition) are matched by their list literal.
 */
export function queryParamNames(): string[] {
  const dir = resolve(here, '../../src/lib/http')
  const names = new Set<string>()
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.js'))) {
    const text = readFileSync(join(dir, file), 'utf8')
    for (const m of text.matchAll(/params\s*\.\s*(?:get|getAll|has)\(\s*'([^']+)'/g)) names.add(m[1])
    for (const m of text.matchAll(/(?:flag|parseUint)\(\s*[\w.]+\s*,\s*'([^']+)'/g)) names.add(m[1])
    for (const m of text.matchAll(/for \(const name of \[([^\]]+)\]\)/g)) for (const q of m[1].matchAll(/'([^']+)'/g)) names.add(q[1])
    for (const m of text.matchAll(/conflicting\(ctx, \[([^\]]+)\]\)/g)) for (const q of m[1].matchAll(/'([^']+)'/g)) names.add(q[1])
  }
  return [...names].sort()
}

/** Path tails: valid-looking first, then the malformed kinds the brief names. */
const VALID_TAILS = ['fuzz-a', 'fuzz/b/c', 'web', '0b2e5a3c-6f1d-4c1e-9c1a-2b3c4d5e6f70', 'fuzz%20space']
const BAD_TAILS: Array<[string, string]> = [
  ['empty', ''],
  ['dotdot', '..'],
  ['dotdot-path', '../../v1/kv/keep'],
  ['dotdot-encoded', '%2e%2e%2f%2e%2e'],
  ['control', 'a%01b'],
  ['nul', '%00'],
  ['del', 'x%7f'],
  ['newline', 'a%0d%0ab'],
  ['long', 'L'.repeat(8000)],
  ['bad-percent', 'a%zz'],
  ['lone-percent', '%'],
  ['bad-utf8', '%e9%ff'],
  ['unicode', encodeURIComponent('ключ/☃/😀')],
  ['raw-unicode-encoded-slash', '%2F%2F'],
  ['question-encoded', 'a%3Fb%23c'],
]

const GARBAGE_VALUES = [
  '', 'abc', '-1', '0', '1', '18446744073709551615', '18446744073709551616', '99999999999999999999999999', '1.5', '1e3',
  'forever', '-5s', '10ms', '1h', '1000h', '9999999999h', 'true', 'false', 'null', '%zz', '%00', 'x%0Ay', encodeURIComponent('ünï☃'), 'V'.repeat(4000),
  '_agent', 'any', 'passing', 'Service.Tags contains "a"', '((((', encodeURIComponent(`${'('.repeat(2500)}Node == "a"${')'.repeat(2500)}`), 'a:b', ':', 'debug', 'text',
]

const WRONG_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'TRACE', 'FOO']

const CONTENT_TYPES = ['', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=latin1']

const EXTRA_HEADERS: Array<[string, string]> = [
  ['accept', 'text/plain'], ['accept', '*/*;q=garbage'], ['x-consul-token', 'V'.repeat(2000)], ['x-consul-token', 'ünï'],
  ['content-encoding', 'gzip'], ['authorization', 'Bearer'], ['cache-control', 'max-age=-1'],
]

/** Well-formed bodies per route, which the mutator then breaks field by field. */
const TEMPLATES: Record<string, unknown> = {
  '/v1/txn': [{KV: {Verb: 'set', Key: 'fuzz/txn', Value: 'aGk=', Flags: 1}}, {KV: {Verb: 'get', Key: 'fuzz/txn'}}],
  '/v1/session/create': {Name: 'fuzz', TTL: '30s', LockDelay: '1s', Behavior: 'release', Checks: [], ServiceChecks: [{ID: 'x'}]},
  '/v1/catalog/register': {Node: 'fuzz-node', Address: '127.0.0.9', NodeMeta: {a: 'b'}, Service: {Service: 'fuzz-svc', Port: 80, Tags: ['t'], Meta: {m: 'n'}, Weights: {Passing: 1, Warning: 1}}, Check: {Name: 'c', Status: 'passing'}, Checks: [{Name: 'd'}]},
  '/v1/catalog/deregister': {Node: 'fuzz-node', ServiceID: 'fuzz-svc', CheckID: 'c'},
  '/v1/agent/service/register': {Name: 'fuzz-local', ID: 'fuzz-local-1', Port: 81, Tags: ['a'], Meta: {k: 'v'}, Check: {TTL: '30s'}, Checks: [{TTL: '30s', Name: 'x'}], Weights: {Passing: 2, Warning: 1}},
  '/v1/agent/check/register': {Name: 'fuzz-check', CheckID: 'fuzz-check', TTL: '30s', Notes: 'n', Status: 'passing'},
  '/v1/agent/check/update/': {Status: 'passing', Output: 'ok'},
  '/v1/operator/keyring': {Key: 'AAAA'},
  '/v1/snapshot': {},
  '/v1/coordinate/update': {Node: 'fuzz-node', Segment: '', Coord: {Vec: [0.1, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0.01, Height: 1e-5}},
  '/v1/agent/service/maintenance/': {},
  '/v1/operator/raft/peer': {},
  '/v1/kv/': {},
  '/v1/event/fire/': {},
}

/** Raw JSON fragments that JSON.stringify cannot write: literals beyond every integer type. */
const HUGE_NUMBERS = ['18446744073709551616', '1e400', '-1e400', '123456789012345678901234567890', '-0', '1.7976931348623157e309']

/** Wrong-type values as JSON text (deep nesting is written directly: JSON.stringify would recurse). */
const WRONG_TYPE_VALUES: Array<[string, () => string]> = [
  ['string', () => '"not-the-right-type"'],
  ['number', () => '42'],
  ['negative', () => '-7'],
  ['float', () => '1.5'],
  ['bool', () => 'true'],
  ['null', () => 'null'],
  ['object', () => '{"nested":{"deeper":1}}'],
  ['array', () => '["a",1,null]'],
  ['empty-string', () => '""'],
  ['long-string', () => JSON.stringify('S'.repeat(20_000))],
  ['10k-array', () => JSON.stringify(Array.from({length: 10_000}, (_, i) => i))],
  ['10k-string-array', () => JSON.stringify(Array.from({length: 10_000}, (_, i) => `t${i}`))],
  ['10k-object-array', () => JSON.stringify(Array.from({length: 10_000}, (_, i) => ({Name: `n${i}`})))],
  ['deep', () => `${'[{"d":'.repeat(1000)}1${'}]'.repeat(1000)}`],
  ['control-string', () => JSON.stringify('a\u0000b\u0007c\n')],
  ['long-duration', () => '"1000h"'],
  ['overflowing-duration', () => '"9999999999h"'],
  ['deep-filter-string', () => JSON.stringify(`${'('.repeat(3000)}a == b${')'.repeat(3000)}`)],
  ...HUGE_NUMBERS.map((text): [string, () => string] => [text, () => text]),
]

/** Every path (list of keys) to a value inside `value`, the root included. */
function fieldPaths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out = [prefix]
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...fieldPaths(item, [...prefix, i])))
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) out.push(...fieldPaths(item, [...prefix, key]))
  return out
}

function replaceAt(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement
  const copy: unknown = structuredClone(value)
  let cursor = copy as Record<string | number, unknown>
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>
  cursor[path[path.length - 1]] = replacement
  return copy
}

const MARK = '\u0000FUZZ\u0000'

/** `template` with the value at `path` replaced by the JSON text `text`. */
function withFieldText(template: unknown, path: Array<string | number>, text: string): string {
  return JSON.stringify(replaceAt(template, path, MARK)).replace(JSON.stringify(MARK), () => text)
}

function templateFor(route: RouteInfo): unknown {
  return TEMPLATES[route.path] ?? {Name: 'fuzz', ID: 'fuzz', Value: 1}
}

/** A body for `route`: which kind, and the bytes. */
function fuzzBody(rng: SeededRng, route: RouteInfo, oversize: number): [string, Buffer | undefined] {
  const template = templateFor(route)
  const valid = JSON.stringify(template)
  switch (rng.int(0, 11)) {
    case 0: return ['none', undefined]
    case 1: return ['valid', Buffer.from(valid)]
    case 2: return ['truncated', Buffer.from(valid.slice(0, rng.int(0, Math.max(1, valid.length - 1))))]
    case 3: {
      const [name, make] = rng.pick(WRONG_TYPE_VALUES)
      return [`top-level ${name}`, Buffer.from(make())]
    }
    case 4: case 5: case 6: {
      const paths = fieldPaths(template).filter((p) => p.length > 0)
      const [name, make] = rng.pick(WRONG_TYPE_VALUES)
      if (paths.length === 0) return [`top-level ${name}`, Buffer.from(make())]
      const path = rng.pick(paths)
      return [`field ${path.join('.')} ${name}`, Buffer.from(withFieldText(template, path, make()))]
    }
    case 7: {
      // Not UTF-8: lone continuation bytes, an overlong encoding, a surrogate half, inside JSON quotes.
      const bad = Buffer.from([0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff, 0xfe])
      return ['non-utf8', Buffer.concat([Buffer.from('{"Name":"'), bad, Buffer.from('","Key":"'), bad, Buffer.from('"}')])]
    }
    case 8: {
      const bytes = Buffer.alloc(rng.int(1, 512))
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(0, 256)
      return ['random-bytes', bytes]
    }
    case 9: return ['deep-nesting', Buffer.from('['.repeat(100_000))]
    default: return rng.chance(0.3) ? ['oversize', Buffer.alloc(oversize, 0x7b)] : ['empty', Buffer.alloc(0)]
  }
}

function fuzzTail(rng: SeededRng, route: RouteInfo): [string, string] {
  if (route.path === '/v1/agent/join/') {
    // Joins resolve names: stay on literal addresses so no case waits on a DNS resolver.
    return rng.pick<[string, string]>([['ip', '127.0.0.1:1'], ['bad-port', '127.0.0.1:99999'], ['v6-open', '%5B%3A%3A1'], ['empty', ''], ['control', 'a%01b'], ['bad-percent', 'a%zz']])
  }
  if (rng.chance(0.35)) {
    const tail = rng.pick(VALID_TAILS)
    return ['valid', route.path.startsWith('/v1/kv') ? `fuzz/${tail}` : tail]
  }
  return rng.pick(BAD_TAILS)
}

/** Percent-encodes only what a request line cannot carry raw; the fuzz values keep their own escapes. */
function queryValue(value: string): string {
  return value.replace(/[ "#<>`{}|\\^\u0080-\uffff]/g, (c) => encodeURIComponent(c))
}

function validWait(text: string | null): boolean {
  if (text === null || text === '') return true
  try {
    return parseDuration(text) >= 0
  } catch {
    return false
  }
}

export interface GenerateOptions {
  seed: number
  count: number
  /** Bytes of an over-size body (beyond every route's own limit but the snapshot's). */
  oversize?: number
}

/**
 * `count` requests spread round-robin over the routes (so each route gets its share whatever the
 * seed), each route's methods in turn, each with a random path tail, query and body (and now and
 * then a wrong method). Requests that would be *valid* and
 * destructive are not sent (see `unsafe`); blocking reads get a short wait so none parks.
 */
export function generateRequests(routes: readonly RouteInfo[], params: readonly string[], opts: GenerateOptions): FuzzRequest[] {
  const rng = new SeededRng(opts.seed)
  const out: FuzzRequest[] = []
  for (let i = 0; out.length < opts.count && i < opts.count * 4; i++) {
    const route = routes[i % routes.length]
    const kinds: string[] = []
    // A route's methods in turn, so every one is sent whatever the seed and however many routes there are.
    let method = route.methods[Math.floor(i / routes.length) % route.methods.length]
    if (rng.chance(0.12)) {
      const wrong = WRONG_METHODS.filter((m) => !route.methods.includes(m))
      if (wrong.length > 0) {
        method = rng.pick(wrong)
        kinds.push('method')
      }
    }
    let path = route.path
    if (!route.exact) {
      const [kind, tail] = fuzzTail(rng, route)
      path += tail
      kinds.push(`path:${kind}`)
    } else if (rng.chance(0.08)) {
      const [kind, tail] = rng.pick(BAD_TAILS)
      path += `/${tail}`
      kinds.push(`path:exact+${kind}`)
    }
    const query: Array<[string, string]> = []
    for (let n = rng.int(0, 5); n > 0; n--) {
      const name = rng.pick(params)
      query.push([name, rng.pick(GARBAGE_VALUES)])
      if (rng.chance(0.2)) query.push([name, rng.pick(GARBAGE_VALUES)])
    }
    // An id-less transfer is valid and would move leadership mid-campaign: always name a bogus one.
    if (route.path === '/v1/operator/raft/transfer-leader' && !query.some(([n, v]) => n === 'id' && v !== '')) query.unshift(['id', rng.pick(['fuzz-no-such-server', '%00', '..', '18446744073709551616'])])
    if (query.length > 0) kinds.push(`query:${query.map(([n]) => n).join(',')}`)
    const search = new URLSearchParams(query.map(([n, v]) => [n, decodeSafe(v)]))
    // A blocking read with a valid index and wait would park for minutes: give it 5 ms instead,
    // unless the wait under test is itself malformed (which must answer 400 at once).
    if (/^\d+$/.test(search.get('index') ?? '') && validWait(search.get('wait'))) query.unshift(['wait', '5ms'])
    let body: Buffer | undefined
    const headers: Record<string, string> = {}
    if (method === 'PUT' || method === 'POST' || rng.chance(0.1)) {
      const [kind, bytes] = fuzzBody(rng, route, opts.oversize ?? 1_200_000)
      body = bytes
      kinds.push(`body:${kind}`)
      const type = rng.pick(CONTENT_TYPES)
      if (type) headers['content-type'] = type
    }
    // Headers handlers read: the text form of agent health, a token, a content encoding nobody sent.
    if (rng.chance(0.15)) {
      const [name, value] = rng.pick(EXTRA_HEADERS)
      headers[name] = value
      kinds.push(`header:${name}`)
    }
    const url = query.length === 0 ? path : `${path}?${query.map(([n, v]) => `${n}=${queryValue(v)}`).join('&')}`
    const request: FuzzRequest = {kind: kinds.join(' '), route, method, url, headers, body}
    if (!unsafe(request)) out.push(request)
  }
  return out
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * Requests a fuzzer must not send because they are *valid* and would do what they say: stop the
 * agent, move leadership away, delete every key (the data-safety check reads keys under keep/).
 */
export function unsafe(request: FuzzRequest): boolean {
  const {method, url, route} = request
  const path = url.split('?')[0]
  const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
  if (route.path === '/v1/agent/leave' && method === 'PUT' && path === route.path) return true
  if (route.path === '/v1/operator/raft/transfer-leader' && method === 'POST' && !params.get('id')) return true
  if (/^\/v1\/kv(\/|$)/.test(path) && method === 'DELETE' && params.has('recurse')) {
    // The server takes the key as sent (no dot-segment folding): what follows /v1/kv/ is the prefix.
    const key = decodeSafe(path.replace(/^\/v1\/kv\/?/, ''))
    if ('keep/'.startsWith(key) || key.startsWith('keep')) return true
  }
  return false
}

export interface FuzzAnswer {
  status: number
  contentType: string
  body: string
  /** The request did not get an answer within the client's time limit, or the connection broke. */
  error?: string
}

/**
 * The bound on an error body: a reason, never a dump. Consul quotes what the client sent (a key, a
 * query value, a field), and so does coord, up to twice (`Session TTL '<v>' invalid: time: invalid
 * duration "<v>"`), so the bound is this much beyond twice the request's own size.
 */
export const MAX_REASON_BYTES = 512

/**
 * The 5xx answers Consul itself gives, so coord gives them too; anything else ≥ 500 is a finding.
 * Each: which route (prefix, or any), the text, and why Consul answers 500 there.
 */
export const ALLOWED_5XX: ReadonlyArray<{route?: string; status?: number; text: RegExp; why: string; multiLine?: true}> = [
  {text: /^No path to datacenter$/, why: 'Consul: ?dc= names a datacenter this agent cannot reach (structs.ErrNoDCPath)'},
  {text: /^No cluster leader$/, why: 'Consul: no leader yet/now (structs.ErrNoLeader)'},
  {route: '/v1/agent/members', text: /^(Network segments are not supported in this version of Consul|segment ".*" not found)$/, why: 'Consul CE: unknown network segment is an RPC error (500)'},
  {route: '/v1/agent/join/', text: /./, why: 'Consul: AgentJoin returns the join error as 500'},
  {route: '/v1/agent/force-leave/', text: /./, why: 'Consul: ForceLeave of an unknown node is an error from serf (500)'},
  {route: '/v1/operator/keyring', text: /^\d+ errors? occurred:\n(\t\* .*\n)+\n$/, multiLine: true, why: 'Consul: keyring failures are a go-multierror answered 500, its text multi-line byte for byte (errors.ts VERBATIM_CODES)'},
  {route: '/v1/operator/keyring', text: /^keyring operations need gossip/, why: 'coord: an agent without gossip has no keyring (Consul always has serf)'},
  {route: '/v1/catalog/register', text: /./, why: 'Consul: Catalog.Register RPC rule violations (e.g. "Must provide node") are 500'},
  {route: '/v1/catalog/deregister', text: /./, why: 'Consul: Catalog.Deregister RPC rule violations are 500'},
  {route: '/v1/agent/health/service/', status: 503, text: /^(critical|maintenance)$|^\{|^\[/, why: 'Consul: local service health answers 503 when critical or in maintenance'},
  {route: '/v1/agent/reload', text: /./, why: 'Consul: a failed reload is 500 with the reason'},
  {route: '/v1/agent/check/', text: /does not have associated TTL$/, why: 'Consul: updating a non-TTL check is an error from the agent (500)'},
]

/** The ALLOWED_5XX entry that covers this answer (undefined below 500, or when none does). */
export function allowed5xx(request: FuzzRequest, answer: FuzzAnswer): (typeof ALLOWED_5XX)[number] | undefined {
  if (answer.status < 500) return undefined
  return ALLOWED_5XX.find((a) => (a.route === undefined || request.route.path.startsWith(a.route)) && (a.status === undefined || a.status === answer.status) && a.text.test(answer.body))
}

/** Routes whose 200 answer is an endless stream. */
const STREAMS = new Set(['/v1/agent/monitor', '/v1/agent/metrics/stream'])

/** What is wrong with one answer, or undefined when it passes every rule. */
export function judge(request: FuzzRequest, answer: FuzzAnswer): string | undefined {
  if (answer.error) {
    // The monitor and the metrics stream run until the client goes; a 200 stream cut by us is their normal end.
    if (STREAMS.has(request.route.path) && answer.status === 200) return undefined
    return `no answer: ${answer.error}`
  }
  const {status, body} = answer
  const allowed = allowed5xx(request, answer)
  if (status >= 500 && !allowed) return `${status} not an allowed 5xx: ${body.slice(0, 200)}`
  // Consul's MethodNotAllowedError text (agent/http.go), for every route and method.
  if (status === 405 && request.method !== 'HEAD' && body !== `method ${request.method} not allowed`) return `405 with ${JSON.stringify(body.slice(0, 100))}, not Consul's "method ${request.method} not allowed"`
  if (status >= 400 && request.method !== 'HEAD' && !allowed?.multiLine) {
    if (/json/.test(answer.contentType)) {
      try {
        JSON.parse(body)
      } catch {
        return `${status} JSON body does not parse: ${body.slice(0, 200)}`
      }
    } else {
      if (body.includes('\n') || body.includes('\r')) return `${status} multi-line body: ${JSON.stringify(body.slice(0, 300))}`
      const bound = MAX_REASON_BYTES + 2 * (request.url.length + (request.body?.length ?? 0))
      if (Buffer.byteLength(body) > bound) return `${status} body of ${Buffer.byteLength(body)} bytes: ${body.slice(0, 120)}...`
    }
  }
  return undefined
}

/**
 * Lines in an agent's output that mean something escaped the error mapping: a crash trace, or
 * server.ts's "request failed" (an error that is no HttpError: a 500 nobody meant, whatever the
 * route's allowed 500s say).
 */
export function crashLines(output: string): string[] {
  return output.split('\n').filter((line) => /uncaught|unhandled|UnhandledPromiseRejection|^\s+at .+:\d+:\d+\)?$|FATAL ERROR|RangeError|TypeError|request failed|TimeoutOverflowWarning/i.test(line))
}

export interface CampaignResult {
  sent: number
  /** Requests the HTTP client itself refused to put on the wire (not the agent's doing). */
  refusedByClient: number
  byStatus: Map<number, number>
  /** 5xx answers by the ALLOWED_5XX reason that covers them. */
  allowed5xx: Map<string, number>
  findings: Array<{request: FuzzRequest; problem: string}>
}

/**
 * Sends `requests` to `httpAddr`, `concurrency` at a time, in batches of `batch`; after each batch
 * `between()` runs (the liveness checks). Every answer is judged; bounded by `timeoutMs` a request.
 */
export async function runCampaign(httpAddr: string, requests: readonly FuzzRequest[], opts: {concurrency?: number; batch?: number; timeoutMs?: number; between?: (done: number) => Promise<void>} = {}): Promise<CampaignResult> {
  const {Pool, errors} = await import('undici')
  const pool = new Pool(`http://${httpAddr}`, {connections: opts.concurrency ?? 8, pipelining: 1})
  const result: CampaignResult = {sent: 0, refusedByClient: 0, byStatus: new Map(), allowed5xx: new Map(), findings: []}
  const timeoutMs = opts.timeoutMs ?? 10_000
  const one = async (request: FuzzRequest): Promise<void> => {
    let answer: FuzzAnswer
    try {
      const res = await pool.request({
        path: request.url, method: request.method as 'GET', headers: request.headers,
        body: request.method === 'HEAD' ? undefined : request.body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      })
      const contentType = String(res.headers['content-type'] ?? '')
      let body = ''
      if (STREAMS.has(request.route.path) && res.statusCode === 200) res.body.destroy()
      else body = await res.body.text()
      answer = {status: res.statusCode, contentType, body}
    } catch (error) {
      if (error instanceof errors.InvalidArgumentError) {
        result.refusedByClient += 1
        return
      }
      answer = {status: 0, contentType: '', body: '', error: (error as Error).message}
    }
    result.sent += 1
    result.byStatus.set(answer.status, (result.byStatus.get(answer.status) ?? 0) + 1)
    const covered = allowed5xx(request, answer)
    if (covered) result.allowed5xx.set(covered.why, (result.allowed5xx.get(covered.why) ?? 0) + 1)
    const problem = judge(request, answer)
    if (problem) result.findings.push({request, problem})
  }
  try {
    const batch = opts.batch ?? 100
    const concurrency = opts.concurrency ?? 8
    for (let start = 0; start < requests.length; start += batch) {
      const slice = requests.slice(start, start + batch)
      let next = 0
      await Promise.all(Array.from({length: concurrency}, async () => {
        while (next < slice.length) await one(slice[next++])
      }))
      await opts.between?.(start + slice.length)
    }
  } finally {
    await pool.close()
  }
  return result
}

/** One line per finding, grouped by problem, for the test log. */
export function describeFindings(findings: CampaignResult['findings']): string[] {
  return findings.map(({request, problem}) => `${request.method} ${request.url.slice(0, 160)} [${request.kind.slice(0, 120)}] → ${problem}`)
}

/** Requests a well-behaved HTTP client cannot send: broken framing, bad bytes, cut-off bodies. */
export const RAW_REQUESTS: ReadonlyArray<{name: string; bytes: string; halfClose?: true}> = [
  {name: 'chunked with a bad chunk size', bytes: 'PUT /v1/kv/fuzz/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'},
  {name: 'content-length beyond the body, then close', bytes: 'PUT /v1/kv/fuzz/raw HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort', halfClose: true},
  {name: 'two different content-lengths', bytes: 'PUT /v1/kv/fuzz/raw HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'},
  {name: 'content-length and chunked', bytes: 'PUT /v1/txn HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'},
  {name: 'absolute-form target', bytes: 'GET http://x/v1/kv/fuzz/raw HTTP/1.1\r\nHost: x\r\n\r\n'},
  {name: 'asterisk target', bytes: 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'},
  {name: 'raw control byte in the path', bytes: 'GET /v1/kv/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n'},
  {name: 'raw UTF-8 in the path', bytes: 'GET /v1/kv/ключ HTTP/1.1\r\nHost: x\r\n\r\n'},
  {name: 'header without a colon', bytes: 'GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n'},
  {name: 'HTTP/0.9 style request', bytes: 'GET /v1/status/leader\r\n\r\n'},
  {name: 'unknown HTTP version', bytes: 'GET /v1/status/leader HTTP/9.9\r\nHost: x\r\n\r\n'},
  {name: 'body cut off on a forwarded write', bytes: 'PUT /v1/session/create HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"Name":', halfClose: true},
  {name: 'headers over the size limit', bytes: `GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`},
  {name: 'query with a raw space and bad escapes', bytes: 'GET /v1/kv/fuzz?recurse&index=%&wait=%zz HTTP/1.1\r\nHost: x\r\n\r\n'},
]

/**
 * Sends raw bytes (then half-closes, when asked: a body cut off) and returns the status of the first
 * response line, 0 when the agent closed without one (or none came within `timeoutMs`).
 */
export async function sendRaw(httpAddr: string, raw: {bytes: string; halfClose?: true}, timeoutMs = 3000): Promise<{status: number; text: string}> {
  const {connect} = await import('node:net')
  const at = httpAddr.lastIndexOf(':')
  return new Promise((resolve) => {
    const socket = connect({host: httpAddr.slice(0, at), port: Number(httpAddr.slice(at + 1))})
    let text = ''
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      resolve({status: match ? Number(match[1]) : 0, text})
    }
    const timer = setTimeout(done, timeoutMs)
    socket.on('connect', () => {
      const bytes = Buffer.from(raw.bytes, 'utf8')
      if (raw.halfClose) socket.end(bytes)
      else socket.write(bytes)
    })
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (text.includes('\r\n\r\n')) done()
    })
    socket.on('close', done)
    socket.on('error', done)
  })
}
