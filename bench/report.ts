// Renders the kv section of BENCHMARKS.md and splices it between its markers, so other sections
// (written by hand or by other benches) survive a rerun.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus} from 'node:os'
import {type ColdStartResult} from './cold-start.js'
import {type KvCell, type KvPlan} from './kv-suite.js'
import {BUSY_OTHERS_SHARE, isBusy, type LoadResult} from './load.js'

export interface SystemRun {
  /** Column heading, e.g. "etcd 3.4.23". */
  label: string
  cells: KvCell[]
  rssMiB?: number
  /** Why this system has no figures (failed to install or start). */
  error?: string
}

export interface KvReport {
  date: string
  machine: string
  plan: KvPlan
  etcd: SystemRun
  coord: SystemRun
  coordDev: SystemRun
  coldStart?: ColdStartResult
  /** coord kv get's mean over `node -e 0`'s at most this. */
  coldStartAimRatio: number
}

const BEGIN = '<!-- bench:kv:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:kv:end -->'

export const int = (n: number): string => Math.round(n).toLocaleString('en-US')
export const ms = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1))
export const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(a / b).toFixed(2)}×` : '–')

/** Server CPU ms per operation (3 decimals: 0.5 ms/op and less is the range of interest). */
export const cpu = (r: LoadResult | undefined): string => (r?.cpuMsPerOp === undefined ? '–' : r.cpuMsPerOp.toFixed(3))

/**
 * The load cell of a row: each system's 1-min load average at its start, then the share of the
 * machine's CPU other people's processes took over its measured window, flagged **busy** when one
 * is above BUSY_OTHERS_SHARE (other work competed for the cores: throughput and latency are then
 * lower and noisier; CPU per op, the servers' own accounting, much less so).
 */
export function loadCell(results: (LoadResult | undefined)[]): string {
  const present = results.filter((r): r is LoadResult => r !== undefined)
  if (present.length === 0) return '–'
  const loads = present.map((r) => r.loadStart.toFixed(1)).join(' / ')
  const others = present.map((r) => (r.othersCpuShare === undefined ? '–' : `${(r.othersCpuShare * 100).toFixed(0)} %`)).join(' / ')
  return `${loads}; others ${others}${present.some(isBusy) ? ' **busy**' : ''}`
}

/**
 * How a section's load rows were driven, from what each row recorded (bench/generator.ts): wrk,
 * or (BENCH_LOADGEN=undici) the Node workers of earlier runs, with the generator's median CPU per
 * request, which shares the machine's cores with the servers.
 */
export function generatorText(results: (LoadResult | undefined)[]): string {
  const rows = results.filter((r): r is LoadResult => r !== undefined)
  const used = new Set(rows.map((r) => r.generator ?? 'undici'))
  const costs = rows.flatMap((r) => (r.generatorCpuMsPerOp === undefined ? [] : [r.generatorCpuMsPerOp])).sort((a, b) => a - b)
  const cost = costs.length ? ` The generator's own CPU: median ${costs[costs.length >> 1].toFixed(3)} ms per request over the rows (it counts as the bench's own in "others").` : ''
  const wrk = 'Load generator: wrk (Debian\'s `wrk`, C): one process per server a row sends to, one thread, one keep-alive connection per client, ' +
    'one request in flight on each (closed loop), requests prebuilt per key, every answer checked (status 200 and, for etcd reads, a key found); ' +
    'latency percentiles from wrk\'s histogram without the coordinated-omission correction wrk adds (bench/wrk.ts takes it back out), as the closed loop saw them. ' +
    'A warm-up run of the same, then the measured run (whole seconds).'
  const undici = 'Load generator: Node workers in the bench\'s own process (undici Pool, one keep-alive connection per client, no pipelining), one request in flight each (closed loop).'
  return (used.has('wrk') && used.has('undici') ? `${wrk} Some rows: ${undici}` : used.has('wrk') ? wrk : undici) + cost
}

/** The note under a table that explains its CPU and load columns. */
export function cpuNote(systems: string): string {
  return `- CPU ms/op: the server processes' own CPU time (user + system from /proc/<pid>/stat, ${systems}) over the measured window, divided by the operations counted in it. ` +
    'It counts only the servers, so it moves much less than ops/s when other work shares the machine: on this shared box it is the figure to trust. ' +
    'Load: the 1-min load average at the start of each system\'s row (the bench\'s own servers and load generator count in it), then "others": the share of the machine\'s CPU time over the row\'s measured window ' +
    'that processes other than the bench\'s own took (the busy time in /proc/stat less the servers\' and the load generator\'s own accounting, over window × CPUs). ' +
    `**busy** marks a row where others took more than ${(BUSY_OTHERS_SHARE * 100).toFixed(0)} % (${cpus().length} CPUs here): its throughput and latency are lower and noisier than on a quiet machine.`
}

function cellOf(run: SystemRun, op: string, clients: number): KvCell | undefined {
  return run.cells.find((c) => c.op === op && c.clients === clients)
}

function kvTable(r: KvReport): string[] {
  const lines = [
    `| op | clients | ${r.etcd.label} ops/s | p50 ms | p99 ms | CPU ms/op | ${r.coord.label} ops/s | p50 ms | p99 ms | CPU ms/op | coord/etcd ops/s | coord/etcd p50 | coord/etcd CPU/op | ${r.coordDev.label} ops/s | p50 ms | p99 ms | CPU ms/op | load; others (etcd / coord / -dev) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  const notes: string[] = []
  for (const op of ['PUT', 'GET']) {
    for (const clients of r.plan.clients) {
      const [e, c, d] = [r.etcd, r.coord, r.coordDev].map((s) => cellOf(s, op, clients)?.result)
      const fig = (x: typeof e): string => (x ? `${int(x.opsPerSec)} | ${ms(x.p50Ms)} | ${ms(x.p99Ms)} | ${cpu(x)}` : '– | – | – | –')
      lines.push(`| ${op} | ${clients} | ${fig(e)} | ${fig(c)} | ${ratio(c?.opsPerSec, e?.opsPerSec)} | ${ratio(c?.p50Ms, e?.p50Ms)} | ${ratio(c?.cpuMsPerOp, e?.cpuMsPerOp)} | ${fig(d)} | ${loadCell([e, c, d])} |`)
      for (const [run, x] of [[r.etcd, e], [r.coord, c], [r.coordDev, d]] as const) {
        if (x?.errors) notes.push(`- ${run.label} ${op} ×${clients}: ${x.errors} failed requests (first: ${x.firstError}).`)
      }
    }
  }
  return [...lines, ...(notes.length ? ['', ...notes] : [])]
}

function coldStartTable(r: KvReport): string[] {
  const cs = r.coldStart
  if (!cs) return ['Cold start not measured (coord data-dir agent did not run).']
  if (cs.error) return [`Cold start not measured: ${cs.error}`]
  const lines = ['| command | mean ± σ ms | min ms | max ms | runs |', '| --- | ---: | ---: | ---: | ---: |']
  for (const row of cs.rows) lines.push(`| \`${row.command}\` | ${ms(row.meanMs)} ± ${ms(row.stddevMs)} | ${ms(row.minMs)} | ${ms(row.maxMs)} | ${row.runs} |`)
  const coord = cs.rows.find((row) => row.command.startsWith('coord'))
  const node = cs.rows.find((row) => row.command.startsWith('node'))
  if (coord && node) {
    const ratio = coord.meanMs / node.meanMs
    const verdict = ratio <= r.coldStartAimRatio ? 'meets' : 'misses'
    lines.push('', `coord ${verdict} the aim of ≤ ${r.coldStartAimRatio}× a bare \`node -e 0\`: ${ratio.toFixed(2)}× (means ${ms(coord.meanMs)} / ${ms(node.meanMs)} ms).`)
  }
  return lines
}

export function renderKvSection(r: KvReport): string {
  const rss = [r.coord, r.coordDev, r.etcd].map((s) => `${s.label} ${s.rssMiB === undefined ? '–' : `${s.rssMiB.toFixed(0)} MiB`}`).join(', ')
  const errors = [r.etcd, r.coord, r.coordDev].filter((s) => s.error).map((s) => `- **${s.label} skipped:** ${s.error}`)
  return [
    BEGIN,
    '## kv: coord vs etcd',
    '',
    `${r.date} · ${r.machine}`,
    '',
    `${generatorText([r.etcd, r.coord, r.coordDev].flatMap((s) => s.cells.map((c) => c.result)))} ` +
      `${r.plan.warmupMs / 1000} s warm-up then ${r.plan.durationMs / 1000} s measured per row; ` +
      `${r.plan.keys} keys, ${r.plan.valueBytes}-byte values, keys prefilled before the GET rows. ` +
      'The load generator runs on the same machine as the server, so at 64 clients both compete for the same cores.',
    '',
    ...kvTable(r),
    '',
    '- coord: `PUT/GET /v1/kv/bench/<k>`, default consistency (reads served by the leader). ' +
      '"coord (data dir)" is a `-server -bootstrap -data-dir` agent, which fdatasyncs its log before acknowledging a write (one sync per batch of concurrent writes); "coord -dev" keeps state in memory and is reference only.',
    '- etcd: single member, temp data dir (WAL synced before acknowledging, batched likewise), JSON gateway `POST /v3/kv/put` and `POST /v3/kv/range`; ' +
      'range is **linearizable** (the default; not `serializable`), i.e. a ReadIndex round per read. ' +
      'The gateway is etcd\'s in-process grpc-gateway, which re-sends each JSON request to the same server over a loopback gRPC connection: native gRPC clients would see lower etcd latency.',
    cpuNote('one server process per system'),
    '- Ratios are coord (data dir) / etcd: above 1× is better for ops/s, below 1× is better for p50 and CPU/op. ' +
      'With few cores shared by server and generator, the 64-client rows move by tens of percent between runs; compare within one run.',
    `- Server RSS after the run (VmRSS): ${rss}.`,
    ...(errors.length ? ['', ...errors] : []),
    '',
    '### Cold start: one `kv get` as a whole process',
    '',
    'hyperfine `-N --warmup 3 --runs 20`, against the data-dir agent above (`CONSUL_HTTP_ADDR` set).',
    '',
    ...coldStartTable(r),
    END,
  ].join('\n')
}

/** Replaces the section between `begin` and `end` in `path` (or appends it), creating the file if needed. */
export function writeSection(path: string, begin: string, end: string, section: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nFigures from `npm run bench` (bench/). Rerun to refresh; numbers are only comparable within one run.\n'
  const from = old.indexOf(begin)
  const to = old.indexOf(end)
  const next = from >= 0 && to > from
    ? old.slice(0, from) + section + old.slice(to + end.length)
    : `${old.trimEnd()}\n\n${section}\n`
  writeFileSync(path, next)
}

/** Replaces the kv section of `path` (or appends it), creating the file if needed. */
export function writeKvSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}

/** One server run of an off/on comparison (ACLs, telemetry): its KV cells, or why it failed. */
export interface OnOffRow {
  label: string
  on: boolean
  cells: KvCell[]
  error?: string
}

/**
 * The tables of an off/on comparison: every run's cells, then per op and client count the mean
 * ops/s with the feature off and on over the rounds, and what turning it on cost.
 */
export function renderOnOffTables(rows: OnOffRow[], clients: number[], costHeader: string): string[] {
  const fmt = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2))
  const lines = ['| run | op | clients | ops/s | p50 ms | p99 ms | errors |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |']
  for (const row of rows) {
    if (row.error) {
      lines.push(`| ${row.label} | failed: ${row.error} | | | | | |`)
      continue
    }
    for (const c of row.cells) lines.push(`| ${row.label} | ${c.op} | ${c.clients} | ${Math.round(c.result.opsPerSec)} | ${fmt(c.result.p50Ms)} | ${fmt(c.result.p99Ms)} | ${c.result.errors} |`)
  }
  const mean = (on: boolean, op: string, n: number) => {
    const values = rows.filter((x) => x.on === on).flatMap((x) => x.cells).filter((c) => c.op === op && c.clients === n).map((c) => c.result.opsPerSec)
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN
  }
  lines.push('', `| op | clients | mean ops/s off | mean ops/s on | ${costHeader} |`, '| --- | ---: | ---: | ---: | ---: |')
  for (const op of ['PUT', 'GET']) {
    for (const n of clients) {
      const off = mean(false, op, n)
      const on = mean(true, op, n)
      lines.push(`| ${op} | ${n} | ${Number.isNaN(off) ? '–' : Math.round(off)} | ${Number.isNaN(on) ? '–' : Math.round(on)} | ${Number.isNaN(off) || Number.isNaN(on) ? '–' : `${(((off - on) / off) * 100).toFixed(1)} %`} |`)
    }
  }
  return lines
}
