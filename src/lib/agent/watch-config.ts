// The agent config's `watches` list (Consul's shape): each entry is a watch type with its
// parameters plus a handler, `handler_type` "script" (`args` list, or the older `handler` string
// run by a shell) or "http" (`http_handler_config`: path, method, header, timeout, tls_skip_verify).
// Parsed and validated with the config (every problem named), then run by agent/watches.ts.
import {parseDuration} from '../duration.js'
import {buildPlan, watchTypeProblem, type WatchParams} from '../watch/plan.js'
import type {HttpHandlerConfig} from '../watch/handlers.js'
import type {ProblemSink} from './config-problems.js'

export type WatchHandlerSpec =
  | {kind: 'script'; args: string[]; shell: boolean}
  | {kind: 'http'; config: HttpHandlerConfig}

export interface WatchDefinition {
  params: WatchParams
  handler: WatchHandlerSpec
  /** Canonical JSON of the entry: a reload restarts a watch only when this changes. */
  identity: string
}

const PARAM_KEYS = new Set(['type', 'datacenter', 'token', 'key', 'prefix', 'service', 'service_id', 'tag', 'passingonly', 'state', 'name', 'stale'])
const HANDLER_KEYS = new Set(['handler_type', 'args', 'handler', 'http_handler_config'])

/** Reads the list; each problem is kept under the entry's key (`watches[1].type`), the list's when it is not one. */
export function parseWatches(raw: unknown, sink: ProblemSink): WatchDefinition[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) {
    sink.add('watches', 'watches: expected a list of watch definitions')
    return []
  }
  const out: WatchDefinition[] = []
  raw.forEach((entry, i) => {
    const where = `watches[${i}]`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      sink.add(where, `${where}: expected an object`)
      return
    }
    const e = entry as Record<string, unknown>
    // An entry with any problem is left out; the count says whether this one had one.
    let found = 0
    const problems: ProblemSink = {add: (key, message) => (found++, sink.add(key, message))}
    for (const key of Object.keys(e)) if (!PARAM_KEYS.has(key) && !HANDLER_KEYS.has(key)) problems.add(`${where}.${key}`, `${where}: unknown key ${key}`)
    const str = (key: string): string | undefined => {
      const v = e[key]
      if (v === undefined) return undefined
      if (typeof v === 'string') return v
      problems.add(`${where}.${key}`, `${where}.${key}: expected a string`)
      return undefined
    }
    const type = str('type')
    const typeProblem = type ? watchTypeProblem(type) : 'Watch type must be specified'
    if (typeProblem) {
      problems.add(`${where}.type`, `${where}.type: ${typeProblem}`)
      return
    }
    const tagValue = e.tag
    const tag = tagValue === undefined ? undefined : typeof tagValue === 'string' ? [tagValue] : Array.isArray(tagValue) && tagValue.every((t) => typeof t === 'string') ? tagValue as string[] : (problems.add(`${where}.tag`, `${where}.tag: expected a string or a list of strings`), undefined)
    const boolOf = (key: string): boolean | undefined => {
      const v = e[key]
      if (v === undefined) return undefined
      if (typeof v === 'boolean') return v
      if (v === 'true' || v === 'false') return v === 'true'
      problems.add(`${where}.${key}`, `${where}.${key}: expected true or false`)
      return undefined
    }
    const params: WatchParams = {
      type: type as WatchParams['type'], datacenter: str('datacenter'), token: str('token'), key: str('key'), prefix: str('prefix'),
      service: str('service'), service_id: str('service_id'), tag, passingonly: boolOf('passingonly'), state: str('state'), name: str('name'), stale: boolOf('stale'),
    }
    try {
      buildPlan(params)
    } catch (error) {
      problems.add(where, `${where}: ${(error as Error).message}`)
    }
    const handler = parseHandler(e, where, problems)
    if (!handler || found > 0) return
    out.push({params, handler, identity: canonical(e)})
  })
  return out
}

function parseHandler(e: Record<string, unknown>, where: string, problems: ProblemSink): WatchHandlerSpec | undefined {
  const type = e.handler_type ?? (e.http_handler_config !== undefined ? 'http' : 'script')
  if (type === 'script') {
    if (Array.isArray(e.args) && e.args.length > 0 && e.args.every((a) => typeof a === 'string')) return {kind: 'script', args: e.args as string[], shell: false}
    if (typeof e.handler === 'string' && e.handler !== '') return {kind: 'script', args: [e.handler], shell: true}
    problems.add(where, `${where}: script handler needs "args" (a list of strings) or "handler"`)
    return undefined
  }
  if (type === 'http') {
    const c = e.http_handler_config
    if (c === null || typeof c !== 'object' || Array.isArray(c) || typeof (c as {path?: unknown}).path !== 'string') {
      problems.add(`${where}.http_handler_config`, `${where}.http_handler_config: needs a "path" (the URL to call)`)
      return undefined
    }
    const cfg = c as Record<string, unknown>
    let timeoutMs = 10_000
    if (cfg.timeout !== undefined) {
      try {
        timeoutMs = parseDuration(String(cfg.timeout))
      } catch {
        problems.add(`${where}.http_handler_config.timeout`, `${where}.http_handler_config.timeout: expected a duration such as "10s"`)
      }
    }
    return {kind: 'http', config: {
      path: cfg.path as string, method: typeof cfg.method === 'string' ? cfg.method : 'POST',
      header: (cfg.header ?? {}) as Record<string, string[]>, timeoutMs, tlsSkipVerify: cfg.tls_skip_verify === true,
    }}
  }
  problems.add(`${where}.handler_type`, `${where}.handler_type: must be "script" or "http", got ${JSON.stringify(type)}`)
  return undefined
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}
