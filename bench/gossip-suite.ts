// The gossip section's measurements. Simulated: the seeded simulation (test/sim/gossip-*.ts) of
// N members where some crash while one member's CPU stalls for a second on a lossy network, with
// coord's default profile and with memberlist's LAN timings: detection time (crash → declared
// failed by the last live member) p50/p99/max, false positives, join convergence, bytes sent.
// Real: five coord agents on 127.B.C.1–5 (src/lib/devcluster), rounds of kill -9 of one agent →
// failed in every other agent's /v1/agent/members (polled every 20 ms), then restart → alive
// everywhere again. Every process is stopped by PID at the end.
import {mkdtempSync, rmSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {Worker} from 'node:worker_threads'
import {join} from 'node:path'
import {request} from 'undici'
import {spawnAgent, type AgentProcess} from '../src/lib/devcluster/agent-process.js'
import {randomSubnet, startCluster} from '../src/lib/devcluster/cluster.js'
import type {GossipProfile} from '../src/lib/gossip/config.js'
import {summarize, type GossipFigures, type GossipSeedOutcome} from '../test/sim/gossip-runner.js'
import {deriveGossipParams, type GossipParamOverrides} from '../test/sim/gossip-params.js'
import {sleep} from './process.js'

export interface GossipPlan {
  /** Pool sizes to simulate, each with `simRuns[i]` seeds per profile. */
  sizes: number[]
  simRuns: number[]
  profiles: GossipProfile[]
  realAgents: number
  realRounds: number
  pollMs: number
  limitMs: number
}

export interface SimRow {
  profile: GossipProfile
  members: number
  figures: GossipFigures
  wallSeconds: number
  /** CPU time (user + system) of this process over the row's seeds: the simulation's cost. */
  cpuSeconds: number
}

export interface RealRun {
  agents: number
  /** ms from the first member view polled after start until all agents saw all alive. */
  convergeMs?: number
  /** Per round: kill -9 → failed in every other agent's view. */
  detectMs: number[]
  /** Per round: restarted agent served → alive in every view. */
  rejoinMs: number[]
  /** (observer, healthy member) pairs where the observer reported the member failed. */
  falsePositives: number
  error?: string
}

export async function runGossipSims(plan: GossipPlan, log: (line: string) => void): Promise<SimRow[]> {
  const rows: SimRow[] = []
  for (const [i, members] of plan.sizes.entries()) {
    for (const profile of plan.profiles) {
      const started = Date.now()
      // Process-wide: the worker threads' CPU counts too.
      const cpuBefore = process.cpuUsage()
      const seeds = Array.from({length: plan.simRuns[i]}, (_, k) => members * 7919 + k)
      const outcomes = await inParallel(seeds, availableParallelism(), (seed) => seedOnThread(seed, {members, profile, scenario: 'crash'}))
      for (const o of outcomes) if (o.failure) log(o.failure.split('\n')[0])
      const cpu = process.cpuUsage(cpuBefore)
      const row = {profile, members, figures: summarize(outcomes), wallSeconds: (Date.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6}
      log(`gossip sim ${profile} × ${members}: detection p50 ${row.figures.detectP50Ms} ms p99 ${row.figures.detectP99Ms} ms, false positives ${row.figures.falsePositives}, ${row.figures.bytesPerMemberPerSec} B/member/s (${row.wallSeconds.toFixed(1)} s wall, ${row.cpuSeconds.toFixed(1)} s CPU)`)
      rows.push(row)
    }
  }
  return rows
}

/** One seed on a worker thread (bench/gossip-seed-worker.ts); a thread that dies is that seed's failure. */
function seedOnThread(seed: number, overrides: GossipParamOverrides): Promise<GossipSeedOutcome> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./gossip-seed-worker.js', import.meta.url), {workerData: {seed, overrides}})
    let outcome: GossipSeedOutcome | undefined
    worker.once('message', (message: GossipSeedOutcome) => { outcome = message })
    worker.once('error', (error) => { outcome ??= {params: deriveGossipParams(seed, overrides), wallMs: 0, failure: `seed ${seed}: its worker thread failed: ${error.message}`} })
    worker.once('exit', (code) => resolve(outcome ?? {params: deriveGossipParams(seed, overrides), wallMs: 0, failure: `seed ${seed}: its worker thread exited (${code}) without an outcome`}))
  })
}

/** Maps `items` through `run` with at most `limit` in flight; results in the items' order. */
async function inParallel<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++
      results[k] = await run(items[k])
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, lane))
  return results
}

const STATUS = ['none', 'alive', 'leaving', 'left', 'failed']

async function view(httpAddr: string): Promise<Map<string, string>> {
  const res = await request(`http://${httpAddr}/v1/agent/members`, {headersTimeout: 1000, bodyTimeout: 1000})
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`members: HTTP ${res.statusCode}`)
  return new Map((JSON.parse(text) as Array<{Name: string; Status: number}>).map((m) => [m.Name, STATUS[m.Status]]))
}

/** Polls every agent's view until `check` holds for all; ms taken. Counts failed reports of others. */
async function until(addrs: string[], check: (v: Map<string, string>) => boolean, plan: GossipPlan, healthy: Set<string>, fp: Set<string>): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < plan.limitMs) {
    const views = await Promise.all(addrs.map((a) => view(a).catch(() => new Map<string, string>())))
    views.forEach((v, k) => { for (const [name, s] of v) if (s === 'failed' && healthy.has(name)) fp.add(`${addrs[k]} saw ${name}`) })
    if (views.every(check)) return Date.now() - start
    await sleep(plan.pollMs)
  }
  throw new Error(`not within ${plan.limitMs} ms`)
}

export async function runRealGossip(plan: GossipPlan, log: (line: string) => void): Promise<RealRun> {
  const run: RealRun = {agents: plan.realAgents, detectMs: [], rejoinMs: [], falsePositives: 0}
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-gossip-'))
  const subnet = randomSubnet()
  const restarted: AgentProcess[] = []
  let cluster
  try {
    cluster = await startCluster({servers: plan.realAgents, dir, subnet, timeoutMs: 60_000})
    const agents = [...cluster.servers]
    const names = agents.map((a) => a.name)
    const fp = new Set<string>()
    const all = new Set(names)
    run.convergeMs = await until(agents.map((a) => a.httpAddr), (v) => names.every((n) => v.get(n) === 'alive'), plan, all, fp)
    log(`gossip real: ${plan.realAgents} agents alive everywhere ${run.convergeMs} ms after all served`)
    for (let round = 0; round < plan.realRounds; round++) {
      const i = 1 + (round % (agents.length - 1))
      const victim = agents[i]
      const others = agents.filter((_, j) => j !== i).map((a) => a.httpAddr)
      const healthy = new Set(names.filter((n) => n !== victim.name))
      await victim.kill9()
      const detect = await until(others, (v) => v.get(victim.name) === 'failed', plan, healthy, fp)
      run.detectMs.push(detect)
      const back = await spawnAgent({name: victim.name, args: victim.args.slice(2), timeoutMs: plan.limitMs})
      restarted.push(back)
      agents[i] = back
      const rejoin = await until(agents.map((a) => a.httpAddr), (v) => names.every((n) => v.get(n) === 'alive'), plan, healthy, fp)
      run.rejoinMs.push(rejoin)
      log(`gossip real round ${round + 1}: kill -9 ${victim.name} → failed everywhere in ${detect} ms; restarted → alive everywhere in ${rejoin} ms`)
    }
    run.falsePositives = fp.size
  } catch (err) {
    run.error = err instanceof Error ? err.message.split('\n')[0] : String(err)
    log(`gossip real failed: ${run.error}`)
  } finally {
    await Promise.all([cluster?.stop(), ...restarted.map((a) => a.stop())])
    rmSync(dir, {recursive: true, force: true})
  }
  return run
}
