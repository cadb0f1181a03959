// Autopilot's server health (Consul's /v1/operator/autopilot/health, hashicorp/raft-autopilot):
// a pure function of the Raft configuration as the leader sees it (RaftServer.configuration()).
import type {RaftConfiguration, RaftPeer} from '../consensus.js'

/** Consul's autopilot defaults (Consul docs: api-docs/operator, api-docs/snapshot): LastContactThreshold 200ms, MaxTrailingLogs 250. */
export const AUTOPILOT_DEFAULTS = {lastContactThresholdMs: 200, maxTrailingLogs: 250} as const

export interface ServerHealth extends RaftPeer {
  healthy: boolean
}

export interface ClusterHealth {
  healthy: boolean
  /** Voters that may fail with quorum kept: healthy voters − quorum size, at least 0. */
  failureTolerance: number
  servers: ServerHealth[]
}

/**
 * A server is healthy when a leader exists, it heard from the leader within the threshold, it is
 * on the leader's term, and it trails the leader's last index by at most maxTrailingLogs. The
 * cluster is healthy when every voter is.
 */
export function clusterHealth(config: RaftConfiguration, opts: {lastContactThresholdMs: number; maxTrailingLogs: number} = AUTOPILOT_DEFAULTS): ClusterHealth {
  const leader = config.servers.find((s) => s.leader)
  const servers = config.servers.map((s): ServerHealth => ({
    ...s,
    healthy: leader !== undefined &&
      s.lastContactMs <= opts.lastContactThresholdMs &&
      s.lastTerm === leader.lastTerm &&
      s.lastIndex + opts.maxTrailingLogs >= leader.lastIndex,
  }))
  const voters = servers.filter((s) => s.voter)
  const healthyVoters = voters.filter((s) => s.healthy).length
  const quorum = Math.floor(voters.length / 2) + 1
  return {
    healthy: leader !== undefined && voters.every((s) => s.healthy),
    failureTolerance: Math.max(0, healthyVoters - quorum),
    servers,
  }
}
