// The raft section's workload: the same closed-loop generator (load.ts) and the same requests
// (targets.ts) as the kv section, against a three-member cluster instead of one server. Rows send
// every client to the current leader, or spread clients round-robin over all members. Then a
// failover test: kill -9 the leader and time the first write acknowledged through a survivor,
// while a reader through that survivor counts the errors a client sees.
// The same code runs for coord and etcd; only the BenchCluster differs.
import {keyFor, prefill} from './kv-suite.js'
import {runTargets} from './generator.js'
import {cpuText, percentile, type LoadResult} from './load.js'
import {rssMiB, sleep} from './process.js'
import {type Target, type Workload} from './targets.js'

export interface BenchMember {
  name: string
  /** host:port of its client API. */
  address: string
  pid: number
}

export interface ReadMode {
  label: string
  target(member: number, connections: number): Target
}

/** A running three-member cluster of one system, as the suite drives it. */
export interface BenchCluster {
  label: string
  members(): BenchMember[]
  /** Does this member claim to lead? Throws when it does not answer. */
  isLeader(member: number): Promise<boolean>
  /** SIGKILL by PID, resolves once it has exited. SIGKILL is sent synchronously, before the first await. */
  kill9(member: number): Promise<void>
  /** Start the killed member again with its data dir; resolves once it serves linearizable reads. */
  restart(member: number, limitMs: number): Promise<void>
  /** Writes (and default reads) through one member. */
  target(member: number, connections: number): Target
  readModes: ReadMode[]
  stop(): Promise<void>
}

export interface RaftPlan extends Workload {
  writeClients: number[]
  /** Client counts of the write rows that spread clients over all members. */
  spreadWriteClients: number[]
  readClients: number
  durationMs: number
  warmupMs: number
  failoverRounds: number
  /** A new write attempt through the survivor this often after the kill. */
  failoverPollMs: number
  /** Give up on one failover after this long. */
  failoverLimitMs: number
}

export type Via = 'leader' | 'all'

export interface RaftCell {
  /** 'write', or the label of a read mode. */
  op: string
  via: Via
  clients: number
  result: LoadResult
  /** Leader before the row → after it, when they differ. */
  leaderMoved?: string
}

export interface FailoverRound {
  killed?: string
  ms?: number
  /** Write attempts sent through the survivor before the first acknowledgement. */
  attempts?: number
  /** Reads through the survivor (one every FAILOVER_READ_EVERY_MS, one at a time) from the kill to 1 s after the first acknowledged write. */
  reads?: number
  /** Of those, how many failed (an error status, or no answer within FAILOVER_READ_LIMIT_MS): what a client sees. */
  readErrors?: number
  firstReadError?: string
  error?: string
}

export const FAILOVER_READ_EVERY_MS = 50
const FAILOVER_READ_LIMIT_MS = 15_000
/** The reader goes on this long after the first acknowledged write (followers learning the new leader). */
const FAILOVER_READ_AFTER_MS = 1_000

export interface RaftRun {
  label: string
  cells: RaftCell[]
  failover: FailoverRound[]
  /** VmRSS of each member after the load rows, before any is killed. */
  rss: {name: string; leader: boolean; mib?: number}[]
  error?: string
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]

/** Index of the one member that claims to lead; polls every 50 ms up to `limitMs`. */
export async function findLeader(c: BenchCluster, limitMs: number, skip?: number): Promise<number> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const claims = await Promise.all(c.members().map((_, i) => (i === skip ? false : c.isLeader(i).catch(() => false))))
    const leaders = claims.flatMap((yes, i) => (yes ? [i] : []))
    if (leaders.length === 1) return leaders[0]
    if (Date.now() > deadline) throw new Error(`${c.label}: no single leader within ${limitMs} ms (claims: ${leaders.length})`)
    await sleep(50)
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms) })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

async function row(c: BenchCluster, plan: RaftPlan, op: string, via: Via, clients: number,
  make: (member: number, connections: number) => Target, call: 'put' | 'get', log: (line: string) => void): Promise<RaftCell> {
  const pick = keyFor(plan.keys)
  const leader = await findLeader(c, 10_000)
  const members = via === 'leader' ? [leader] : c.members().map((_, i) => i)
  const targets = members.map((m) => make(m, Math.ceil(clients / members.length)))
  try {
    const result = await runTargets(targets, clients, call, pick, {durationMs: plan.durationMs, warmupMs: plan.warmupMs, serverPids: c.members().map((m) => m.pid)})
    const after = await findLeader(c, 10_000)
    const names = c.members().map((m) => m.name)
    const cell: RaftCell = {op, via, clients, result, ...(after !== leader ? {leaderMoved: `${names[leader]} → ${names[after]}`} : {})}
    log(`  ${c.label} ${op} ×${clients} via ${via === 'leader' ? `leader ${names[leader]}` : 'all members'}: ${Math.round(result.opsPerSec)} ops/s, ` +
      `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms${cpuText(result)}` +
      (result.errors ? `, ${result.errors} errors (${result.firstError})` : '') + (cell.leaderMoved ? `, leader moved ${cell.leaderMoved}` : ''))
    return cell
  } finally {
    await Promise.all(targets.map((t) => t.close()))
  }
}

/**
 * kill -9 the leader, then start a write through a survivor every `failoverPollMs` and take the
 * time of the first acknowledgement. Attempts overlap, each on its own connection: one forwarded
 * to the dead leader may hang (etcd holds it for its request timeout, ~7 s), so each is aborted
 * after `attemptMs`, which also closes its connection. Bounded by `failoverLimitMs` and a count.
 */
export async function failoverOnce(c: BenchCluster, plan: RaftPlan, round: number, log: (line: string) => void): Promise<{round: FailoverRound; killedIndex?: number}> {
  const leader = await findLeader(c, 15_000)
  const via = (leader + 1) % c.members().length
  const killed = c.members()[leader].name
  const attemptMs = 2000
  const maxInFlight = Math.ceil(attemptMs / plan.failoverPollMs) + 16
  const probe = c.target(via, maxInFlight)
  const reader = c.target(via, 1)
  const reads = {done: 0, errors: 0, first: undefined as string | undefined}
  let readUntil = Infinity
  let readLoop: Promise<void> = Promise.resolve()
  try {
    await withTimeout(probe.put(round), 5000) // opens a connection and proves the path works
    await withTimeout(reader.get(0), 5000)
    let inFlight = 0
    let attempts = 0
    let ackAt: number | undefined
    let ackAttempt = 0
    const maxAttempts = Math.ceil(plan.failoverLimitMs / plan.failoverPollMs) + 1
    const t0 = performance.now()
    const killing = c.kill9(leader)
    // A client reading through the survivor during the failover: each error is one it would see.
    readLoop = (async () => {
      const maxReads = Math.ceil((plan.failoverLimitMs + FAILOVER_READ_AFTER_MS) / FAILOVER_READ_EVERY_MS) + 1
      for (let n = 0; n < maxReads && performance.now() < readUntil && performance.now() - t0 < plan.failoverLimitMs + FAILOVER_READ_AFTER_MS; n++) {
        const started = performance.now()
        try {
          await withTimeout(reader.get(n % plan.keys), FAILOVER_READ_LIMIT_MS)
        } catch (err) {
          reads.errors++
          reads.first ??= message(err)
        }
        reads.done++
        await sleep(Math.max(0, FAILOVER_READ_EVERY_MS - (performance.now() - started)))
      }
    })()
    while (ackAt === undefined && performance.now() - t0 < plan.failoverLimitMs && attempts < maxAttempts) {
      if (inFlight < maxInFlight) {
        const n = ++attempts
        inFlight++
        probe.put(n % plan.keys, AbortSignal.timeout(attemptMs)).then(
          () => { if (ackAt === undefined) { ackAt = performance.now(); ackAttempt = n } },
          () => undefined,
        ).finally(() => { inFlight-- })
      }
      await sleep(plan.failoverPollMs)
    }
    await killing
    readUntil = (ackAt ?? performance.now()) + FAILOVER_READ_AFTER_MS
    await readLoop
    const seen = {reads: reads.done, readErrors: reads.errors, ...(reads.first ? {firstReadError: reads.first} : {})}
    if (ackAt === undefined) return {round: {killed, attempts, ...seen, error: `no write acknowledged within ${plan.failoverLimitMs} ms`}, killedIndex: leader}
    const ms = ackAt - t0
    log(`  ${c.label} failover ${round + 1}: killed ${killed} (pid ${c.members()[leader].pid}), first write acknowledged via ${c.members()[via].name} ` +
      `after ${ms.toFixed(0)} ms (attempt ${ackAttempt} of ${attempts} sent); reads through it: ${reads.errors} errors of ${reads.done}` +
      (reads.first ? ` (${reads.first})` : ''))
    return {round: {killed, ms, attempts: ackAttempt, ...seen}, killedIndex: leader}
  } finally {
    readUntil = 0
    await readLoop.catch(() => undefined)
    await Promise.all([probe.destroy(), reader.destroy()])
  }
}

export function median(values: number[]): number | undefined {
  return values.length ? percentile(Float64Array.from(values).sort(), 50) : undefined
}

export async function runRaftSuite(c: BenchCluster, plan: RaftPlan, log: (line: string) => void): Promise<RaftRun> {
  const run: RaftRun = {label: c.label, cells: [], failover: [], rss: []}
  await prefill(c.target(await findLeader(c, 10_000), 16), plan.keys)
  const write = (m: number, n: number): Target => c.target(m, n)
  for (const clients of plan.writeClients) run.cells.push(await row(c, plan, 'write', 'leader', clients, write, 'put', log))
  for (const clients of plan.spreadWriteClients) run.cells.push(await row(c, plan, 'write', 'all', clients, write, 'put', log))
  for (const mode of c.readModes) {
    for (const via of ['leader', 'all'] as const) run.cells.push(await row(c, plan, mode.label, via, plan.readClients, (m, n) => mode.target(m, n), 'get', log))
  }
  const leader = await findLeader(c, 10_000)
  run.rss = c.members().map((m, i) => ({name: m.name, leader: i === leader, mib: rssMiB(m.pid)}))

  for (let round = 0; round < plan.failoverRounds; round++) {
    let killedIndex: number | undefined
    try {
      const result = await failoverOnce(c, plan, round, log)
      killedIndex = result.killedIndex
      run.failover.push(result.round)
    } catch (err) {
      run.failover.push({error: message(err)})
    }
    if (killedIndex === undefined) break
    try {
      await c.restart(killedIndex, 30_000)
      // A new leader that has just been elected; let the restarted member be seen as active before the next kill.
      await findLeader(c, 10_000)
      await sleep(500)
    } catch (err) {
      run.failover.push({error: `restart failed: ${message(err)}`})
      break
    }
  }
  return run
}
