// A prepared query definition (Consul's structs.PreparedQuery), kept in Consul's JSON shape so the
// HTTP layer renders it as stored. `parsePreparedQuery` decodes an untrusted body (field names
// matched case-insensitively, as Consul's decoder) and applies Consul's parseQuery rules
// (agent/consul/prepared_query_endpoint.go); `compileTemplate` is Consul's prepared_query.Compile
// (agent/consul/prepared_query/template.go), the check its state store runs before storing.
//
// Pure: no I/O, no clock. Errors are one line; `kind` says how HTTP answers: a body that does not
// decode, or a definition Consul rejects, are both 400 in coord.

import {parseDuration} from '../duration.js'

export interface QueryFailoverTarget {
  Peer: string
  Datacenter: string
}

export interface PreparedQueryDef {
  ID: string
  Name: string
  Session: string
  Token: string
  Template: {Type: string; Regexp: string; RemoveEmptyTags: boolean}
  Service: {
    Service: string
    Failover: {NearestN: number; Datacenters: string[]; Targets: QueryFailoverTarget[]}
    OnlyPassing: boolean
    IgnoreCheckIDs: string[]
    Near: string
    Tags: string[]
    NodeMeta: Record<string, string>
    ServiceMeta: Record<string, string>
    Connect: {Enabled: boolean}
  }
  DNS: {TTL: string}
}

export interface PreparedQuery extends PreparedQueryDef {
  CreateIndex: number
  ModifyIndex: number
}

export class PreparedQueryError extends Error {
  readonly code = 'PREPARED_QUERY'
  constructor(readonly kind: 'decode' | 'invalid', what: string) {
    super(what)
    this.name = 'PreparedQueryError'
  }
}

/** The one template type Consul knows. */
export const NAME_PREFIX_MATCH = 'name_prefix_match'

/** Consul's redactedToken: a definition pasted back from a redacted read. */
const REDACTED_TOKEN = '<hidden>'

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
const decodeError = (what: string) => new PreparedQueryError('decode', `Request decode failed: ${what}`)
const invalid = (what: string) => new PreparedQueryError('invalid', `Invalid prepared query: ${what}`)

function get(obj: Obj, name: string): unknown {
  if (name in obj) return obj[name]
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase().replace(/_/g, '') === wanted) return value
  return undefined
}

function str(obj: Obj, name: string, where: string): string {
  const v = get(obj, name)
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw decodeError(`${where}${name} must be a string`)
  return v
}

function bool(obj: Obj, name: string, where: string): boolean {
  const v = get(obj, name)
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw decodeError(`${where}${name} must be a boolean`)
  return v
}

function int(obj: Obj, name: string, where: string): number {
  const v = get(obj, name)
  if (v === undefined || v === null) return 0
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw decodeError(`${where}${name} must be an integer`)
  return v
}

function strList(obj: Obj, name: string, where: string): string[] {
  const v = get(obj, name)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw decodeError(`${where}${name} must be a list of strings`)
  return [...v as string[]]
}

function strMap(obj: Obj, name: string, where: string): Record<string, string> {
  const v = get(obj, name)
  if (v === undefined || v === null) return {}
  if (!isObj(v) || Object.values(v).some((t) => typeof t !== 'string')) throw decodeError(`${where}${name} must be a map of strings`)
  return {...v as Record<string, string>}
}

function sub(obj: Obj, name: string, where: string): Obj {
  const v = get(obj, name)
  if (v === undefined || v === null) return {}
  if (!isObj(v)) throw decodeError(`${where}${name} must be an object`)
  return v
}

/** Decode a /v1/query body into a complete definition (absent fields zero, as Go's decoder leaves them). */
export function decodePreparedQuery(body: unknown): PreparedQueryDef {
  if (!isObj(body)) throw decodeError('body must be a JSON object')
  const template = sub(body, 'Template', '')
  const service = sub(body, 'Service', '')
  const failover = sub(service, 'Failover', 'Service.')
  const rawTargets = get(failover, 'Targets')
  if (rawTargets !== undefined && rawTargets !== null && !Array.isArray(rawTargets)) throw decodeError('Service.Failover.Targets must be a list')
  const targets = ((rawTargets ?? []) as unknown[]).map((t, i) => {
    if (!isObj(t)) throw decodeError(`Service.Failover.Targets[${i}] must be an object`)
    return {Peer: str(t, 'Peer', `Service.Failover.Targets[${i}].`), Datacenter: str(t, 'Datacenter', `Service.Failover.Targets[${i}].`)}
  })
  const connect = sub(service, 'Connect', 'Service.')
  const dns = sub(body, 'DNS', '')
  return {
    ID: str(body, 'ID', ''),
    Name: str(body, 'Name', ''),
    Session: str(body, 'Session', ''),
    Token: str(body, 'Token', ''),
    Template: {Type: str(template, 'Type', 'Template.'), Regexp: str(template, 'Regexp', 'Template.'), RemoveEmptyTags: bool(template, 'RemoveEmptyTags', 'Template.')},
    Service: {
      Service: str(service, 'Service', 'Service.'),
      Failover: {NearestN: int(failover, 'NearestN', 'Service.Failover.'), Datacenters: strList(failover, 'Datacenters', 'Service.Failover.'), Targets: targets},
      OnlyPassing: bool(service, 'OnlyPassing', 'Service.'),
      IgnoreCheckIDs: strList(service, 'IgnoreCheckIDs', 'Service.'),
      Near: str(service, 'Near', 'Service.'),
      Tags: strList(service, 'Tags', 'Service.'),
      NodeMeta: strMap(service, 'NodeMeta', 'Service.'),
      ServiceMeta: strMap(service, 'ServiceMeta', 'Service.'),
      Connect: {Enabled: bool(connect, 'Enabled', 'Service.Connect.')},
    },
    DNS: {TTL: str(dns, 'TTL', 'DNS.')},
  }
}

/**
 * Consul's parseQuery (create and update), with the texts its RPC returns, plus coord's refusals
 * of what it cannot run: Connect (no service mesh) and peer failover targets (no cluster peering).
 * Templates are checked by `compileTemplate`.
 */
export function validatePreparedQuery(q: PreparedQueryDef): void {
  if (q.Name === '' && q.Template.Type === '' && q.Session === '') throw invalid('Must be bound to a session')
  if (q.Token === REDACTED_TOKEN) throw invalid(`Bad Token '${q.Token}', it looks like a query definition with a redacted token was submitted`)
  if (q.Service.Service === '') throw invalid('Must provide a Service name to query')
  const failover = q.Service.Failover
  if (failover.NearestN < 0) throw invalid(`Bad NearestN '${failover.NearestN}', must be >= 0`)
  if ((failover.NearestN !== 0 || failover.Datacenters.length > 0) && failover.Targets.length > 0) {
    throw invalid('Failover: Targets cannot be populated with NearestN or Datacenters')
  }
  for (const target of failover.Targets) {
    if (target.Peer !== '' && target.Datacenter !== '') throw invalid('Failover: Target cannot contain both a Peer and a Datacenter')
    if (target.Peer !== '') throw invalid(`Failover: Target Peer "${target.Peer}" cannot be used: coord has no cluster peering`)
  }
  for (const key of Object.keys(q.Service.NodeMeta)) {
    if (key === '') throw invalid("Couldn't load metadata pair: key cannot be blank")
  }
  if (q.Service.Connect.Enabled) throw invalid('Service.Connect cannot be used: coord has no service mesh')
  if (q.DNS.TTL !== '') {
    let ttl: number
    try {
      ttl = parseDuration(q.DNS.TTL)
    } catch (err) {
      throw invalid(`Bad DNS TTL '${q.DNS.TTL}': ${(err as Error).message}`)
    }
    if (ttl < 0) throw invalid(`DNS TTL '${Math.round(ttl * 1e6)}', must be >=0`)
  }
}

// --- templates (Consul's prepared_query/template.go) ---

export interface CompiledTemplate {
  prototype: PreparedQueryDef
  re: RegExp | undefined
}

/** Interpolations Consul's HIL accepts here: the three name variables and match(N). */
const INTERPOLATION = /\$\{([^}]*)\}/g

function checkInterpolations(value: string, path: string): void {
  for (const m of value.matchAll(INTERPOLATION)) {
    const expr = m[1].trim()
    if (/^name\.(full|prefix|suffix)$/.test(expr) || /^match\(\s*\d+\s*\)$/.test(expr)) continue
    throw new Error(`Bad format '${value}' in Service${path}: unknown interpolation "${expr}"`)
  }
  if (/\$\{(?![^}]*\})/.test(value)) throw new Error(`Bad format '${value}' in Service${path}: unterminated interpolation`)
}

/** Every string of the Service part with its path as Consul's walk names it (".Service", ".Tags[0]"). */
function serviceStrings(s: PreparedQueryDef['Service']): Array<[string, string]> {
  return [
    ['.Service', s.Service], ['.Near', s.Near],
    ...s.Failover.Datacenters.map((d, i): [string, string] => [`.Failover.Datacenters[${i}]`, d]),
    ...s.IgnoreCheckIDs.map((c, i): [string, string] => [`.IgnoreCheckIDs[${i}]`, c]),
    ...s.Tags.map((t, i): [string, string] => [`.Tags[${i}]`, t]),
    ...Object.entries(s.NodeMeta).map(([k, v]): [string, string] => [`.NodeMeta[${k}]`, v]),
    ...Object.entries(s.ServiceMeta).map(([k, v]): [string, string] => [`.ServiceMeta[${k}]`, v]),
  ]
}

/** Consul's Compile: the type, every interpolation, the regexp, then a test render with the name. Throws with Consul's text. */
export function compileTemplate(q: PreparedQueryDef): CompiledTemplate {
  if (q.Template.Type !== NAME_PREFIX_MATCH) throw new Error(`Bad Template.Type '${q.Template.Type}'`)
  for (const [path, value] of serviceStrings(q.Service)) checkInterpolations(value, path)
  let re: RegExp | undefined
  if (q.Template.Regexp !== '') {
    try {
      re = new RegExp(q.Template.Regexp)
    } catch (err) {
      throw new Error(`Bad Regexp: ${(err as Error).message}`)
    }
  }
  const compiled = {prototype: q, re}
  renderTemplate(compiled, q.Name)
  return compiled
}

/** Consul's Render: the query for `name`, every Service string interpolated (RemoveEmptyTags drops tags that render empty). */
export function renderTemplate(ct: CompiledTemplate, name: string): PreparedQueryDef {
  const matches = ct.re?.exec(name) ?? null
  const vars: Record<string, string> = {
    'name.full': name,
    'name.prefix': ct.prototype.Name,
    'name.suffix': name.startsWith(ct.prototype.Name) ? name.slice(ct.prototype.Name.length) : name,
  }
  const render = (value: string): string => value.replace(INTERPOLATION, (_all, raw: string) => {
    const expr = raw.trim()
    const call = /^match\(\s*(\d+)\s*\)$/.exec(expr)
    if (call !== null) return matches?.[Number(call[1])] ?? ''
    return vars[expr] ?? ''
  })
  const s = ct.prototype.Service
  const renderMap = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, render(v)]))
  let tags = s.Tags.map(render)
  if (ct.prototype.Template.RemoveEmptyTags) tags = tags.filter((t) => t !== '')
  return {
    ...ct.prototype,
    Service: {
      ...s,
      Service: render(s.Service),
      Near: render(s.Near),
      Failover: {...s.Failover, Datacenters: s.Failover.Datacenters.map(render)},
      IgnoreCheckIDs: s.IgnoreCheckIDs.map(render),
      Tags: tags,
      NodeMeta: renderMap(s.NodeMeta),
      ServiceMeta: renderMap(s.ServiceMeta),
    },
  }
}

/** The DNS TTL of a query in ms, or undefined when it sets none (the agent's service TTL applies). */
export function queryDnsTtlMs(q: Pick<PreparedQueryDef, 'DNS'>): number | undefined {
  if (q.DNS.TTL === '') return undefined
  try {
    return parseDuration(q.DNS.TTL)
  } catch {
    return undefined
  }
}
