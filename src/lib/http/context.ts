// What the HTTP endpoints may use of the agent. Endpoints read the state machine directly and
// change it only through `consensus.propose` (ARCHITECTURE.md, house rule 5).
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {AgentMember} from '../api/agent.js'
import type {AgentConfig} from '../agent/config.js'
import type {LogHub, Logger} from '../logger.js'
import type {LocalAgent} from '../agent/local-agent.js'
import type {Consensus} from '../consensus.js'
import type {SessionTimers} from '../server/session-timers.js'
import type {StateMachine} from '../state/state-machine.js'
import type {Session} from '../state/types.js'
import type {UserEvents} from '../agent/user-events.js'
import type {QueryOptions} from './query.js'
import type {RequestIdentity} from './identity.js'
import type {KeyringOp, KeyringResponse} from '../agent/keyring-ops.js'
import type {ForwardedRequest, ForwardedResponse} from '../forward/forwarded.js'
import type {PoolCoordinates} from '../agent/pool-coordinates.js'
import type {CoordinateBatcher} from '../server/coordinate-batcher.js'
import type {AgentTokens} from '../agent/agent-tokens.js'
import type {RemoteAclResolver} from '../client/acl-resolver.js'
import type {Authorizer} from '../acl/authorizer.js'
import type {AclToken} from '../state/acl.js'
import type {Metrics} from '../metrics/metrics.js'
import type {AutopilotRunner} from '../server/autopilot-runner.js'
import type {PrometheusSink} from '../metrics/prometheus.js'
import type {ParkedRequest} from './blocking.js'

/** A gossip member as /v1/agent/members renders it: the wire shape the API client reads too. */
export type MemberInfo = AgentMember

/** Network coordinates of this agent (absent with `disable_coordinates`). */
export interface AgentCoordinates {
  /** The LAN pool's coordinates (absent when LAN gossip is off). */
  readonly lan?: PoolCoordinates
  /** The WAN pool's (servers with a WAN pool only). */
  readonly wan?: PoolCoordinates
  /** Servers only: where PUT /v1/coordinate/update (and this server's own sync) queue updates. */
  readonly batcher?: CoordinateBatcher
  stop(): void
}

export interface AgentContext {
  readonly config: AgentConfig
  readonly nodeId: string
  readonly version: string
  readonly state: StateMachine
  readonly consensus: Consensus
  readonly sessionTimers: Pick<SessionTimers, 'clear' | 'stop' | 'resetAll'>
  readonly logs: LogHub
  readonly log: Logger
  readonly startedAt: Date
  /** User events: fire into the LAN pool, and the ring /v1/event/list reads (events branch). */
  readonly userEvents?: UserEvents
  members(): MemberInfo[]
  /** Wall clock for commands' `now` (lock-delay windows); injectable for tests. */
  now(): number
  /** Leader duty: (re-)register this node and its serfHealth check in the catalog. */
  registerSelf(): Promise<void>
  /** Re-arms a session's TTL on the leader (forwarded from a follower); undefined when unknown. */
  renewSession(id: string): Promise<Session | undefined>
  /** Joins the LAN gossip pool through `address` (host[:port]); rejects with the reason. */
  join(address: string): Promise<void>
  /** Graceful leave of the LAN pool (then the caller asks for requestShutdown). */
  leave(): Promise<void>
  /** Stops the agent process (after a leave); returns at once. */
  requestShutdown(): void
  /** Marks a failed member left (`prune`: forgets it too); throws when no member has that name. */
  forceLeave(name: string, prune: boolean): void
  /** WAN pool members (servers, named `<node>.<dc>`); undefined on an agent without a WAN pool. */
  wanMembers?(): MemberInfo[] | undefined
  /** Joins the WAN pool through `address` (host[:port], 8302 when omitted); rejects with the reason. */
  joinWan?(address: string): Promise<void>
  /** force-leave in the WAN pool only. */
  forceLeaveWan?(name: string, prune: boolean): void
  /** Whether the LAN pool encrypts (an -encrypt key or a keyring file); /v1/agent/self's serf_lan.encrypted. */
  readonly gossipEncrypted?: boolean
  /** Keyring operation fanned out to every member of each gossip pool (keyring-ops.ts); absent without gossip. */
  keyringOperation?(op: KeyringOp, key: string, opts: {relayFactor: number; localOnly: boolean}): Promise<KeyringResponse[]>
  /**
   * Client agents only: runs a request that is not agent-local on a server and answers what it
   * answered (see agent-local-paths.ts). Undefined on servers, which run everything.
   */
  readonly forwardToServer?: (request: ForwardedRequest, closed?: Promise<void>) => Promise<ForwardedResponse>
  /**
   * Servers with a WAN pool only: runs a request on a server of datacenter `dc` (dc-forward.ts)
   * and answers what it answered; rejects with 500 "No path to datacenter" when none is reachable.
   */
  readonly forwardToDatacenter?: (dc: string, request: ForwardedRequest, closed?: Promise<void>) => Promise<ForwardedResponse>
  /** The agent's own services and checks (/v1/agent/service*, check*, maintenance, health). */
  readonly local: LocalAgent
  /** Contract 4: this agent's services, for event/exec filters. */
  localServices(): Array<{ID: string; Service: string; Tags: string[]}>
  /** Re-reads the config files (PUT /v1/agent/reload, SIGHUP); rejects with the reason and keeps the running config. */
  reload(): Promise<void>
  /** Network coordinates: the pools' Vivaldi clients and, on servers, the update batcher; absent with disable_coordinates. */
  readonly coordinates?: AgentCoordinates
  /** The agent's ACL tokens (default, agent, agent_recovery, replication), from config and /v1/agent/token/<kind>. */
  readonly aclTokens?: AgentTokens
  /** Client agents with ACLs on: token resolution through the servers (client/acl-resolver.ts). */
  readonly aclResolver?: Pick<RemoteAclResolver, 'resolve' | 'current'>
  /** Servers: autopilot (its configuration in force, server health and state). */
  readonly autopilot?: AutopilotRunner
  /** The agent's metrics (/v1/agent/metrics) and, with prometheus_retention_time, the Prometheus sink. */
  readonly telemetry?: AgentTelemetry
}

export interface AgentTelemetry {
  readonly metrics: Metrics
  readonly prometheus?: PrometheusSink
}

/**
 * The few members of the agent an endpoint family names (each *-endpoint.ts declares its own), so a
 * family's reach is written on its type: kv reads state and proposes; it cannot leave the cluster.
 */
export type AgentDeps<K extends keyof AgentContext> = Pick<AgentContext, K>

/** The caller as the ACL system sees it (acl-authorize.ts). */
export interface ResolvedToken {
  /** The token's accessor ID (for logs and Consul's denial wording); '' with ACLs off. */
  readonly accessorId: string
  readonly authorizer: Authorizer
  /** The token record; absent with ACLs off. */
  readonly token?: AclToken
}

export interface RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly params: URLSearchParams
  /** Decoded path after the route prefix (the KV key, the session ID, ...). */
  readonly tail: string
  readonly query: QueryOptions
  /** Who is asking: the token the request carries (identity.ts), read once here for the authorizer. */
  readonly identity: RequestIdentity
  /**
   * The caller's authorizer, resolved afresh on every call (cheap: cached while the ACL tables do
   * not move): a blocking read calls it again when it wakes, so a deleted token stops seeing data.
   * Throws 403 "ACL not found" for an unknown, deleted or expired token.
   */
  authorize(): ResolvedToken
  /** The request body, at most `limit` bytes; a larger body answers 413 with `tooLargeMessage(n)`. */
  body(limit: number, tooLargeMessage?: (size: number) => string): Promise<Buffer>
  /** Resolves when the client disconnects before the answer is written. */
  readonly closed: Promise<void>
  /**
   * Sends this request, with `body` (already read), to a server of datacenter `dc` and writes its
   * answer as this request's: for writes whose body names the datacenter (Consul forwards on its
   * RPC request's Datacenter). Throws 500 "No path to datacenter" when there is none (unknown,
   * unreachable, no WAN pool, or the request already crossed a datacenter).
   */
  forwardToDatacenter(dc: string, body: Buffer): Promise<void>
  /**
   * Present when this request can be run again from its start (one on this agent's own socket):
   * a blocking read then parks as a small record and the handler returns (blocking.ts
   * ParkedRequest); absent, a blocking read awaits its answer (a request forwarded by a client agent).
   */
  readonly parking?: Parking
}

/** How a blocking read of a request that can be run again parks (server.ts makes one per run). */
export interface Parking {
  /** The record of this request's parked read, on a run that a wake-up or the deadline started. */
  readonly resumed?: ParkedRequest
  /** The record for a blocking read on the request's first run (minIndex, deadline from performance.now()). */
  park(minIndex: number, deadline: number): ParkedRequest
}

export type Handler = (ctx: RequestContext) => Promise<void> | void

export interface Route {
  /** Path prefix such as '/v1/kv/'; with `exact`, the whole path. */
  path: string
  exact?: boolean
  methods: Partial<Record<'GET' | 'PUT' | 'POST' | 'DELETE', Handler>>
}
