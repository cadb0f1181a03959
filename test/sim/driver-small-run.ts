// A small driver-simulation run for scenario tests (driver-restore, driver-chunksnap, driver-read-cap): three real
// drivers on simulated time, storage and a seeded lossy network, with the simulation's checkers
// (log matching, state machine safety, election safety, leader completeness) after every instant.
import {SeededRng} from '../../src/lib/rng.js'
import type {Entry} from '../../src/lib/raft/types.js'
import {Checker} from './checker.js'
import {SimScheduler} from './driver-clock.js'
import {SimRpc, type Frame} from './driver-net.js'
import {DriverNode} from './driver-node.js'
import type {KvCommand} from './kv.js'
import {SimNetwork, type NetworkOptions} from './network.js'

const GRID_MS = 2
const drain = () => new Promise<void>((resolve) => setImmediate(resolve))

export interface SmallRunOptions {
  snapshotThreshold?: number
  snapshotChunkBytes?: number
  net?: Partial<NetworkOptions>
  /** How long a held request waits for a leader (LeaderHold holdMs). */
  holdMs?: number
  /** LeaderHold's waitCapMs on every server (as a server's real hold is given clientAgentWaitCapMs). */
  waitCapMs?: () => number | undefined
}

export class SmallRun {
  readonly scheduler = new SimScheduler()
  readonly checker = new Checker()
  readonly net: SimNetwork<Frame>
  readonly rpc: SimRpc
  readonly nodes: DriverNode[]
  /** Every entry any node wrote to its log. */
  readonly persisted: Entry[] = []
  #failure: unknown

  constructor(readonly rng: SeededRng, options: SmallRunOptions = {}) {
    const ids = ['n1', 'n2', 'n3']
    this.net = new SimNetwork<Frame>(ids, {
      delayMinMs: 1, delayMeanMs: rng.pick([1, 3, 8]), lossRate: rng.pick([0, 0.02, 0.05]), duplicateRate: 0.01, reorderRate: 0,
      partitionRate: 0, unpartitionRate: 0, partitionStabilityMs: 0, unpartitionStabilityMs: 0, asymmetricRate: 0, ...options.net,
    }, rng.fork())
    const rpc = this.rpc = new SimRpc(this.net, () => this.scheduler.nowMs)
    const config = {electionTimeoutMs: 150, heartbeatIntervalMs: 30, leaseDriftRatio: 0.1}
    this.nodes = ids.map((id) => new DriverNode({
      id, peers: ids, config, scheduler: this.scheduler, rpc, rng: rng.fork(), clockRate: 1, clockOffsetMs: rng.int(0, 1e6),
      fsyncMs: rng.pick([0, 1, 4]), snapshotThreshold: options.snapshotThreshold ?? 1000, snapshotChunkBytes: options.snapshotChunkBytes, requestTimeoutMs: 2000, holdMs: options.holdMs ?? 1500, waitCapMs: options.waitCapMs,
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

