// DnsCatalog for an agent without the replicated state (a client agent): reads a server's
// /v1/health/service and /v1/catalog/node(s) answers through `get`, which the agent builds on its
// forwarding to servers (clients branch: `(url) => getFromServer(forward, url)`). allow_stale maps
// to `?stale`, as Consul's DNS reads with AllowStale.
import {UnknownDatacenterError, type CatalogReadOptions, type DnsCatalog, type InstanceHealth, type NodeRecord, type ServiceInstance} from './catalog.js'

/** GET a /v1 path on a server: parsed JSON on 200, undefined on 404, throws otherwise. */
export type ServerGet = (url: string) => Promise<unknown>

interface WireNode {Node: string; Address: string; Datacenter?: string; Meta?: Record<string, string> | null}
interface WireServiceEntry {
  Node: WireNode
  Service: {ID: string; Service: string; Tags?: string[] | null; Address?: string; Port: number; Weights?: {Passing: number; Warning: number}}
  Checks?: Array<{Status: string}> | null
}

const rank: Record<string, number> = {passing: 0, warning: 1, critical: 2, maintenance: 2}

export class RemoteDnsCatalog implements DnsCatalog {
  constructor(private readonly get: ServerGet, private readonly datacenter: string) {}

  #query(opts: CatalogReadOptions): string {
    if (opts.datacenter.toLowerCase() !== this.datacenter.toLowerCase()) throw new UnknownDatacenterError(opts.datacenter)
    return opts.allowStale ? '?stale' : ''
  }

  #node(wire: WireNode): NodeRecord {
    return {node: wire.Node, address: wire.Address, datacenter: wire.Datacenter || this.datacenter, meta: wire.Meta ?? {}}
  }

  async serviceInstances(service: string, opts: CatalogReadOptions): Promise<ServiceInstance[]> {
    const entries = (await this.get(`/v1/health/service/${encodeURIComponent(service)}${this.#query(opts)}`) ?? []) as WireServiceEntry[]
    return entries.map((entry) => {
      let health: InstanceHealth = 'passing'
      for (const check of entry.Checks ?? []) {
        if ((rank[check.Status] ?? 2) > rank[health]) health = check.Status === 'warning' ? 'warning' : 'critical'
      }
      return {
        node: entry.Node.Node, nodeAddress: entry.Node.Address, datacenter: entry.Node.Datacenter || this.datacenter,
        serviceId: entry.Service.ID, service: entry.Service.Service, serviceAddress: entry.Service.Address ?? '',
        port: entry.Service.Port, tags: entry.Service.Tags ?? [], health,
        weights: {passing: entry.Service.Weights?.Passing ?? 1, warning: entry.Service.Weights?.Warning ?? 1},
      }
    })
  }

  async node(name: string, opts: CatalogReadOptions): Promise<NodeRecord | undefined> {
    const answer = await this.get(`/v1/catalog/node/${encodeURIComponent(name)}${this.#query(opts)}`) as {Node?: WireNode} | null | undefined
    return answer?.Node ? this.#node(answer.Node) : undefined
  }

  async nodes(opts: CatalogReadOptions): Promise<NodeRecord[]> {
    const answer = (await this.get(`/v1/catalog/nodes${this.#query(opts)}`) ?? []) as WireNode[]
    return answer.map((n) => this.#node(n))
  }
}
