// Check runners: `startCheck` starts the runner a definition asks for and reports
// its results through the thresholds. TTL checks are not runners (agent-local keeps their timers).
//
// Timing as Consul's agent: Interval at least 1 s (MinInterval, "to avoid fork-bombing");
// Timeout defaults 10 s for HTTP, TCP and gRPC, 30 s for scripts. Output at most OutputMaxSize
// bytes (the definition's, else the agent's, else 4 KiB).
import {timerDelayMs} from '../../duration.js'
import type {GrpcCheck, H2pingCheck, HttpCheck, ScriptCheck, TcpCheck, UdpCheck} from '../definitions.js'
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

/**
 * Why this definition cannot run here (one line, for a 400 at registration), or undefined.
 * startCheck itself never throws: a definition it cannot run is reported critical with this text.
 */
export function checkDefinitionProblem(def: CheckDefinition, env: Pick<CheckEnv, 'enableScriptChecks'>): string | undefined {
  if (def.kind === 'ttl' || def.kind === 'maintenance') return 'check has no HTTP, TCP, Args, GRPC, H2PING, UDP, AliasNode or AliasService to run (TTL checks are not runners)'
  if (def.kind === 'script' && !env.enableScriptChecks) return scriptsDisabledMessage
  if (def.kind !== 'alias' && def.intervalMs <= 0) return 'Interval must be set for script, HTTP, TCP, gRPC, H2PING and UDP checks'
  return undefined
}

export function startCheck(def: CheckDefinition, report: (status: CheckStatus, output: string) => void, env: CheckEnv): RunningCheck {
  const checkId = def.CheckID
  const problem = checkDefinitionProblem(def, env)
  if (problem || def.kind === 'ttl' || def.kind === 'maintenance') {
    env.log.warn('Check cannot run', {check: checkId, error: problem})
    const timer = setTimeout(() => report('critical', problem ?? ''), 0)
    return {stop: () => clearTimeout(timer)}
  }
  if (def.kind === 'alias') return startAlias(def, report, env)
  const floor = env.minIntervalMs ?? minIntervalMs
  let intervalMs = def.intervalMs > 0 ? def.intervalMs : floor
  if (intervalMs < floor) {
    env.log.warn('check has interval below minimum', {check: checkId, minimum_interval: `${floor}ms`})
    intervalMs = floor
  }
  const outputMax = def.OutputMaxSize > 0 ? def.OutputMaxSize : env.outputMaxSize > 0 ? env.outputMaxSize : defaultOutputMaxSize
  const timeoutMs = timerDelayMs(def.timeoutMs > 0 ? def.timeoutMs : def.kind === 'script' ? 30_000 : 10_000)
  return schedule({
    intervalMs, probe: probeOf(def, timeoutMs, outputMax), thresholds: new StatusThresholds(thresholdsOf(def)), report, log: env.log, checkId, random: env.random,
  })
}

/** The one probe a runnable definition's kind asks for. */
function probeOf(def: HttpCheck | TcpCheck | ScriptCheck | GrpcCheck | H2pingCheck | UdpCheck, timeoutMs: number, outputMax: number): (signal: AbortSignal) => Promise<ProbeResult> {
  switch (def.kind) {
    case 'http': return (signal) => httpProbe(def, timeoutMs, outputMax, signal)
    case 'tcp': return (signal) => tcpProbe(def.TCP, timeoutMs, signal)
    case 'script': return (signal) => scriptProbe(def.Args, timeoutMs, outputMax, signal)
    case 'grpc': return (signal) => grpcProbe(def.GRPC, def.GRPCUseTLS, def.TLSSkipVerify, timeoutMs, signal)
    case 'h2ping': return (signal) => h2pingProbe(def.H2PING, {useTls: def.H2PingUseTLS, skipVerify: def.TLSSkipVerify, serverName: def.TLSServerName}, timeoutMs, signal)
    case 'udp': return (signal) => udpProbe(def.UDP, timeoutMs, signal)
  }
}
