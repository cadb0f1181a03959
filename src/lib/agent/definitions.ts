// Service and check definitions as Consul reads them, from config files (`service`, `services`,
// `check`, `checks`, snake_case) and from /v1/agent/service|check/register bodies (PascalCase).
// Field names match case-insensitively with or without underscores, as Consul's decoder does
// (`deregister_critical_service_after` = `DeregisterCriticalServiceAfter`). Every problem is one
// line naming the field: the HTTP layer answers it as a 400, the config loader as a config error.
import {parseDuration} from '../duration.js'

/** Go's time.Duration is an int64 of nanoseconds: this and beyond does not fit. */
const DURATION_NS_LIMIT = 2 ** 63

export type CheckStatus = 'passing' | 'warning' | 'critical'

/** Every field a check definition may carry, as read (PascalCase, defaults filled): what checkDefinitionOf takes. */
export interface CheckFields {
  CheckID: string
  Name: string
  Notes: string
  ServiceID: string
  Interval: string
  Timeout: string
  TTL: string
  HTTP: string
  Method: string
  Header: Record<string, string[]>
  Body: string
  TLSSkipVerify: boolean
  TLSServerName: string
  TCP: string
  Args: string[]
  GRPC: string
  GRPCUseTLS: boolean
  /** HTTP/2 PING target "host:port" (Consul's H2PING); over TLS unless H2PingUseTLS is false. */
  H2PING: string
  H2PingUseTLS: boolean
  /** UDP target "host:port" (Consul's CheckUDP). */
  UDP: string
  AliasNode: string
  AliasService: string
  SuccessBeforePassing: number
  FailuresBeforeCritical: number
  FailuresBeforeWarning: number
  DeregisterCriticalServiceAfter: string
  OutputMaxSize: number
  /** Initial status (default critical, as Consul). */
  Status: CheckStatus
}

/** What every check has, whatever it runs. Durations keep the text given (the API renders it back) beside their milliseconds. */
interface CheckCommon {
  CheckID: string
  Name: string
  Notes: string
  ServiceID: string
  Status: CheckStatus
  Interval: string
  /** 0 when no Interval was given. */
  intervalMs: number
  Timeout: string
  /** 0 when no Timeout was given (the runner's default applies). */
  timeoutMs: number
  SuccessBeforePassing: number
  FailuresBeforeCritical: number
  FailuresBeforeWarning: number
  DeregisterCriticalServiceAfter: string
  /** 0: never. */
  deregisterCriticalServiceAfterMs: number
  OutputMaxSize: number
}

interface TlsClientFields {
  TLSSkipVerify: boolean
  TLSServerName: string
}

export interface TtlCheck extends CheckCommon { kind: 'ttl'; TTL: string; ttlMs: number }
export interface HttpCheck extends CheckCommon, TlsClientFields { kind: 'http'; HTTP: string; Method: string; Header: Record<string, string[]>; Body: string }
export interface TcpCheck extends CheckCommon { kind: 'tcp'; TCP: string }
export interface ScriptCheck extends CheckCommon { kind: 'script'; Args: string[] }
export interface GrpcCheck extends CheckCommon, TlsClientFields { kind: 'grpc'; GRPC: string; GRPCUseTLS: boolean }
export interface H2pingCheck extends CheckCommon, TlsClientFields { kind: 'h2ping'; H2PING: string; H2PingUseTLS: boolean }
export interface UdpCheck extends CheckCommon { kind: 'udp'; UDP: string }
export interface AliasCheck extends CheckCommon { kind: 'alias'; AliasNode: string; AliasService: string }
/** The agent's own maintenance checks (maintenance.ts): nothing to run, critical while they exist. */
export interface MaintenanceCheck extends CheckCommon { kind: 'maintenance' }

/**
 * A check definition, parsed once (parseCheckDefinition, for config files and the HTTP API alike)
 * into the kind it runs as and that kind's fields; durations also in milliseconds. What the local
 * state keeps, the runners take and the API renders.
 */
export type CheckDefinition = TtlCheck | HttpCheck | TcpCheck | ScriptCheck | GrpcCheck | H2pingCheck | UdpCheck | AliasCheck | MaintenanceCheck

/** Which runner a check needs. */
export type CheckKind = CheckDefinition['kind']

export interface TaggedAddress {
  Address: string
  Port: number
}

/** A service as the agent keeps it and renders it (Consul's AgentService); `Service` is the name. */
export interface ServiceDefinition {
  Kind: string
  ID: string
  Service: string
  Tags: string[]
  Meta: Record<string, string>
  Port: number
  Address: string
  TaggedAddresses: Record<string, TaggedAddress>
  Weights: {Passing: number; Warning: number}
  EnableTagOverride: boolean
}

export const SCRIPTS_DISABLED = "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"
export const SCRIPTS_DISABLED_REMOTE = "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"

export class DefinitionError extends Error {
  readonly code = 'DEFINITION_INVALID'
  /** The config key of the list the definition came from (services, checks), when it came from a config file. */
  constructor(message: string, readonly key = '') {
    super(message)
  }
}

type Obj = Record<string, unknown>

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The value of `name` in `obj`, matched as Consul does: exact, then case- and underscore-insensitive. */
export function lookup(obj: Obj, ...names: string[]): unknown {
  for (const name of names) {
    if (name in obj) return obj[name]
  }
  for (const name of names) {
    const wanted = name.toLowerCase().replace(/_/g, '')
    for (const [key, value] of Object.entries(obj)) {
      if (key.toLowerCase().replace(/_/g, '') === wanted) return value
    }
  }
  return undefined
}

class Reader {
  constructor(private readonly obj: Obj, private readonly what: string) {}

  fail(name: string, want: string): never {
    throw new DefinitionError(`${this.what}: ${name} must be ${want}`)
  }

  raw(...names: string[]): unknown {
    const value = lookup(this.obj, ...names)
    return value === null ? undefined : value
  }

  string(...names: string[]): string {
    const value = this.raw(...names)
    if (value === undefined) return ''
    if (typeof value !== 'string') this.fail(names[0], 'a string')
    return value
  }

  bool(name: string): boolean {
    const value = this.raw(name)
    if (value === undefined) return false
    if (typeof value !== 'boolean') this.fail(name, 'true or false')
    return value
  }

  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name)
    if (value === undefined) return 0
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) this.fail(name, `an integer from ${min} to ${max}`)
    return value
  }

  /** Go durations arrive as strings ("10s"); Consul's decoder also takes nanoseconds as a number. */
  duration(name: string): string {
    const value = this.raw(name)
    if (value === undefined || value === '') return ''
    if (typeof value === 'number') {
      // Nanoseconds in a Go time.Duration (int64): beyond it Consul's decoder fails, and so do we
      // (rather than write a duration like "1.2e+23ms" that nothing parses later).
      if (!Number.isInteger(value) || value < 0 || value >= DURATION_NS_LIMIT) this.fail(name, 'a duration such as "10s"')
      return value === 0 ? '' : `${value / 1e6}ms`
    }
    if (typeof value !== 'string') this.fail(name, 'a duration such as "10s"')
    let ms: number
    try {
      ms = parseDuration(value)
    } catch {
      this.fail(name, 'a duration such as "10s"')
    }
    if (ms < 0) this.fail(name, 'a positive duration')
    return value
  }

  stringList(name: string): string[] {
    const value = this.raw(name)
    if (value === undefined) return []
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) this.fail(name, 'a list of strings')
    return value as string[]
  }

  stringMap(name: string): Record<string, string> {
    const value = this.raw(name)
    if (value === undefined) return {}
    if (!isObject(value) || Object.values(value).some((item) => typeof item !== 'string')) this.fail(name, 'an object of strings')
    return {...(value as Record<string, string>)}
  }
}

const statuses = new Set<CheckStatus>(['passing', 'warning', 'critical'])

/**
 * Parses one check definition. `serviceId` is set for checks embedded in a service definition
 * (their ServiceID is the service's, whatever they say); `defaultId` names such checks as Consul
 * does (`service:<id>` or `service:<id>:<n>`).
 */
export function parseCheckDefinition(input: unknown, opts: {serviceId?: string; defaultId?: string; defaultName?: string} = {}): CheckDefinition {
  if (!isObject(input)) throw new DefinitionError('Request decode failed: a check definition must be a JSON object')
  const read: Reader = new Reader(input, 'Invalid check')
  const statusText = read.string('Status')
  if (statusText !== '' && !statuses.has(statusText as CheckStatus)) {
    throw new DefinitionError("Status for checks must 'passing', 'warning', 'critical'")
  }
  let args = read.stringList('Args')
  if (args.length === 0) args = read.stringList('ScriptArgs')
  // The legacy single-string `Script` (pre-1.0, still sent by the npm `consul` client) runs
  // through the shell, as Consul ran it.
  const script = read.string('Script')
  if (args.length === 0 && script !== '') args = ['/bin/sh', '-c', script]
  const header = read.raw('Header')
  if (header !== undefined && (!isObject(header) || Object.values(header).some((v) => !Array.isArray(v) || v.some((s) => typeof s !== 'string')))) {
    read.fail('Header', 'an object of string lists')
  }
  // Kinds Consul runs that coord cannot: refused at registration, naming what is missing.
  if (read.string('DockerContainerID') !== '') {
    throw new DefinitionError('Invalid check: DockerContainerID: Docker checks are not supported: coord has no Docker client to exec into containers')
  }
  if (read.string('OSService') !== '') {
    throw new DefinitionError('Invalid check: OSService: OS service checks are not supported: coord has no Windows service manager client')
  }
  const name = read.string('Name') || opts.defaultName || ''
  const fields: CheckFields = {
    CheckID: read.string('CheckID', 'ID') || opts.defaultId || name,
    Name: name,
    Notes: read.string('Notes'),
    ServiceID: opts.serviceId ?? read.string('ServiceID'),
    Interval: read.duration('Interval'),
    Timeout: read.duration('Timeout'),
    TTL: read.duration('TTL'),
    HTTP: read.string('HTTP'),
    Method: read.string('Method'),
    Header: (header ?? {}) as Record<string, string[]>,
    Body: read.string('Body'),
    TLSSkipVerify: read.bool('TLSSkipVerify'),
    TLSServerName: read.string('TLSServerName'),
    TCP: read.string('TCP'),
    Args: args,
    GRPC: read.string('GRPC'),
    GRPCUseTLS: read.bool('GRPCUseTLS'),
    H2PING: read.string('H2PING'),
    // Consul's default is TLS (H2PingUseTLS true unless set false).
    H2PingUseTLS: read.raw('H2PingUseTLS') === undefined ? true : read.bool('H2PingUseTLS'),
    UDP: read.string('UDP'),
    AliasNode: read.string('AliasNode'),
    AliasService: read.string('AliasService'),
    SuccessBeforePassing: read.int('SuccessBeforePassing'),
    FailuresBeforeCritical: read.int('FailuresBeforeCritical'),
    FailuresBeforeWarning: read.int('FailuresBeforeWarning'),
    DeregisterCriticalServiceAfter: read.duration('DeregisterCriticalServiceAfter'),
    OutputMaxSize: read.int('OutputMaxSize'),
    Status: (statusText || 'critical') as CheckStatus,
  }
  if (fields.Name === '') throw new DefinitionError('Missing check name')
  validateCheckKind(fields)
  return checkDefinitionOf(fields)
}

const NO_CHECK_FIELDS: CheckFields = {
  CheckID: '', Name: '', Notes: '', ServiceID: '', Interval: '', Timeout: '', TTL: '', HTTP: '', Method: '',
  Header: {}, Body: '', TLSSkipVerify: false, TLSServerName: '', TCP: '', Args: [], GRPC: '', GRPCUseTLS: false, H2PING: '', H2PingUseTLS: true, UDP: '',
  AliasNode: '', AliasService: '', SuccessBeforePassing: 0, FailuresBeforeCritical: 0, FailuresBeforeWarning: 0,
  DeregisterCriticalServiceAfter: '', OutputMaxSize: 0, Status: 'critical',
}

/**
 * The kind a definition's fields ask for, in Consul's precedence (agent/structs/check_type.go,
 * CheckType.Type: gRPC, HTTP, TTL, TCP, UDP, alias, script, H2PING). A definition with none of
 * them is the agent's own maintenance check. parseCheckDefinition refuses more than one.
 */
function kindOf(f: CheckFields): CheckKind {
  if (f.GRPC !== '') return 'grpc'
  if (f.HTTP !== '') return 'http'
  if (f.TTL !== '') return 'ttl'
  if (f.TCP !== '') return 'tcp'
  if (f.UDP !== '') return 'udp'
  if (f.AliasNode !== '' || f.AliasService !== '') return 'alias'
  if (f.Args.length > 0) return 'script'
  if (f.H2PING !== '') return 'h2ping'
  return 'maintenance'
}

/**
 * The definition for fields already read (parseCheckDefinition's, or the agent's own checks):
 * the kind and its fields, durations in milliseconds. Does not validate.
 */
export function checkDefinitionOf(given: Partial<CheckFields>): CheckDefinition {
  const f: CheckFields = {...NO_CHECK_FIELDS, ...given}
  const common: CheckCommon = {
    CheckID: f.CheckID, Name: f.Name, Notes: f.Notes, ServiceID: f.ServiceID, Status: f.Status,
    Interval: f.Interval, intervalMs: durationMs(f.Interval), Timeout: f.Timeout, timeoutMs: durationMs(f.Timeout),
    SuccessBeforePassing: f.SuccessBeforePassing, FailuresBeforeCritical: f.FailuresBeforeCritical, FailuresBeforeWarning: f.FailuresBeforeWarning,
    DeregisterCriticalServiceAfter: f.DeregisterCriticalServiceAfter, deregisterCriticalServiceAfterMs: durationMs(f.DeregisterCriticalServiceAfter),
    OutputMaxSize: f.OutputMaxSize,
  }
  const tls = {TLSSkipVerify: f.TLSSkipVerify, TLSServerName: f.TLSServerName}
  switch (kindOf(f)) {
    case 'ttl': return {...common, kind: 'ttl', TTL: f.TTL, ttlMs: durationMs(f.TTL)}
    case 'http': return {...common, kind: 'http', HTTP: f.HTTP, Method: f.Method, Header: f.Header, Body: f.Body, ...tls}
    case 'tcp': return {...common, kind: 'tcp', TCP: f.TCP}
    case 'script': return {...common, kind: 'script', Args: f.Args}
    case 'grpc': return {...common, kind: 'grpc', GRPC: f.GRPC, GRPCUseTLS: f.GRPCUseTLS, ...tls}
    case 'h2ping': return {...common, kind: 'h2ping', H2PING: f.H2PING, H2PingUseTLS: f.H2PingUseTLS, ...tls}
    case 'udp': return {...common, kind: 'udp', UDP: f.UDP}
    case 'alias': return {...common, kind: 'alias', AliasNode: f.AliasNode, AliasService: f.AliasService}
    case 'maintenance': return {...common, kind: 'maintenance'}
  }
}

/** Consul's kind name of a definition (its API's `Type`); '' for the agent's own checks. */
export function checkType(def: CheckDefinition): string {
  return def.kind === 'maintenance' ? '' : def.kind
}

function validateCheckKind(def: CheckFields): void {
  const kinds = [def.TTL !== '', def.HTTP !== '', def.TCP !== '', def.Args.length > 0, def.GRPC !== '', def.H2PING !== '', def.UDP !== '',
    def.AliasNode !== '' || def.AliasService !== ''].filter(Boolean).length
  if (kinds === 0) {
    throw new DefinitionError('Invalid check: TTL must be > 0 for TTL checks; or one of Args, HTTP, TCP, GRPC, H2PING, UDP with an Interval, or AliasService, must be given')
  }
  if (kinds > 1) throw new DefinitionError('Invalid check: only one of TTL, Args, HTTP, TCP, GRPC, H2PING, UDP or AliasService/AliasNode may be given')
  const kind = kindOf(def)
  if (kind !== 'ttl' && kind !== 'alias' && def.Interval === '') {
    throw new DefinitionError(`Invalid check: Interval must be > 0 for ${kind === 'script' ? 'Script' : kind.toUpperCase()} checks`)
  }
  if (def.Interval !== '' && parseDuration(def.Interval) < 1000 && kind !== 'ttl') {
    // Consul raises intervals below its MinInterval (1s) to 1s with a warning; so does coord.
    def.Interval = '1s'
  }
}

const metaKeyPattern = /^[a-zA-Z0-9_-]+$/

/** Consul's service meta rules (structs.ValidateServiceMetadata). */
function validateMeta(meta: Record<string, string>): void {
  const entries = Object.entries(meta)
  if (entries.length > 64) throw new DefinitionError('Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs')
  for (const [key, value] of entries) {
    if (key === '') throw new DefinitionError('Invalid Service Meta: Key cannot be blank')
    if (!metaKeyPattern.test(key)) throw new DefinitionError(`Invalid Service Meta: Key contains invalid characters: ${key}`)
    if (key.length > 128) throw new DefinitionError(`Invalid Service Meta: Key is too long (limit: 128 characters): ${key}`)
    if (key.startsWith('consul-')) throw new DefinitionError(`Invalid Service Meta: Key prefix 'consul-' is reserved for internal use: ${key}`)
    if (value.length > 512) throw new DefinitionError(`Invalid Service Meta: Value is too long (limit: 512 characters): ${key}`)
  }
}

/** A service definition and the checks it carries, ready for the local registry. */
export interface ParsedService {
  service: ServiceDefinition
  checks: CheckDefinition[]
}

export function parseServiceDefinition(input: unknown): ParsedService {
  if (!isObject(input)) throw new DefinitionError('Request decode failed: a service definition must be a JSON object')
  const read: Reader = new Reader(input, 'Invalid service')
  const name = read.string('Name', 'Service')
  if (name === '') throw new DefinitionError('Missing service name')
  const address = read.string('Address')
  if (address === '0.0.0.0' || address === '::' || address === '[::]') throw new DefinitionError(`Invalid service address`)
  const meta = read.stringMap('Meta')
  validateMeta(meta)
  const weightsRaw = read.raw('Weights')
  let weights = {Passing: 1, Warning: 1}
  if (weightsRaw !== undefined) {
    if (!isObject(weightsRaw)) throw new DefinitionError('Invalid Weights: must be an object {"Passing": n, "Warning": n}')
    const w = new Reader(weightsRaw, 'Invalid Weights')
    weights = {Passing: w.int('Passing', 0, 65535), Warning: w.int('Warning', 0, 65535)}
    if (weights.Passing < 1) throw new DefinitionError(`Invalid Weights: Passing must be greater than 0`)
  }
  const tagged: Record<string, TaggedAddress> = {}
  const taggedRaw = read.raw('TaggedAddresses')
  if (taggedRaw !== undefined) {
    if (!isObject(taggedRaw)) read.fail('TaggedAddresses', 'an object')
    for (const [tag, value] of Object.entries(taggedRaw)) {
      if (!isObject(value)) read.fail(`TaggedAddresses.${tag}`, 'an object {"Address", "Port"}')
      const t = new Reader(value, 'Invalid service')
      tagged[tag] = {Address: t.string('Address'), Port: t.int('Port', 0, 65535)}
    }
  }
  const service: ServiceDefinition = {
    Kind: read.string('Kind'),
    ID: read.string('ID') || name,
    Service: name,
    Tags: read.stringList('Tags'),
    Meta: meta,
    Port: read.int('Port', 0, 65535),
    Address: address,
    TaggedAddresses: tagged,
    Weights: weights,
    EnableTagOverride: read.bool('EnableTagOverride'),
  }
  const raws: unknown[] = []
  const one = read.raw('Check')
  if (one !== undefined) raws.push(one)
  const many = read.raw('Checks')
  if (many !== undefined) {
    if (!Array.isArray(many)) read.fail('Checks', 'a list of check definitions')
    raws.push(...many)
  }
  const checks = raws.map((raw, i) => parseCheckDefinition(raw, {
    serviceId: service.ID,
    defaultId: raws.length > 1 ? `service:${service.ID}:${i + 1}` : `service:${service.ID}`,
    defaultName: `Service '${service.Service}' check`,
  }))
  return {service, checks}
}

/** The `service`/`services`/`check`/`checks` keys of one config file or of a `services register` file. */
export function definitionsFromConfig(raw: Obj): {services: ParsedService[]; checks: CheckDefinition[]} {
  const services: ParsedService[] = []
  const checks: CheckDefinition[] = []
  const listOf = (key: string): unknown[] => {
    const value = raw[key]
    if (value === undefined) return []
    return Array.isArray(value) ? value : [value]
  }
  for (const [index, item] of [...listOf('service'), ...listOf('services')].entries()) {
    try {
      services.push(parseServiceDefinition(item))
    } catch (error) {
      throw new DefinitionError(`services[${index}]: ${(error as Error).message}`, 'services')
    }
  }
  for (const [index, item] of [...listOf('check'), ...listOf('checks')].entries()) {
    try {
      checks.push(parseCheckDefinition(item))
    } catch (error) {
      throw new DefinitionError(`checks[${index}]: ${(error as Error).message}`, 'checks')
    }
  }
  return {services, checks}
}

/** Milliseconds of a (validated) duration field; 0 when empty. */
export function durationMs(text: string): number {
  return text === '' ? 0 : parseDuration(text)
}
