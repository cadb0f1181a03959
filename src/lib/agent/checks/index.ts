// Check runners: `startCheck` starts the runner a definition asks for and reports
// its results through the thresholds. TTL checks are not runners (agent-local keeps their timers).
//
// Timing as Consul's agent: Interval at least 1 s (MinInterval, "to avoid fork-bombing");
// Timeout defaults 10 s for HTTP, TCP and gRPC, 30 s for scripts. Output at most OutputMaxSize
// bytes (the definition's, else the agent's, else 4 KiB).
import {parseDuration, timerDelayMs} from '../../duration.js'
import {startAlias} from './alias.js'
import {grpcProbe} from './grpc.js'
import {h2pingProbe} from './h2ping.js'
import {udpProbe} from './udp.js'
import {httpProbe} from './http.js'
import {schedule} from './schedule.js'
import {scriptProbe} from './script.js'
import {tcpProbe} from './tcp.js'
import {StatusThresholds, thresholdsOf} from './thresholds.js'
import type {CheckDefinition, CheckEnv, CheckStatus, ProbeResult, RunningCheck} from './types.js'

export type {AliasResult, CheckDefinition, CheckEnv, CheckLog, CheckStatus, RunningCheck} from './types.js'

export const minIntervalMs = 1000
export const defaultOutputMaxSize = 4096
export const scriptsDisabledMessage = "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"

export type RunnerKind = 'http' | 'tcp' | 'script' | 'grpc' | 'h2ping' | 'udp' | 'alias'

export function runnerKind(def: CheckDefinition): RunnerKind | undefined {
  if (def.Args && def.Args.length > 0) return 'script'
  if (def.HTTP) return 'http'
  if (def.TCP) return 'tcp'
  if (def.GRPC) return 'grpc'
  if (def.H2PING) return 'h2ping'
  if (def.UDP) return 'udp'
  if (def.AliasNode || def.AliasService) return 'alias'
  return undefined
}

function durationOr(text: string | undefined, fallback: number): number {
  if (!text) return fallback
  try {
    const ms = parseDuration(text)
    return ms > 0 ? ms : fallback
  } catch {
    return fallback
  }
}

/**
 * Why this definition cannot run here (one line, for a 400 at registration), or undefined.
 * startCheck itself never throws: a definition it cannot run is reported critical with this text.
 */
export function checkDefinitionProblem(def: CheckDefinition, env: Pick<CheckEnv, 'enableScriptChecks'>): string | undefined {
  const kind = runnerKind(def)
  if (!kind) return 'check has no HTTP, TCP, Args, GRPC, H2PING, UDP, AliasNode or AliasService to run (TTL checks are not runners)'
  if (kind === 'script' && !env.enableScriptChecks) return scriptsDisabledMessage
  if (kind !== 'alias' && !def.Interval) return 'Interval must be set for script, HTTP, TCP, gRPC, H2PING and UDP checks'
  if (def.Interval) {
    try {
      parseDuration(def.Interval)
    } catch {
      return `Interval: invalid duration "${def.Interval}"`
    }
  }
  if (def.Timeout) {
    try {
      if (parseDuration(def.Timeout) < 0) return 'Timeout must not be negative'
    } catch {
      return `Timeout: invalid duration "${def.Timeout}"`
    }
  }
  return undefined
}

export function startCheck(def: CheckDefinition, report: (status: CheckStatus, output: string) => void, env: CheckEnv): RunningCheck {
  const checkId = def.CheckID ?? def.Name ?? ''
  const problem = checkDefinitionProblem(def, env)
  if (problem) {
    env.log.warn('Check cannot run', {check: checkId, error: problem})
    const timer = setTimeout(() => report('critical', problem), 0)
    return {stop: () => clearTimeout(timer)}
  }
  const kind = runnerKind(def)!
  if (kind === 'alias') return startAlias(def, report, env)
  const floor = env.minIntervalMs ?? minIntervalMs
  let intervalMs = durationOr(def.Interval, floor)
  if (intervalMs < floor) {
    env.log.warn('check has interval below minimum', {check: checkId, minimum_interval: `${floor}ms`})
    intervalMs = floor
  }
  const outputMax = def.OutputMaxSize && def.OutputMaxSize > 0 ? def.OutputMaxSize : env.outputMaxSize > 0 ? env.outputMaxSize : defaultOutputMaxSize
  const timeoutMs = timerDelayMs(durationOr(def.Timeout, kind === 'script' ? 30_000 : 10_000))
  const probes: Record<Exclude<RunnerKind, 'alias'>, (signal: AbortSignal) => Promise<ProbeResult>> = {
    http: (signal) => httpProbe(def, timeoutMs, outputMax, signal),
    tcp: (signal) => tcpProbe(def.TCP!, timeoutMs, signal),
    script: (signal) => scriptProbe(def.Args!, timeoutMs, outputMax, signal),
    grpc: (signal) => grpcProbe(def.GRPC!, def.GRPCUseTLS ?? false, def.TLSSkipVerify ?? false, timeoutMs, signal),
    h2ping: (signal) => h2pingProbe(def.H2PING!, {useTls: def.H2PingUseTLS ?? true, skipVerify: def.TLSSkipVerify ?? false, serverName: def.TLSServerName ?? ''}, timeoutMs, signal),
    udp: (signal) => udpProbe(def.UDP!, timeoutMs, signal),
  }
  return schedule({
    intervalMs, probe: probes[kind], thresholds: new StatusThresholds(thresholdsOf(def)), report, log: env.log, checkId, random: env.random,
  })
}
