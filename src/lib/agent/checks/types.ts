// Contract 3 between the agent's local state (agent-local) and the check runners: what a runner
// is given and how it reports. Shapes are Consul's check definition (PascalCase); every field is
// optional here so a normalised definition and a hand-written one both fit.

export type CheckStatus = 'passing' | 'warning' | 'critical'

export interface CheckDefinition {
  CheckID?: string
  Name?: string
  Notes?: string
  ServiceID?: string
  /** Go duration ("10s"); clamped up to 1s (Consul's MinInterval). */
  Interval?: string
  /** Go duration; defaults 10s (HTTP, TCP, gRPC) and 30s (script), as Consul. */
  Timeout?: string
  TTL?: string
  HTTP?: string
  Method?: string
  Header?: Record<string, string[]>
  Body?: string
  TLSSkipVerify?: boolean
  TLSServerName?: string
  TCP?: string
  Args?: string[]
  GRPC?: string
  GRPCUseTLS?: boolean
  H2PING?: string
  /** Absent: TLS, as Consul's default. */
  H2PingUseTLS?: boolean
  UDP?: string
  AliasNode?: string
  AliasService?: string
  SuccessBeforePassing?: number
  FailuresBeforeCritical?: number
  /** 0/absent: same as FailuresBeforeCritical (Consul's builder default). */
  FailuresBeforeWarning?: number
  DeregisterCriticalServiceAfter?: string
  OutputMaxSize?: number
  Status?: CheckStatus
}

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
