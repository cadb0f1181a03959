// The closed-loop load generator, the one piece of code that drives every system under test, so
// their figures differ only by the target. Each of N workers keeps exactly one request in flight:
// it sends, awaits the answer, and sends the next. Throughput therefore includes the server's
// latency, as a real client sees it (no open-loop coordinated-omission correction is attempted).

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
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export async function runLoad(op: Op, opts: LoadOptions): Promise<LoadResult> {
  const maxOps = opts.maxOpsPerWorker ?? 2_000_000
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
  await Promise.all(Array.from({length: opts.workers}, (_, id) => worker(id)))

  const sorted = Float64Array.from(latencies).sort()
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
  }
}
