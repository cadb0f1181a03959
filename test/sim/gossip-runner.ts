// Runs one gossip simulation seed and turns any failure (a checker's GossipSimFailure or a core
// assertion) into a report naming the seed and the command that replays it exactly.
import {GossipSimulation, type ByteBreakdown, type GossipRunResult} from './gossip-cluster.js'
import {deriveGossipParams, describeGossipParams, type GossipParamOverrides, type GossipSimParams} from './gossip-params.js'

export interface GossipSeedOutcome {
  params: GossipSimParams
  result?: GossipRunResult
  failure?: string
  wallMs: number
}

export function gossipReplayCommand(seed: number, o: GossipParamOverrides = {}): string {
  const env = [`SEED=${seed}`]
  if (o.members !== undefined) env.push(`MEMBERS=${o.members}`)
  if (o.profile !== undefined) env.push(`PROFILE=${o.profile}`)
  if (o.scenario !== undefined) env.push(`SCENARIO=${o.scenario}`)
  if (o.stallMs !== undefined) env.push(`STALL_MS=${o.stallMs}`)
  if (o.crashes !== undefined) env.push(`CRASHES=${o.crashes}`)
  if (o.wire !== undefined) env.push(`WIRE=${o.wire}`)
  if (o.config !== undefined) env.push(`CONFIG='${JSON.stringify(o.config)}'`)
  return `${env.join(' ')} node dist/test/sim/gossip-run.js`
}

export function runGossipSeed(seed: number, overrides: GossipParamOverrides = {}): GossipSeedOutcome {
  const params = deriveGossipParams(seed, overrides)
  const sim = new GossipSimulation(params)
  const started = process.hrtime.bigint()
  const wall = (): number => Number(process.hrtime.bigint() - started) / 1e6
  try {
    const result = sim.run()
    return {params, result, wallMs: wall()}
  } catch (error) {
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error)
    return {params, wallMs: wall(), failure: `seed ${seed} failed at t=${sim.nowMs}ms: ${why}\n${describeGossipParams(params)}\nreplay: ${gossipReplayCommand(seed, overrides)}`}
  }
}

export interface GossipFigures {
  runs: number
  failures: number
  crashes: number
  detectP50Ms: number
  detectP99Ms: number
  detectMaxMs: number
  falsePositives: number
  convergeP50Ms: number
  convergeMaxMs: number
  healMaxMs: number | null
  bytesPerMemberPerSec: number
  /** Mean over the runs of each kind's bytes (and datagrams) per member per second. */
  breakdown: ByteBreakdown | null
  /** Longest wait for the join wave's broadcasts to drain; null if some run's drain budget ran out. */
  drainMaxMs: number | null
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

export function summarize(outcomes: GossipSeedOutcome[]): GossipFigures {
  const ok = outcomes.filter((o) => o.result).map((o) => o.result as NonNullable<typeof o.result>)
  const det = ok.flatMap((r) => r.detectionsMs).sort((a, b) => a - b)
  const conv = ok.map((r) => r.convergeMs).sort((a, b) => a - b)
  const heals = ok.map((r) => r.healMs).filter((h): h is number => h !== null)
  return {
    runs: outcomes.length,
    failures: outcomes.length - ok.length,
    crashes: det.length,
    detectP50Ms: quantile(det, 0.5),
    detectP99Ms: quantile(det, 0.99),
    detectMaxMs: det.at(-1) ?? NaN,
    falsePositives: ok.reduce((n, r) => n + r.falsePositives, 0),
    convergeP50Ms: quantile(conv, 0.5),
    convergeMaxMs: conv.at(-1) ?? NaN,
    healMaxMs: heals.length > 0 ? Math.max(...heals) : null,
    bytesPerMemberPerSec: ok.length > 0 ? Math.round(ok.reduce((n, r) => n + r.bytesPerMemberPerSec, 0) / ok.length) : NaN,
    breakdown: ok.length > 0 ? meanBreakdown(ok.map((r) => r.breakdown)) : null,
    drainMaxMs: ok.some((r) => r.drainMs === null) ? null : Math.max(...ok.map((r) => r.drainMs as number)),
  }
}

function meanBreakdown(all: ByteBreakdown[]): ByteBreakdown {
  const out = {...all[0]}
  for (const k of Object.keys(out) as Array<keyof ByteBreakdown>) out[k] = Math.round(all.reduce((n, b) => n + b[k], 0) / all.length)
  return out
}

export function describeFigures(label: string, f: GossipFigures): string {
  return `${label}: ${f.runs} runs (${f.failures} failed), ${f.crashes} crashes: detection p50 ${f.detectP50Ms}ms p99 ${f.detectP99Ms}ms max ${f.detectMaxMs}ms; ` +
    `false positives ${f.falsePositives}; convergence p50 ${f.convergeP50Ms}ms max ${f.convergeMaxMs}ms; heal max ${f.healMaxMs ?? '-'}ms; drain max ${f.drainMaxMs ?? 'over budget'}ms; ${f.bytesPerMemberPerSec} B/member/s` +
    (f.breakdown ? ` (${Object.entries(f.breakdown).map(([k, v]) => `${k} ${v}`).join(', ')})` : '')
}
