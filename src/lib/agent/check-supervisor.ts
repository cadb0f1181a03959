// Runs the local checks: TTL timers (kept here), every other kind through a runner
// started with `startCheck` (src/lib/agent/checks; plugged in by the agent through
// check-runners.ts), and the reaper that deregisters services critical for longer than their
// DeregisterCriticalServiceAfter. It follows the LocalState: a check added starts, a check
// replaced restarts, a check removed stops.
import type {Logger} from '../logger.js'
import type {CheckEnv, RunningCheck} from './checks/index.js'
import type {CheckDefinition, CheckStatus} from './definitions.js'
import {timerDelayMs} from '../duration.js'
import {LocalStateError, aggregateStatus, unknownCheckMessage, type LocalState} from './local-state.js'

export type {CheckEnv, RunningCheck} from './checks/index.js'
export type StartCheck = (def: CheckDefinition, report: (status: CheckStatus, output: string) => void, env: CheckEnv) => RunningCheck

/** Consul's default check output limit (4 KiB). */
export const DEFAULT_OUTPUT_MAX_SIZE = 4096
/** Consul's floor on DeregisterCriticalServiceAfter, and how often its reaper looks. */
export const MIN_DEREGISTER_AFTER_MS = 60_000
export const REAP_INTERVAL_MS = 30_000

export class CheckNotTtlError extends Error {
  readonly code = 'CHECK_NOT_TTL'
}

export interface SupervisorOptions {
  log: Logger
  /** Whether script checks may run; a function follows reloads. The registry already refused scripts the config does not allow. */
  enableScriptChecks: boolean | (() => boolean)
  nodeName: string
  /** The check runners; undefined until the `dns` branch's src/lib/agent/checks is merged. */
  startCheck?: StartCheck
  now?: () => number
  reapIntervalMs?: number
  /** check_output_max_size (default 4096); a definition's OutputMaxSize wins. */
  outputMaxSize?: number
}

/** Cuts output to `max` bytes with Consul's note of how much was kept. */
export function truncateOutput(output: string, max: number): string {
  const bytes = Buffer.from(output)
  if (bytes.length <= max) return output
  return `${bytes.subarray(0, max).toString()} ... (captured ${max} of ${bytes.length} bytes)`
}

export class CheckSupervisor {
  readonly #running = new Map<string, RunningCheck>()
  readonly #ttlTimers = new Map<string, NodeJS.Timeout>()
  readonly #now: () => number
  readonly #unsubscribe: () => void
  readonly #reaper: NodeJS.Timeout
  #stopped = false

  constructor(private readonly local: LocalState, private readonly opts: SupervisorOptions) {
    this.#now = opts.now ?? Date.now
    for (const check of local.checks()) this.#start(check.def.CheckID)
    this.#unsubscribe = local.onChange((change) => {
      if (change.kind !== 'check' || change.statusOnly || this.#stopped) return
      this.#stop(change.id)
      if (!change.removed) this.#start(change.id)
    })
    this.#reaper = setInterval(() => this.reap(this.#now()), opts.reapIntervalMs ?? REAP_INTERVAL_MS)
    this.#reaper.unref()
  }

  #start(id: string): void {
    const check = this.local.check(id)
    if (!check || check.source === 'internal') return
    const def = check.def
    const kind = def.kind
    if (kind === 'ttl') {
      this.#armTtl(id)
      return
    }
    if (!this.opts.startCheck) {
      this.opts.log.warn('check runners are not available in this build; the check keeps its initial status', {check: id, type: kind})
      return
    }
    const report = (status: CheckStatus, output: string) => {
      if (this.#running.get(id) === running) this.local.updateCheck(id, status, output)
    }
    const running = this.opts.startCheck(def, report, this.#env())
    this.#running.set(id, running)
  }

  #env(): CheckEnv {
    return {
      log: this.opts.log, enableScriptChecks: typeof this.opts.enableScriptChecks === 'function' ? this.opts.enableScriptChecks() : this.opts.enableScriptChecks, outputMaxSize: this.opts.outputMaxSize ?? DEFAULT_OUTPUT_MAX_SIZE,
      aliasStatus: (node, serviceId) => {
        // Only the local agent's view is known here; an alias of another node reads the catalog (the runner's business).
        if (node !== undefined && node !== '' && node !== this.opts.nodeName) return undefined
        const checks = this.local.checks().filter((c) => serviceId ? c.def.ServiceID === serviceId : c.def.ServiceID === '')
        if (serviceId && !this.local.service(serviceId)) return undefined
        const status = aggregateStatus(checks)
        return status === 'maintenance' ? 'critical' : status
      },
      onLocalChange: (cb) => this.local.onChange(() => cb()),
    }
  }

  #armTtl(id: string): void {
    clearTimeout(this.#ttlTimers.get(id))
    const check = this.local.check(id)
    if (!check) return
    const timer = setTimeout(() => {
      this.#ttlTimers.delete(id)
      const current = this.local.check(id)
      if (!current) return
      this.opts.log.warn('Check missed TTL, is now critical', {check: id})
      // Consul keeps the last thing the check said, so a reader can tell "stopped reporting" from "failing".
      const output = current.output === '' ? 'TTL expired' : `TTL expired (last output before timeout follows): ${current.output}`
      this.local.updateCheck(id, 'critical', output)
    }, timerDelayMs(Math.max(1, check.def.kind === 'ttl' ? check.def.ttlMs : 0)))
    timer.unref()
    this.#ttlTimers.set(id, timer)
  }

  #stop(id: string): void {
    clearTimeout(this.#ttlTimers.get(id))
    this.#ttlTimers.delete(id)
    this.#running.get(id)?.stop()
    this.#running.delete(id)
  }

  /** PUT /v1/agent/check/pass|warn|fail|update: sets a TTL check's status and re-arms its timer. */
  updateTtl(id: string, status: CheckStatus, output: string): void {
    const check = this.local.check(id)
    if (!check) throw new LocalStateError(unknownCheckMessage(id), 'NOT_FOUND')
    if (check.def.kind !== 'ttl' || check.source === 'internal') throw new CheckNotTtlError(`CheckID "${id}" does not have associated TTL`)
    this.local.updateCheck(id, status, truncateOutput(output, check.def.OutputMaxSize || DEFAULT_OUTPUT_MAX_SIZE))
    this.#armTtl(id)
  }

  /**
   * Deregisters every service with a check critical for longer than its
   * DeregisterCriticalServiceAfter (at least one minute, as Consul). Returns the services removed.
   */
  reap(now: number): string[] {
    const removed: string[] = []
    for (const check of this.local.checks()) {
      if (check.def.DeregisterCriticalServiceAfter === '' || check.def.ServiceID === '' || check.criticalSince === undefined) continue
      const limit = Math.max(MIN_DEREGISTER_AFTER_MS, check.def.deregisterCriticalServiceAfterMs)
      if (now - check.criticalSince <= limit) continue
      if (this.local.removeService(check.def.ServiceID)) {
        this.opts.log.info('Check for service has been critical for too long; deregistered service', {service: check.def.ServiceID, check: check.def.CheckID})
        removed.push(check.def.ServiceID)
      }
    }
    return removed
  }

  stop(): void {
    this.#stopped = true
    this.#unsubscribe()
    clearInterval(this.#reaper)
    for (const id of [...this.#running.keys(), ...this.#ttlTimers.keys()]) this.#stop(id)
  }
}
