// `operator raft list-peers` as Consul's command/operator/raft/listpeers writes it: columnize with
// Node, ID, Address, State, Voter, RaftProtocol, Commit Index, Trails Leader By.
import type {AutopilotConfiguration, AutopilotState, RaftConfigurationInfo} from '../api/operator.js'
import {columnize} from './render.js'

/** `status` styles the State column (leader green on a terminal); without it the bytes are Consul's. */
export function renderPeers(config: RaftConfigurationInfo, status?: (word: string) => string): string[] {
  const leader = config.Servers.find((s) => s.Leader)
  const leaderIndex = leader?.LastIndex ?? 0
  const rows = [['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol', 'Commit Index', 'Trails Leader By']]
  for (const s of config.Servers) {
    const trails = leaderIndex - s.LastIndex
    // Go subtracts uint64s: a follower ahead of the leader's last report wraps; show 0 instead.
    const trailsText = s.Leader ? '-' : `${Math.max(0, trails)} ${Math.max(0, trails) === 1 ? 'commit' : 'commits'}`
    rows.push([s.Node, s.ID, s.Address, s.Leader ? 'leader' : 'follower', String(s.Voter), s.ProtocolVersion || '<=1', String(s.LastIndex), trailsText])
  }
  return columnize(rows, status && ((cell, row, column) => (row > 0 && column === 3 ? status(cell) : cell)))
}

/** `operator autopilot get-config` as Consul's command/operator/autopilot/get writes it. */
export function renderAutopilotConfig(config: AutopilotConfiguration): string[] {
  return [
    `CleanupDeadServers = ${String(config.CleanupDeadServers)}`,
    `LastContactThreshold = ${config.LastContactThreshold}`,
    `MaxTrailingLogs = ${config.MaxTrailingLogs}`,
    `MinQuorum = ${config.MinQuorum}`,
    `ServerStabilizationTime = ${config.ServerStabilizationTime}`,
    `RedundancyZoneTag = ${JSON.stringify(config.RedundancyZoneTag)}`,
    `DisableUpgradeMigration = ${String(config.DisableUpgradeMigration)}`,
    `UpgradeVersionTag = ${JSON.stringify(config.UpgradeVersionTag)}`,
  ]
}

/** `operator autopilot state` as Consul's command/operator/autopilot/state pretty-prints it. */
export function renderAutopilotState(state: AutopilotState): string[] {
  const out = [
    `Healthy:                      ${String(state.Healthy)}`,
    `Failure Tolerance:            ${state.FailureTolerance}`,
    `Optimistic Failure Tolerance: ${state.OptimisticFailureTolerance}`,
    `Leader:                       ${state.Leader}`,
    'Voters:',
    ...state.Voters.map((id) => `   ${id}`),
    '',
    'Servers:',
  ]
  for (const id of Object.keys(state.Servers).sort()) {
    const s = state.Servers[id]
    out.push(
      `   ${s.ID}`,
      `      Name:            ${s.Name}`,
      `      Address:         ${s.Address}`,
      `      Version:         ${s.Version}`,
      `      Status:          ${s.Status}`,
      `      Node Type:       ${s.NodeType}`,
      `      Node Status:     ${s.NodeStatus}`,
      `      Healthy:         ${String(s.Healthy)}`,
      `      Last Contact:    ${s.LastContact}`,
      `      Last Term:       ${s.LastTerm}`,
      `      Last Index:      ${s.LastIndex}`,
      '',
    )
  }
  return out
}
