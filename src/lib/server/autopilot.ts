// Autopilot (Consul's agent/consul/autopilot.go over hashicorp/raft-autopilot), pure: server health
// from the leader's Raft view and the gossip status of each server, the state /v1/operator/autopilot/state
// answers, which dead servers may be removed, and which new servers may be promoted. The runner
// (autopilot-runner.ts) feeds it the clock and acts on its answers.
import type {RaftConfiguration, RaftPeer} from '../consensus.js'
import type {AutopilotConfig} from '../state/autopilot-config.js'

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

/** A server's gossip status as autopilot reads it (raft-autopilot NodeStatus); 'unknown' = not a member. */
export type NodeStatus = 'alive' | 'failed' | 'left' | 'unknown'

/**
 * A server is healthy when a leader exists, it heard from the leader within the threshold, it is
 * on the leader's term, it trails the leader's last index by at most maxTrailingLogs and (when its
 * gossip status is given) gossip sees it alive. The cluster is healthy when every voter is.
 */
export function clusterHealth(
  config: RaftConfiguration,
  opts: {lastContactThresholdMs: number; maxTrailingLogs: number} = AUTOPILOT_DEFAULTS,
  status: (server: RaftPeer) => NodeStatus = () => 'alive',
): ClusterHealth {
  const leader = config.servers.find((s) => s.leader)
  const servers = config.servers.map((s): ServerHealth => ({
    ...s,
    healthy: leader !== undefined &&
      status(s) === 'alive' &&
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

/** Since when each server has had its current health (raft-autopilot's StableSince). */
export type StableSince = ReadonlyMap<string, {healthy: boolean; since: number}>

/** The next StableSince: a server whose health flipped (or that is new) is stable from `now`. */
export function trackStability(health: ClusterHealth, previous: StableSince, now: number): Map<string, {healthy: boolean; since: number}> {
  const next = new Map<string, {healthy: boolean; since: number}>()
  for (const s of health.servers) {
    const prior = previous.get(s.id)
    next.set(s.id, prior && prior.healthy === s.healthy ? prior : {healthy: s.healthy, since: now})
  }
  return next
}

/** Whether a non-voter may be promoted: healthy without a break for server_stabilization_time (StablePromoter). */
export function mayPromote(id: string, stable: StableSince, config: Pick<AutopilotConfig, 'serverStabilizationTimeMs'>, now: number): boolean {
  const entry = stable.get(id)
  return entry !== undefined && entry.healthy && now - entry.since >= config.serverStabilizationTimeMs
}

/**
 * The dead servers to remove now (raft-autopilot pruneDeadServers + adjudicateRemoval): servers in
 * the Raft configuration that gossip sees failed or left (or does not know at all, when gossip
 * runs), never the leader. coord also waits until the server has been unhealthy for
 * server_stabilization_time, so a server that is only restarting is not cut out. Non-voters go
 * first; voters are capped at (voters − 1) / 2 per round and never below min_quorum. A voter is
 * removed only while the healthy voters are a quorum of the configuration without it: a removal is a
 * configuration change that must commit in the new configuration, so cutting out a server gossip
 * sees failed while another voter is partitioned away would leave the leader without a quorum (it
 * steps down, and nobody can be elected until the partition heals).
 */
export function deadServerRemovals(
  health: ClusterHealth,
  status: (server: RaftPeer) => NodeStatus,
  stable: StableSince,
  config: Pick<AutopilotConfig, 'cleanupDeadServers' | 'minQuorum' | 'serverStabilizationTimeMs'>,
  now: number,
): string[] {
  if (!config.cleanupDeadServers) return []
  const dead = health.servers.filter((s) => {
    if (s.leader || s.healthy) return false
    const entry = stable.get(s.id)
    const settled = entry !== undefined && !entry.healthy && now - entry.since >= config.serverStabilizationTimeMs
    return settled && status(s) !== 'alive'
  }).sort((a, b) => Number(a.voter) - Number(b.voter) || (a.id < b.id ? -1 : 1))
  const voters = health.servers.filter((s) => s.voter).length
  const healthyVoters = health.servers.filter((s) => s.voter && s.healthy).length
  let maxRemoval = Math.floor((voters - 1) / 2)
  let removedVoters = 0
  const out: string[] = []
  for (const s of dead) {
    if (!s.voter) {
      out.push(s.id)
      continue
    }
    const votersLeft = voters - removedVoters - 1
    if (votersLeft < config.minQuorum) continue
    if (healthyVoters < Math.floor(votersLeft / 2) + 1) continue
    if (maxRemoval < 1) continue
    maxRemoval--
    removedVoters++
    out.push(s.id)
  }
  return out
}

/** /v1/operator/autopilot/state (Consul's api.AutopilotState), keyed by server ID. */
export function renderAutopilotState(health: ClusterHealth, status: (server: RaftPeer) => NodeStatus, stable: StableSince, versions: (server: RaftPeer) => string) {
  const leader = health.servers.find((s) => s.leader)
  const voters = health.servers.filter((s) => s.voter)
  const servers: Record<string, unknown> = {}
  for (const s of health.servers) {
    servers[s.id] = {
      ID: s.id, Name: s.node, Address: s.address, NodeStatus: status(s), Version: versions(s),
      LastContact: `${s.lastContactMs}ms`, LastTerm: s.lastTerm, LastIndex: s.lastIndex, Healthy: s.healthy,
      StableSince: goTime(stable.get(s.id)?.since ?? 0), ReadReplica: false,
      Status: s.leader ? 'leader' : s.voter ? 'voter' : 'non-voter', Meta: {}, NodeType: 'voter',
    }
  }
  return {
    Healthy: health.healthy, FailureTolerance: health.failureTolerance,
    OptimisticFailureTolerance: Math.max(0, voters.length - (Math.floor(voters.length / 2) + 1)),
    Servers: servers, Leader: leader?.id ?? '', Voters: voters.map((s) => s.id), ReadReplicas: null,
  }
}

/** Go's time.Time in JSON (RFC 3339, UTC, seconds). */
export function goTime(ms: number): string {
  return new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}
