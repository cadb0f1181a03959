// Soak: a 3-server + 2-client cluster on loopback under mixed load while faults are injected at
// random (seeded), for a bounded duration; then the checks and a report (RELIABILITY.md keeps the
// runs). `npm run soak -- -duration=1h -seed=7` (not part of npm test).
//
// Load: a KV writer and readers through every agent (one fresh key per 2-minute epoch, each epoch's
// history checked for linearizability, ending with a read through every agent: no acknowledged
// write lost), blocking reads through a client, two `coord lock` contenders (one per client) running
// the fenced job of test/helpers/lock-log.ts (exclusivity by token checked), a service with a TTL
// check on each client passed every 5 s, and a user event every 10 s.
// Faults, one every 15–40 s: leader kill -9 (restarted 3 s later), leader SIGSTOP for 3 s, leader
// SIGTERM + restart, follower SIGTERM + restart, a rolling restart of all servers, client agent
// SIGTERM + restart, leadership transfer, and a network partition cutting one server (the leader
// or a follower) off from the other servers for 5–15 s. Partitions need network namespaces: the soak
// re-executes itself under `unshare --net` and places each server in its own namespace
// (test/jepsen/netns.ts); the client agents, the lock contenders and the driver sit on the bridge,
// outside every cut. Where namespaces are unavailable (or -partitions=off) the servers run on
// loopback and the report says partitions were not injected.
// Samples every 10 s: each agent's RSS and open file descriptors (/proc), the data dirs' size, the
// agents' event-loop delay (runtime.event_loop_lag_ms from /v1/agent/metrics, p99 of the last
// second), the latency of GET /v1/status/leader per agent, and the KV writes' latency. The report
// ends with charts (Mermaid xychart blocks, which render in the Markdown viewer) of RSS, data-dir
// size and latency over time; -samples=FILE also keeps every sample as JSON. Each agent's output
// goes to <dir>/<name>.log (-keep keeps the dir; -log-level=debug for the servers' Raft detail).
import {spawn, type ChildProcess} from 'node:child_process'
import {appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {request} from 'undici'
import {SeededRng} from '../src/lib/rng.js'
import {checkLinearizable} from '../src/lib/check/linearizable.js'
import {serverArgs, clientArgs} from '../src/lib/devcluster/cluster.js'
import {coordBin, leaderKnown, spawnAgent, type AgentProcess} from '../src/lib/devcluster/agent-process.js'
import {FailoverLoad} from '../test/helpers/failover-load.js'
import {LockLog} from '../test/helpers/lock-log.js'
import {createNetwork, reexecInOwnNetns, type TestNetwork} from '../test/jepsen/netns.js'
import {parseDuration} from '../src/lib/duration.js'

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^-+/, '').split('=') as [string, string]))
const durationMs = parseDuration(args.duration ?? '10m')
const seed = Number(args.seed ?? Date.now() % 100_000)
if (args.partitions === 'off') process.env.COORD_JEPSEN_NETNS ??= 'off'
// Run the whole soak in a private network namespace (undefined: this is that run, or there is none).
const reexecStatus = reexecInOwnNetns(fileURLToPath(import.meta.url), {args: process.argv.slice(2), timeoutMs: durationMs + 20 * 60_000})
if (reexecStatus !== undefined) process.exit(reexecStatus)
const EPOCH_MS = 120_000
const rng = new SeededRng(seed)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const log = (line: string) => process.stdout.write(`[soak +${Math.round((Date.now() - t0) / 1000)}s] ${line}\n`)
const t0 = Date.now()

const dir = mkdtempSync(join(tmpdir(), 'coord-soak-'))
// The namespaces must outlive every server restart of the run (their holders are bounded sleeps).
const network: TestNetwork = createNetwork(3, dir, {holdSeconds: Math.ceil(durationMs / 1000) + 1800})
interface SoakCluster {servers: AgentProcess[]; clients: AgentProcess[]; addresses: string[]}
let cluster: SoakCluster
const faults: Record<string, number> = {}
const problems: string[] = []
interface Sample {atS: number; rssMb: number[]; fds: number[]; dataMb: number; pingMs: number[]; lagMs: number[]; writeP50Ms?: number; writeP99Ms?: number; writes: number}
const samples: Sample[] = []
let currentLoad: FailoverLoad | undefined
let latencyCursor = 0
const contenders: Array<{client: number; proc?: ChildProcess}> = [{client: 0}, {client: 1}]
const lockLog = new LockLog(join(dir, 'lock.log'), join(dir, 'job.sh'))
let stopping = false
/** Per healed partition: ms from the heal until the cut server named a leader again (undefined: not within 30 s). */
const healedAfterMs: Array<number | undefined> = []
const counts = {blockingReads: 0, blockingErrors: 0, ttlPasses: 0, ttlErrors: 0, events: 0, eventErrors: 0, lockRestarts: 0}

const all = (): AgentProcess[] => [...cluster.servers, ...cluster.clients]

async function get(addr: string, path: string, init: {method?: string; body?: string} = {}): Promise<{status: number; text: string; index?: string}> {
  const res = await request(`http://${addr}${path}`, {method: (init.method ?? 'GET') as 'GET', body: init.body, signal: AbortSignal.timeout(70_000)})
  const text = await res.body.text()
  return {status: res.statusCode, text, index: res.headers['x-consul-index'] as string | undefined}
}

async function leaderIndex(): Promise<number | undefined> {
  for (let i = 0; i < cluster.servers.length; i++) {
    if (cluster.servers[i].exited()) continue
    try {
      const self = await get(cluster.servers[i].httpAddr, '/v1/agent/self')
      if ((JSON.parse(self.text) as {Stats: {consul: {leader: string}}}).Stats.consul.leader === 'true') return i
    } catch {
      // down or paused
    }
  }
  return undefined
}

function startAgent(kind: 'server' | 'client', i: number): Promise<AgentProcess> {
  const name = `${kind}-${i + 1}`
  const address = cluster.addresses[kind === 'server' ? i : 3 + i]
  const dataDir = join(dir, 'cluster', name)
  mkdirSync(dataDir, {recursive: true})
  const servers = cluster.addresses.slice(0, 3)
  // Each agent's output, across its restarts, in <dir>/<name>.log (kept with -keep), stamped with the
  // soak's clock so a log line can be matched with the fault logged before it.
  const onOutput = (text: string) => appendFileSync(join(dir, `${name}.log`), text.replace(/^(?=.)/gm, `[+${((Date.now() - t0) / 1000).toFixed(1)}s] `))
  if (kind === 'server') {
    const extra = args['log-level'] === undefined ? [] : [`-log-level=${args['log-level']}`]
    const agentArgs = serverArgs({name, address, dataDir, expect: 3, join: servers.filter((a) => a !== address), extra})
    return network.spawnServer(i, {name, args: agentArgs, timeoutMs: 60_000, waitForLeader: true, onOutput})
  }
  return spawnAgent({name, args: clientArgs({name, address, dataDir, join: servers}), timeoutMs: 60_000, waitForLeader: true, onOutput})
}

async function restart(kind: 'server' | 'client', i: number): Promise<void> {
  const agent = await startAgent(kind, i)
  if (kind === 'server') cluster.servers[i] = agent
  else cluster.clients[i] = agent
}

/** Waits (bounded) until some server names a leader again, e.g. between the steps of a rolling restart. */
async function awaitLeader(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await leaderIndex() !== undefined) return
    await sleep(250)
  }
  problems.push(`no leader within ${timeoutMs} ms during a rolling restart`)
}

async function stopChecked(agent: AgentProcess): Promise<void> {
  const started = Date.now()
  const code = await agent.stop(15_000)
  if (code !== 0 || Date.now() - started > 10_000) problems.push(`${agent.name}: SIGTERM exit ${code} after ${Date.now() - started} ms`)
}

async function injectFault(): Promise<void> {
  const kinds = ['leader kill -9', 'leader SIGSTOP 3s', 'leader restart', 'follower restart', 'rolling restart', 'client restart', 'leader transfer', 'leader partitioned', 'follower partitioned'] as const
  // -faults=a,b limits the kinds (e.g. a short run that tries one fault); the default is every kind.
  const asked = args.faults?.split(',')
  const usable = kinds.filter((k) => (!k.endsWith('partitioned') || network.partitionsUnavailable === undefined) && (asked === undefined || asked.includes(k)))
  const kind = usable[rng.int(0, usable.length)]
  const leader = await leaderIndex()
  if (leader === undefined && kind !== 'client restart') return
  faults[kind] = (faults[kind] ?? 0) + 1
  log(`fault: ${kind}${leader === undefined ? '' : ` (leader server-${leader + 1})`}`)
  switch (kind) {
    case 'leader kill -9':
      await cluster.servers[leader!].kill9()
      await sleep(3000)
      await restart('server', leader!)
      break
    case 'leader SIGSTOP 3s':
      cluster.servers[leader!].pause()
      await sleep(3000)
      cluster.servers[leader!].resume()
      break
    case 'leader restart':
      await stopChecked(cluster.servers[leader!])
      await restart('server', leader!)
      break
    case 'follower restart': {
      const follower = (leader! + 1 + rng.int(0, 2)) % 3
      await stopChecked(cluster.servers[follower])
      await restart('server', follower)
      break
    }
    case 'client restart': {
      const i = rng.int(0, 2)
      await stopChecked(cluster.clients[i])
      await restart('client', i)
      break
    }
    case 'rolling restart':
      // As an upgrade does it: one server at a time, the next only once a leader is known again.
      for (let i = 0; i < 3; i++) {
        await stopChecked(cluster.servers[i])
        await restart('server', i)
        await awaitLeader(30_000)
      }
      break
    case 'leader transfer':
      await get(cluster.servers[leader!].httpAddr, '/v1/operator/raft/transfer-leader', {method: 'POST'}).catch(() => undefined)
      break
    case 'leader partitioned':
    case 'follower partitioned': {
      const cut = kind === 'leader partitioned' ? leader! : (leader! + 1 + rng.int(0, 2)) % 3
      const forMs = rng.int(5_000, 15_000)
      log(`  server-${cut + 1} cut off from the other servers for ${forMs} ms`)
      network.isolate(cut)
      try {
        await sleep(forMs)
      } finally {
        network.heal()
      }
      // How long the cut server goes on without a leader once the network is back (bounded poll).
      const healedAt = Date.now()
      let known: number | undefined
      while (known === undefined && Date.now() - healedAt < 30_000 && !stopping) {
        if (await leaderKnown(cluster.servers[cut].httpAddr, 1000)) known = Date.now() - healedAt
        else await sleep(100)
      }
      healedAfterMs.push(known)
      log(`  healed: server-${cut + 1} ${known === undefined ? 'named no leader within 30 s' : `named a leader ${known} ms after the heal`}`)
      break
    }
  }
}

/** Keeps one `coord lock` contender per client running (a client restart may end one). */
function superviseLocks(): void {
  for (const [id, c] of contenders.entries()) {
    if (c.proc && c.proc.exitCode === null && c.proc.signalCode === null) continue
    if (c.proc) counts.lockRestarts++
    // stderr kept: `coord lock` says there why it stopped its child ("Stopping the child: ...").
    const stderr = openSync(join(dir, `contender-${id}.err`), 'a')
    c.proc = spawn(process.execPath, [coordBin, 'lock', 'soak/lock', lockLog.command], {
      env: {...process.env, CONSUL_HTTP_ADDR: cluster.clients[c.client].httpAddr, CONTENDER: String(id)}, stdio: ['ignore', 'ignore', stderr],
    })
    closeSync(stderr)
  }
}

function dirBytes(path: string): number {
  let total = 0
  for (const entry of readdirSync(path, {withFileTypes: true})) {
    const full = join(path, entry.name)
    total += entry.isDirectory() ? dirBytes(full) : statSync(full).size
  }
  return total
}

function proc(pid: number): {rssMb: number; fds: number} {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
    return {rssMb: Math.round(rss), fds: readdirSync(`/proc/${pid}/fd`).length}
  } catch {
    return {rssMb: 0, fds: 0}
  }
}

/** The agent's own event-loop delay gauge (p99 over its last second, ms); -1 when unreachable. */
async function eventLoopLag(agent: AgentProcess): Promise<number> {
  try {
    const res = await get(agent.httpAddr, '/v1/agent/metrics')
    const gauge = (JSON.parse(res.text) as {Gauges?: Array<{Name: string; Value: number}>}).Gauges?.find((g) => g.Name.endsWith('runtime.event_loop_lag_ms'))
    return gauge === undefined ? -1 : Math.round(gauge.Value)
  } catch {
    return -1
  }
}

const percentile = (sorted: number[], p: number): number | undefined => sorted.length === 0 ? undefined : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))])

async function sample(): Promise<void> {
  const pingMs: number[] = []
  const lagMs: number[] = []
  for (const agent of all()) {
    const started = performance.now()
    await get(agent.httpAddr, '/v1/status/leader').catch(() => undefined)
    pingMs.push(Math.round(performance.now() - started))
    lagMs.push(await eventLoopLag(agent))
  }
  // Latency of the KV writes that completed since the last sample (unknown outcomes excluded).
  const history = currentLoad?.history ?? []
  const writes = history.slice(Math.min(latencyCursor, history.length))
    .filter((op) => op.op === 'write' && op.completeMs !== undefined).map((op) => op.completeMs! - op.invokeMs).sort((a, b) => a - b)
  latencyCursor = history.length
  const stats = all().map((agent) => proc(agent.pid))
  samples.push({
    atS: Math.round((Date.now() - t0) / 1000), rssMb: stats.map((s) => s.rssMb), fds: stats.map((s) => s.fds),
    dataMb: Math.round(dirBytes(join(dir, 'cluster')) / 1e5) / 10, pingMs, lagMs,
    writeP50Ms: percentile(writes, 0.5), writeP99Ms: percentile(writes, 0.99), writes: writes.length,
  })
}

/**
 * A Mermaid line chart over the run, one point per bucket of samples (at most ~60): `series` gives
 * each line's value for a sample; a bucket takes its lines' maximum (a spike stays visible).
 */
function chart(title: string, yLabel: string, names: string[], series: (s: Sample) => Array<number | undefined>): string[] {
  const size = Math.max(1, Math.ceil(samples.length / 60))
  const buckets: Sample[][] = []
  for (let i = 0; i < samples.length; i += size) buckets.push(samples.slice(i, i + size))
  const lines = names.map((_, n) => buckets.map((b) => Math.max(0, ...b.map((s) => series(s)[n] ?? 0))))
  return [
    `${title} (lines, in order: ${names.join(', ')}; x: minutes since start, each point the maximum over ${size * 10} s)`,
    '',
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "minutes" [${buckets.map((b) => (b[0].atS / 60).toFixed(1)).join(', ')}]`,
    `  y-axis "${yLabel}"`,
    ...lines.map((values) => `  line [${values.join(', ')}]`),
    '```',
    '',
  ]
}

async function loop(everyMs: number, body: () => Promise<void>): Promise<void> {
  while (!stopping) {
    await body().catch(() => undefined)
    await sleep(everyMs)
  }
}

async function main(): Promise<void> {
  log(`seed ${seed}, duration ${durationMs / 1000} s, data in ${dir}`)
  log(network.partitionsUnavailable === undefined ? 'partitions: each server in its own network namespace' : `partitions NOT injected: ${network.partitionsUnavailable}`)
  cluster = {servers: [], clients: [], addresses: [...network.addresses, ...network.hostAddresses(2)]}
  cluster.servers = await Promise.all([0, 1, 2].map((i) => startAgent('server', i)))
  for (const i of [0, 1]) cluster.clients.push(await startAgent('client', i))
  for (const [i, client] of cluster.clients.entries()) {
    await get(client.httpAddr, '/v1/agent/service/register', {method: 'PUT', body: JSON.stringify({Name: `soak-${i}`, Check: {CheckID: `soak-ttl-${i}`, TTL: '15s'}})})
  }
  const targets = () => all().map((agent) => ({name: agent.name, httpAddr: agent.httpAddr}))
  let lastToken: number | undefined
  let opsChecked = 0
  let anomalies = 0
  let epochs = 0
  let acknowledged = 0
  let failedReads = 0
  const background = [
    loop(2000, async () => {
      superviseLocks()
      // Say when the lock moves, so each handover can be matched with the fault logged before it.
      const token = lockLog.lines().at(-1)?.token
      if (token !== undefined && token !== lastToken) {
        if (lastToken !== undefined) log(`lock moved: token ${lastToken} → ${token}`)
        lastToken = token
      }
    }),
    loop(10_000, sample),
    loop(5000, async () => {
      for (const [i, client] of cluster.clients.entries()) {
        const res = await get(client.httpAddr, `/v1/agent/check/pass/soak-ttl-${i}`, {method: 'PUT'}).catch(() => undefined)
        if (res?.status === 200) counts.ttlPasses++
        else counts.ttlErrors++
      }
    }),
    loop(10_000, async () => {
      const res = await get(cluster.clients[0].httpAddr, '/v1/event/fire/soak', {method: 'PUT', body: 'x'}).catch(() => undefined)
      if (res?.status === 200) counts.events++
      else counts.eventErrors++
    }),
    loop(0, async () => {
      const first = await get(cluster.clients[1].httpAddr, '/v1/kv/soak/blocking')
      const res = await get(cluster.clients[1].httpAddr, `/v1/kv/soak/blocking?index=${first.index ?? 1}&wait=5s`)
      if (res.status === 200 || res.status === 404) counts.blockingReads++
      else counts.blockingErrors++
    }).catch(() => { counts.blockingErrors++ }),
    loop(1000, async () => { await get(cluster.servers[0].httpAddr, '/v1/kv/soak/blocking', {method: 'PUT', body: String(Date.now())}) }),
    (async () => {
      while (!stopping) {
        await sleep(rng.int(15_000, 40_000))
        if (stopping) break
        await injectFault().catch((error: Error) => problems.push(`fault injection failed: ${error.message}`))
      }
    })(),
  ]
  while (Date.now() - t0 < durationMs) {
    const key = `soak/kv-${epochs}`
    const load = new FailoverLoad(key, targets(), targets()[3], 100)
    currentLoad = load
    latencyCursor = 0
    load.start()
    await sleep(Math.min(EPOCH_MS, Math.max(5000, durationMs - (Date.now() - t0))))
    await load.stop()
    // The final read through every agent (one may be restarting: a few tries, recorded like the rest).
    for (const target of targets()) {
      for (let attempt = 0; ; attempt++) {
        try {
          await load.readOnce(target, '&consistent')
          break
        } catch (error) {
          if (attempt === 4) problems.push(`epoch ${epochs}: ${(error as Error).message}`)
          if (attempt === 4) break
          await sleep(3000)
        }
      }
    }
    const result = checkLinearizable(load.history, {timeBudgetMs: 60_000})
    opsChecked += result.opsChecked
    anomalies += result.anomalies.length
    acknowledged += load.acknowledged
    failedReads += load.failedReads.length
    if (!result.ok) problems.push(`epoch ${epochs} not linearizable: ${result.anomalies.map((a) => a.explanation).join('; ') || 'undecided'}`)
    try {
      lockLog.assertExclusive()
    } catch (error) {
      problems.push(`lock exclusivity: ${(error as Error).message}`)
    }
    log(`epoch ${epochs}: ${result.opsChecked} ops checked, ${load.acknowledged} writes acknowledged, ${load.failedReads.length} failed reads, linearizable: ${result.ok}`)
    epochs++
  }
  stopping = true
  await Promise.race([Promise.all(background), sleep(45_000)])
  for (const c of contenders) c.proc?.kill('SIGTERM')
  await sleep(2000)
  try {
    lockLog.assertExclusive()
  } catch (error) {
    problems.push(`lock exclusivity: ${(error as Error).message}`)
  }
  const tokens = new Set(lockLog.lines().map((l) => l.token))
  // Why holders stopped their job, from the contenders' stderr (times and numbers folded together).
  const whyStopped: Record<string, number> = {}
  for (const id of contenders.keys()) {
    const file = join(dir, `contender-${id}.err`)
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const why = /Stopping the child: (.*)/.exec(line)?.[1]
      if (why === undefined) continue
      const kind = why.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\d+(\.\d+)?/g, 'N')
      whyStopped[kind] = (whyStopped[kind] ?? 0) + 1
    }
  }
  for (const agent of all()) await stopChecked(agent)
  network.close()
  if (args.samples) writeFileSync(args.samples, JSON.stringify({seed, partitions: network.partitionsUnavailable ?? 'injected', names: ['server-1', 'server-2', 'server-3', 'client-1', 'client-2'], samples}, null, 1))

  const first = samples[0]
  const last = samples.at(-1)!
  const names = ['server-1', 'server-2', 'server-3', 'client-1', 'client-2']
  const lines = [
    `## Soak run: seed ${seed}, ${Math.round((Date.now() - t0) / 60_000)} min (${new Date(t0).toISOString()})`,
    '',
    `- KV: ${epochs} epochs, ${opsChecked} operations checked for linearizability, ${anomalies} anomalies; ${acknowledged} writes acknowledged; ${failedReads} failed reads`,
    `- Locks: ${lockLog.lines().length} fenced job lines, ${tokens.size} tokens (holders), exclusivity ${problems.some((p) => p.startsWith('lock')) ? 'VIOLATED' : 'held'}; ${counts.lockRestarts} contender restarts`,
    `- Why holders stopped their job (coord lock's stderr): ${Object.entries(whyStopped).map(([k, v]) => `${v}× "${k}"`).join('; ') || 'never'}`,
    `- Other load: ${counts.blockingReads} blocking reads (${counts.blockingErrors} errors), ${counts.ttlPasses} TTL passes (${counts.ttlErrors} errors), ${counts.events} events (${counts.eventErrors} errors)`,
    `- After a partition healed, the cut server named a leader within (ms, each heal): ${healedAfterMs.map((ms) => ms ?? '>30000').join(', ') || 'no partition'}`,
    `- Faults: ${Object.entries(faults).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}${network.partitionsUnavailable === undefined ? '' : ` (partitions not injected: ${network.partitionsUnavailable})`}`,
    `- Problems: ${problems.length === 0 ? 'none' : problems.map((p) => `\n  - ${p}`).join('')}`,
    '',
    '| at | ' + names.map((n) => `${n} RSS MB / fds / lag ms`).join(' | ') + ' | data dirs MB | KV write p50 / p99 ms |',
    '|---|' + names.map(() => '---|').join('') + '---|---|',
    ...samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || samples[i] === last)
      .map((s) => `| ${s.atS}s | ` + s.rssMb.map((r, i) => `${r} / ${s.fds[i]} / ${s.lagMs[i]}`).join(' | ') + ` | ${s.dataMb} | ${s.writeP50Ms ?? '-'} / ${s.writeP99Ms ?? '-'} |`),
    '',
    `RSS start → end: ${first.rssMb.join(', ')} → ${last.rssMb.join(', ')} MB; open fds ${first.fds.join(', ')} → ${last.fds.join(', ')}; data dirs ${first.dataMb} → ${last.dataMb} MB.`,
    '(0 in a column: the agent was down at that sample; lag -1: its metrics did not answer.)',
    '',
    ...chart('RSS (MB)', 'MB', names, (s) => s.rssMb),
    ...chart('Data dirs, all agents (MB)', 'MB', ['total'], (s) => [s.dataMb]),
    ...chart('KV write latency (ms)', 'ms', ['p50', 'p99'], (s) => [s.writeP50Ms, s.writeP99Ms]),
    ...chart('Event-loop delay, p99 of a second (ms)', 'ms', names, (s) => s.lagMs),
  ]
  process.stdout.write(`\n${lines.join('\n')}\n`)
  if (!args.keep) rmSync(dir, {recursive: true, force: true})
  process.exit(problems.length === 0 ? 0 : 1)
}

main().catch(async (error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack}\n`)
  stopping = true
  for (const c of contenders) c.proc?.kill('SIGKILL')
  await Promise.all((cluster ? all() : []).map((agent) => agent.stop().catch(() => null)))
  network.close()
  process.exit(2)
})
