// `npm run bench`: two sections of BENCHMARKS.md, each rewritten between its own markers.
// kv: one workload (bench/kv-suite.ts) against etcd, a data-dir coord agent and a -dev coord agent
// in turn, plus cold CLI start-up. raft: a three-server coord cluster against a three-member etcd
// cluster (bench/raft-suite.ts): writes, consistent reads, kill -9 failover, memory.
// One system failing to start is noted in the report, not fatal.
// gossip: failure detection in the seeded simulation (coord's defaults vs memberlist's LAN timings,
// bench/gossip-suite.ts) and kill -9 detection across five real agents.
// discovery: DNS and /v1/health/service reads with 1000 instances on one agent, and check failing →
// instance out of answers (bench/discovery-suite.ts); no etcd equivalent.
// locks: `coord lock` takeover when the holder's agent is kill -9'd (bench/locks-suite.ts), with
// coord's default lock-delay and Consul's 15 s.
// tls: HTTPS vs HTTP PUT/GET on one server, and 3-server writes with RPC TLS vs plain (bench/tls-suite.ts).
// acl: PUT/GET at 64 clients on one server with ACLs off and on (a key_prefix token), side by side, three rounds (bench/acl-suite.ts).
// metrics: PUT/GET at 64 clients on one server with Prometheus + statsd sinks off and on, side by side, four rounds alternating which side goes first (bench/metrics-suite.ts).
// scale (only when named in BENCH_SECTIONS): 100k–1M keys and 10k–40k catalog instances on one
// server: load, RSS, snapshots and the worst read during them, restart; catalog, health and DNS
// latencies; RSS per instance and per parked blocking query (bench/scale-suite.ts; sizes from
// BENCH_SCALE_KEYS, BENCH_SCALE_INSTANCES, BENCH_SCALE_PARKED, "0" to skip one); etcd's twin of
// each key row right after it (bench/scale-etcd.ts; BENCH_SCALE_ETCD=0 skips it).
// scale-cluster (only when named): three servers loaded to 1M keys, then overwritten until each has
// taken three automatic snapshots of the full state; elections and worst reads meanwhile
// (bench/scale-cluster.ts; BENCH_SCALE_CLUSTER_KEYS / _SNAPSHOTS / _MINUTES).
// Knobs: BENCH_DURATION_MS / BENCH_WARMUP_MS (every load row, both sections), BENCH_SECTIONS
// (e.g. "raft" to run one section only), BENCH_FAILOVER_ROUNDS (also the gossip kill -9 rounds),
// BENCH_GOSSIP_RUNS (simulation seeds per profile at 100 members; a fifth of them at 500, a tenth from
// 1000 up, at least three), BENCH_GOSSIP_SIZES (simulated pool sizes, default 100,500,1000,2000),
// BENCH_LOADGEN (the kv and raft rows' generator: "wrk", the default, or "undici": bench/generator.ts).
import {spawnSync} from 'node:child_process'
import {availableParallelism, cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {randomSubnet} from '../src/lib/devcluster/cluster.js'
import {coldStart, type ColdStartResult} from './cold-start.js'
import {repoRoot, startCoord} from './coord-agent.js'
import {ensureEtcd, etcdVersion, startEtcd} from './etcd.js'
import {loadGenerator} from './generator.js'
import {ensureWrk} from './wrk.js'
import {runKvSuite, type KvPlan} from './kv-suite.js'
import {rssMiB} from './process.js'
import {startCoordCluster} from './coord-cluster.js'
import {startEtcdCluster} from './etcd-cluster.js'
import {renderRaftSection, writeRaftSection} from './raft-report.js'
import {runRaftSuite, type BenchCluster, type RaftPlan, type RaftRun} from './raft-suite.js'
import {renderKvSection, writeKvSection, type SystemRun} from './report.js'
import {coordTarget, etcdTarget} from './targets.js'
import {runGossipSims, runRealGossip, type GossipPlan} from './gossip-suite.js'
import {renderGossipSection, writeGossipSection} from './gossip-report.js'
import {runDiscoverySuite, type DiscoveryPlan} from './discovery-suite.js'
import {renderDiscoverySection, writeDiscoverySection} from './discovery-report.js'
import {runLocksSuite, type LocksPlan} from './locks-suite.js'
import {renderLocksSection, writeLocksSection} from './locks-report.js'
import {renderTlsSection, runTlsSuite, writeTlsSection, type TlsPlan} from './tls-suite.js'
import {renderAclSection, runAclSuite, writeAclSection} from './acl-suite.js'
import {renderMetricsSection, runMetricsSuite, writeMetricsSection} from './metrics-suite.js'
import {renderClusterScaleSection, runClusterScale, writeClusterScaleSection} from './scale-cluster.js'
import {renderScaleSection, runInstances, runKeys, runParked, writeScaleSection} from './scale-suite.js'
import {ensureEtcdctl, renderEtcdKeys, runEtcdKeys} from './scale-etcd.js'

const envMs = (name: string, fallback: number): number => {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v > 0 ? v : fallback
}

const plan: KvPlan = {
  keys: 1000,
  valueBytes: 100,
  clients: [1, 64],
  durationMs: envMs('BENCH_DURATION_MS', 5000),
  warmupMs: envMs('BENCH_WARMUP_MS', 1000),
}
const raftPlan: RaftPlan = {
  keys: plan.keys,
  valueBytes: plan.valueBytes,
  writeClients: [1, 16, 64, 256],
  spreadWriteClients: [16, 64, 256],
  readClients: 64,
  durationMs: plan.durationMs,
  warmupMs: plan.warmupMs,
  failoverRounds: Math.round(envMs('BENCH_FAILOVER_ROUNDS', 3)),
  failoverPollMs: 15,
  failoverLimitMs: 20_000,
}
const gossipRuns = Math.round(envMs('BENCH_GOSSIP_RUNS', 10))
// One seed of one profile costs about 40–55 s of one core at 1000 members and 4.5–5 min at 2000 (the
// join wave is O(N²) messages, and each member's view no longer fits a cache): the 2000 rows (three
// seeds per profile) are most of the section's time. BENCH_GOSSIP_SIZES=100,500,1000 leaves them out.
const gossipSizes = (process.env.BENCH_GOSSIP_SIZES ?? '100,500,1000,2000').split(',').map(Number).filter((n) => Number.isSafeInteger(n) && n >= 5)
const gossipPlan: GossipPlan = {
  sizes: gossipSizes,
  simRuns: gossipSizes.map((n) => Math.max(3, Math.round(n <= 100 ? gossipRuns : n <= 500 ? gossipRuns / 5 : gossipRuns / 10))),
  profiles: ['coord', 'lan'],
  realAgents: 5,
  realRounds: raftPlan.failoverRounds,
  pollMs: 20,
  limitMs: 30_000,
}
const discoveryPlan: DiscoveryPlan = {
  instances: 1000,
  nodes: 100,
  dnsClients: 16,
  httpClients: [1, 16, 64],
  durationMs: plan.durationMs,
  warmupMs: plan.warmupMs,
  rounds: raftPlan.failoverRounds,
  checkIntervalMs: 1000,
  pollMs: 20,
  limitMs: 30_000,
}
const locksPlan: LocksPlan = {
  rounds: raftPlan.failoverRounds,
  lockDelays: [
    {label: 'coord default', delayMs: 2000},
    // The shortest window the holder can re-confirm in on a healthy host: the 3 s takeover aim.
    {label: 'coord, -lock-delay=1s', flag: '-lock-delay=1s', delayMs: 1000},
    {label: 'Consul default', flag: '-lock-delay=15s', delayMs: 15_000},
  ],
  pollMs: 20,
  limitMs: 60_000,
}
const tlsPlan: TlsPlan = {...plan, clusterClients: 64}
const aclPlan: KvPlan = {...plan, clients: [64]}
const sections = new Set((process.env.BENCH_SECTIONS ?? 'kv,raft,gossip,discovery,locks,tls,acl,metrics').split(',').map((s) => s.trim()))
const coldStartAimRatio = 1.25
const log = (line: string): void => console.log(line)
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]

// Other work on the machine (a test run, a build) skews every row, so the load is on record.
const load = (): string => loadavg()[0].toFixed(2)

function machine(loadAtStart: string): string {
  const fs = spawnSync('df', ['--output=fstype', tmpdir()], {encoding: 'utf8'}).stdout?.trim().split('\n')[1] ?? '?'
  const rev = spawnSync('git', ['-C', repoRoot, 'describe', '--always', '--dirty'], {encoding: 'utf8'}).stdout?.trim() || '?'
  return `nproc ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown CPU'}) · Node ${process.version} · ${tmpdir()} on ${fs} · coord ${rev} · 1-min load average ${loadAtStart} at start, ${load()} at end`
}

async function benchEtcd(): Promise<SystemRun> {
  const run: SystemRun = {label: 'etcd', cells: []}
  const missing = ensureEtcd(log)
  if (missing) return {...run, error: missing}
  const etcd = await startEtcd()
  try {
    run.label = `etcd ${etcd.version}`
    log(`${run.label} at ${etcd.clientUrl} (pid ${etcd.pid})`)
    run.cells = await runKvSuite(plan, (n) => etcdTarget(etcd.clientUrl, n, plan), log, [etcd.pid])
    run.rssMiB = rssMiB(etcd.pid)
  } finally {
    await etcd.stop()
  }
  return run
}

async function benchCoord(mode: 'persistent' | 'dev'): Promise<{run: SystemRun; cold?: ColdStartResult}> {
  const run: SystemRun = {label: mode === 'dev' ? 'coord -dev' : 'coord (data dir)', cells: []}
  const agent = await startCoord(mode)
  try {
    log(`${run.label} at ${agent.httpAddr} (pid ${agent.pid})`)
    run.cells = await runKvSuite(plan, (n) => coordTarget(run.label, agent.httpAddr, n, plan), log, [agent.pid])
    run.rssMiB = rssMiB(agent.pid)
    const cold = mode === 'persistent' ? coldStart(agent.httpAddr, 'bench/0') : undefined
    return {run, cold}
  } finally {
    await agent.stop()
  }
}

/** Runs one system; a failure becomes a note in the report instead of ending the bench. */
async function attempt<T extends {run: SystemRun}>(label: string, fn: () => Promise<T>): Promise<T | {run: SystemRun}> {
  try {
    return await fn()
  } catch (err) {
    log(`${label} failed: ${err instanceof Error ? err.message : String(err)}`)
    return {run: {label, cells: [], error: message(err)}}
  }
}

/** One three-member cluster through the raft suite; stopped (every PID it started) whatever happens. */
async function benchRaft(label: string, start: () => Promise<BenchCluster>): Promise<RaftRun> {
  let cluster: BenchCluster | undefined
  try {
    cluster = await start()
    log(`${cluster.label}: ${cluster.members().map((m) => `${m.name} ${m.address} (pid ${m.pid})`).join(', ')}`)
    return await runRaftSuite(cluster, raftPlan, log)
  } catch (err) {
    log(`${label} failed: ${err instanceof Error ? err.message : String(err)}`)
    return {label: cluster?.label ?? label, cells: [], failover: [], rss: [], error: message(err)}
  } finally {
    await cluster?.stop()
  }
}

/** The kv and raft rows need wrk (installed when missing); without it they fall back to undici, and the report says so row by row. */
function ensureGenerator(): void {
  if (loadGenerator() !== 'wrk') return
  const missing = ensureWrk(log)
  if (missing) {
    log(`${missing}: the load rows use the in-process undici generator`)
    process.env.BENCH_LOADGEN = 'undici'
  }
}

async function raftSection(): Promise<void> {
  ensureGenerator()
  const started = Date.now()
  const loadAtStart = load()
  const missing = ensureEtcd(log)
  const coordSubnet = randomSubnet()
  const etcd = missing
    ? {label: 'etcd', cells: [], failover: [], rss: [], error: missing}
    : await benchRaft('etcd', () => startEtcdCluster(etcdVersion(), raftPlan, coordSubnet))
  const coord = await benchRaft('coord', () => startCoordCluster(raftPlan, coordSubnet))
  const section = renderRaftSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan: raftPlan,
    load: {start: Number(loadAtStart), end: Number(load()), cores: availableParallelism()}, etcd, coord, seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeRaftSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function kvSection(): Promise<void> {
  ensureGenerator()
  const started = Date.now()
  const loadAtStart = load()
  const etcd = await attempt('etcd', async () => ({run: await benchEtcd()}))
  const coord = await attempt('coord (data dir)', () => benchCoord('persistent'))
  const coordDev = await attempt('coord -dev', () => benchCoord('dev'))
  const section = renderKvSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan,
    etcd: etcd.run, coord: coord.run, coordDev: coordDev.run,
    coldStart: 'cold' in coord ? coord.cold : undefined, coldStartAimRatio,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeKvSection(path, section)
  log(`\n${section}\n\nwrote ${path} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
}

async function gossipSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const sims = await runGossipSims(gossipPlan, log)
  const real = await runRealGossip(gossipPlan, log)
  const section = renderGossipSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan: gossipPlan, sims, real,
    seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeGossipSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function discoverySection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const label = 'coord (data dir)'
  let agent
  let run
  let rss
  try {
    agent = await startCoord('persistent')
    log(`discovery: ${label} at ${agent.httpAddr}, DNS ${agent.dnsAddr} (pid ${agent.pid})`)
    run = await runDiscoverySuite(agent, discoveryPlan, log)
    rss = rssMiB(agent.pid)
  } catch (err) {
    log(`discovery failed: ${message(err)}`)
    run = {rows: [], goneDnsMs: [], goneHttpMs: [], backMs: [], error: message(err)}
  } finally {
    await agent?.stop()
  }
  const section = renderDiscoverySection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), label, plan: discoveryPlan, run, rssMiB: rss,
    seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeDiscoverySection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function locksSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const run = await runLocksSuite(locksPlan, log)
  const section = renderLocksSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan: locksPlan, run,
    seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeLocksSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function tlsSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const run = await runTlsSuite(tlsPlan, [randomSubnet(), randomSubnet()], log)
  const section = renderTlsSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan: tlsPlan, run,
    seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeTlsSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function aclSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const run = await runAclSuite(aclPlan, 3, log)
  const section = renderAclSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan: aclPlan, run,
    seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeAclSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function metricsSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const run = await runMetricsSuite(aclPlan, 4, log)
  const section = renderMetricsSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), plan: aclPlan, run,
    seconds: (Date.now() - started) / 1000,
  })
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeMetricsSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function scaleSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const sizes = (name: string, fallback: string): number[] => (process.env[name] ?? fallback).split(',').map(Number).filter((n) => n > 0)
  const keys = []
  const etcdKeys = []
  // etcd's twin rows unless BENCH_SCALE_ETCD=0 (or etcd cannot be installed).
  const etcdMissing = process.env.BENCH_SCALE_ETCD === '0' ? 'BENCH_SCALE_ETCD=0' : (ensureEtcd(log) ?? ensureEtcdctl(log))
  if (etcdMissing !== undefined) log(`scale: no etcd rows (${etcdMissing})`)
  for (const n of sizes('BENCH_SCALE_KEYS', '100000,300000')) {
    keys.push(await runKeys(n, log))
    if (etcdMissing === undefined) etcdKeys.push(await runEtcdKeys(n, log))
  }
  const instances = []
  for (const n of sizes('BENCH_SCALE_INSTANCES', '10000,40000')) instances.push(await runInstances(n, log))
  const parked = []
  for (const n of sizes('BENCH_SCALE_PARKED', '10000')) parked.push(await runParked(n, log))
  let section = renderScaleSection({date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), keys, instances, parked, seconds: (Date.now() - started) / 1000})
  if (etcdKeys.length > 0) section += `\n\n${renderEtcdKeys(etcdKeys, keys)}`
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeScaleSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function clusterScaleSection(): Promise<void> {
  const started = Date.now()
  const loadAtStart = load()
  const run = await runClusterScale(log)
  const section = renderClusterScaleSection({date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(loadAtStart), run, seconds: (Date.now() - started) / 1000})
  const path = join(repoRoot, 'BENCHMARKS.md')
  writeClusterScaleSection(path, section)
  log(`\n${section}\n\nwrote ${path}`)
}

async function main(): Promise<void> {
  const started = Date.now()
  if (sections.has('kv')) await kvSection()
  if (sections.has('raft')) await raftSection()
  if (sections.has('gossip')) await gossipSection()
  if (sections.has('discovery')) await discoverySection()
  if (sections.has('locks')) await locksSection()
  if (sections.has('tls')) await tlsSection()
  if (sections.has('acl')) await aclSection()
  if (sections.has('metrics')) await metricsSection()
  if (sections.has('scale')) await scaleSection()
  if (sections.has('scale-cluster')) await clusterScaleSection()
  log(`bench done in ${((Date.now() - started) / 1000).toFixed(0)} s`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
