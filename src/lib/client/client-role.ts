// The client role of an agent (no -server): no Raft, no state copy. It learns the servers from the
// LAN gossip pool (alive members with role `consul` and a `port` tag: their server RPC port), talks
// to one of them over the server RPC transport, and offers the agent a Consensus whose writes go
// there, plus the forwarder for every /v1 request that is not agent-local.
import type {AgentConfig} from '../agent/config.js'
import type {Logger} from '../logger.js'
import type {AgentMember as MemberInfo} from '../api/agent.js'
import type {ForwardedRequest, ForwardedResponse} from '../forward/forwarded.js'
import {RpcTransport} from '../rpc/transport.js'
import {RpcTls} from '../tls/rpc-tls.js'
import type {Session} from '../state/types.js'
import {ClientConsensus, ClientOnlyError} from './client-consensus.js'
import {createForwarder} from '../forward/forward.js'
import {namesOtherDatacenter} from '../forward/request-route.js'
import {ServerPool, rebalanceIntervalMs, serverAddresses} from '../forward/server-pool.js'
import {ServerRpc} from '../forward/server-rpc.js'
import {RemoteAclResolver} from './acl-resolver.js'
import {fetchResolution, serversDown} from './acl-fetch.js'

export interface ClientRole {
  consensus: ClientConsensus
  forward(request: ForwardedRequest, closed?: Promise<void>): Promise<ForwardedResponse>
  /** Never armed on a client (session TTLs are the leader's); present because the context has one. */
  /** Session TTL timers run on the leader only: a client's are no-ops (its session requests are forwarded). */
  sessionTimers: {clear(id: string): void; stop(): void; resetAll(sessions: Iterable<Pick<Session, 'id' | 'ttl'>>): void}
  registerSelf(): Promise<void>
  renewSession(id: string): Promise<Session | undefined>
  /** Its RPC connections to servers (TLS with verify_outgoing: `transport.tls`). */
  transport: RpcTransport
  /** With ACLs on: tokens resolved through the servers, cached per acl.*_ttl, down_policy when none answers. */
  aclResolver?: RemoteAclResolver
  stop(): Promise<void>
}

export interface ClientRoleOptions {
  config: AgentConfig
  nodeId: string
  /** The LAN pool's members as /v1/agent/members renders them (read at every server pick). */
  members: () => MemberInfo[]
  logger: Logger
}

export function startClientRole(opts: ClientRoleOptions): ClientRole {
  const {config, logger: log} = opts
  // TLS on the RPC port (tls/rpc-tls.ts): certificates swapped on reload through `tls.update`.
  const rpcTls = config.tls.rpc ? new RpcTls(config.tls.settings, config.tls.rpc, config.datacenter, config.dns.domain) : undefined
  const transport = new RpcTransport({
    localId: opts.nodeId,
    localAddress: config.bindAddr === '0.0.0.0' || config.bindAddr === '::' ? undefined : config.bindAddr,
    onError: (peer, error) => log.debug('rpc connection error', {peer, error: error.message}),
    tls: rpcTls,
    onRefused: (peer, reason) => log.warn('rpc connection refused', {peer, reason}),
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
  const {acl} = config
  const aclResolver = acl.enabled
    ? new RemoteAclResolver({
      fetch: (secret) => fetchResolution(rpc, secret), serversDown, datacenter: config.datacenter,
      defaultPolicy: acl.defaultPolicy, downPolicy: acl.downPolicy, tokenTtlMs: acl.tokenTtlMs, policyTtlMs: acl.policyTtlMs, roleTtlMs: acl.roleTtlMs,
      now: () => Date.now(),
      onDown: (down, error) => down
        ? log.warn('no server answered a token lookup: down_policy applies', {down_policy: acl.downPolicy, error: (error as Error | undefined)?.message})
        : log.info('servers answer token lookups again'),
    })
    : undefined
  const sessionTimers = {clear: () => {}, stop: () => {}, resetAll: () => {}}
  log.info('client mode: no Raft here; every non-agent request goes to a server found through gossip', {seeds: config.retryJoin.length})
  return {
    consensus, forward, sessionTimers, transport, aclResolver,
    registerSelf: () => Promise.reject(new ClientOnlyError('registering a node in the catalog (the leader registers every gossip member)')),
    renewSession: () => Promise.reject(new ClientOnlyError('renewing a session')),
    stop: async () => {
      clearTimeout(rebalanceTimer)
      sessionTimers.stop()
      rpc.close()
      await consensus.close()
    },
  }
}
