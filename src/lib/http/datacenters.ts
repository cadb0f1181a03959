// The datacenters a server knows, from its WAN pool (Consul's router): every datacenter with a
// server member in it (left members excluded), and this one always. /v1/catalog/datacenters lists
// them by estimated median RTT from this server (WAN coordinates; coordinate/order.ts), and
// /v1/coordinate/datacenters shows the coordinates themselves.
import type {AgentDeps} from './context.js'
import {datacentersByDistance, type WanServer} from '../coordinate/order.js'
import type {Coordinate} from '../coordinate/coordinate.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type DatacentersDeps = AgentDeps<'config' | 'coordinates' | 'wanMembers'>


const LEFT = 3

export interface WanServerEntry extends WanServer {
  /** The server's node name (its WAN member name without `.<dc>`). */
  node: string
}

/** Server members of the WAN pool with their cached WAN coordinates; [] without a WAN pool. */
export function wanServers(agent: DatacentersDeps): WanServerEntry[] {
  const wan = agent.coordinates?.wan
  const out: WanServerEntry[] = []
  for (const m of agent.wanMembers?.() ?? []) {
    const dc = m.Tags.dc
    if (m.Status === LEFT || m.Tags.role !== 'consul' || !dc) continue
    const node = m.Name.endsWith(`.${dc}`) ? m.Name.slice(0, -dc.length - 1) : m.Name
    out.push({node, datacenter: dc, coordinate: wan?.cached(m.Name)})
  }
  return out
}

/** GET /v1/catalog/datacenters: known datacenters, nearest first (ties by name). */
export function knownDatacenters(agent: DatacentersDeps): string[] {
  const own: Coordinate | undefined = agent.coordinates?.wan?.own
  return datacentersByDistance(agent.config.datacenter, own, wanServers(agent))
}
