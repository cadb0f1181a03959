// A quick probe of the 3-server write path, for A/B comparisons and profiles (docs/perf/README.md):
// starts three `coord agent -server` processes on 127.x.y.{1,2,3} with data dirs, runs closed-loop
// PUT rows (the raft section's load generator and requests), and prints per row ops/s, p50/p99 and
// each server's CPU ms per write (its own /proc accounting), leader and followers apart.
//   node dist/bench/write-probe.js
// Knobs (environment): PROBE_BIN, the bin/run.js to start (another checkout's, for an A/B; default
// this one's); PROBE_BINS, one bin/run.js per server, comma-separated (a cluster of mixed versions,
// as during a rolling upgrade; overrides PROBE_BIN); PROBE_NODE_ARGS, extra node flags for the servers (e.g. "--cpu-prof
// --cpu-prof-dir=/tmp/prof": each writes its profile when stopped); PROBE_CLIENTS (default "64"),
// comma list; PROBE_VIA, "leader" or "all" (default leader); PROBE_OP, "put", "consistent"
// (GET ?consistent, a ReadIndex read) or "default" (GET, default mode: the leader's lease); PROBE_ROUNDS (default 1);
// BENCH_DURATION_MS / BENCH_WARMUP_MS / BENCH_LOADGEN as in the bench.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {coordBin, leaderKnown} from '../src/lib/devcluster/agent-process.js'
import {randomSubnet, serverArgs} from '../src/lib/devcluster/cluster.js'
import {keyFor, prefill} from './kv-suite.js'
import {runTargets} from './generator.js'
import {processCpuMs} from './on-off.js'
import {captureOutput, cpuMs, sleep, stopChild} from './process.js'
import {coordTarget} from './targets.js'

const env = (name: string, fallback: string): string => process.env[name] ?? fallback
const bin = env('PROBE_BIN', coordBin)
const bins = env('PROBE_BINS', '').split(',').filter(Boolean)
if (bins.length !== 0 && bins.length !== 3) throw new Error(`PROBE_BINS names one bin/run.js per server (3), not ${bins.length}`)
const nodeArgs = env('PROBE_NODE_ARGS', '').split(' ').filter(Boolean)
const clientCounts = env('PROBE_CLIENTS', '64').split(',').map(Number)
const via = env('PROBE_VIA', 'leader')
/** PROBE_OP: put (default), consistent (GET ?consistent: a ReadIndex round per read) or default (GET). */
const op = env('PROBE_OP', 'put')
if (!['put', 'consistent', 'default'].includes(op)) throw new Error(`PROBE_OP is put, consistent or default, not ${op}`)
const rounds = Number(env('PROBE_ROUNDS', '1'))
const durationMs = Number(env('BENCH_DURATION_MS', '5000'))
const warmupMs = Number(env('BENCH_WARMUP_MS', '1000'))
const workload = {keys: 1000, valueBytes: 100}

interface Server {name: string; http: string; child: ChildProcess; output: () => string}

async function isLeader(http: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${http}/v1/agent/self`, {signal: AbortSignal.timeout(1000)})
    const body = await res.json() as {Stats?: {consul?: {leader?: string}}}
    return body.Stats?.consul?.leader === 'true'
  } catch {
    return false
  }
}

async function main(): Promise<void> {
  const subnet = randomSubnet()
  const dir = mkdtempSync(join(tmpdir(), 'coord-write-probe-'))
  const addresses = [1, 2, 3].map((n) => `${subnet}.${n}`)
  const servers: Server[] = addresses.map((address, i) => {
    const name = `server-${i + 1}`
    mkdirSync(join(dir, name))
    const args = serverArgs({name, address, dataDir: join(dir, name), expect: 3, join: addresses.filter((a) => a !== address)})
    const child = spawn(process.execPath, [...nodeArgs, bins[i] ?? bin, 'agent', ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    return {name, http: `${address}:8500`, child, output: captureOutput(child)}
  })
  try {
    const deadline = Date.now() + 60_000
    while (!(await Promise.all(servers.map((s) => leaderKnown(s.http)))).every(Boolean)) {
      if (Date.now() > deadline) throw new Error(`no leader within 60 s:\n${servers.map((s) => s.output().slice(-1000)).join('\n')}`)
      await sleep(100)
    }
    const leaderOf = async (): Promise<number> => {
      for (let i = 0; i < 100; i++) {
        const claims = await Promise.all(servers.map((s) => isLeader(s.http)))
        if (claims.filter(Boolean).length === 1) return claims.indexOf(true)
        await sleep(100)
      }
      throw new Error('no single leader')
    }
    await prefill(coordTarget('seed', servers[await leaderOf()].http, 16, workload), workload.keys)
    // What the idle cluster burns (ticks, heartbeats, gossip, metrics): at low write rates it is most of the CPU per op.
    const idleMs = Number(env('PROBE_IDLE_MS', '3000'))
    const idle0 = servers.map((s) => cpuMs(s.child.pid!) ?? NaN)
    await sleep(idleMs)
    const idle = servers.map((s, i) => ((cpuMs(s.child.pid!) ?? NaN) - idle0[i]) / (idleMs / 1000))
    console.log(`idle: ${idle.map((x) => x.toFixed(0)).join(' / ')} CPU ms/s per server`)
    const pick = keyFor(workload.keys)
    for (let round = 0; round < rounds; round++) {
      for (const clients of clientCounts) {
        const leader = await leaderOf()
        const members = via === 'all' ? [0, 1, 2] : [leader]
        const targets = members.map((m) => coordTarget('probe', servers[m].http, Math.ceil(clients / members.length), workload, op === 'consistent' ? '?consistent' : ''))
        const pids = servers.map((s) => s.child.pid!)
        const before = pids.map((pid) => cpuMs(pid) ?? NaN)
        const splitBefore = pids.map((pid) => processCpuMs(pid))
        const load0 = loadavg()[0]
        // The measured window on the monotonic clock V8's profiles are stamped with (µs), for profile-summary --window.
        const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)
        const windowFrom = nowUs() + warmupMs * 1000
        const result = await runTargets(targets, clients, op === 'put' ? 'put' : 'get', pick, {durationMs, warmupMs, serverPids: pids})
        // Per-member CPU over the whole row (warm-up included), scaled to ops of the whole row.
        const after = pids.map((pid) => cpuMs(pid) ?? NaN)
        const splitAfter = pids.map((pid) => processCpuMs(pid))
        await Promise.all(targets.map((t) => t.close()))
        const rowOps = result.opsPerSec * (durationMs + warmupMs) / 1000
        const per = after.map((a, i) => (a - before[i]) / rowOps)
        // The same less the idle burn measured above: what the ops themselves cost, the figure to compare at low rates.
        const net = after.reduce((sum, a, i) => sum + (a - before[i]) - idle[i] * (durationMs + warmupMs) / 1000, 0) / rowOps
        const followers = per.filter((_, i) => i !== leader).map((x) => x.toFixed(3)).join(' / ')
        // User and system time apart, summed over the members: system time is mostly socket syscalls.
        const [user, sys] = (['user', 'sys'] as const).map((k) => splitAfter.reduce((sum, a, i) => sum + a[k] - splitBefore[i][k], 0) / rowOps)
        console.log(`round ${round + 1} ×${clients} via ${via}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.p50Ms.toFixed(2)} p99 ${result.p99Ms.toFixed(2)} ms, ` +
          `CPU ${result.cpuMsPerOp?.toFixed(3)} ms/op (${net.toFixed(3)} net of idle; generator (${result.generator}) ${result.generatorCpuMsPerOp?.toFixed(3)} ms/op; user ${user.toFixed(3)} + system ${sys.toFixed(3)}; leader ≈${per[leader].toFixed(3)}, followers ≈${followers}), load ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}` +
          (result.errors ? `, ${result.errors} errors (${result.firstError})` : '') + `; window ${windowFrom}..${windowFrom + durationMs * 1000}, ${result.ops} ops`)
      }
    }
    // Every member's own last log and applied index (a member of another version that could not read
    // the leader's frames would fall behind while the other two still made a quorum).
    await sleep(500)
    const indexes = await Promise.all(servers.map(async (s) => {
      const body = await (await fetch(`http://${s.http}/v1/agent/self`, {signal: AbortSignal.timeout(2000)})).json() as {Stats?: {raft?: Record<string, string>}}
      return `${s.name} last ${body.Stats?.raft?.last_log_index} applied ${body.Stats?.raft?.applied_index}`
    }))
    console.log(`raft indexes: ${indexes.join(', ')}`)
    console.log(`leader: ${servers[await leaderOf()].name} pid ${servers[await leaderOf()].child.pid}; pids ${servers.map((s) => `${s.name}=${s.child.pid}`).join(' ')}`)
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.child)))
    rmSync(dir, {recursive: true, force: true})
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
