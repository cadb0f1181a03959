// The closed-loop load generator, the one piece of code that drives every system under test, so
// their figures differ only by the target. Each of N workers keeps exactly one request in flight:
// it sends, awaits the answer, and sends the next. Throughput therefore includes the server's
// latency, as a real client sees it (no open-loop coordinated-omission correction is attempted).
// Beside throughput and latency it records what the servers spent: the CPU time of the server
// processes (their own accounting, /proc/<pid>/stat) over the measured window, per operation, the
// box's load average at the start and end of the row, and how much of the machine's CPU other
// people's processes took over the window, so a row taken on a busy box says so.
import {cpus, loadavg} from 'node:os'
import {cpuMs, machineBusyMs} from './process.js'

/** One request against the target; `seq` is this worker's op counter, used to pick a key. */
export type Op = (worker: number, seq: number) => Promise<void>

export interface LoadOptions {
  workers: number
  /** Measured window; only ops that start and finish inside it are counted. */
  durationMs: number
  /** Unmeasured run-in before the window: fills connection pools, JITs both sides. */
  warmupMs: number
  /** Hard cap on ops per worker, so a target that fails instantly cannot spin unbounded. */
  maxOpsPerWorker?: number
  /** PIDs of the server processes whose CPU time the row reports (all members of a cluster). */
  serverPids?: number[]
}

export interface LoadResult {
  workers: number
  ops: number
  errors: number
  firstError?: string
  seconds: number
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  /** Server CPU (user + system) over the measured window, summed over `serverPids`, per counted op. */
  cpuMsPerOp?: number
  /** 1-min load average when the row started (warm-up included) and when it ended: the bench's own processes count in it. */
  loadStart: number
  loadEnd: number
  /**
   * Share (0–1) of the machine's CPU time over the measured window taken by processes other than
   * the bench's own (this load generator and `serverPids`): the machine's busy time from /proc/stat
   * less their own accounting, over window × CPUs. Undefined when it could not be read.
   */
  othersCpuShare?: number
  /** The load generator's own CPU (user + system) over the measured window, per counted op. */
  generatorCpuMsPerOp?: number
  /** Which generator took the row (bench/generator.ts): 'wrk' or 'undici'. */
  generator?: string
}

/**
 * A row is taken on a busy box when other processes took more than this share of the machine's
 * CPU over its measured window (0.2: 40 % of one core on two). The load average cannot say it: on a
 * two-core box the bench's own servers and generator keep it above 2.
 */
export const BUSY_OTHERS_SHARE = 0.2

/** Is `r` a row other work competed with? (othersCpuShare above BUSY_OTHERS_SHARE) */
export const isBusy = (r: LoadResult | undefined): boolean => (r?.othersCpuShare ?? 0) > BUSY_OTHERS_SHARE

export interface CpuSample {at: number; machine: number; own: number}

/**
 * The machine's busy CPU ms and the bench's own (this process + `pids` + `extraOwnMs`, the CPU of
 * generator processes that have exited), now; undefined if either is unreadable.
 */
export function sampleCpu(pids: number[], extraOwnMs = 0): CpuSample | undefined {
  const machine = machineBusyMs()
  const servers = cpuOf(pids)
  if (machine === undefined || servers === undefined) return undefined
  const self = process.cpuUsage()
  return {at: performance.now(), machine, own: servers + extraOwnMs + (self.user + self.system) / 1000}
}

/** Others' share of the machine's CPU between two samples (clamped at 0: the counters tick at different moments). */
export function othersShare(from: CpuSample | undefined, to: CpuSample | undefined): number | undefined {
  if (!from || !to || to.at <= from.at) return undefined
  const others = (to.machine - from.machine) - (to.own - from.own)
  return Math.min(1, Math.max(0, others / ((to.at - from.at) * cpus().length)))
}

/** Summed CPU ms of `pids`; undefined when any of them is gone (the figure would be wrong). */
export function cpuOf(pids: number[]): number | undefined {
  let sum = 0
  for (const pid of pids) {
    const ms = cpuMs(pid)
    if (ms === undefined) return undefined
    sum += ms
  }
  return sum
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export async function runLoad(op: Op, opts: LoadOptions): Promise<LoadResult> {
  const maxOps = opts.maxOpsPerWorker ?? 2_000_000
  const loadStart = loadavg()[0]
  const start = performance.now()
  const measureFrom = start + opts.warmupMs
  const measureTo = measureFrom + opts.durationMs
  const latencies: number[] = []
  let errors = 0
  let firstError: string | undefined

  const worker = async (id: number): Promise<void> => {
    for (let seq = 0; seq < maxOps; seq++) {
      const t0 = performance.now()
      if (t0 >= measureTo) return
      try {
        await op(id, seq)
      } catch (err) {
        errors++
        firstError ??= err instanceof Error ? err.message : String(err)
        continue
      }
      const t1 = performance.now()
      if (t0 >= measureFrom && t1 <= measureTo) latencies.push(t1 - t0)
    }
  }
  // CPU is read when the window opens and when it closes (timers, independent of the workers).
  const pids = opts.serverPids ?? []
  let cpuFrom: number | undefined
  let cpuTo: number | undefined
  let sampleFrom: CpuSample | undefined
  let sampleTo: CpuSample | undefined
  let selfFrom: NodeJS.CpuUsage | undefined
  let selfTo: NodeJS.CpuUsage | undefined
  let closed = false
  const close = (): void => {
    closed = true
    if (pids.length > 0) cpuTo = cpuOf(pids)
    sampleTo = sampleCpu(pids)
    if (selfFrom) selfTo = process.cpuUsage(selfFrom)
  }
  const timers = [
    setTimeout(() => {
      if (pids.length > 0) cpuFrom = cpuOf(pids)
      sampleFrom = sampleCpu(pids)
      selfFrom = process.cpuUsage()
    }, opts.warmupMs),
    setTimeout(close, opts.warmupMs + opts.durationMs),
  ]
  await Promise.all(Array.from({length: opts.workers}, (_, id) => worker(id)))
  // The last worker may finish a hair before the closing timer: read it now then.
  timers.forEach(clearTimeout)
  if (!closed) close()

  const sorted = Float64Array.from(latencies).sort()
  const others = othersShare(sampleFrom, sampleTo)
  const seconds = opts.durationMs / 1000
  return {
    workers: opts.workers,
    ops: sorted.length,
    errors,
    firstError,
    seconds,
    opsPerSec: sorted.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    ...(cpuFrom !== undefined && cpuTo !== undefined && sorted.length > 0 ? {cpuMsPerOp: (cpuTo - cpuFrom) / sorted.length} : {}),
    loadStart,
    loadEnd: loadavg()[0],
    ...(others === undefined ? {} : {othersCpuShare: others}),
    ...(selfTo && sorted.length > 0 ? {generatorCpuMsPerOp: (selfTo.user + selfTo.system) / 1000 / sorted.length} : {}),
  }
}

/** The CPU and load figures of a row for a progress line. */
export function cpuText(r: LoadResult): string {
  return `${r.cpuMsPerOp === undefined ? '' : `, server CPU ${r.cpuMsPerOp.toFixed(3)} ms/op`}` +
    `${r.generatorCpuMsPerOp === undefined ? '' : `, generator ${r.generatorCpuMsPerOp.toFixed(3)} ms/op`}, load ${r.loadStart.toFixed(2)} → ${r.loadEnd.toFixed(2)}` +
    (r.othersCpuShare === undefined ? '' : `, others ${(r.othersCpuShare * 100).toFixed(0)} % of the CPU${isBusy(r) ? ' (busy)' : ''}`)
}
