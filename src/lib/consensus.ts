// The seam between the agent and however writes are agreed on: the HTTP layer proposes commands
// and asks for read barriers; RaftServer (raft-server.ts) implements it for one server or many.
import type {ApplyResult, Command} from './state/types.js'
import {CoordError} from './errors.js'
import type {HandedBytes} from './handed-bytes.js'

export interface Proposal {
  /** The log index the command was applied at: the X-Consul-Index / ModifyIndex clients see. */
  index: number
  result: ApplyResult
}

export type ReadMode = 'leader' | 'consistent' | 'stale'

/** Consul's default `performance { rpc_hold_timeout }`: how long a request that needs the leader waits for one. */
export const DEFAULT_RPC_HOLD_TIMEOUT_MS = 7_000

/** Consul's structs.ErrNoLeader: an HTTP 500 with its wording. */
export class NoLeaderError extends CoordError {
  static readonly CODE = 'NO_LEADER'
  constructor() {
    super(NoLeaderError.CODE, 'No cluster leader', {httpStatus: 500})
    this.name = 'NoLeaderError'
  }
}

/** An operator request the cluster cannot carry out (unknown peer, last voter); HTTP 400. */
export class OperatorError extends CoordError {
  constructor(code: string, message: string) {
    super(code, message, {httpStatus: 400})
    this.name = 'OperatorError'
  }
}

/** One server of the Raft configuration (GET /v1/operator/raft/configuration, autopilot health). */
export interface RaftPeer {
  /** The server's node ID (raft ServerID). */
  id: string
  /** The server's node name. */
  node: string
  /** Server RPC address `ip:port` (raft ServerAddress). */
  address: string
  leader: boolean
  voter: boolean
  /** Last log index this server is known to hold (on followers: as the leader last saw it). */
  lastIndex: number
  /** Term of that entry. */
  lastTerm: number
  /** Milliseconds since the leader last heard from it (0 for the leader itself). */
  lastContactMs: number
}

export interface RaftConfiguration {
  servers: RaftPeer[]
  /** Log index of the configuration entry in force. */
  index: number
}

/** Which peer `removePeer` removes: by server ID or by server RPC address (Consul's ?id / ?address). */
export type PeerRef = {id: string} | {address: string}

export interface ProposeOptions {
  idempotent?: boolean
}

export interface Consensus {
  /**
   * Appends the command durably, applies it in log order, and resolves with its result. A write
   * whose answer was lost is never sent again, unless `idempotent` says applying it twice is the
   * same as once (a session renewal): then it is retried through an election like a read.
   */
  propose(command: Command, opts?: ProposeOptions): Promise<Proposal>
  /**
   * Resolves once this server's local state may answer a read in the given mode: `leader` (the
   * default: linearizable, from the leader's lease or a ReadIndex round), `consistent` (always a
   * quorum-confirmed ReadIndex round), `stale` (any server; `maxStaleMs` > 0 bounds how far behind
   * it may be). Rejects with NoLeaderError when the mode cannot be served.
   */
  readBarrier(mode: ReadMode, maxStaleMs: number): Promise<void>
  /** True when this server is the leader. */
  isLeader(): boolean
  /** True when some leader is known (X-Consul-KnownLeader). */
  knownLeader(): boolean
  /** The leader's server RPC address, '' when none (GET /v1/status/leader). */
  leaderAddress(): string
  /** Voting members' server RPC addresses (GET /v1/status/peers). */
  peers(): string[]
  /** Milliseconds since this server last heard from the leader; 0 on the leader. */
  lastContactMs(): number
  /** Raft-ish statistics for /v1/agent/self and `coord info` (all values strings). */
  stats(): Record<string, string>
  /** The current Raft configuration as this server knows it. */
  configuration(): RaftConfiguration
  /** The configuration as the leader sees it (match indexes, contact): asked of the leader when following. */
  leaderConfiguration(): Promise<RaftConfiguration>
  /** Removes a server from the configuration (forwarded to the leader). Throws OperatorError for an
   * unknown peer or one that must stay, NoLeaderError when there is no leader. */
  removePeer(peer: PeerRef): Promise<void>
  /** Hands leadership to `targetId`, or to any other voter when omitted. Same errors as removePeer. */
  transferLeadership(targetId?: string): Promise<void>
  /**
   * Replaces the replicated state with a snapshot's state bytes (verified by the caller), on the
   * leader (a follower forwards them): installed as a Raft snapshot past `minIndex` (the snapshot's
   * own index) that followers receive by InstallSnapshot. Resolves with the index it took. The
   * bytes are taken (HandedBytes) where they are decoded, so nothing holds them past that.
   */
  restore(state: HandedBytes, minIndex: number): Promise<number>
  close(): Promise<void>
}
