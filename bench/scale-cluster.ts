// The three-server part of the scale section (BENCH_SECTIONS=scale-cluster; not in the default run:
// it takes minutes and a few GB). Three durable servers (src/lib/devcluster, as the raft section)
// are loaded to BENCH_SCALE_CLUSTER_KEYS keys (default 1,000,000; 100-byte values, 64-op txns, 16 in
// flight through each server, so two thirds are forwarded to the leader), then kept under the same
// write load, overwriting those keys, until every server has taken BENCH_SCALE_CLUSTER_SNAPSHOTS
// automatic snapshots of the full state (default 3) or BENCH_SCALE_CLUSTER_MINUTES pass (default 15).
// It reports each server's automatic snapshots (from its "snapshot complete" log lines), every
// leader election after the first (from "cluster leadership acquired"), the worst probe read through
// each server, and RSS: a leader whose snapshot stalls its event loop past the election timeout
// shows as an election here.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {randomSubnet, startCluster} from '../src/lib/devcluster/cluster.js'
import {rssMiB} from './process.js'
import {writeSection} from './report.js'
import {loopDelayWatch, probe, txns, VALUE} from './scale-suite.js'

interface ServerEvents {
  /** Automatic snapshots: when (ms since the run began), the log index and how long each took. */
  snapshots: {atMs: number; index: number; ms: number}[]
  /** When this server became leader (ms since the run began). */
  leaderships: number[]
  partial: string
}

export interface ClusterServerRow {
  name: string
  snapshotsDuringLoad: number[]
  snapshotsAfterLoad: number[]
  worstProbeMs: number
  /** The server's own worst event-loop delay over the whole run (runtime.event_loop_delay_max_ms). */
  loopDelayMaxMs: number
  rssMiB: number
}

export interface ClusterScaleRun {
  keys: number
  loadSeconds: number
  /** Seconds of overwrite load after the keys were in, until the snapshots were taken or the cap hit. */
  overwriteSeconds: number
  overwrittenKeys: number
  snapshotsWanted: number
  /** Leader elections after the first one, with the server that won each and when (s since the run began). */
  elections: {name: string; atSeconds: number}[]
  servers: ClusterServerRow[]
  /** Share of the run's wall time some runnable task waited for a CPU (/proc/pressure/cpu "some"); undefined without PSI. */
  cpuPressure?: number
  error?: string
}

const SNAPSHOT_LINE = /snapshot complete: index=(\d+) duration=(\d+)ms/
const LEADER_LINE = /cluster leadership acquired/

const keyName = (n: number): string => `k/${String(n).padStart(7, '0')}`

export async function runClusterScale(log: (line: string) => void): Promise<ClusterScaleRun> {
  const keys = Number(process.env.BENCH_SCALE_CLUSTER_KEYS ?? 1_000_000)
  const snapshotsWanted = Number(process.env.BENCH_SCALE_CLUSTER_SNAPSHOTS ?? 3)
  const capMs = Number(process.env.BENCH_SCALE_CLUSTER_MINUTES ?? 15) * 60_000
  const began = performance.now()
  const pressureBefore = cpuPressureMicros()
  const events = new Map<string, ServerEvents>()
  const onOutput = (name: string, text: string): void => {
    let e = events.get(name)
    if (!e) events.set(name, e = {snapshots: [], leaderships: [], partial: ''})
    const lines = (e.partial + text).split('\n')
    e.partial = lines.pop() ?? ''
    for (const line of lines) {
      const snap = SNAPSHOT_LINE.exec(line)
      if (snap) e.snapshots.push({atMs: performance.now() - began, index: Number(snap[1]), ms: Number(snap[2])})
      if (LEADER_LINE.test(line)) e.leaderships.push(performance.now() - began)
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-cluster-'))
  // Prometheus retention: loopDelayWatch reads each server's loop-delay gauge from that form.
  const cluster = await startCluster({servers: 3, dir, subnet: randomSubnet(), timeoutMs: 120_000, onOutput, extraArgs: ['-hcl=telemetry { prometheus_retention_time = "60s" }']})
  const bases = cluster.servers.map((s) => `http://${s.httpAddr}`)
  const probes = bases.map((base) => probe(base))
  const loopDelays = bases.map((base) => loopDelayWatch(base))
  let loadSeconds = NaN
  let overwriteSeconds = 0
  let overwrittenKeys = 0
  let error: string | undefined
  let loadedAtMs = Infinity
  try {
    // Load: each server takes a third of the txns; txn i writes keys 64i .. 64i+63.
    const txnCount = Math.ceil(keys / 64)
    const ops = (i: number): unknown[] => Array.from({length: Math.min(64, keys - i * 64)}, (_, j) => ({KV: {Verb: 'set', Key: keyName(i * 64 + j), Value: VALUE}}))
    const t0 = performance.now()
    await Promise.all(bases.map((base, s) => txns(base, Math.ceil((txnCount - s) / 3), (n) => ops(n * 3 + s))))
    loadSeconds = (performance.now() - t0) / 1000
    loadedAtMs = performance.now() - began
    log(`scale cluster: ${keys} keys loaded in ${loadSeconds.toFixed(1)} s`)
    // Overwrite the same keys in rounds until every server has taken enough snapshots of the full state.
    const after = (name: string): number => (events.get(name)?.snapshots ?? []).filter((s) => s.atMs > loadedAtMs).length
    const t1 = performance.now()
    let round = 0
    while (cluster.servers.some((s) => after(s.name) < snapshotsWanted) && performance.now() - t1 < capMs) {
      const batch = 3 * 512
      await Promise.all(bases.map((base, s) => txns(base, 512, (n) => ops(((round * batch + n * 3 + s) % txnCount)))))
      overwrittenKeys += batch * 64
      round++
    }
    overwriteSeconds = (performance.now() - t1) / 1000
    log(`scale cluster: ${overwrittenKeys} keys overwritten in ${overwriteSeconds.toFixed(1)} s; snapshots after the load: ${cluster.servers.map((s) => `${s.name} ${after(s.name)}`).join(', ')}`)
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
    log(`scale cluster: ${error}`)
  }
  const worst = await Promise.all(probes.map((p) => p.stop()))
  const pressureAfter = cpuPressureMicros()
  const cpuPressure = pressureBefore !== undefined && pressureAfter !== undefined ? (pressureAfter - pressureBefore) / 1000 / (performance.now() - began) : undefined
  const loopDelayMax = await Promise.all(loopDelays.map((w) => w.stop()))
  const servers = cluster.servers.map((s, i) => {
    const snaps = events.get(s.name)?.snapshots ?? []
    return {
      name: s.name,
      snapshotsDuringLoad: snaps.filter((x) => x.atMs <= loadedAtMs).map((x) => x.ms),
      snapshotsAfterLoad: snaps.filter((x) => x.atMs > loadedAtMs).map((x) => x.ms),
      worstProbeMs: worst[i],
      loopDelayMaxMs: loopDelayMax[i],
      rssMiB: rssMiB(s.pid) ?? NaN,
    }
  })
  const elections = [...events.entries()]
    .flatMap(([name, e]) => e.leaderships.map((atMs) => ({name, atSeconds: atMs / 1000})))
    .sort((a, b) => a.atSeconds - b.atSeconds)
    .slice(1)
  await cluster.stop()
  rmSync(dir, {recursive: true, force: true})
  return {keys, loadSeconds, overwriteSeconds, overwrittenKeys, snapshotsWanted, elections, servers, cpuPressure, error}
}

/** Total µs some task waited for a CPU since boot (Linux PSI), undefined where the kernel has none. */
function cpuPressureMicros(): number | undefined {
  try {
    const total = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]
    return total === undefined ? undefined : Number(total)
  } catch {
    return undefined
  }
}

export function renderClusterScaleSection(o: {date: string; machine: string; run: ClusterScaleRun; seconds: number}): string {
  const r = o.run
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '?')
  const list = (xs: number[]): string => xs.join(', ') || '–'
  return [
    `Run ${o.date} · ${o.machine} · ${f(o.seconds, 0)} s`,
    '',
    `Three durable servers on loopback: ${r.keys.toLocaleString('en')} keys of 100-byte values loaded in 64-op txns (16 in flight through each server) in ${f(r.loadSeconds)} s, ` +
      `then ${r.overwrittenKeys.toLocaleString('en')} of them overwritten the same way over ${f(r.overwriteSeconds)} s, until every server had taken ${r.snapshotsWanted} automatic snapshots of the full state. ` +
      'A probe reads one key through each server every 5 ms; its worst wait is the longest the server (and the leader behind it) kept a read waiting. The loop delay max is each server\'s own gauge `runtime.event_loop_delay_max_ms`, the worst over the run.',
    '',
    '| server | automatic snapshots during the load (ms) | after it, full state (ms) | worst probe read | agent loop delay max | RSS MiB |',
    '| --- | --- | --- | ---: | ---: | ---: |',
    ...r.servers.map((s) => `| ${s.name} | ${list(s.snapshotsDuringLoad)} | ${list(s.snapshotsAfterLoad)} | ${f(s.worstProbeMs, 0)} ms | ${f(s.loopDelayMaxMs, 0)} ms | ${f(s.rssMiB, 0)} |`),
    '',
    `Leader elections after the first: **${r.elections.length}**${r.elections.length ? ` (${r.elections.map((e) => `${e.name} at ${f(e.atSeconds)} s`).join(', ')})` : ''}.` +
      (r.error ? ` The run stopped early: ${r.error}` : ''),
    ...(r.cpuPressure === undefined ? [] : ['', `Three servers and the load generator share the box: some task waited for a CPU ${f(100 * r.cpuPressure, 0)} % of the run (/proc/pressure/cpu), which the loop delays above include.`]),
  ].join('\n')
}

const BEGIN = '<!-- bench:scale-cluster:begin -->'
const END = '<!-- bench:scale-cluster:end -->'

export function writeClusterScaleSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, `${BEGIN}\n## Scale: three servers, automatic snapshots under write load\n\n${section}\n${END}`)
}
