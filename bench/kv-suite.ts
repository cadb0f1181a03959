// The kv section's matrix: PUT then GET, at each client count, against one target factory. The
// same function runs for every system, so the only thing that varies between columns is the
// Target. A fresh pool per cell keeps one cell's connections from warming the next.
import {runTargets, type Generator} from './generator.js'
import {cpuText, type LoadResult} from './load.js'
import {type Target, type Workload} from './targets.js'

export type KvOp = 'PUT' | 'GET'

export interface KvPlan extends Workload {
  clients: number[]
  durationMs: number
  warmupMs: number
}

export interface KvCell {
  op: KvOp
  clients: number
  result: LoadResult
}

/** Spreads workers over the key space: each starts at its own offset and walks forward. */
export const keyFor = (keys: number) => (worker: number, seq: number): number => (worker * 7919 + seq) % keys

/** Writes every key once through `seed`, so each GET finds a value, then closes it. Bounded: keys / parallel rounds. */
export async function prefill(seed: Target, keys: number, parallel = 16): Promise<void> {
  try {
    for (let base = 0; base < keys; base += parallel) {
      await Promise.all(Array.from({length: Math.min(parallel, keys - base)}, (_, i) => seed.put(base + i)))
    }
  } finally {
    await seed.close()
  }
}

/** `serverPids`: the server processes whose CPU time each row reports (ms per op); `generator` overrides BENCH_LOADGEN. */
export async function runKvSuite(plan: KvPlan, makeTarget: (connections: number) => Target, log: (line: string) => void, serverPids: number[] = [], generator?: Generator): Promise<KvCell[]> {
  const cells: KvCell[] = []
  const pick = keyFor(plan.keys)
  await prefill(makeTarget(16), plan.keys)
  for (const op of ['PUT', 'GET'] as const) {
    for (const clients of plan.clients) {
      const target = makeTarget(clients)
      try {
        const result = await runTargets([target], clients, op === 'PUT' ? 'put' : 'get', pick, {durationMs: plan.durationMs, warmupMs: plan.warmupMs, serverPids, generator})
        log(`  ${target.name} ${op} x${clients}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms` +
          `${cpuText(result)}` +
          (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''))
        cells.push({op, clients, result})
      } finally {
        await target.close()
      }
    }
  }
  return cells
}
