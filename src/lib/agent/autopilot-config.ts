// Consul's `autopilot` block (Consul docs: agent/config/config-files#autopilot): the settings a
// leader seeds the replicated autopilot configuration with the first time it leads (after that,
// /v1/operator/autopilot/configuration changes them). Enterprise keys are accepted with a warning.
import {parseDuration} from '../duration.js'

export interface AutopilotSettings {
  readonly cleanupDeadServers: boolean
  readonly lastContactThresholdMs: number
  readonly maxTrailingLogs: number
  readonly minQuorum: number
  readonly serverStabilizationTimeMs: number
}

export const AUTOPILOT_KEYS: ReadonlySet<string> = new Set(['cleanup_dead_servers', 'last_contact_threshold', 'max_trailing_logs', 'min_quorum', 'server_stabilization_time'])
export const AUTOPILOT_ACCEPTED: ReadonlySet<string> = new Set(['redundancy_zone_tag', 'disable_upgrade_migration', 'upgrade_version_tag'])

/** Consul's defaults (agent/config/default.go). */
export const DEFAULT_AUTOPILOT: AutopilotSettings = {
  cleanupDeadServers: true, lastContactThresholdMs: 200, maxTrailingLogs: 250, minQuorum: 0, serverStabilizationTimeMs: 10_000,
}

export function parseAutopilotConfig(raw: Record<string, unknown>, problems: string[]): AutopilotSettings {
  const bool = (key: string, fallback: boolean): boolean => {
    const value = raw[key]
    if (value === undefined) return fallback
    if (typeof value === 'boolean') return value
    if (value === 'true' || value === 'false') return value === 'true'
    problems.push(`autopilot.${key}: expected true or false, got ${JSON.stringify(value)}`)
    return fallback
  }
  const count = (key: string, fallback: number): number => {
    const value = raw[key]
    if (value === undefined) return fallback
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n
    problems.push(`autopilot.${key}: expected a non-negative integer, got ${JSON.stringify(value)}`)
    return fallback
  }
  const duration = (key: string, fallback: number): number => {
    const value = raw[key]
    if (value === undefined) return fallback
    try {
      if (typeof value !== 'string') throw new Error('not a string')
      const ms = parseDuration(value)
      if (ms < 0) throw new Error('negative')
      return ms
    } catch {
      problems.push(`autopilot.${key}: expected a duration such as "10s", got ${JSON.stringify(value)}`)
      return fallback
    }
  }
  return {
    cleanupDeadServers: bool('cleanup_dead_servers', DEFAULT_AUTOPILOT.cleanupDeadServers),
    lastContactThresholdMs: duration('last_contact_threshold', DEFAULT_AUTOPILOT.lastContactThresholdMs),
    maxTrailingLogs: count('max_trailing_logs', DEFAULT_AUTOPILOT.maxTrailingLogs),
    minQuorum: count('min_quorum', DEFAULT_AUTOPILOT.minQuorum),
    serverStabilizationTimeMs: duration('server_stabilization_time', DEFAULT_AUTOPILOT.serverStabilizationTimeMs),
  }
}
