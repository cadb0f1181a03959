// DnsCatalog read through the HTTP API: a server's /v1/health/service and /v1/catalog/node(s)
// answers through `get`. A client agent (no replicated state) reads every datacenter this way, over
// its forwarding to servers (`(url) => getFromServer(forward, url)`); a server reads only other
// datacenters this way, through its own request pipeline. Another datacenter is named with `?dc=`,
// so the read takes the path any `?dc=` request takes (a server of this datacenter forwards it to
// one of that datacenter, request-route.ts): Consul's DNS asks its server with the RPC's Datacenter.
// allow_stale maps to `?stale`, as Consul's DNS reads with AllowStale.
import {NO_PATH_TO_DC, errorCode} from '../errors.js'
import {UnknownDatacenterError, type CatalogReadOptions, type DnsCatalog, type InstanceHealth, type NodeRecord, type QueryAnswer, type ServiceInstance} from './catalog.js'
import {parseDuration} from '../duration.js'

/** GET a /v1 path on a server: parsed JSON on 200, undefined on 404, throws otherwise. */
export type ServerGet = (url: string) => Promise<unknown>

interface WireNode {Node: string; Address: string; Datacenter?: string; Meta?: Record<string, string> | null}
interface WireServiceEntry {
  Node: WireNode
  Service: {ID: string; Service: string; Tags?: string[] | null; Address?: string; Port: number; Weights?: {Passing: number; Warning: number}}
  Checks?: Array<{Status: string}> | null
}

const rank: Record<string, number> = {passing: 0, warning: 1, critical: 2, maintenance: 2}

/**
 * How long a read of another datacenter may take before the question answers SERVFAIL. The HTTP
 * hop allows 35 s (it covers a leaderless remote); a DNS client has retried or given up long before.
 */
export const FOREIGN_READ_TIMEOUT_MS = 5_000

export class RemoteDnsCatalog implements DnsCatalog {
  constructor(private readonly get: ServerGet, private readonly datacenter: string, private readonly foreignTimeoutMs = FOREIGN_READ_TIMEOUT_MS) {}

  /** GET `path` in the datacenter `opts` names; "No path to datacenter" (unknown or unreachable) → UnknownDatacenterError. */
  async #read(path: string, opts: CatalogReadOptions): Promise<unknown> {
    const foreign = opts.datacenter.toLowerCase() !== this.datacenter.toLowerCase()
    const query = [opts.allowStale ? 'stale' : '', foreign ? `dc=${encodeURIComponent(opts.datacenter.toLowerCase())}` : ''].filter(Boolean).join('&')
    const reading = this.get(query === '' ? path : `${path}?${query}`)
    try {
      return foreign ? await withTimeout(reading, this.foreignTimeoutMs, `datacenter ${opts.datacenter} did not answer within ${this.foreignTimeoutMs} ms`) : await reading
    } catch (error) {
      // Consul answers its ErrNoDCPath with NXDOMAIN, any other failure with SERVFAIL.
      if (errorCode(error) === NO_PATH_TO_DC) throw new UnknownDatacenterError(opts.datacenter)
      throw error
    }
  }

  #node(wire: WireNode): NodeRecord {
    return {node: wire.Node, address: wire.Address, datacenter: wire.Datacenter || this.datacenter, meta: wire.Meta ?? {}}
  }

  async serviceInstances(service: string, opts: CatalogReadOptions): Promise<ServiceInstance[]> {
    const entries = (await this.#read(`/v1/health/service/${encodeURIComponent(service)}`, opts) ?? []) as WireServiceEntry[]
    return this.#instances(entries)
  }

  /** GET /v1/query/<name>/execute (404 "Query not found" → undefined); the server runs the failover. */
  async executeQuery(nameOrId: string, opts: CatalogReadOptions): Promise<QueryAnswer | undefined> {
    const answer = await this.#read(`/v1/query/${encodeURIComponent(nameOrId)}/execute`, opts) as
      {Service?: string; Nodes?: WireServiceEntry[] | null; Datacenter?: string; DNS?: {TTL?: string}} | null | undefined
    if (!answer) return undefined
    let ttlSec: number | undefined
    if (answer.DNS?.TTL) {
      try {
        ttlSec = Math.floor(parseDuration(answer.DNS.TTL) / 1000)
      } catch {
        ttlSec = undefined
      }
    }
    return {instances: this.#instances(answer.Nodes ?? []), datacenter: answer.Datacenter || opts.datacenter, ttlSec, service: answer.Service ?? ''}
  }

  #instances(entries: WireServiceEntry[]): ServiceInstance[] {
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
    const answer = await this.#read(`/v1/catalog/node/${encodeURIComponent(name)}`, opts) as {Node?: WireNode} | null | undefined
    return answer?.Node ? this.#node(answer.Node) : undefined
  }

  async nodes(opts: CatalogReadOptions): Promise<NodeRecord[]> {
    const answer = (await this.#read('/v1/catalog/nodes', opts) ?? []) as WireNode[]
    return answer.map((n) => this.#node(n))
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}
