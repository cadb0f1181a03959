// The WAN gossip pool of a server (Consul's serf WAN): a second pool on bind_addr:ports.serf_wan,
// member name `<node>.<dc>`, memberlist's WAN timing with the `gossip_wan` block's overrides, seeds
// from -join-wan / -retry-join-wan (host[:port], the serf WAN port by default), its snapshot in
// <data_dir>/serf/remote.snapshot. Clients have no WAN pool. Its members are the servers of every
// datacenter joined to it; /v1/agent/members?wan and /v1/catalog/datacenters read them.
import {startGossipPool, memberTags, type LanGossip} from './gossip.js'
import {gossipConfigFor} from './gossip-timing.js'
import type {AgentConfig} from './config.js'
import type {Logger} from '../logger.js'
import type {GossipKeyring} from './gossip-keyring.js'

export type WanGossip = LanGossip

export interface WanGossipOptions {
  config: AgentConfig
  nodeId: string
  version: string
  serverPort: number
  log: Logger
  onFatal?: (error: Error) => void
  /** The WAN keyring (serf/remote.keyring); null or absent: unencrypted. */
  keyring?: GossipKeyring | null
}

/** `<node>.<dc>`: the WAN member name of a server. */
export function wanMemberName(config: Pick<AgentConfig, 'nodeName' | 'datacenter'>): string {
  return `${config.nodeName}.${config.datacenter}`
}

/** WAN seeds: host[:port], the serf WAN port (this agent's, when fixed; else 8302) when omitted. */
export function wanSeeds(addresses: readonly string[], serfWanPort: number): string[] {
  const port = serfWanPort > 0 ? serfWanPort : 8302
  return [...new Set(addresses.map((a) => {
    if (/^\[.*\]:\d+$/.test(a) || /^[^:]+:\d+$/.test(a)) return a
    if (a.includes(':') && !a.startsWith('[')) return `[${a}]:${port}`
    return `${a}:${port}`
  }))]
}

export async function startWanGossip(opts: WanGossipOptions): Promise<WanGossip> {
  const {config} = opts
  const {segment: _segment, ...tags} = memberTags(config, opts.nodeId, opts.version, opts.serverPort)
  return startGossipPool({
    pool: 'WAN', name: wanMemberName(config), bindPort: config.ports.serfWan, gossip: gossipConfigFor('wan', config.gossipWan),
    tags, startSeeds: wanSeeds(config.startJoinWan, config.ports.serfWan),
    retrySeeds: wanSeeds(config.retryJoinWan.filter((a) => !config.startJoinWan.includes(a)), config.ports.serfWan),
    retryIntervalMs: config.retryIntervalWanMs, retryMax: config.retryMaxWan,
    snapshotFile: 'remote.snapshot', config, log: opts.log, onFatal: opts.onFatal, keyring: opts.keyring,
    bindAddress: config.serfWanBind, advertiseAddress: config.advertiseAddrWan, allowedCidrs: config.serfWanAllowedCidrs,
  })
}

/**
 * Consul's flood join: every server of our datacenter that the LAN pool shows alive is joined into
 * the WAN pool at its `wan_join_port`, so the servers of one datacenter find each other in the WAN
 * without -join-wan (only one server per datacenter needs a WAN seed). Driven by LAN member events
 * plus one pass at start; at most one join in flight per member. Returns the unsubscribe function.
 */
export function floodJoinWan(lan: LanGossip, wan: WanGossip, config: Pick<AgentConfig, 'nodeName' | 'datacenter'>, log: Logger): () => void {
  const inFlight = new Set<string>()
  const consider = (m: {name: string; address: string; state: string; tags: Readonly<Record<string, string>>}) => {
    if (m.name === config.nodeName || m.state !== 'alive' || m.tags.role !== 'consul' || m.tags.dc !== config.datacenter) return
    const port = Number(m.tags.wan_join_port)
    if (!Number.isInteger(port) || port < 1 || port > 65535) return
    const wanName = `${m.name}.${config.datacenter}`
    const known = wan.node.member(wanName)
    if ((known && known.state !== 'failed' && known.state !== 'left') || inFlight.has(wanName)) return
    inFlight.add(wanName)
    const address = m.address.includes(':') ? `[${m.address}]:${port}` : `${m.address}:${port}`
    wan.join([address]).then(
      () => log.debug('serf: flood-joined a LAN server into the WAN pool', {member: wanName, address}),
      (error: Error) => log.debug('serf: flood join failed', {member: wanName, address, error: error.message}),
    ).finally(() => inFlight.delete(wanName))
  }
  for (const m of lan.node.members()) consider(m)
  return lan.node.on('member', (event) => {
    if (event.type === 'joined' || event.type === 'updated') consider(event.member)
  })
}
