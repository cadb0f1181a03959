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
// SIGTERM + restart, follower SIGTERM + restart, client agent SIGTERM + restart, leadership transfer.
// Network partitions need network namespaces (test/jepsen) and are not injected here.
// Samples every 10 s: each agent's RSS and open file descriptors (/proc), the data dirs' size, and
// the latency of GET /v1/status/leader on each agent (a proxy for event-loop delay).
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {SeededRng} from '../src/lib/rng.js'
import {checkLinearizable} from '../src/lib/check/linearizable.js'
import {randomSubnet, serverArgs, clientArgs, startCluster, type Cluster} from '../src/lib/devcluster/cluster.js'
import {coordBin, spawnAgent, type AgentProcess} from '../src/lib/devcluster/agent-process.js'
import {FailoverLoad} from '../test/helpers/failover-load.js'
import {LockLog} from '../test/helpers/lock-log.js'
import {parseDuration} from '../src/lib/duration.js'

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^-+/, '').split('=') as [string, string]))
const durationMs = parseDuration(args.duration ?? '10m')
const seed = Number(args.seed ?? Date.now() % 100_000)
const EPOCH_MS = 120_000
const rng = new SeededRng(seed)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const log = (line: string) => process.stdout.write(`[soak +${Math.round((Date.now() - t0) / 1000)}s] ${line}\n`)
const t0 = Date.now()

const dir = mkdtempSync(join(tmpdir(), 'coord-soak-'))
const subnet = randomSubnet()
let cluster: Cluster
const faults: Record<string, number> = {}
const problems: string[] = []
const samples: Array<{atS: number; rssMb: number[]; fds: number[]; dataMb: number; pingMs: number[]}> = []
const contenders: Array<{client: number; proc?: ChildProcess}> = [{client: 0}, {client: 1}]
const lockLog = new LockLog(join(dir, 'lock.log'), join(dir, 'job.sh'))
let stopping = false
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

async function restart(kind: 'server' | 'client', i: number): Promise<void> {
  const name = `${kind}-${i + 1}`
  const address = cluster.addresses[kind === 'server' ? i : 3 + i]
  const dataDir = join(dir, 'cluster', name)
  const servers = cluster.addresses.slice(0, 3)
  const agentArgs = kind === 'server'
    ? serverArgs({name, address, dataDir, expect: 3, join: servers.filter((a) => a !== address)})
    : clientArgs({name, address, dataDir, join: servers})
  const agent = await spawnAgent({name, args: agentArgs, timeoutMs: 60_000, waitForLeader: true})
  if (kind === 'server') cluster.servers[i] = agent
  else cluster.clients[i] = agent
}

async function stopChecked(agent: AgentProcess): Promise<void> {
  const started = Date.now()
  const code = await agent.stop(15_000)
  if (code !== 0 || Date.now() - started > 10_000) problems.push(`${agent.name}: SIGTERM exit ${code} after ${Date.now() - started} ms`)
}

async function injectFault(): Promise<void> {
  const kinds = ['leader kill -9', 'leader SIGSTOP 3s', 'leader restart', 'follower restart', 'client restart', 'leader transfer'] as const
  const kind = kinds[rng.int(0, kinds.length)]
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
    case 'leader transfer':
      await get(cluster.servers[leader!].httpAddr, '/v1/operator/raft/transfer-leader', {method: 'POST'}).catch(() => undefined)
      break
  }
}

/** Keeps one `coord lock` contender per client running (a client restart may end one). */
function superviseLocks(): void {
  for (const [id, c] of contenders.entries()) {
    if (c.proc && c.proc.exitCode === null && c.proc.signalCode === null) continue
    if (c.proc) counts.lockRestarts++
    c.proc = spawn(process.execPath, [coordBin, 'lock', 'soak/lock', lockLog.command], {
      env: {...process.env, CONSUL_HTTP_ADDR: cluster.clients[c.client].httpAddr, CONTENDER: String(id)}, stdio: 'ignore',
    })
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

async function sample(): Promise<void> {
  const pingMs: number[] = []
  for (const agent of all()) {
    const started = performance.now()
    await get(agent.httpAddr, '/v1/status/leader').catch(() => undefined)
    pingMs.push(Math.round(performance.now() - started))
  }
  const stats = all().map((agent) => proc(agent.pid))
  samples.push({atS: Math.round((Date.now() - t0) / 1000), rssMb: stats.map((s) => s.rssMb), fds: stats.map((s) => s.fds), dataMb: Math.round(dirBytes(join(dir, 'cluster')) / 1e5) / 10, pingMs})
}

async function loop(everyMs: number, body: () => Promise<void>): Promise<void> {
  while (!stopping) {
    await body().catch(() => undefined)
    await sleep(everyMs)
  }
}

async function main(): Promise<void> {
  log(`seed ${seed}, duration ${durationMs / 1000} s, data in ${dir}`)
  cluster = await startCluster({servers: 3, clients: 2, dir: join(dir, 'cluster'), subnet, timeoutMs: 60_000})
  for (const [i, client] of cluster.clients.entries()) {
    await get(client.httpAddr, '/v1/agent/service/register', {method: 'PUT', body: JSON.stringify({Name: `soak-${i}`, Check: {CheckID: `soak-ttl-${i}`, TTL: '15s'}})})
  }
  const targets = () => all().map((agent) => ({name: agent.name, httpAddr: agent.httpAddr}))
  let opsChecked = 0
  let anomalies = 0
  let epochs = 0
  let acknowledged = 0
  let failedReads = 0
  const background = [
    loop(2000, async () => superviseLocks()),
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
  for (const agent of all()) await stopChecked(agent)

  const first = samples[0]
  const last = samples.at(-1)!
  const names = ['server-1', 'server-2', 'server-3', 'client-1', 'client-2']
  const lines = [
    `## Soak run: seed ${seed}, ${Math.round((Date.now() - t0) / 60_000)} min (${new Date(t0).toISOString()})`,
    '',
    `- KV: ${epochs} epochs, ${opsChecked} operations checked for linearizability, ${anomalies} anomalies; ${acknowledged} writes acknowledged; ${failedReads} failed reads`,
    `- Locks: ${lockLog.lines().length} fenced job lines, ${tokens.size} tokens (holders), exclusivity ${problems.some((p) => p.startsWith('lock')) ? 'VIOLATED' : 'held'}; ${counts.lockRestarts} contender restarts`,
    `- Other load: ${counts.blockingReads} blocking reads (${counts.blockingErrors} errors), ${counts.ttlPasses} TTL passes (${counts.ttlErrors} errors), ${counts.events} events (${counts.eventErrors} errors)`,
    `- Faults: ${Object.entries(faults).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}`,
    `- Problems: ${problems.length === 0 ? 'none' : problems.map((p) => `\n  - ${p}`).join('')}`,
    '',
    '| at | ' + names.map((n) => `${n} RSS MB / fds / ping ms`).join(' | ') + ' | data dirs MB |',
    '|---|' + names.map(() => '---|').join('') + '---|',
    ...samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || samples[i] === last)
      .map((s) => `| ${s.atS}s | ` + s.rssMb.map((r, i) => `${r} / ${s.fds[i]} / ${s.pingMs[i]}`).join(' | ') + ` | ${s.dataMb} |`),
    '',
    `RSS start → end: ${first.rssMb.join(', ')} → ${last.rssMb.join(', ')} MB; data dirs ${first.dataMb} → ${last.dataMb} MB.`,
  ]
  process.stdout.write(`\n${lines.join('\n')}\n`)
  if (!args.keep) rmSync(dir, {recursive: true, force: true})
  process.exit(problems.length === 0 ? 0 : 1)
}

main().catch(async (error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack}\n`)
  stopping = true
  for (const c of contenders) c.proc?.kill('SIGKILL')
  await cluster?.stop().catch(() => undefined)
  process.exit(2)
})
