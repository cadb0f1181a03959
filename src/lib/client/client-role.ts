// The client role of an agent (no -server): no Raft, no state copy. It learns the servers from the
// LAN gossip pool (alive members with role `consul` and a `port` tag: their server RPC port), talks
// to one of them over the server RPC transport, and offers the agent a Consensus whose writes go
// there, plus the forwarder for every /v1 request that is not agent-local.
import type {AgentConfig} from '../agent/config.js'
import type {Logger} from '../agent/logger.js'
import type {MemberInfo} from '../http/context.js'
import type {ForwardedRequest, ForwardedResponse} from '../http/forwarded.js'
import {RpcTransport} from '../rpc/transport.js'
import {SessionTimers} from '../server/session-timers.js'
import type {Session} from '../state/types.js'
import {ClientConsensus, ClientOnlyError} from './client-consensus.js'
import {createForwarder} from './forward.js'
import {namesOtherDatacenter} from '../http/request-route.js'
import {ServerPool, rebalanceIntervalMs} from './server-pool.js'
import {ServerRpc} from './server-rpc.js'

export interface ClientRole {
  consensus: ClientConsensus
  forward(request: ForwardedRequest, closed?: Promise<void>): Promise<ForwardedResponse>
  /** Never armed on a client (session TTLs are the leader's); present because the context has one. */
  sessionTimers: SessionTimers
  registerSelf(): Promise<void>
  renewSession(id: string): Promise<Session | undefined>
  stop(): Promise<void>
}

export interface ClientRoleOptions {
  config: AgentConfig
  nodeId: string
  /** The LAN pool's members as /v1/agent/members renders them (read at every server pick). */
  members: () => MemberInfo[]
  logger: Logger
}

/** Server RPC addresses of the alive servers of this datacenter among `members`. */
export function serverAddresses(members: readonly MemberInfo[], datacenter: string): string[] {
  return members
    .filter((m) => m.Status === 1 && m.Tags.role === 'consul' && /^\d+$/.test(m.Tags.port ?? '') && (m.Tags.dc ?? datacenter) === datacenter)
    .map((m) => `${m.Addr.includes(':') ? `[${m.Addr}]` : m.Addr}:${m.Tags.port}`)
}

export function startClientRole(opts: ClientRoleOptions): ClientRole {
  const {config, logger: log} = opts
  const transport = new RpcTransport({
    localId: opts.nodeId,
    localAddress: config.bindAddr === '0.0.0.0' || config.bindAddr === '::' ? undefined : config.bindAddr,
    onError: (peer, error) => log.debug('rpc connection error', {peer, error: error.message}),
  })
  const pool = new ServerPool({servers: () => serverAddresses(opts.members(), config.datacenter)})
  // Held through a server dying or an election as Consul's client is (rpc_hold_timeout).
  const rpc = new ServerRpc(pool, transport, {
    holdMs: config.rpcHoldTimeoutMs,
    onEpisode: (episode) => log.info('requests retried on another server', {
      held: episode.held, failed: episode.failed, duration: `${episode.durationMs}ms`, longest: `${episode.longestMs}ms`,
    }),
  })
  const consensus = new ClientConsensus(rpc)
  let lastServer: string | undefined
  const forward = createForwarder(rpc, config.nodeName, (answer, request) => {
    // Another datacenter's answer (?dc=) says nothing about this datacenter's leader.
    if (!namesOtherDatacenter(request.url, config.datacenter)) consensus.noteAnswer(answer)
    const server = pool.current()
    if (server && server !== lastServer) log.info('using server', {server})
    lastServer = server
  })
  // Periodic rebalance (Consul's router): re-armed each time from the pool's current size.
  let rebalanceTimer: NodeJS.Timeout | undefined
  const armRebalance = (): void => {
    const members = opts.members()
    rebalanceTimer = setTimeout(() => {
      pool.rebalance()
      armRebalance()
    }, rebalanceIntervalMs(pool.known().length, members.length))
    rebalanceTimer.unref()
  }
  armRebalance()
  const sessionTimers = new SessionTimers(async () => {}, log.named('session'))
  log.info('client mode: no Raft here; every non-agent request goes to a server found through gossip', {seeds: config.retryJoin.length})
  return {
    consensus, forward, sessionTimers,
    registerSelf: () => Promise.reject(new ClientOnlyError('registering a node in the catalog (the leader registers every gossip member)')),
    renewSession: () => Promise.reject(new ClientOnlyError('renewing a session')),
    stop: async () => {
      clearTimeout(rebalanceTimer)
      sessionTimers.stop()
      await consensus.close()
    },
  }
}
