// The periodic loop every interval check shares: probe, report through the thresholds, wait one
// interval after the probe finished (runs never overlap, as Consul's), until stopped.
//
// First run: Consul waits a random stagger in [0, Interval) before it (lib.RandomStagger), which
// spreads an agent's checks but leaves a new service critical (its initial status) for up to a
// whole interval (30 s for a typical "30s" check). coord staggers within min(Interval, 1 s):
// a restart with many checks is still spread, and a service is answered within a second.
import type {CheckLog, CheckStatus, ProbeResult, RunningCheck} from './types.js'
import type {StatusThresholds} from './thresholds.js'
import {timerDelayMs} from '../../duration.js'

export const firstRunStaggerCapMs = 1000

export interface ScheduleOptions {
  intervalMs: number
  /** One probe; `signal` aborts when the check stops (kill the script, drop the request). */
  probe: (signal: AbortSignal) => Promise<ProbeResult>
  thresholds: StatusThresholds
  report: (status: CheckStatus, output: string) => void
  log: CheckLog
  checkId: string
  random?: () => number
}

export function schedule(opts: ScheduleOptions): RunningCheck {
  let stopped = false
  const aborter = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const run = async () => {
    timer = undefined
    let result: ProbeResult
    try {
      result = await opts.probe(aborter.signal)
    } catch (error) {
      // A probe must not throw; if one does, the check is failing rather than silently stuck.
      result = {status: 'critical', output: (error as Error).message}
    }
    if (stopped) return
    const reported = opts.thresholds.next(result)
    if (reported) opts.report(reported.status, reported.output)
    else opts.log.debug('Check result below its threshold, status kept', {check: opts.checkId, status: result.status})
    timer = setTimeout(() => void run(), timerDelayMs(opts.intervalMs))
  }
  const first = Math.floor((opts.random ?? Math.random)() * Math.min(opts.intervalMs, firstRunStaggerCapMs))
  timer = setTimeout(() => void run(), first)
  return {
    stop: () => {
      stopped = true
      aborter.abort()
      if (timer) clearTimeout(timer)
    },
  }
}
