// DnsCatalog over the agent's replicated state: a server answers DNS from its own
// state machine after the read barrier dns_config asks for. allow_stale (Consul's default) reads
// locally unless the server is more than max_stale behind, then, as Consul re-asks without
// AllowStale, falls back to a leader read.
//
// A client agent has no state of its own: it reads through a server (remote-catalog.ts). Other
// datacenters are not in this state: their questions go to `otherDatacenters` (a RemoteDnsCatalog
// over the agent's own request pipeline, which forwards `?dc=` to a server there); without it, as
// on a server outside any WAN pool, they are unknown (NXDOMAIN).
import type {Consensus} from '../consensus.js'
import type {StateMachine} from '../state/state-machine.js'
import type {CatalogNode, NodeCheck} from '../state/types.js'
import type {Catalog} from '../state/catalog.js'
import {UnknownDatacenterError, type CatalogReadOptions, type DnsCatalog, type InstanceHealth, type NodeRecord, type QueryAnswer, type ServiceInstance} from './catalog.js'

const rank: Record<InstanceHealth, number> = {passing: 0, warning: 1, critical: 2}

/** The worst status among checks (none = passing), as Consul's AggregatedStatus. */
function worst(checks: readonly NodeCheck[]): InstanceHealth {
  let status: InstanceHealth = 'passing'
  for (const check of checks) if (rank[check.status] > rank[status]) status = check.status
  return status
}

/** Services whose instance lists are kept between catalog changes; beyond it the cache restarts. */
const maxCachedServices = 1024

export class StateDnsCatalog implements DnsCatalog {
  /**
   * service name → its instances as of the service's own index (catalog.ts: it moves on every change
   * to an instance, its checks, its node or its node's checks), so equal indexes = same list, and a
   * write to another service leaves this one's list cached. A DNS answer for a service of 1000
   * instances would otherwise rebuild 1000 records per query. When the index moves, the catalog's
   * change log (catalog.ts serviceChangesSince) names the nodes that changed, and only their
   * instances are built again (a 3,600-instance list is not rebuilt for one check).
   */
  readonly #cache = new Map<string, {catalog: Catalog; version: number; instances: ServiceInstance[]}>()

  constructor(
    private readonly state: StateMachine, private readonly consensus: Pick<Consensus, 'readBarrier'>, private readonly datacenter: string,
    private readonly otherDatacenters?: DnsCatalog,
  ) {}

  /** The catalog that answers for another datacenter; undefined for this one. */
  #elsewhere(opts: CatalogReadOptions): DnsCatalog | undefined {
    if (opts.datacenter.toLowerCase() === this.datacenter.toLowerCase()) return undefined
    if (!this.otherDatacenters) throw new UnknownDatacenterError(opts.datacenter)
    return this.otherDatacenters
  }

  async #barrier(opts: CatalogReadOptions): Promise<void> {
    if (opts.allowStale) {
      try {
        await this.consensus.readBarrier('stale', opts.maxStaleMs)
        return
      } catch {
        // Too stale (or no leader known yet): ask for a leader read, as Consul re-requests.
      }
    }
    await this.consensus.readBarrier('leader', 0)
  }

  /** Exact name first (the common case), else a case-insensitive match: DNS names are lower case. */
  #serviceName(name: string): string | undefined {
    const catalog = this.state.catalog
    if (catalog.hasService(name)) return name
    const lower = name.toLowerCase()
    return catalog.serviceNames().find((n) => n.toLowerCase() === lower)
  }

  #node(name: string): CatalogNode | undefined {
    const catalog = this.state.catalog
    const exact = catalog.node(name)
    if (exact) return exact
    return catalog.nodeIgnoringCase(name)
  }

  /**
   * Prepared queries run through the agent's own /v1/query/<name>/execute (the pipeline catalog):
   * resolution, templates and datacenter failover live there once. No pipeline: no query (NXDOMAIN).
   */
  async executeQuery(nameOrId: string, opts: CatalogReadOptions): Promise<QueryAnswer | undefined> {
    if (!this.otherDatacenters?.executeQuery) throw new UnknownDatacenterError(opts.datacenter)
    return this.otherDatacenters.executeQuery(nameOrId, opts)
  }

  async serviceInstances(service: string, opts: CatalogReadOptions): Promise<ServiceInstance[]> {
    const elsewhere = this.#elsewhere(opts)
    if (elsewhere) return elsewhere.serviceInstances(service, opts)
    await this.#barrier(opts)
    const name = this.#serviceName(service)
    if (name === undefined) return []
    const catalog = this.state.catalog
    const version = this.state.serviceIndex(name)
    const cached = this.#cache.get(name)
    // A copy: callers shuffle what they get.
    if (cached && cached.catalog === catalog && cached.version === version) return [...cached.instances]
    const changed = cached && cached.catalog === catalog && version > cached.version ? catalog.serviceChangesSince(name, cached.version) : undefined
    let instances: ServiceInstance[]
    if (cached && changed !== undefined) {
      instances = cached.instances
      for (const node of new Set(changed)) this.#replaceNode(instances, node, this.#instancesOn(catalog, node, name))
    } else {
      instances = catalog.instances(name).flatMap((instance) => this.#instancesOn(catalog, instance.node, name, instance.id))
    }
    if (this.#cache.size >= maxCachedServices && !this.#cache.has(name)) this.#cache.clear()
    this.#cache.set(name, {catalog, version, instances})
    return [...instances]
  }

  /** The instances of `name` on `node` (only `id` when given), ordered by ID, as DNS answers use them. */
  #instancesOn(catalog: Catalog, nodeName: string, name: string, id?: string): ServiceInstance[] {
    const node = catalog.node(nodeName)
    if (!node) return []
    const services = id === undefined ? catalog.nodeInstances(nodeName, name) : [catalog.service(nodeName, id)!]
    return services.map((instance) => ({
      node: node.node, nodeAddress: node.address, datacenter: node.datacenter || this.datacenter,
      serviceId: instance.id, service: instance.service, serviceAddress: instance.address, port: instance.port,
      // Node-level checks (serfHealth, maintenance) count for every service on the node.
      tags: instance.tags, health: worst(catalog.instanceChecks(nodeName, instance.id)),
      weights: {passing: instance.weights?.Passing ?? 1, warning: instance.weights?.Warning ?? 1},
    }))
  }

  /** Replaces `node`'s instances in the list (ordered by node, then ID) with `fresh`. */
  #replaceNode(list: ServiceInstance[], node: string, fresh: ServiceInstance[]): void {
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (list[mid].node < node) lo = mid + 1
      else hi = mid
    }
    let end = lo
    while (end < list.length && list[end].node === node) end++
    list.splice(lo, end - lo, ...fresh)
  }

  async node(name: string, opts: CatalogReadOptions): Promise<NodeRecord | undefined> {
    const elsewhere = this.#elsewhere(opts)
    if (elsewhere) return elsewhere.node(name, opts)
    await this.#barrier(opts)
    const node = this.#node(name)
    return node && {node: node.node, address: node.address, datacenter: node.datacenter || this.datacenter, meta: node.meta ?? {}}
  }

  async nodes(opts: CatalogReadOptions): Promise<NodeRecord[]> {
    const elsewhere = this.#elsewhere(opts)
    if (elsewhere) return elsewhere.nodes(opts)
    await this.#barrier(opts)
    return this.state.catalog.nodes().map((n) => ({node: n.node, address: n.address, datacenter: n.datacenter || this.datacenter, meta: n.meta ?? {}}))
  }
}
