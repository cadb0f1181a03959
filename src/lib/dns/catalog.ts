// What the DNS interface reads from the catalog. The agent adapts its state to this
// interface; tests use MemoryDnsCatalog. Calls are async because on a client agent, or with
// allow_stale off, a read may have to go to a server.
//
// Contract for implementations:
// - Names compare case-insensitively (DNS lower-cases nothing for us, Consul's catalog indexes
//   service and node names lower-case).
// - `serviceInstances` returns every instance of the service in that datacenter, unfiltered:
//   the resolver filters by tag and health itself, so every adapter behaves the same.
// - An unknown datacenter throws UnknownDatacenterError (answered NXDOMAIN, as Consul's
//   "no path to datacenter"); any other error is answered SERVFAIL.

export type InstanceHealth = 'passing' | 'warning' | 'critical'

export interface ServiceInstance {
  node: string
  /** Node address: an IP, or a host name for external services. */
  nodeAddress: string
  datacenter: string
  serviceId: string
  service: string
  /** '' when the service uses its node's address. */
  serviceAddress: string
  port: number
  tags: readonly string[]
  /** Aggregated over the node's checks and the service's checks (critical > warning > passing). */
  health: InstanceHealth
  /** SRV weights (Consul's Weights); both default to 1. */
  weights?: {passing: number; warning: number}
}

export interface NodeRecord {
  node: string
  address: string
  datacenter: string
  meta?: Readonly<Record<string, string>>
}

export interface CatalogReadOptions {
  datacenter: string
  /** dns_config.allow_stale: any server may answer from its own state. */
  allowStale: boolean
  maxStaleMs: number
}

/** A prepared query's answer for DNS: its instances, the datacenter they came from, and the query's TTL. */
export interface QueryAnswer {
  instances: ServiceInstance[]
  datacenter: string
  /** The query's DNS TTL in seconds; undefined when it sets none (the service TTL applies). */
  ttlSec?: number
  /** The service the query looked up (for the service TTL). */
  service: string
}

export interface DnsCatalog {
  serviceInstances(service: string, opts: CatalogReadOptions): Promise<ServiceInstance[]>
  /**
   * Executes the prepared query `nameOrId` in `opts.datacenter` (its failover included);
   * undefined when no query matches. Absent on catalogs that cannot run queries (test doubles).
   */
  executeQuery?(nameOrId: string, opts: CatalogReadOptions): Promise<QueryAnswer | undefined>
  node(name: string, opts: CatalogReadOptions): Promise<NodeRecord | undefined>
  /** Every node of the datacenter (reverse lookups). */
  nodes(opts: CatalogReadOptions): Promise<NodeRecord[]>
}

export class UnknownDatacenterError extends Error {
  readonly code = 'DNS_UNKNOWN_DATACENTER'
  constructor(datacenter: string) {
    super(`no path to datacenter ${datacenter}`)
  }
}

/** An in-memory catalog of one datacenter: for tests, benchmarks and agents without a catalog yet. */
export class MemoryDnsCatalog implements DnsCatalog {
  readonly #nodes = new Map<string, NodeRecord>()
  #instances: ServiceInstance[] = []

  constructor(readonly datacenter = 'dc1') {}

  addNode(node: Omit<NodeRecord, 'datacenter'>): this {
    this.#nodes.set(node.node.toLowerCase(), {...node, datacenter: this.datacenter})
    return this
  }

  /** Adds an instance; its node is added too (from `node`/`nodeAddress`) when not known yet. */
  addInstance(instance: Omit<ServiceInstance, 'datacenter' | 'service' | 'serviceAddress' | 'tags' | 'health'> &
    Partial<Pick<ServiceInstance, 'service' | 'serviceAddress' | 'tags' | 'health'>>): this {
    const full: ServiceInstance = {
      service: instance.serviceId, serviceAddress: '', tags: [], health: 'passing', ...instance, datacenter: this.datacenter,
    }
    this.#instances.push(full)
    if (!this.#nodes.has(full.node.toLowerCase())) this.addNode({node: full.node, address: full.nodeAddress})
    return this
  }

  setHealth(serviceId: string, node: string, health: InstanceHealth): void {
    this.#instances = this.#instances.map((i) => (i.serviceId === serviceId && i.node === node ? {...i, health} : i))
  }

  #check(opts: CatalogReadOptions): void {
    if (opts.datacenter.toLowerCase() !== this.datacenter) throw new UnknownDatacenterError(opts.datacenter)
  }

  async serviceInstances(service: string, opts: CatalogReadOptions): Promise<ServiceInstance[]> {
    this.#check(opts)
    const name = service.toLowerCase()
    return this.#instances.filter((i) => i.service.toLowerCase() === name)
  }

  async node(name: string, opts: CatalogReadOptions): Promise<NodeRecord | undefined> {
    this.#check(opts)
    return this.#nodes.get(name.toLowerCase())
  }

  async nodes(opts: CatalogReadOptions): Promise<NodeRecord[]> {
    this.#check(opts)
    return [...this.#nodes.values()]
  }
}
