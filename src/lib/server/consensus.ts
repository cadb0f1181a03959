// The seam between the agent and however writes are agreed on. Today one server appends to its own
// durable log (SingleServer); the Raft node of the next issue implements the same interface, so the
// HTTP layer and the state machine do not change when replication arrives.
import type {ApplyResult, Command} from '../state/types.js'

export interface Proposal {
  /** The log index the command was applied at: the X-Consul-Index / ModifyIndex clients see. */
  index: number
  result: ApplyResult
}

export type ReadMode = 'leader' | 'consistent' | 'stale'

export class NoLeaderError extends Error {
  readonly code = 'NO_LEADER'
  constructor() {
    super('No cluster leader')
  }
}

export interface Consensus {
  /** Appends the command durably, applies it in log order, and resolves with its result. */
  propose(command: Command): Promise<Proposal>
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
  close(): Promise<void>
}
