// Where one /v1 request runs, from its path and `?dc=` (pure; server.ts acts on the answer):
//   local       this agent's routes answer it
//   server      a client agent hands it whole to a server of its datacenter
//   datacenter  a server forwards it to a server of the named datacenter (dc-forward.ts)
//   no-path     500 "No path to datacenter": it already crossed a datacenter once, never twice
import {honorsDatacenter, runsOnAgent} from './agent-local-paths.js'

export type RequestRoute = 'local' | 'server' | 'datacenter' | 'no-path'

export interface RoutingAgent {
  /** This agent's datacenter (lower case, as the config keeps it). */
  datacenter: string
  /** A client agent: no state of its own, a server answers for it. */
  client: boolean
}

/** `dc` is the raw `?dc=` value ('' when absent); `fromDc` says another datacenter sent the request. */
export function routeRequest(path: string, dc: string, agent: RoutingAgent, fromDc = false): RequestRoute {
  const foreign = dc !== '' && dc.toLowerCase() !== agent.datacenter
  if (foreign && honorsDatacenter(path)) {
    if (agent.client) return 'server' // the server forwards it on: clients have no WAN pool
    return fromDc ? 'no-path' : 'datacenter'
  }
  if (agent.client && !runsOnAgent(path)) return 'server'
  return 'local'
}

/** True when `url` (path and query) names a datacenter other than `datacenter` with `?dc=`. */
export function namesOtherDatacenter(url: string, datacenter: string): boolean {
  const queryStart = url.indexOf('?')
  if (queryStart === -1) return false
  const dc = new URLSearchParams(url.slice(queryStart + 1)).get('dc') ?? ''
  return dc !== '' && dc.toLowerCase() !== datacenter
}

/**
 * The datacenter a write's JSON body sends it to, when that is not this one: Consul's catalog
 * register/deregister and coordinate update RPCs forward on their request's Datacenter, which the
 * body may set. A `?dc=` (already honoured by routeRequest) wins, as Consul's parseDC lets it.
 */
export function bodyDatacenter(body: unknown, queryDc: string, datacenter: string): string | undefined {
  if (queryDc !== '' || body === null || typeof body !== 'object') return undefined
  const named = (body as {Datacenter?: unknown}).Datacenter
  if (typeof named !== 'string' || named === '' || named.toLowerCase() === datacenter) return undefined
  return named.toLowerCase()
}
