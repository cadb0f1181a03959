// The one config type of the Raft core (ARCHITECTURE.md, house rule 3). Durations are milliseconds on the
// driver's monotonic clock; the core never reads a clock itself. Nothing here is reloadable: a
// change means a restart of the node (timeouts must agree across the cluster for the lease).
import type {NodeId} from './types.js'

export interface RaftConfig {
  /** This server's ID. Must appear in the membership to vote or lead. */
  id: NodeId
  /**
   * Followers wait a random time in [electionTimeoutMs, 2×electionTimeoutMs) without hearing from a
   * leader before campaigning (§5.2). Larger: fewer spurious elections on a slow network, slower
   * failover. Also the stickiness window (diss. §4.2.3) and the basis of the leader lease.
   */
  electionTimeoutMs: number
  /** Leader sends a heartbeat this often when idle (§5.2). Smaller: faster failure detection, more traffic. */
  heartbeatIntervalMs: number
  /**
   * Bound on how far two servers' monotonic clocks may disagree in *rate* (not offset), as a
   * fraction: 0.1 tolerates one clock running 5% fast while another runs 5% slow. The lease is
   * electionTimeoutMs × (1 − leaseDriftRatio) long. Larger: safer on bad clocks, shorter lease
   * (more reads fall back to ReadIndex).
   */
  leaseDriftRatio: number
  /** Byte budget of entries per AppendEntries (at least one entry is always sent). Batching vs latency. */
  maxSizePerMsgBytes: number
  /** Appends in flight to one follower before waiting for acks (pipelining depth). Memory vs throughput. */
  maxInflightMsgs: number
  /** Run a PreVote round before bumping the term (diss. §9.6), so a rejoining node cannot disrupt. */
  preVote: boolean
  /**
   * A leader that has not heard from a quorum within an election timeout steps down (diss. §6.2),
   * and followers ignore (pre)votes while they hear from a live leader. Required by leaseReads.
   */
  checkQuorum: boolean
  /** Allow `leaseRead` (default-mode reads served by the leader alone while its lease holds). */
  leaseReads: boolean
}

export function defaultRaftConfig(id: NodeId): RaftConfig {
  return {
    id,
    electionTimeoutMs: 1000,
    heartbeatIntervalMs: 100,
    leaseDriftRatio: 0.1,
    maxSizePerMsgBytes: 1 << 20,
    maxInflightMsgs: 256,
    preVote: true,
    checkQuorum: true,
    leaseReads: true,
  }
}

/** Every problem with `config`, each naming the field; empty when valid. */
export function validateRaftConfig(config: RaftConfig): string[] {
  const problems: string[] = []
  const positiveInt = (field: keyof RaftConfig, value: number): void => {
    if (!Number.isSafeInteger(value) || value <= 0) problems.push(`${field} must be a positive integer, got ${value}`)
  }
  if (typeof config.id !== 'string' || config.id === '') problems.push('id must be a non-empty string')
  positiveInt('electionTimeoutMs', config.electionTimeoutMs)
  positiveInt('heartbeatIntervalMs', config.heartbeatIntervalMs)
  positiveInt('maxSizePerMsgBytes', config.maxSizePerMsgBytes)
  positiveInt('maxInflightMsgs', config.maxInflightMsgs)
  if (config.electionTimeoutMs < 2 * config.heartbeatIntervalMs) {
    problems.push(`electionTimeoutMs (${config.electionTimeoutMs}) must be at least 2 × heartbeatIntervalMs (${config.heartbeatIntervalMs}), or followers time out between heartbeats`)
  }
  if (!(config.leaseDriftRatio >= 0 && config.leaseDriftRatio < 0.5)) {
    problems.push(`leaseDriftRatio must be in [0, 0.5), got ${config.leaseDriftRatio}`)
  }
  if (config.leaseReads && !config.checkQuorum) {
    problems.push('leaseReads requires checkQuorum: the lease is only safe while followers reject votes during a live leader')
  }
  return problems
}
