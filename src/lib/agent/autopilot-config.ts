// Consul's `autopilot` block (Consul docs: agent/config/config-files#autopilot): the settings a
// leader seeds the replicated autopilot configuration with the first time it leads (after that,
// /v1/operator/autopilot/configuration changes them). The block's keys, their readers and these
// defaults are in config-schema.ts; config.ts reads them as it reads `ports` or `limits`.

export interface AutopilotSettings {
  readonly cleanupDeadServers: boolean
  readonly lastContactThresholdMs: number
  readonly maxTrailingLogs: number
  readonly minQuorum: number
  readonly serverStabilizationTimeMs: number
}

/** Consul's defaults (agent/config/default.go). */
export const DEFAULT_AUTOPILOT: AutopilotSettings = {
  cleanupDeadServers: true, lastContactThresholdMs: 200, maxTrailingLogs: 250, minQuorum: 0, serverStabilizationTimeMs: 10_000,
}
