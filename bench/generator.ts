// Which load generator drives a row: wrk (bench/wrk.ts), out of the bench's process and several
// times cheaper per request, unless BENCH_LOADGEN=undici asks for the in-process Node workers of
// bench/load.ts (the generator of earlier runs, kept for comparison), or a target has no raw-HTTP
// form (HTTPS with client certificates). Either way one generator drives every system of a row.
import {runLoad, type LoadResult} from './load.js'
import type {Target} from './targets.js'
import {runWrk} from './wrk.js'

export type Generator = 'wrk' | 'undici'

/** BENCH_LOADGEN: "wrk" (default) or "undici"; anything else is refused. */
export function loadGenerator(env: NodeJS.ProcessEnv = process.env): Generator {
  const g = env.BENCH_LOADGEN ?? 'wrk'
  if (g !== 'wrk' && g !== 'undici') throw new Error(`BENCH_LOADGEN is wrk or undici, not ${g}`)
  return g
}

/** One closed-loop row: `clients` spread round-robin over `targets` (client w on target w mod n), each op `call` on key `pick(w, seq)`. */
export async function runTargets(targets: Target[], clients: number, call: 'put' | 'get', pick: (worker: number, seq: number) => number,
  opts: {durationMs: number; warmupMs: number; serverPids?: number[]; generator?: Generator}): Promise<LoadResult> {
  const {generator, ...load} = opts
  const share = (i: number): number => Math.floor(clients / targets.length) + (i < clients % targets.length ? 1 : 0)
  if ((generator ?? loadGenerator()) === 'wrk' && targets.every((t) => t.wire)) {
    const result = await runWrk(targets.map((t, i) => ({address: t.wire!.address, op: t.wire![call], connections: share(i)})).filter((p) => p.connections > 0), load)
    return {...result, generator: 'wrk'}
  }
  const result = await runLoad((w, seq) => targets[w % targets.length][call](pick(w, seq)), {workers: clients, ...load})
  return {...result, generator: 'undici'}
}
