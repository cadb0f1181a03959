// The agent's LAN gossip pool: one GossipNode (lib/gossip) on bind_addr:ports.serf_lan, advertised
// as advertise_addr, named after the node, with the tags Consul's members show. It joins the
// -retry-join/-join hosts in the background, feeds servers it sees to Raft discovery, and renders
// its member list as /v1/agent/members does.
import {GossipNode, DEFAULT_GOSSIP_PORT} from '../gossip/node.js'
import type {Member, MemberState, Tags} from '../gossip/types.js'
import type {MemberInfo} from '../http/context.js'
import type {AgentConfig} from './config.js'
import type {Logger} from './logger.js'
import type {GossipKeyring} from './gossip-keyring.js'
import {serveKeyringQueries} from './keyring-ops.js'

/** Serf member status numbers (SPEC-http §5). A suspect member is still `alive` to serf. */
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
  /** The LAN keyring (gossip-keyring.ts); null or absent: unencrypted gossip. */
  keyring?: GossipKeyring | null
}

export function memberTags(config: AgentConfig, nodeId: string, version: string, serverPort: number): Tags {
  const tags: Record<string, string> = {
    acls: '0', build: `${version}:coord`, dc: config.datacenter, ft_fs: '1', ft_si: '1', id: nodeId,
    role: config.server ? 'consul' : 'node', segment: '', vsn: '2', vsn_max: '3', vsn_min: '2',
  }
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
  const node = new GossipNode({
    name: config.nodeName, bindAddress: config.bindAddr, bindPort: config.ports.serfLan,
    advertiseAddress: config.advertiseAddr, tags: memberTags(config, opts.nodeId, opts.version, opts.serverPort),
    // Starts above any incarnation a previous life of this node used, so a restart is believed at once.
    incarnation: Math.floor(Date.now() / 1000),
    log, cipher: opts.keyring?.cipher ?? null,
  })
  serveKeyringQueries(node, opts.keyring ?? null, (op, result) => {
    if (result.Result) log.info(`serf: Received ${op}-key query`, {primary: result.PrimaryKey === '' ? undefined : `${result.PrimaryKey.slice(0, 6)}…`})
    else log.error(`serf: ${op}-key query failed`, {error: result.Message})
  })
  let port: number
  try {
    port = await node.start()
  } catch (error) {
    await node.close()
    throw new Error(`Error starting the serf LAN listener on ${config.bindAddr}:${config.ports.serfLan}: ${(error as Error).message}`)
  }
  log.info('serf: LAN gossip started', {address: `${config.advertiseAddr}:${port}`, name: config.nodeName})

  const noteServer = (m: Member) => {
    if (m.state !== 'alive' || m.tags.role !== 'consul' || !m.tags.port || !m.tags.id || !opts.onServer) return
    const host = m.address.includes(':') ? `[${m.address}]` : m.address
    opts.onServer({id: m.tags.id, name: m.name, address: `${host}:${m.tags.port}`})
  }
  node.on('member', (event) => {
    const m = event.member
    if (m.name === config.nodeName) return
    if (event.type === 'joined' || event.type === 'updated') noteServer(m)
    if (event.type === 'joined') log.info('serf: EventMemberJoin', {member: m.name, address: `${m.address}:${m.port}`})
    else if (event.type === 'failed') log.info('serf: EventMemberFailed', {member: m.name})
    else if (event.type === 'left') log.info('serf: EventMemberLeave', {member: m.name})
    else if (event.type === 'reaped') log.info('serf: EventMemberReap', {member: m.name})
  })

  // Retry join in the background (never blocks start-up): every 1 s until one seed answered.
  const seeds = gossipSeeds(config.retryJoin, config.ports.serfLan)
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let attempts = 0
  const tryJoin = async () => {
    if (closed) return
    attempts++
    try {
      const n = await node.join(seeds)
      log.info('serf: joined the LAN pool', {contacted: n, attempts})
      return
    } catch (error) {
      if (attempts % 10 === 1) log.info('serf: retry-join: no seed answered yet', {seeds: seeds.join(','), error: (error as Error).message})
    }
    if (!closed) timer = setTimeout(() => void tryJoin(), 1000)
  }
  if (seeds.length > 0) void tryJoin()

  return {
    node,
    members: () => {
      const all = node.members()
      const self = all.filter((m) => m.name === config.nodeName)
      const others = all.filter((m) => m.name !== config.nodeName)
      return [...self, ...others].map(toMemberInfo)
    },
    join: (addresses) => node.join(addresses),
    leave: async () => {
      closed = true
      clearTimeout(timer)
      const done = await node.leave()
      if (!done) log.warn('serf: leave timed out before every peer was told')
    },
    forceLeave: (name, prune) => node.forceLeave(name, prune),
    close: async () => {
      closed = true
      clearTimeout(timer)
      await node.close()
    },
  }
}
