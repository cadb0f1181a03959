// An operator's snapshot restore (RaftDriver.restore, RaftCore.installLocalSnapshot) in the driver
// simulation: three real drivers on simulated time, storage and a lossy network, with the
// simulation's checkers (log matching, state machine safety, election safety, leader completeness)
// after every instant. In each seeded run one follower is partitioned away and the other lags behind
// a lossy, slow link when the leader restores; the restore must reach both by InstallSnapshot (no
// log entry ever carries the restored state), a write after it must commit on the restored state,
// and a leader restarted afterwards must come back with it from its own storage.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {SeededRng} from '../../src/lib/rng.js'
import type {Entry} from '../../src/lib/raft/types.js'
import {Checker} from './checker.js'
import {SimScheduler} from './driver-clock.js'
import {SimRpc, type Frame} from './driver-net.js'
import {DriverNode} from './driver-node.js'
import {Kv, type KvCommand} from './kv.js'
import {SimNetwork} from './network.js'
import {HandedBytes} from '../../src/lib/handed-bytes.js'

const SEEDS = [11, 12, 13, 14, 15, 16, 17, 18]
const GRID_MS = 2
const drain = () => new Promise<void>((resolve) => setImmediate(resolve))

class RestoreRun {
  readonly scheduler = new SimScheduler()
  readonly checker = new Checker()
  readonly net: SimNetwork<Frame>
  readonly rpc: SimRpc
  readonly nodes: DriverNode[]
  /** Every entry any node wrote to its log. */
  readonly persisted: Entry[] = []
  #failure: unknown

  constructor(readonly rng: SeededRng) {
    const ids = ['n1', 'n2', 'n3']
    this.net = new SimNetwork<Frame>(ids, {
      delayMinMs: 1, delayMeanMs: rng.pick([1, 3, 8]), lossRate: rng.pick([0, 0.02, 0.05]), duplicateRate: 0.01, reorderRate: 0,
      partitionRate: 0, unpartitionRate: 0, partitionStabilityMs: 0, unpartitionStabilityMs: 0, asymmetricRate: 0,
    }, rng.fork())
    const rpc = this.rpc = new SimRpc(this.net, () => this.scheduler.nowMs)
    const config = {electionTimeoutMs: 150, heartbeatIntervalMs: 30, leaseDriftRatio: 0.1}
    this.nodes = ids.map((id) => new DriverNode({
      id, peers: ids, config, scheduler: this.scheduler, rpc, rng: rng.fork(), clockRate: 1, clockOffsetMs: rng.int(0, 1e6),
      fsyncMs: rng.pick([0, 1, 4]), snapshotThreshold: 1000, requestTimeoutMs: 2000, holdMs: 1500,
      hooks: {
        persisted: (node, entries) => {
          this.persisted.push(...entries)
          this.#check(() => this.checker.logMatching(node, entries))
        },
        applied: (node, entry) => this.#check(() => this.checker.stateMachineSafety(node, entry)),
        fail: (error) => { this.#failure ??= error },
      },
    }))
  }

  #check(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      this.#failure ??= error
    }
  }

  async start(): Promise<void> {
    const conf = {voters: this.nodes.map((n) => n.id), learners: []}
    for (const node of this.nodes) {
      await node.storage.bootstrap(conf)
      node.start()
    }
  }

  async instant(): Promise<void> {
    const next = Math.min(this.scheduler.nextMs(), this.net.nextDueMs())
    if (next > this.scheduler.nowMs) this.scheduler.nowMs = Math.ceil(next / GRID_MS) * GRID_MS
    this.rpc.deliverDue(this.scheduler.nowMs)
    for (let round = 0; round < 100; round++) {
      this.scheduler.runDue(20_000)
      await drain()
      if (this.#failure) throw this.#failure
      if (this.scheduler.nextMs() > this.scheduler.nowMs) break
    }
    this.checker.electionSafety(this.nodes)
    this.checker.leaderCompleteness(this.nodes)
  }

  /** Runs simulated time until `done()` (checked after every instant), at most `withinMs` more. */
  async until(what: string, done: () => boolean, withinMs = 10_000): Promise<void> {
    const end = this.scheduler.nowMs + withinMs
    while (!done()) {
      if (this.scheduler.nowMs > end) throw new Error(`${what}: not within ${withinMs} simulated ms (${this.roles()})`)
      await this.instant()
    }
  }

  /** Lets `ms` of simulated time pass. */
  async sleep(ms: number): Promise<void> {
    const end = this.scheduler.nowMs + ms
    while (this.scheduler.nowMs < end) await this.instant()
  }

  async settle<T>(what: string, promise: Promise<T>, withinMs = 10_000): Promise<T> {
    let outcome: {value: T} | {error: unknown} | undefined
    promise.then((value) => { outcome = {value} }, (error: unknown) => { outcome = {error} })
    await this.until(what, () => outcome !== undefined, withinMs)
    if (outcome && 'error' in outcome) throw outcome.error
    return (outcome as {value: T}).value
  }

  leader(): DriverNode | undefined {
    return this.nodes.find((n) => n.status === 'up' && n.driver.isLeader())
  }

  async write(command: KvCommand): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.until('a leader', () => this.leader() !== undefined)
      try {
        return (await this.settle(`write ${command.key}`, this.leader()!.driver.propose(command))).index
      } catch {
        await this.sleep(50) // refused (no leader, leadership moved): try again on whoever leads
      }
    }
    throw new Error(`write ${command.key} never committed (${this.roles()})`)
  }

  roles(): string {
    return this.nodes.map((n) => n.status === 'down' ? `${n.id}:down` : `${n.id}:${n.core.role}@${n.core.term} applied=${n.driver.appliedIndex} first=${n.storage.firstIndex()} last=${n.core.status().lastIndex}`).join('; ')
  }
}

async function runSeed(seed: number): Promise<void> {
  const rng = new SeededRng(seed)
  const run = new RestoreRun(rng)
  await run.start()
  for (let i = 0; i < 5; i++) await run.write({key: `old${i}`, value: `v${i}`})
  const leader = run.leader()!
  const cut = rng.pick(run.nodes.filter((n) => n !== leader))
  // One follower is partitioned away and misses writes; the other lags behind a lossy link.
  run.net.isolate(cut.id, run.scheduler.nowMs)
  for (let i = 5; i < 10; i++) await run.write({key: `old${i}`, value: `v${i}`})
  run.net.opts = {...run.net.opts, lossRate: 0.2, delayMeanMs: 15}
  await run.until('the leader settles', () => run.leader() !== undefined)
  const restoring = run.leader()!

  const archive = new Kv()
  archive.apply(40, new TextEncoder().encode('restored=yes'))
  archive.apply(41, new TextEncoder().encode('other=1'))
  const archiveBytes = archive.serialize()
  const lastBefore = restoring.core.status().lastIndex
  const meta = await run.settle('the restore', restoring.driver.restore(new HandedBytes(archiveBytes), archive.applied))
  assert.equal(meta.index, Math.max(lastBefore, 41) + 1, 'the restore takes the index past the log and the archive')
  // Acknowledged once a quorum holds it (one follower is cut off: the lagging one installed it).
  const holding = run.nodes.filter((n) => n.storage.snapshot().index >= meta.index && n.driver.appliedIndex >= meta.index)
  assert.ok(holding.length >= 2 && !holding.includes(cut), `a quorum held the restore when it was acknowledged: ${holding.map((n) => n.id).join(', ')} (${run.roles()})`)
  run.checker.restoreInstalled(meta.index, meta.term)
  assert.equal(restoring.storage.snapshot().index, meta.index, 'the leader\'s snapshot is the restore')
  assert.equal(restoring.storage.lastIndex(), meta.index, 'the leader\'s log restarts after it')
  assert.equal(restoring.kv.get('restored')?.value, 'yes')
  assert.equal(restoring.kv.get('old0'), undefined, 'the state before the restore is gone')

  // A write after the restore commits on the restored state: a quorum must have installed it.
  const after = await run.write({key: 'after', value: 'a'})
  assert.ok(after > meta.index)
  run.net.opts = {...run.net.opts, lossRate: 0.02, delayMeanMs: 3}
  run.net.heal(run.scheduler.nowMs)
  const converged = () => run.nodes.every((n) => n.status === 'up' && n.kv.get('after')?.value === 'a' && n.kv.get('restored')?.value === 'yes' && n.kv.get('old0') === undefined)
  await run.until('every server has the restored state and the write after it', converged)
  for (const node of run.nodes) {
    assert.ok(node.storage.snapshot().index >= meta.index, `${node.id} holds the restore as its snapshot`)
    if (node !== restoring) assert.ok(node.storage.installs >= 1, `${node.id} received it by InstallSnapshot`)
  }
  const restoredText = new TextDecoder().decode(archiveBytes)
  assert.ok(!run.persisted.some((e) => new TextDecoder().decode(e.data).includes('restored')), `no log entry carries the restored state (${restoredText.length} bytes)`)

  // The leader restarts: it comes back with the restored state from its own storage.
  const again = run.leader()!
  again.kill()
  await run.sleep(50)
  again.start()
  await run.until('the restarted server has the restored state', () => again.kv.get('restored')?.value === 'yes' && again.kv.get('after')?.value === 'a')
  await run.write({key: 'later', value: 'l'})
  await run.until('every server has the later write', () => run.nodes.every((n) => n.kv.get('later')?.value === 'l' && n.kv.get('restored')?.value === 'yes'))
}

describe('raft driver simulation: snapshot restore', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: a restore with one follower partitioned and one lagging reaches all by InstallSnapshot`, async () => {
      await runSeed(seed)
    })
  }
})
