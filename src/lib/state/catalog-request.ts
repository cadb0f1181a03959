// Contract 2: the bodies of Consul's PUT /v1/catalog/register and /v1/catalog/deregister, as the
// `catalog-register` / `catalog-deregister` state commands carry them. PascalCase as Consul's JSON,
// so the HTTP endpoint and anti-entropy (agent-local) hand the state machine the same shape.
//
// `parseRegisterRequest` / `parseDeregisterRequest` decode an untrusted JSON body (field names
// matched case-insensitively, snake_case aliases too, as Consul's decoder) and apply the checks
// Consul's Catalog.Register RPC makes before Raft (nodePreApply, servicePreApply, checkPreApply):
// missing node/address, service ID defaulting to its name, check ID defaulting to its name, a
// check's node defaulting to the registration's. `normalizeRegisterRequest` applies the same
// defaults to a request built in code; `apply` runs it too, so both paths store the same records.
//
// Pure: no I/O, no clock. Errors are one line; `kind` says how HTTP answers (Consul decodes JSON
// with a 400 on a type error, and returns the RPC's own errors as 500).

import {jsonField} from '../json.js'

/** A check's status, as Consul's api.HealthPassing/Warning/Critical. */
export type HealthStatus = 'passing' | 'warning' | 'critical'

export interface ServiceWeights {
  Passing: number
  Warning: number
}

export interface ServiceAddress {
  Address: string
  Port: number
}

export interface RegisterService {
  /** Defaults to `Service` (Consul's servicePreApply). */
  ID?: string
  Service: string
  Tags?: string[]
  Address?: string
  TaggedAddresses?: Record<string, ServiceAddress>
  Meta?: Record<string, string>
  Port?: number
  /** Defaults to {Passing: 1, Warning: 1}. */
  Weights?: ServiceWeights
  EnableTagOverride?: boolean
  /** '' for a typical service; kept and rendered, otherwise unused (no Connect). */
  Kind?: string
}

export interface RegisterCheck {
  /** Defaults to the registration's Node; must equal it. */
  Node?: string
  /** Defaults to Name. */
  CheckID?: string
  Name?: string
  /** Defaults to 'critical', as Consul's state store. */
  Status?: HealthStatus
  Notes?: string
  Output?: string
  ServiceID?: string
  /** Filled from the bound service when ServiceID is set; otherwise ''. */
  ServiceName?: string
  ServiceTags?: string[]
  Type?: string
  Interval?: string
  Timeout?: string
  Definition?: Record<string, unknown>
}

export interface RegisterRequest {
  Node: string
  /** Node UUID, '' for none. */
  ID?: string
  Address?: string
  Datacenter?: string
  TaggedAddresses?: Record<string, string>
  NodeMeta?: Record<string, string>
  Service?: RegisterService
  /** Legacy single check: folded into Checks by normalization. */
  Check?: RegisterCheck
  Checks?: RegisterCheck[]
  /** Register service/checks without touching the node record (which must then exist). */
  SkipNodeUpdate?: boolean
}

export interface DeregisterRequest {
  Node: string
  Datacenter?: string
  /** Only Node: the node with all its services and checks. */
  ServiceID?: string
  CheckID?: string
}

/** A body that does not decode (400) or that Consul's RPC rejects (500). */
export class CatalogRequestError extends Error {
  readonly code = 'CATALOG_REQUEST'
  constructor(readonly kind: 'decode' | 'invalid', what: string) {
    super(what)
    this.name = 'CatalogRequestError'
  }
}

const STATUSES: ReadonlySet<string> = new Set<HealthStatus>(['passing', 'warning', 'critical'])

type Obj = Record<string, unknown>

function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function decodeError(what: string): CatalogRequestError {
  return new CatalogRequestError('decode', `Request decode failed: ${what}`)
}

function str(obj: Obj, name: string): string | undefined {
  const v = jsonField(obj, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw decodeError(`${name} must be a string`)
  return v
}

function bool(obj: Obj, name: string): boolean | undefined {
  const v = jsonField(obj, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw decodeError(`${name} must be a boolean`)
  return v
}

function int(obj: Obj, name: string): number | undefined {
  const v = jsonField(obj, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw decodeError(`${name} must be an integer`)
  return v
}

function strList(obj: Obj, name: string): string[] | undefined {
  const v = jsonField(obj, name)
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw decodeError(`${name} must be a list of strings`)
  return [...v as string[]]
}

export function strMap(obj: Obj, name: string): Record<string, string> | undefined {
  const v = jsonField(obj, name)
  if (v === undefined || v === null) return undefined
  if (!isObj(v) || Object.values(v).some((t) => typeof t !== 'string')) throw decodeError(`${name} must be a map of strings`)
  return {...v as Record<string, string>}
}

function sub(obj: Obj, name: string): Obj | undefined {
  const v = jsonField(obj, name)
  if (v === undefined || v === null) return undefined
  if (!isObj(v)) throw decodeError(`${name} must be an object`)
  return v
}

/** Drops keys whose value is undefined, so a stored record (and its msgpack) has no holes. */
function defined<T extends object>(value: T): T {
  for (const key of Object.keys(value)) if ((value as Obj)[key] === undefined) delete (value as Obj)[key]
  return value
}

/** A service object of a register body (also a /v1/txn Service op's); throws CatalogRequestError. */
export function parseService(obj: Obj): RegisterService {
  let tagged: Record<string, ServiceAddress> | undefined
  const rawTagged = sub(obj, 'TaggedAddresses')
  if (rawTagged !== undefined) {
    tagged = {}
    for (const [key, value] of Object.entries(rawTagged)) {
      if (!isObj(value)) throw decodeError(`Service.TaggedAddresses.${key} must be an object`)
      tagged[key] = {Address: str(value, 'Address') ?? '', Port: int(value, 'Port') ?? 0}
    }
  }
  let weights: ServiceWeights | undefined
  const rawWeights = sub(obj, 'Weights')
  if (rawWeights !== undefined) weights = {Passing: int(rawWeights, 'Passing') ?? 0, Warning: int(rawWeights, 'Warning') ?? 0}
  return defined({
    ID: str(obj, 'ID'),
    Service: str(obj, 'Service') ?? str(obj, 'Name') ?? '',
    Tags: strList(obj, 'Tags'),
    Address: str(obj, 'Address'),
    TaggedAddresses: tagged,
    Meta: strMap(obj, 'Meta'),
    Port: int(obj, 'Port'),
    Weights: weights,
    EnableTagOverride: bool(obj, 'EnableTagOverride'),
    Kind: str(obj, 'Kind'),
  })
}

/** A check object of a register body (also a /v1/txn Check op's); throws CatalogRequestError. */
export function parseCheck(obj: Obj): RegisterCheck {
  const status = str(obj, 'Status')
  if (status !== undefined && status !== '' && !STATUSES.has(status)) throw decodeError(`invalid check status "${status}"`)
  const definition = sub(obj, 'Definition')
  // Interval/Timeout arrive top-level (structs.HealthCheck) or inside Definition (api.HealthCheck).
  const interval = str(obj, 'Interval') ?? (definition && typeof jsonField(definition, 'Interval') === 'string' ? jsonField(definition, 'Interval') as string : undefined)
  const timeout = str(obj, 'Timeout') ?? (definition && typeof jsonField(definition, 'Timeout') === 'string' ? jsonField(definition, 'Timeout') as string : undefined)
  return defined({
    Node: str(obj, 'Node'),
    CheckID: str(obj, 'CheckID') ?? str(obj, 'ID'),
    Name: str(obj, 'Name'),
    Status: status === '' ? undefined : status as HealthStatus | undefined,
    Notes: str(obj, 'Notes'),
    Output: str(obj, 'Output'),
    ServiceID: str(obj, 'ServiceID'),
    ServiceName: str(obj, 'ServiceName'),
    ServiceTags: strList(obj, 'ServiceTags'),
    Type: str(obj, 'Type'),
    Interval: interval,
    Timeout: timeout,
    Definition: definition === undefined ? undefined : {...definition},
  })
}

/** Node tagged addresses are strings; `{Address, Port}` objects (as the npm client sends) give their Address. */
export function nodeTaggedAddresses(body: Obj): Record<string, string> | undefined {
  const raw = sub(body, 'TaggedAddresses')
  if (raw === undefined) return undefined
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') out[key] = value
    else if (isObj(value) && typeof jsonField(value, 'Address') === 'string') out[key] = jsonField(value, 'Address') as string
    else throw decodeError(`TaggedAddresses.${key} must be a string`)
  }
  return out
}

/** Decode and validate a PUT /v1/catalog/register body; throws CatalogRequestError. */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  if (!isObj(body)) throw decodeError('body must be a JSON object')
  const service = sub(body, 'Service')
  const check = sub(body, 'Check')
  const rawChecks = jsonField(body, 'Checks')
  if (rawChecks !== undefined && rawChecks !== null && !Array.isArray(rawChecks)) throw decodeError('Checks must be a list')
  const checks = (rawChecks as unknown[] | undefined ?? []).map((c, i) => {
    if (!isObj(c)) throw decodeError(`Checks[${i}] must be an object`)
    return parseCheck(c)
  })
  const request: RegisterRequest = defined({
    Node: str(body, 'Node') ?? '',
    ID: str(body, 'ID'),
    Address: str(body, 'Address'),
    Datacenter: str(body, 'Datacenter'),
    TaggedAddresses: nodeTaggedAddresses(body),
    NodeMeta: strMap(body, 'NodeMeta'),
    Service: service === undefined ? undefined : parseService(service),
    Check: check === undefined ? undefined : parseCheck(check),
    Checks: checks,
    SkipNodeUpdate: bool(body, 'SkipNodeUpdate'),
  })
  return normalizeRegisterRequest(request)
}

/** Decode and validate a PUT /v1/catalog/deregister body; throws CatalogRequestError. */
export function parseDeregisterRequest(body: unknown): DeregisterRequest {
  if (!isObj(body)) throw decodeError('body must be a JSON object')
  const request: DeregisterRequest = defined({
    Node: str(body, 'Node') ?? '',
    Datacenter: str(body, 'Datacenter'),
    ServiceID: str(body, 'ServiceID'),
    CheckID: str(body, 'CheckID'),
  })
  if (request.Node === '') throw new CatalogRequestError('invalid', 'Must provide node')
  return request
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Consul's pre-Raft rules, returning a complete copy: node and address required (address only
 * without SkipNodeUpdate), a node ID must be a UUID, service ID defaults to its name and a
 * service needs a name, the legacy Check joins Checks, check IDs default to names and check nodes
 * to the request's. Throws CatalogRequestError('invalid') with Consul's text.
 */
export function normalizeRegisterRequest(request: RegisterRequest): RegisterRequest {
  if (!request.Node) throw new CatalogRequestError('invalid', 'Must provide node')
  if (request.ID && !UUID.test(request.ID)) throw new CatalogRequestError('invalid', `Bad node ID: uuid string is wrong length or format: "${request.ID}"`)
  if (!request.Address && !request.SkipNodeUpdate) throw new CatalogRequestError('invalid', 'Must provide address if SkipNodeUpdate is not set')
  let service: RegisterService | undefined
  if (request.Service !== undefined) {
    const s = request.Service
    const id = s.ID || s.Service
    if (id && !s.Service) throw new CatalogRequestError('invalid', 'Must provide service name with ID')
    if (!s.Service) throw new CatalogRequestError('invalid', 'Must provide service name')
    if (s.Address === '0.0.0.0' || s.Address === '::' || s.Address === '[::]') throw new CatalogRequestError('invalid', 'Invalid service address')
    service = defined({...s, ID: id, Tags: s.Tags ?? [], Weights: s.Weights ?? {Passing: 1, Warning: 1}})
  }
  const checks = [...(request.Checks ?? []), ...(request.Check ? [request.Check] : [])].map((c) => defined({
    ...c,
    Node: c.Node || request.Node,
    CheckID: c.CheckID || c.Name || '',
    Status: c.Status || 'critical',
  }))
  for (const c of checks) {
    if (!c.CheckID) throw new CatalogRequestError('invalid', 'Missing check ID')
    if (c.Node !== request.Node) throw new CatalogRequestError('invalid', `Check node "${c.Node}" does not match node "${request.Node}"`)
  }
  return defined({...request, Service: service, Check: undefined, Checks: checks})
}
