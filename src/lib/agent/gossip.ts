// The agent's gossip pools. LAN: one GossipNode (lib/gossip) on bind_addr:ports.serf_lan, advertised
// as advertise_addr, named after the node, with the tags Consul's members show; it joins the -join
// hosts at start and the -retry-join hosts in the background (gossip-join.ts), rejoins the members
// of its snapshot after a restart (member-snapshot.ts), feeds servers it sees to Raft discovery,
// and renders its member list as /v1/agent/members does. The WAN pool (gossip-wan.ts) is the same
// pool machinery (startGossipPool) on ports.serf_wan.
import {join} from 'node:path'
import {GossipNode, DEFAULT_GOSSIP_PORT} from '../gossip/node.js'
import type {GossipConfig} from '../gossip/config.js'
import {startJoin, startRetryJoin} from './gossip-join.js'
import {gossipConfigFor} from './gossip-timing.js'
import {MemberSnapshotter, loadMemberSnapshot, snapshotAddresses} from './member-snapshot.js'
import {ACK_PAYLOAD_TAG, type Member, type MemberState, type Tags} from '../gossip/types.js'
import type {AgentMember as MemberInfo} from '../api/agent.js'
import type {AgentConfig} from './config.js'
import type {Logger} from '../logger.js'
import type {GossipKeyring} from './gossip-keyring.js'
import {serveKeyringQueries} from './keyring-ops.js'
import {writeAllowList} from './http-config.js'

/** Serf member status numbers (Consul docs: api-docs/agent). A suspect member is still `alive` to serf. */
const STATUS: Record<MemberState, number> = {alive: 1, suspect: 1, leaving: 2, left: 3, failed: 4}

export interface LanGossip {
  node: GossipNode
  /** Every member, this agent first, as /v1/agent/members renders them. */
  members(): MemberInfo[]
  /** Push-pull with each address ("host[:port]", port 8301 when omitted); rejects when none answered. */
  join(addresses: string[]): Promise<number>
  /** Graceful leave (peers see `left`); resolves once it is spread or timed out. */
  leave(): Promise<void>
  /** False when no member has that name. */
  forceLeave(name: string, prune: boolean): boolean
  close(): Promise<void>
}

export interface LanGossipOptions {
  config: AgentConfig
  nodeId: string
  version: string
  /** Server RPC port (the `port` tag). */
  serverPort: number
  log: Logger
  /** A server (role `consul`) is alive at `address` (its RPC host:port). */
  onServer?: (info: {id: string; name: string; address: string}) => void
  /** Retry-join gave up (retry_max): the agent must exit with this error. */
  onFatal?: (error: Error) => void
  /** The LAN keyring (gossip-keyring.ts); null or absent: unencrypted gossip. */
  keyring?: GossipKeyring | null
}

export function memberTags(config: AgentConfig, nodeId: string, version: string, serverPort: number): Tags {
  const tags: Record<string, string> = {
    acls: '0', build: `${version}:coord`, dc: config.datacenter, ft_fs: '1', ft_si: '1', id: nodeId,
    role: config.server ? 'consul' : 'node', segment: '', vsn: '2', vsn_max: '3', vsn_min: '2',
  }
  // Our acks carry our coordinate, and we decode theirs (gossip/types.ts ACK_PAYLOAD_TAG).
  if (!config.coordinates.disabled) tags[ACK_PAYLOAD_TAG] = '1'
  if (config.server) {
    Object.assign(tags, {port: String(serverPort), raft_vsn: '3', wan_join_port: String(config.ports.serfWan)})
    if (config.bootstrap || config.bootstrapExpect === 1) tags.bootstrap = '1'
    else if (config.bootstrapExpect > 1) tags.expect = String(config.bootstrapExpect)
  }
  return tags
}

export function toMemberInfo(m: Pick<Member, 'name' | 'address' | 'port' | 'tags' | 'state'>): MemberInfo {
  return {
    Name: m.name, Addr: m.address, Port: m.port, Tags: {...m.tags}, Status: STATUS[m.state] ?? 0,
    ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  }
}

/**
 * Gossip seeds from -retry-join/-join. Those addresses are server RPC addresses today (host, or
 * host:port where the port is the RPC port, kept for Raft discovery); gossip uses only the HOST,
 * at this agent's own serf LAN port when it is configured to a fixed one (ports.serf_lan applies
 * to every agent of the pool), else Consul's default 8301.
 */
export function gossipSeeds(retryJoin: readonly string[], serfLanPort: number): string[] {
  const port = serfLanPort > 0 ? serfLanPort : DEFAULT_GOSSIP_PORT
  const seeds = retryJoin.map((address) => {
    const bracketed = /^\[(.+)\](?::\d+)?$/.exec(address)
    const host = bracketed ? bracketed[1] : /^[^:]+(?::\d+)?$/.test(address) ? address.replace(/:\d+$/, '') : address
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  })
  return [...new Set(seeds)]
}

export async function startLanGossip(opts: LanGossipOptions): Promise<LanGossip> {
  const {config, log} = opts
  const pool = await startGossipPool({
    pool: 'LAN', name: config.nodeName, bindPort: config.ports.serfLan, gossip: gossipConfigFor('lan', config.gossipLan),
    tags: memberTags(config, opts.nodeId, opts.version, opts.serverPort),
    startSeeds: gossipSeeds(config.startJoin, config.ports.serfLan),
    retrySeeds: gossipSeeds(config.retryJoin.filter((a) => !config.startJoin.includes(a)), config.ports.serfLan),
    retryIntervalMs: config.retryIntervalMs, retryMax: config.retryMax,
    snapshotFile: 'local.snapshot', config, log, onFatal: opts.onFatal, keyring: opts.keyring,
    bindAddress: config.serfLanBind, advertiseAddress: config.advertiseAddr, allowedCidrs: config.serfLanAllowedCidrs,
  })
  const noteServer = (m: Member) => {
    if (m.state !== 'alive' || m.tags.role !== 'consul' || !m.tags.port || !m.tags.id || !opts.onServer) return
    const host = m.address.includes(':') ? `[${m.address}]` : m.address
    opts.onServer({id: m.tags.id, name: m.name, address: `${host}:${m.tags.port}`})
  }
  pool.node.on('member', (event) => {
    if (event.member.name !== config.nodeName && (event.type === 'joined' || event.type === 'updated')) noteServer(event.member)
  })
  return pool
}

export interface GossipPoolOptions {
  pool: 'LAN' | 'WAN'
  /** Member name: the node name (LAN), `<node>.<dc>` (WAN). */
  name: string
  bindPort: number
  gossip: GossipConfig
  tags: Tags
  /** `-join` seeds: joined before start returns; start fails when none answers. */
  startSeeds: string[]
  /** `-retry-join` seeds: joined in the background every retryIntervalMs, at most retryMax failures (0: forever). */
  retrySeeds: string[]
  retryIntervalMs: number
  retryMax: number
  /** Member snapshot file under <data_dir>/serf/ (none in -dev without a data dir). */
  snapshotFile: string
  config: AgentConfig
  log: Logger
  /** Retry-join gave up: the agent must exit with this error. */
  onFatal?: (error: Error) => void
  /** The pool's bind and advertised addresses (serf_lan / serf_wan, advertise_addr / advertise_addr_wan). */
  bindAddress: string
  advertiseAddress: string
  /** serf_*_allowed_cidrs: gossip from other networks is dropped ([] = from anywhere). */
  allowedCidrs: readonly string[]
  /** The pool's keyring (gossip-keyring.ts); null or absent: unencrypted gossip. */
  keyring?: GossipKeyring | null
}

/**
 * One gossip pool of the agent: a GossipNode on bind_addr:bindPort, its member snapshot (rejoin
 * after a restart), -join at start, -retry-join in the background, and member event logs.
 */
export async function startGossipPool(o: GossipPoolOptions): Promise<LanGossip> {
  const {config, log} = o
  const node = new GossipNode({
    name: o.name, bindAddress: o.bindAddress, bindPort: o.bindPort,
    advertiseAddress: o.advertiseAddress, tags: o.tags, config: o.gossip, acceptFrom: writeAllowList(o.allowedCidrs),
    // Starts above any incarnation a previous life of this node used, so a restart is believed at once.
    incarnation: Math.floor(Date.now() / 1000),
    log, cipher: o.keyring?.cipher ?? null, metricLabels: {network: o.pool.toLowerCase()},
  })
  serveKeyringQueries(node, o.keyring ?? null, (op, result) => {
    if (result.Result) log.info(`serf: Received ${op}-key query`, {primary: result.PrimaryKey === '' ? undefined : `${result.PrimaryKey.slice(0, 6)}…`})
    else log.error(`serf: ${op}-key query failed`, {error: result.Message})
  })
  let port: number
  try {
    port = await node.start()
  } catch (error) {
    await node.close()
    throw new Error(`Error starting the serf ${o.pool} listener on ${o.bindAddress}:${o.bindPort}: ${(error as Error).message}`)
  }
  log.info(`serf: ${o.pool} gossip started`, {address: `${o.advertiseAddress}:${port}`, bind: o.bindAddress, name: o.name})

  node.on('member', (event) => {
    const m = event.member
    if (m.name === o.name) return
    if (event.type === 'joined') log.info('serf: EventMemberJoin', {member: m.name, address: `${m.address}:${m.port}`})
    else if (event.type === 'failed') log.info('serf: EventMemberFailed', {member: m.name})
    else if (event.type === 'left') log.info('serf: EventMemberLeave', {member: m.name})
    else if (event.type === 'reaped') log.info('serf: EventMemberReap', {member: m.name})
  })

  // The snapshot of the previous life decides whom to rejoin; then it tracks this one.
  let snapshotter: MemberSnapshotter | undefined
  let rejoin: string[] = []
  if (config.dataDir) try {
    const path = join(config.dataDir, 'serf', o.snapshotFile)
    const previous = loadMemberSnapshot(path, log)
    if (previous?.left && !config.rejoinAfterLeave) log.info('serf: left gracefully last time; not rejoining the previous cluster (-rejoin to change)', {path})
    else if (previous) rejoin = snapshotAddresses(previous)
    snapshotter = new MemberSnapshotter({path, selfName: o.name, members: () => node.members(), log})
    // A rejoin keeps the old file until members arrive (a crash meanwhile loses nothing); a left
    // one is cleared now, so the next restart rejoins whatever this life joins.
    if (previous?.left && !config.rejoinAfterLeave) snapshotter.write(false)
    node.on('member', (event) => snapshotter?.onEvent(event))
  } catch (error) {
    // The pool's sockets are open: closed, so a refused start exits (e.g. serf/ is a file).
    await node.close()
    throw error
  }

  try {
    await startJoin(o.pool, o.startSeeds, (seeds) => node.join(seeds), log)
  } catch (error) {
    snapshotter?.close()
    await node.close()
    throw error
  }
  if (rejoin.length > 0) {
    // serf's rejoin: one pass over the members known before the restart; -retry-join keeps trying.
    log.info('serf: attempting re-join to previously known members', {pool: o.pool, members: rejoin.length})
    node.join(rejoin).then(
      (n) => log.info('serf: re-joined previously known members', {pool: o.pool, contacted: n}),
      (error: Error) => log.warn('serf: failed to re-join any previously known member', {pool: o.pool, error: error.message}),
    )
  }
  const retry = startRetryJoin({
    pool: o.pool, seeds: o.retrySeeds, join: (seeds) => node.join(seeds), intervalMs: o.retryIntervalMs, max: o.retryMax, log,
    onExhausted: (error) => o.onFatal?.(error),
  })

  return {
    node,
    members: () => {
      const all = node.members()
      const self = all.filter((m) => m.name === o.name)
      const others = all.filter((m) => m.name !== o.name)
      return [...self, ...others].map(toMemberInfo)
    },
    join: (addresses) => node.join(addresses),
    leave: async () => {
      retry.stop()
      // Alone in the pool (a single server's WAN pool, say): nobody to tell, no need to wait.
      const alone = !node.members().some((m) => m.name !== o.name && (m.state === 'alive' || m.state === 'suspect'))
      const done = alone || await node.leave()
      snapshotter?.recordLeave()
      if (!done) log.warn(`serf: ${o.pool} leave timed out before every peer was told`)
    },
    forceLeave: (name, prune) => node.forceLeave(name, prune),
    close: async () => {
      retry.stop()
      snapshotter?.close()
      await node.close()
    },
  }
}
