// The catalog (Consul docs: api-docs/catalog, api-docs/health): nodes, the service instances on each node, and health checks (node
// checks and service checks), with Consul's register/deregister rules and table indexes.
//
// Rules, as Consul's state store (catalog.go ensureRegistrationTxn, deleteNodeTxn, ...):
// - A registration is all or nothing: a check naming a service that is neither stored nor in the
//   request, or a service/check on a node that does not exist (SkipNodeUpdate), rejects the whole
//   command with Consul's error text and changes nothing.
// - Re-registering an unchanged node, service or check writes nothing: anti-entropy re-sends the
//   same registration often, and a no-op must not bump indexes or wake blocking queries.
// - A service check takes ServiceName/ServiceTags from its service; when a service's name or tags
//   change its checks follow (so health answers never show stale tags).
// - Deregistering a node removes its services and checks; a service, its checks. The caller
//   invalidates sessions bound to removed checks (and, for a node, every session on it).
//
// Indexes: one per table (nodes, services, checks) as Consul's index table, plus one per service
// name (Consul's "service.<name>" index): it moves when an instance of that service, one of its
// checks, or its node (or a node-level check on that node) changes, so a blocking
// /v1/health/service/web does not wake for a change to another service. A name with no instance
// left keeps its index (Consul's "service extinction" index serves the same purpose).
//
// Watch tables fired per change: 'nodes', 'services', 'checks', and `service:<name>`.

import type {RegisterRequest, DeregisterRequest} from './catalog-request.js'
import {normalizeRegisterRequest} from './catalog-request.js'
import type {CatalogNode, CatalogService, NodeCheck} from './types.js'
import type {ChangeSet} from './watch.js'
import type {RegisterRejection} from './types.js'

export type NodeInput = Omit<CatalogNode, 'createIndex' | 'modifyIndex'>
export type CheckInput = Omit<NodeCheck, 'createIndex' | 'modifyIndex'>
export type ServiceInput = Omit<CatalogService, 'createIndex' | 'modifyIndex'>

export interface CatalogDump {
  nodes: CatalogNode[]
  /** Absent in snapshots written before services existed. */
  services?: CatalogService[]
  checks: NodeCheck[]
  nodesIndex: number
  servicesIndex?: number
  checksIndex: number
  serviceIndexes?: Array<[string, number]>
}

/** What a deregistration removed: the caller invalidates the sessions bound to it. */
export interface Removed {
  checks: Array<{node: string; checkId: string}>
  /** Set when the node itself was removed (every session on it dies, as Consul's deleteNodeTxn). */
  node?: string
}

type Ordered = {node: string; id?: string; checkId?: string}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function byNodeThenId(a: Ordered, b: Ordered): number {
  return compareStrings(a.node, b.node) || compareStrings(a.id ?? a.checkId ?? '', b.id ?? b.checkId ?? '')
}

/**
 * Shared, frozen values for what most records hold (no tags, meta or tagged addresses; default
 * weights): records are immutable, so one object serves them all, and a catalog of 40,000
 * instances does not carry 40,000 copies of `{}`. They serialize exactly as fresh ones.
 */
const EMPTY_RECORD = Object.freeze({}) as Record<string, never>
const EMPTY_LIST = Object.freeze([]) as unknown as string[]
const DEFAULT_WEIGHTS = Object.freeze({Passing: 1, Warning: 1})

function isEmpty(value: object): boolean {
  for (const _ in value) return false
  return true
}

function compactRecord<T extends object>(value: T): T {
  return isEmpty(value) ? (EMPTY_RECORD as T) : value
}

function compactList<T>(value: T[]): T[] {
  return value.length === 0 ? (EMPTY_LIST as unknown as T[]) : value
}

/** Beyond this many distinct strings the intern table starts over (names that churned away are dropped). */
const INTERN_LIMIT = 200_000

/** Services with at least this many instances keep a change log (serviceChangesSince). */
export const SERVICE_LOG_MIN_INSTANCES = 128
/** Entries a service's change log holds before it starts over (a reader further behind walks every instance). */
export const SERVICE_LOG_LIMIT = 1024

/** Entries the nodes-table change log holds before it starts over (nodeChangesSince). */
export const NODE_LOG_LIMIT = 1024

/** Which nodes' changes moved a service's (or the nodes table's) index since `after`: parallel lists, oldest first. */
interface ServiceLog {
  after: number
  indexes: number[]
  nodes: string[]
}

function same(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

export class Catalog {
  readonly #nodes = new Map<string, CatalogNode>()
  /** node name → service ID → instance. */
  readonly #services = new Map<string, Map<string, CatalogService>>()
  /** node name → check ID → check. */
  readonly #checks = new Map<string, Map<string, NodeCheck>>()
  /** service name → its instance records (no key strings): the by-name index health and catalog reads use. */
  readonly #byName = new Map<string, Set<CatalogService>>()
  readonly #serviceIndexes = new Map<string, number>()
  /**
   * service name → tag → instances carrying it, kept in step with #byName: the summary
   * /v1/catalog/services answers from without visiting every instance.
   */
  readonly #tagCounts = new Map<string, Map<string, number>>()
  /**
   * node name → the index of the last change to any of its checks (not in snapshots: 0 after a
   * load, whose records are new objects anyway). With record identity it tells a reader that an
   * instance's checks are unchanged without visiting them (http/health-fragments.ts).
   */
  readonly #checksVersions = new Map<string, number>()
  /**
   * service name → the nodes whose changes moved its index (services with at least
   * SERVICE_LOG_MIN_INSTANCES instances; not in snapshots, not journaled: an entry a rolled-back txn
   * left only makes a reader look at that node again). A kept list answer (http/service-list.ts)
   * renders those nodes' rows again instead of walking every instance of the service.
   */
  readonly #serviceLogs = new Map<string, ServiceLog>()
  /**
   * The nodes whose record was written or removed, as #serviceLogs for the nodes table (every
   * catalog; not in snapshots, not journaled): a kept /v1/catalog/nodes answer renders those
   * nodes again instead of every node (nodeChangesSince).
   */
  #nodeLog: ServiceLog = {after: 0, indexes: [], nodes: []}
  #nodesIndex = 0
  #servicesIndex = 0
  #checksIndex = 0
  /**
   * While a txn runs (begin → commit/rollback): every map write as (map, key, had, previous), undone
   * in reverse on rollback. O(what the txn changed), where a copy of the catalog was O(catalog) per
   * txn (quadratic when a catalog is registered by txns, and garbage that kept the heap large).
   */
  /**
   * One copy of each repeated string (node, service, check and tag names, statuses, datacenters):
   * decoded commands carry a fresh copy in every record, and a node's name sits in each of its
   * service and check records.
   */
  readonly #strings = new Map<string, string>()
  readonly #lists = new Map<string, string[]>()
  #journal: Array<{map: Map<string, unknown>; key: string; had: boolean; prev: unknown} | {set: Set<unknown>; value: unknown; added: boolean}> | undefined
  #savedIndexes: [number, number, number] | undefined

  /** Start recording changes so `rollback()` can undo them (a txn; not nested). */
  begin(): void {
    this.#journal = []
    this.#savedIndexes = [this.#nodesIndex, this.#servicesIndex, this.#checksIndex]
  }

  commit(): void {
    this.#journal = undefined
    this.#savedIndexes = undefined
  }

  /** Undo every change since `begin()`. */
  rollback(): void {
    const journal = this.#journal ?? []
    for (let i = journal.length - 1; i >= 0; i--) {
      const entry = journal[i]
      if ('set' in entry) {
        if (entry.added) entry.set.delete(entry.value)
        else entry.set.add(entry.value)
      } else if (entry.had) entry.map.set(entry.key, entry.prev)
      else entry.map.delete(entry.key)
    }
    if (this.#savedIndexes !== undefined) [this.#nodesIndex, this.#servicesIndex, this.#checksIndex] = this.#savedIndexes
    this.commit()
  }

  #intern(value: string): string {
    if (value.length === 0) return ''
    const known = this.#strings.get(value)
    if (known !== undefined) return known
    if (this.#strings.size >= INTERN_LIMIT) this.#strings.clear()
    this.#strings.set(value, value)
    return value
  }

  /** One frozen array per distinct tag list (most instances of a service share theirs). */
  #internList(values: string[]): string[] {
    if (values.length === 0) return EMPTY_LIST
    const key = `\u0000${values.join('\u0000')}`
    const known = this.#lists.get(key)
    if (known !== undefined) return known
    if (this.#lists.size >= INTERN_LIMIT) this.#lists.clear()
    const list = Object.freeze(values.map((v) => this.#intern(v))) as string[]
    this.#lists.set(key, list)
    return list
  }

  // Records are built by these literals, never by spreading another object: V8 gives objects
  // cloned by spread (then extended) a hidden class of their own, ~1 KB per record in shapes.

  #nodeRecord(n: NodeInput, createIndex: number, modifyIndex: number): CatalogNode {
    return {
      id: n.id, node: this.#intern(n.node), address: n.address, datacenter: this.#intern(n.datacenter),
      taggedAddresses: compactRecord(n.taggedAddresses), meta: compactRecord(n.meta), createIndex, modifyIndex,
    }
  }

  #serviceRecord(s: ServiceInput, createIndex: number, modifyIndex: number): CatalogService {
    const weights = s.weights?.Passing === 1 && s.weights.Warning === 1 && Object.keys(s.weights).length === 2 ? DEFAULT_WEIGHTS : s.weights
    return {
      node: this.#intern(s.node), id: s.id, service: this.#intern(s.service), tags: this.#internList(s.tags), address: s.address,
      taggedAddresses: compactRecord(s.taggedAddresses), meta: compactRecord(s.meta), port: s.port, weights, enableTagOverride: s.enableTagOverride,
      kind: this.#intern(s.kind), createIndex, modifyIndex,
    }
  }

  /** `service`: the stored instance a service check is bound to (its ID, name and tags are shared). */
  #checkRecord(c: CheckInput, service: CatalogService | undefined, createIndex: number, modifyIndex: number): NodeCheck {
    return {
      node: this.#intern(c.node), checkId: c.checkId, name: this.#intern(c.name), status: this.#intern(c.status) as NodeCheck['status'],
      notes: this.#intern(c.notes), output: c.output, serviceId: service?.id ?? c.serviceId, serviceName: service?.service ?? this.#intern(c.serviceName),
      serviceTags: service?.tags ?? compactList(c.serviceTags), type: this.#intern(c.type), interval: this.#intern(c.interval), timeout: this.#intern(c.timeout),
      definition: compactRecord(c.definition), createIndex, modifyIndex,
    }
  }

  #add<V>(set: Set<V>, value: V): void {
    if (set.has(value)) return
    this.#journal?.push({set: set as Set<unknown>, value, added: true})
    set.add(value)
  }

  #remove<V>(set: Set<V>, value: V): void {
    if (!set.has(value)) return
    this.#journal?.push({set: set as Set<unknown>, value, added: false})
    set.delete(value)
  }

  #set<V>(map: Map<string, V>, key: string, value: V): void {
    this.#journal?.push({map: map as Map<string, unknown>, key, had: map.has(key), prev: map.get(key)})
    map.set(key, value)
  }

  #delete<V>(map: Map<string, V>, key: string): void {
    if (!map.has(key)) return
    this.#journal?.push({map: map as Map<string, unknown>, key, had: true, prev: map.get(key)})
    map.delete(key)
  }

  get nodesIndex(): number {
    return this.#nodesIndex
  }

  get servicesIndex(): number {
    return this.#servicesIndex
  }

  get checksIndex(): number {
    return this.#checksIndex
  }

  /** The index a blocking read of one service compares against (see the header). */
  serviceIndex(name: string): number {
    return this.#serviceIndexes.get(name) ?? Math.max(this.#nodesIndex, this.#servicesIndex)
  }

  node(name: string): CatalogNode | undefined {
    return this.#nodes.get(name)
  }

  /** The node whose name equals `name` ignoring case (the first by name if several), O(nodes) without sorting. */
  nodeIgnoringCase(name: string): CatalogNode | undefined {
    const lower = name.toLowerCase()
    let found: CatalogNode | undefined
    for (const node of this.#nodes.values()) {
      if (node.node.toLowerCase() === lower && (found === undefined || compareStrings(node.node, found.node) < 0)) found = node
    }
    return found
  }

  /** How many nodes (O(1)). */
  nodeCount(): number {
    return this.#nodes.size
  }

  /** Every node ordered by name. */
  nodes(): CatalogNode[] {
    return [...this.#nodes.values()].sort((a, b) => compareStrings(a.node, b.node))
  }

  check(node: string, checkId: string): NodeCheck | undefined {
    return this.#checks.get(node)?.get(checkId)
  }

  /** The node's checks (node and service checks) ordered by check ID. */
  checks(node: string): NodeCheck[] {
    const checks = [...(this.#checks.get(node)?.values() ?? [])]
    return checks.sort((a, b) => compareStrings(a.checkId, b.checkId))
  }

  /** Moves (to the change's index) whenever a check of `node` is written or removed; 0 if none since the load. */
  nodeChecksVersion(node: string): number {
    return this.#checksVersions.get(node) ?? 0
  }

  /**
   * The nodes (maybe repeated) whose changes moved service `name`'s index after `index`, oldest
   * first: an instance of `name` on any other node, its checks and its node are as they were at
   * `index`. Undefined when the log does not reach back that far (or the service keeps none): the
   * caller looks at every instance.
   */
  serviceChangesSince(name: string, index: number): string[] | undefined {
    const log = this.#serviceLogs.get(name)
    return log === undefined ? undefined : changesSince(log, index)
  }

  /**
   * The nodes (maybe repeated) whose record was written or removed after `index`, oldest first:
   * every other node's record is as it was at `index`. Undefined when the log does not reach back
   * that far: the caller looks at every node.
   */
  nodeChangesSince(index: number): string[] | undefined {
    return changesSince(this.#nodeLog, index)
  }

  /** The instances of service `name` on `node`, ordered by ID (O(services on the node)). */
  nodeInstances(node: string, name: string): CatalogService[] {
    const out: CatalogService[] = []
    for (const service of this.#services.get(node)?.values() ?? []) if (service.service === name) out.push(service)
    return out.length > 1 ? out.sort((a, b) => compareStrings(a.id, b.id)) : out
  }

  /** How many instances service `name` has (O(1)). */
  instanceCount(name: string): number {
    return this.#byName.get(name)?.size ?? 0
  }

  /**
   * The checks a health entry of instance `serviceId` on `node` carries: the node's own checks, then
   * the instance's, each ordered by check ID (Consul's CheckServiceNodes). Visits only that node's checks.
   */
  instanceChecks(node: string, serviceId: string): NodeCheck[] {
    const nodeLevel: NodeCheck[] = []
    const own: NodeCheck[] = []
    for (const check of this.#checks.get(node)?.values() ?? []) {
      if (check.serviceId === '') nodeLevel.push(check)
      else if (check.serviceId === serviceId) own.push(check)
    }
    const byCheckId = (a: NodeCheck, b: NodeCheck): number => compareStrings(a.checkId, b.checkId)
    if (nodeLevel.length > 1) nodeLevel.sort(byCheckId)
    if (own.length > 1) own.sort(byCheckId)
    return nodeLevel.length === 0 ? own : own.length === 0 ? nodeLevel : [...nodeLevel, ...own]
  }

  /** Every check ordered by node, then check ID. */
  allChecks(): NodeCheck[] {
    return [...this.#checks.values()].flatMap((byId) => [...byId.values()]).sort(byNodeThenId)
  }

  /** Names of the nodes carrying a check with this ID, unordered (O(nodes), no sort). */
  nodesWithCheck(checkId: string): string[] {
    const out: string[] = []
    for (const [node, byId] of this.#checks) if (byId.has(checkId)) out.push(node)
    return out
  }

  /** Checks of every instance of service `name`, ordered by node, then check ID (visits only the nodes running it). */
  serviceChecks(name: string): NodeCheck[] {
    const nodes = new Set<string>()
    for (const instance of this.#byName.get(name)?.values() ?? []) nodes.add(instance.node)
    const out: NodeCheck[] = []
    for (const node of nodes) {
      for (const check of this.#checks.get(node)?.values() ?? []) if (check.serviceName === name && check.serviceId !== '') out.push(check)
    }
    return out.sort(byNodeThenId)
  }

  service(node: string, id: string): CatalogService | undefined {
    return this.#services.get(node)?.get(id)
  }

  /** The node's service instances ordered by ID. */
  nodeServices(node: string): CatalogService[] {
    return [...(this.#services.get(node)?.values() ?? [])].sort((a, b) => compareStrings(a.id, b.id))
  }

  /** Instances of service `name` ordered by node, then service ID (Consul's memdb order). */
  instances(name: string): CatalogService[] {
    return [...(this.#byName.get(name)?.values() ?? [])].sort(byNodeThenId)
  }

  /** Every service instance, ordered by node then ID. */
  allServices(): CatalogService[] {
    return [...this.#services.values()].flatMap((byId) => [...byId.values()]).sort(byNodeThenId)
  }

  /** True when service `name` has at least one instance (O(1)). */
  hasService(name: string): boolean {
    return this.#byName.has(name)
  }

  /** Each service with at least one instance and the union of its instances' tags (O(services + tags)). */
  serviceTagSummary(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.#tagCounts
  }

  /** Names of services with at least one instance, sorted. */
  serviceNames(): string[] {
    return [...this.#byName.keys()].sort(compareStrings)
  }

  /**
   * Apply a catalog registration at Raft index `index` (the request is normalized here too, so a
   * request built in code gets Consul's defaults). Returns Consul's error text when the state
   * store would reject it (nothing changed), else the checks written in `critical` state: the
   * caller invalidates sessions bound to them (Consul docs: api-docs/session).
   */
  registerRequest(index: number, raw: RegisterRequest, change: ChangeSet): {error: string; code: RegisterRejection} | {critical: NodeCheck[]} {
    let request: RegisterRequest
    try {
      request = normalizeRegisterRequest(raw)
    } catch (err) {
      return {error: err instanceof Error ? err.message : String(err), code: 'INVALID_REQUEST'}
    }
    const nodeName = request.Node
    const nodeWillExist = !request.SkipNodeUpdate || this.#nodes.has(nodeName)
    if (!nodeWillExist && (request.Service !== undefined || (request.Checks ?? []).length > 0)) return {error: 'Missing node registration', code: 'MISSING_NODE'}
    for (const check of request.Checks ?? []) {
      if (!check.ServiceID) continue
      const inRequest = request.Service?.ID === check.ServiceID
      if (!inRequest && this.service(nodeName, check.ServiceID) === undefined) return {error: 'Missing service registration', code: 'MISSING_SERVICE'}
    }

    if (!request.SkipNodeUpdate) {
      const existing = this.#nodes.get(nodeName)
      this.#putNode(index, {
        id: request.ID || existing?.id || '',
        node: nodeName,
        address: request.Address ?? '',
        datacenter: request.Datacenter || existing?.datacenter || '',
        taggedAddresses: request.TaggedAddresses ?? {},
        meta: request.NodeMeta ?? {},
      }, change)
    }
    if (request.Service !== undefined) {
      const s = request.Service
      this.#putService(index, {
        node: nodeName,
        id: s.ID ?? s.Service,
        service: s.Service,
        tags: s.Tags ?? [],
        address: s.Address ?? '',
        taggedAddresses: s.TaggedAddresses ?? {},
        meta: s.Meta ?? {},
        port: s.Port ?? 0,
        weights: s.Weights ?? {Passing: 1, Warning: 1},
        enableTagOverride: s.EnableTagOverride ?? false,
        kind: s.Kind ?? '',
      }, change)
    }
    const critical: NodeCheck[] = []
    for (const c of request.Checks ?? []) {
      const stored = this.#putCheck(index, {
        node: nodeName,
        checkId: c.CheckID ?? '',
        name: c.Name ?? '',
        status: c.Status ?? 'critical',
        notes: c.Notes ?? '',
        output: c.Output ?? '',
        serviceId: c.ServiceID ?? '',
        serviceName: '',
        serviceTags: [],
        type: c.Type ?? '',
        interval: c.Interval ?? '',
        timeout: c.Timeout ?? '',
        definition: c.Definition ?? {},
      }, change)
      if (stored !== undefined && stored.status === 'critical') critical.push(stored)
    }
    return {critical}
  }

  /** The legacy `node-register` command: a node plus node-level checks. */
  register(index: number, node: Pick<NodeInput, 'id' | 'node' | 'address' | 'datacenter'>, checks: ReadonlyArray<Pick<CheckInput, 'checkId' | 'name' | 'status' | 'notes' | 'output'>>, change: ChangeSet): NodeCheck[] {
    const existing = this.#nodes.get(node.node)
    this.#putNode(index, {taggedAddresses: existing?.taggedAddresses ?? {}, meta: existing?.meta ?? {}, ...node}, change)
    const critical: NodeCheck[] = []
    for (const c of checks) {
      const stored = this.#putCheck(index, {
        node: node.node, checkId: c.checkId, name: c.name, status: c.status, notes: c.notes, output: c.output,
        serviceId: '', serviceName: '', serviceTags: [], type: '', interval: '', timeout: '', definition: {},
      }, change)
      if (stored !== undefined && stored.status === 'critical') critical.push(stored)
    }
    return critical
  }

  /** A txn Node `set` (Consul's ensureNodeTxn): the record replaces the stored one whole. */
  ensureNode(index: number, input: NodeInput, change: ChangeSet): void {
    this.#putNode(index, input, change)
  }

  /** A txn Service `set` (Consul's ensureServiceTxn); Consul's error text when the node is missing. */
  ensureService(index: number, input: ServiceInput, change: ChangeSet): string | undefined {
    if (!this.#nodes.has(input.node)) return 'Missing node registration'
    this.#putService(index, input, change)
    return undefined
  }

  /**
   * A txn Check `set` (Consul's ensureCheckTxn): the node, and a named service, must exist; an
   * empty status is critical. Returns the stored check (undefined when unchanged) or the error.
   */
  ensureCheck(index: number, input: CheckInput, change: ChangeSet): {error: string} | {stored: NodeCheck | undefined} {
    if (!this.#nodes.has(input.node)) return {error: 'Missing node registration'}
    if (input.serviceId !== '' && this.service(input.node, input.serviceId) === undefined) return {error: 'Missing service registration'}
    return {stored: this.#putCheck(index, {...input, status: input.status || 'critical'}, change)}
  }

  /**
   * Apply a deregistration: only Node → the node, its services and checks; ServiceID → that
   * instance and its checks; CheckID → that check (both may be given). Unknown things are no-ops.
   */
  deregister(index: number, request: DeregisterRequest, change: ChangeSet): Removed {
    const removed: Removed = {checks: []}
    const node = request.Node
    if (!request.ServiceID && !request.CheckID) {
      if (!this.#nodes.has(node)) return removed
      for (const check of this.checks(node)) this.#deleteCheck(index, check, change, removed)
      for (const service of this.nodeServices(node)) this.#deleteService(index, service, change)
      this.#delete(this.#nodes, node)
      this.#delete(this.#checksVersions, node)
      this.#nodesIndex = index
      logChange(this.#nodeLog, NODE_LOG_LIMIT, index, node)
      change.tables.add('nodes')
      removed.node = node
      return removed
    }
    if (request.ServiceID) {
      const service = this.service(node, request.ServiceID)
      if (service !== undefined) {
        for (const check of this.checks(node)) if (check.serviceId === service.id) this.#deleteCheck(index, check, change, removed)
        this.#deleteService(index, service, change)
      }
    }
    if (request.CheckID) {
      const check = this.check(node, request.CheckID)
      if (check !== undefined) this.#deleteCheck(index, check, change, removed)
    }
    return removed
  }

  #touchService(index: number, name: string, node: string, change: ChangeSet): void {
    this.#logServiceChange(index, name, node)
    this.#set(this.#serviceIndexes, name, index)
    change.tables.add(`service:${name}`)
  }

  /** A node or node-level check changed: health answers of every service on it change too. */
  #touchServicesOfNode(index: number, node: string, change: ChangeSet): void {
    for (const service of this.#services.get(node)?.values() ?? []) this.#touchService(index, service.service, node, change)
  }

  /** Notes that `node` changed service `name` at `index` (large services only; see #serviceLogs). */
  #logServiceChange(index: number, name: string, node: string): void {
    let log = this.#serviceLogs.get(name)
    if (log === undefined) {
      if ((this.#byName.get(name)?.size ?? 0) < SERVICE_LOG_MIN_INSTANCES) return
      // Complete from the index the service had before this change.
      log = {after: this.#serviceIndexes.get(name) ?? 0, indexes: [], nodes: []}
      this.#serviceLogs.set(name, log)
    }
    logChange(log, SERVICE_LOG_LIMIT, index, node)
  }

  #putNode(index: number, raw: NodeInput, change: ChangeSet): void {
    // Fixed key order: `same` compares JSON.
    const input = this.#nodeRecord(raw, 0, 0)
    const existing = this.#nodes.get(input.node)
    if (existing !== undefined && same(withoutIndexes(existing), withoutIndexes(input))) return
    this.#set(this.#nodes, input.node, this.#nodeRecord(input, existing?.createIndex ?? index, index))
    this.#nodesIndex = index
    logChange(this.#nodeLog, NODE_LOG_LIMIT, index, input.node)
    change.tables.add('nodes')
    this.#touchServicesOfNode(index, input.node, change)
  }

  #putService(index: number, raw: ServiceInput, change: ChangeSet): void {
    const input = this.#serviceRecord(raw, 0, 0)
    const byId = this.#services.get(input.node) ?? new Map<string, CatalogService>()
    this.#set(this.#services, input.node, byId)
    const existing = byId.get(input.id)
    if (existing !== undefined && same(withoutIndexes(existing), withoutIndexes(input))) return
    if (existing !== undefined && existing.service !== input.service) this.#unindexName(existing, index, change)
    const stored = this.#serviceRecord(input, existing?.createIndex ?? index, index)
    if (existing !== undefined && existing.service === input.service) this.#countTags(existing, -1)
    this.#countTags(stored, 1)
    this.#set(byId, input.id, stored)
    let named = this.#byName.get(input.service)
    if (named === undefined) this.#set(this.#byName, input.service, (named = new Set()))
    if (existing !== undefined) this.#remove(named, existing)
    this.#add(named, stored)
    this.#servicesIndex = index
    change.tables.add('services')
    this.#touchService(index, input.service, input.node, change)
    // Bound checks carry the service's name and tags: keep them in step.
    for (const check of this.#checks.get(input.node)?.values() ?? []) {
      if (check.serviceId !== input.id) continue
      if (check.serviceName === input.service && same(check.serviceTags, input.tags)) continue
      this.#set(this.#checks.get(input.node)!, check.checkId, this.#checkRecord(check, stored, check.createIndex, index))
      this.#set(this.#checksVersions, input.node, index)
      this.#checksIndex = index
      change.tables.add('checks')
    }
  }

  /** Adds (+1) or removes (-1) one instance's tags in the per-service summary. */
  #countTags(service: CatalogService, delta: 1 | -1): void {
    let counts = this.#tagCounts.get(service.service)
    if (counts === undefined) this.#set(this.#tagCounts, service.service, (counts = new Map()))
    // An instance counts once per distinct tag; a name whose instances have no tags keeps an empty map.
    for (const tag of new Set(service.tags)) {
      const n = (counts.get(tag) ?? 0) + delta
      if (n > 0) this.#set(counts, tag, n)
      else this.#delete(counts, tag)
    }
  }

  #unindexName(service: CatalogService, index: number, change: ChangeSet): void {
    this.#countTags(service, -1)
    const named = this.#byName.get(service.service)
    if (named !== undefined) this.#remove(named, service)
    if (named !== undefined && named.size === 0) {
      this.#serviceLogs.delete(service.service)
      this.#delete(this.#byName, service.service)
      this.#delete(this.#tagCounts, service.service)
    }
    this.#touchService(index, service.service, service.node, change)
  }

  #deleteService(index: number, service: CatalogService, change: ChangeSet): void {
    const byId = this.#services.get(service.node)
    if (byId !== undefined) this.#delete(byId, service.id)
    if (byId !== undefined && byId.size === 0) this.#delete(this.#services, service.node)
    this.#unindexName(service, index, change)
    this.#servicesIndex = index
    change.tables.add('services')
  }

  /** Returns the stored check when it was written, undefined when unchanged. */
  #putCheck(index: number, input: CheckInput, change: ChangeSet): NodeCheck | undefined {
    const service = input.serviceId === '' ? undefined : this.service(input.node, input.serviceId)
    const check = this.#checkRecord(input.serviceId === '' ? input : {...input, serviceName: service?.service ?? '', serviceTags: service?.tags ?? EMPTY_LIST}, service, 0, 0)
    const byId = this.#checks.get(check.node) ?? new Map<string, NodeCheck>()
    this.#set(this.#checks, check.node, byId)
    const prior = byId.get(check.checkId)
    if (prior !== undefined && same(withoutIndexes(prior), withoutIndexes(check))) return undefined
    const stored = this.#checkRecord(check, service, prior?.createIndex ?? index, index)
    this.#set(byId, check.checkId, stored)
    this.#set(this.#checksVersions, check.node, index)
    this.#checksIndex = index
    change.tables.add('checks')
    if (prior !== undefined && prior.serviceName !== '' && prior.serviceName !== stored.serviceName) this.#touchService(index, prior.serviceName, stored.node, change)
    if (stored.serviceId !== '') this.#touchService(index, stored.serviceName, stored.node, change)
    else this.#touchServicesOfNode(index, stored.node, change)
    return stored
  }

  #deleteCheck(index: number, check: NodeCheck, change: ChangeSet, removed: Removed): void {
    const byId = this.#checks.get(check.node)
    if (byId !== undefined) this.#delete(byId, check.checkId)
    this.#set(this.#checksVersions, check.node, index)
    if (byId !== undefined && byId.size === 0) this.#delete(this.#checks, check.node)
    this.#checksIndex = index
    change.tables.add('checks')
    if (check.serviceId !== '') this.#touchService(index, check.serviceName, check.node, change)
    else this.#touchServicesOfNode(index, check.node, change)
    removed.checks.push({node: check.node, checkId: check.checkId})
  }

  dump(): CatalogDump {
    return {
      nodes: [...this.#nodes.values()],
      services: this.allServices(),
      checks: this.allChecks(),
      nodesIndex: this.#nodesIndex,
      servicesIndex: this.#servicesIndex,
      checksIndex: this.#checksIndex,
      serviceIndexes: [...this.#serviceIndexes.entries()],
    }
  }

  /** Loads a dump; records from snapshots older than services get the new fields' defaults. */
  static load(dump: CatalogDump): Catalog {
    const catalog = new Catalog()
    // Records are compacted as they are written (shared strings and empties, one key order).
    for (const node of dump.nodes) {
      catalog.#nodes.set(node.node, catalog.#nodeRecord({...node, taggedAddresses: node.taggedAddresses ?? {}, meta: node.meta ?? {}}, node.createIndex, node.modifyIndex))
    }
    for (const raw of dump.services ?? []) {
      const service = catalog.#serviceRecord(raw, raw.createIndex, raw.modifyIndex)
      const byId = catalog.#services.get(service.node) ?? new Map<string, CatalogService>()
      catalog.#services.set(service.node, byId)
      byId.set(service.id, service)
      const named = catalog.#byName.get(service.service) ?? new Set<CatalogService>()
      catalog.#byName.set(service.service, named)
      named.add(service)
      catalog.#countTags(service, 1)
    }
    for (const raw of dump.checks) {
      const input: CheckInput = {
        ...raw,
        serviceId: raw.serviceId ?? '', serviceName: raw.serviceName ?? '', serviceTags: raw.serviceTags ?? [],
        type: raw.type ?? '', interval: raw.interval ?? '', timeout: raw.timeout ?? '', definition: raw.definition ?? {},
      }
      // Share the bound instance's strings and tags when they match (they are kept in step).
      const bound = input.serviceId === '' ? undefined : catalog.service(raw.node, input.serviceId)
      const service = bound !== undefined && bound.service === input.serviceName && same(bound.tags, input.serviceTags) ? bound : undefined
      const check = catalog.#checkRecord(input, service, raw.createIndex, raw.modifyIndex)
      const byId = catalog.#checks.get(check.node) ?? new Map<string, NodeCheck>()
      catalog.#checks.set(check.node, byId)
      byId.set(check.checkId, check)
    }
    catalog.#nodesIndex = dump.nodesIndex
    catalog.#nodeLog.after = dump.nodesIndex
    catalog.#servicesIndex = dump.servicesIndex ?? 0
    catalog.#checksIndex = dump.checksIndex
    for (const [name, index] of dump.serviceIndexes ?? []) catalog.#serviceIndexes.set(name, index)
    return catalog
  }
}

/** The log's nodes after `index`, or undefined when it does not reach back that far. */
function changesSince(log: ServiceLog, index: number): string[] | undefined {
  if (index < log.after) return undefined
  let from = log.indexes.length
  while (from > 0 && log.indexes[from - 1] > index) from--
  return log.nodes.slice(from)
}

/** Notes that `node` changed at `index`; past `limit` entries the log starts over. */
function logChange(log: ServiceLog, limit: number, index: number, node: string): void {
  const last = log.nodes.length - 1
  if (last >= 0 && log.indexes[last] === index && log.nodes[last] === node) return
  if (log.nodes.length >= limit) {
    // Start over: a reader that saw the last logged index still finds every later change here.
    log.after = log.indexes[last]
    log.indexes = []
    log.nodes = []
  }
  log.indexes.push(index)
  log.nodes.push(node)
}

function withoutIndexes<T extends {createIndex: number; modifyIndex: number}>(record: T): Omit<T, 'createIndex' | 'modifyIndex'> {
  const {createIndex: _c, modifyIndex: _m, ...rest} = record
  return rest
}
