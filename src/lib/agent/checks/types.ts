// What a check runner is given and how it reports, between the agent's local state and the
// runners. The definition is the one parsed union (agent/definitions.ts), narrowed by kind.
import type {CheckDefinition, CheckStatus} from '../definitions.js'

export type {CheckDefinition, CheckStatus}

export interface CheckLog {
  debug(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
}

/** What an alias check reads: a status, or a status with the output to show. */
export type AliasResult = CheckStatus | {status: CheckStatus; output: string} | undefined

export interface CheckEnv {
  log: CheckLog
  /** enable_script_checks (or enable_local_script_checks for local definitions). */
  enableScriptChecks: boolean
  /** The agent's check_output_max_size (Consul: 4096); a definition's OutputMaxSize wins. */
  outputMaxSize: number
  /** Aggregated status of a local service (serviceId) or node; undefined when unknown. */
  aliasStatus(node: string | undefined, serviceId: string | undefined): AliasResult
  /** Calls `cb` after any change of local services or checks; returns the unsubscribe. */
  onLocalChange(cb: () => void): () => void
  /** Tests only: the floor on Interval (default 1000 ms, Consul's MinInterval). */
  minIntervalMs?: number
  /** Tests only: the random source of the first-run stagger. */
  random?: () => number
}

export interface RunningCheck {
  stop(): void
}

/** One probe's outcome, before the thresholds decide what is reported. */
export interface ProbeResult {
  status: CheckStatus
  output: string
}
