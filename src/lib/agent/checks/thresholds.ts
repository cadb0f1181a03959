// SuccessBeforePassing / FailuresBeforeWarning / FailuresBeforeCritical, as Consul's StatusHandler:
// consecutive results are counted; a success (passing or warning) is reported once
// SuccessBeforePassing of them came in a row, a failure as critical after FailuresBeforeCritical
// in a row, or as warning after FailuresBeforeWarning. Counters start at their thresholds, so the
// very first result is reported whatever the settings. Pure.
import type {CheckStatus, ProbeResult} from './types.js'

export interface Thresholds {
  successBeforePassing: number
  failuresBeforeWarning: number
  failuresBeforeCritical: number
}

export class StatusThresholds {
  #successes: number
  #failures: number

  constructor(private readonly t: Thresholds) {
    this.#successes = t.successBeforePassing
    this.#failures = t.failuresBeforeCritical
  }

  /** What to report for this result; undefined = keep the current status (threshold not reached). */
  next(result: ProbeResult): {status: CheckStatus; output: string} | undefined {
    if (result.status !== 'critical') {
      this.#successes++
      this.#failures = 0
      return this.#successes >= this.t.successBeforePassing ? result : undefined
    }
    this.#failures++
    this.#successes = 0
    if (this.#failures >= this.t.failuresBeforeCritical) return result
    if (this.#failures >= this.t.failuresBeforeWarning) return {status: 'warning', output: result.output}
    return undefined
  }
}

export function thresholdsOf(def: {SuccessBeforePassing?: number; FailuresBeforeWarning?: number; FailuresBeforeCritical?: number}): Thresholds {
  const critical = Math.max(0, def.FailuresBeforeCritical ?? 0)
  return {
    successBeforePassing: Math.max(0, def.SuccessBeforePassing ?? 0),
    failuresBeforeCritical: critical,
    failuresBeforeWarning: def.FailuresBeforeWarning ? Math.max(0, def.FailuresBeforeWarning) : critical,
  }
}
