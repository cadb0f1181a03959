// The driver simulation: a cluster of real Raft drivers (src/lib/server/raft-driver.ts with its read
// barrier and leader hold) on simulated time, storage and network, checked after every instant by
// the core simulation's checkers (checker.ts): election safety, log matching, leader completeness,
// state machine safety and linearizable reads. Two phases, as the core simulation: safety (kills,
// pauses, partitions, lossy network, compaction so lagging followers need InstallSnapshot, servers
// joining as learners; clients write, read and transfer leadership), then liveness (faults healed:
// a write must commit).
//
// Determinism: every timer, fsync and packet runs on the SimScheduler in (time, order); after each
// instant the promise continuations it started are drained before time moves on, so one seed
// replays the same run.
import {SeededRng} from '../../src/lib/rng.js'
import type {Entry} from '../../src/lib/raft/types.js'
import {Checker, SimFailure} from './checker.js'
import {SimScheduler} from './driver-clock.js'
import {SimRpc, type Frame} from './driver-net.js'
import {DriverNode} from './driver-node.js'
import type {DriverSimParams} from './driver-params.js'
import {decodeKv, encodeKv, type KvCommand} from './kv.js'
import {SimNetwork} from './network.js'

export interface DriverRunResult {
  simulatedMs: number
  instants: number
  stats: Record<string, number>
}

const KEYS = ['a', 'b', 'c', 'd']
/** Instants per run at most (a guard against a run that never reaches its end time). */
const MAX_INSTANTS = 200_000
/** Time moves in steps of this many ms: what falls due within one runs together (fewer instants, a faster run). */
const GRID_MS = 2
/** Timers one instant may run at most (a livelock guard). */
const MAX_TIMERS_PER_INSTANT = 20_000

/** Lets every promise continuation started so far run (setImmediate runs after the microtask queue). */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve))

export class DriverSimulation {
  readonly scheduler = new SimScheduler()
  readonly rng: SeededRng
  readonly net: SimNetwork<Frame>
  readonly rpc: SimRpc
  readonly nodes: DriverNode[]
  readonly checker = new Checker()
  instants = 0
  #ev = 0
  #counter = 0
  #failure: unknown
  #probeAcked = false
  faults = {kills: 0, pauses: 0, transfers: 0, transfersDone: 0, writesRefused: 0, readsFailed: 0}

  constructor(readonly p: DriverSimParams) {
    this.rng = new SeededRng(p.seed)
    const ids = Array.from({length: p.nodes + p.joiners}, (_, i) => `n${i + 1}`)
    this.net = new SimNetwork<Frame>(ids, p.network, this.rng.fork())
    this.rpc = new SimRpc(this.net, () => this.scheduler.nowMs)
    const config = {electionTimeoutMs: p.electionTimeoutMs, heartbeatIntervalMs: p.heartbeatIntervalMs, leaseDriftRatio: p.leaseDriftRatio}
    this.nodes = ids.map((id) => new DriverNode({
      id, peers: ids, config, scheduler: this.scheduler, rpc: this.rpc, rng: this.rng.fork(),
      clockRate: 1 + (this.rng.next() * 2 - 1) * p.clockDriftMax, clockOffsetMs: this.rng.int(0, 1e6),
      fsyncMs: p.fsyncMs, snapshotThreshold: p.snapshotThreshold, requestTimeoutMs: 4 * p.electionTimeoutMs, holdMs: 10 * p.electionTimeoutMs,
      hooks: {
        persisted: (node, entries) => this.#check(() => this.checker.logMatching(node, entries)),
        applied: (node, entry) => this.#check(() => this.checker.stateMachineSafety(node, entry)),
        fail: (error) => this.#fail(error),
      },
    }))
  }

  get nowMs(): number {
    return this.scheduler.nowMs
  }

  async run(): Promise<DriverRunResult> {
    const conf = {voters: this.nodes.slice(0, this.p.nodes).map((n) => n.id), learners: []}
    for (const node of this.nodes) {
      if (conf.voters.includes(node.id)) await node.storage.bootstrap(conf)
      node.start()
    }
    const step = () => {
      this.scheduler.at(this.nowMs + this.p.stepMs, step)
      if (this.nowMs < this.p.safetyMs) {
        this.#faults()
        this.#clients()
      } else {
        this.#liveness()
      }
    }
    this.scheduler.at(this.p.stepMs, step)
    let healed = false
    const end = this.p.safetyMs + this.p.livenessMs
    while (!this.#probeAcked) {
      if (!healed && this.nowMs >= this.p.safetyMs) {
        healed = true
        this.#heal()
      }
      if (this.nowMs > end) throw new SimFailure(`liveness: no write committed within ${this.p.livenessMs} ms after healing (${this.#roles()})`)
      await this.#instant()
    }
    const sum = (f: (n: DriverNode) => number) => this.nodes.reduce((total, n) => total + f(n), 0)
    const voters = this.nodes.find((n) => n.status === 'up' && n.driver.isLeader())?.core.status().conf.voters ?? []
    const joinersPromoted = voters.filter((id) => !conf.voters.includes(id)).length
    return {
      simulatedMs: Math.round(this.nowMs), instants: this.instants,
      stats: {...this.checker.stats, ...this.net.stats, ...this.faults, snapshotsInstalled: sum((n) => n.storage.installs), compactions: sum((n) => n.storage.compactions), joinersPromoted},
    }
  }

  /** Moves time to the next thing due (on the GRID_MS grid), runs it, drains, checks. */
  async #instant(): Promise<void> {
    if (++this.instants > MAX_INSTANTS) throw new SimFailure(`more than ${MAX_INSTANTS} instants`)
    const next = Math.min(this.scheduler.nextMs(), this.net.nextDueMs())
    if (next > this.scheduler.nowMs) this.scheduler.nowMs = Math.ceil(next / GRID_MS) * GRID_MS
    this.rpc.deliverDue(this.scheduler.nowMs)
    for (let round = 0; ; round++) {
      if (round > 100) throw new SimFailure(`instant ${this.nowMs} ms never settles`)
      this.scheduler.runDue(MAX_TIMERS_PER_INSTANT)
      await drain()
      if (this.#failure) throw this.#failure
      if (this.scheduler.nextMs() > this.nowMs) break
    }
    this.checker.electionSafety(this.nodes)
    this.checker.leaderCompleteness(this.nodes)
  }

  #check(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      this.#fail(error)
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= error
  }

  #faults(): void {
    this.net.evolve(this.nowMs, this.p.stepMs)
    for (const node of this.nodes) {
      if (node.status === 'up') {
        if (this.rng.chance(this.p.killRate)) {
          this.faults.kills++
          node.kill()
          node.untilMs = this.nowMs + this.rng.int(this.p.downMs[0], this.p.downMs[1])
        } else if (this.rng.chance(this.p.pauseRate)) {
          this.faults.pauses++
          node.pause()
          node.untilMs = this.nowMs + this.rng.int(this.p.pauseMs[0], this.p.pauseMs[1])
        }
      } else if (this.nowMs >= node.untilMs) {
        this.#wake(node)
      }
    }
  }

  #wake(node: DriverNode): void {
    if (node.status === 'down') node.start()
    else if (node.status === 'paused') {
      // Like a SIGCONT'd process answering a buffered request before its timers fire.
      if (this.rng.chance(0.5)) this.#read(node, 'leader')
      node.resume()
    }
  }

  #heal(): void {
    this.net.calm(this.nowMs)
    for (const node of this.nodes) this.#wake(node)
  }

  #clients(): void {
    const up = this.nodes.filter((n) => n.status === 'up')
    if (up.length === 0) return
    // During a partition two nodes may believe they lead; clients reach either (a stale one is
    // where an unsafe lease would show), and sometimes a follower.
    const leaders = up.filter((n) => n.driver.isLeader())
    const target = (): DriverNode => (leaders.length > 0 && this.rng.chance(0.8) ? this.rng.pick(leaders) : this.rng.pick(up))
    if (this.rng.chance(this.p.writeRate)) this.#write(target(), {key: this.rng.pick(KEYS), value: `v${this.#counter++}`})
    if (this.rng.chance(this.p.readRate)) this.#read(target(), this.rng.chance(0.5) ? 'leader' : 'consistent')
    if (leaders.length > 0 && this.rng.chance(this.p.transferRate)) {
      const leader = this.rng.pick(leaders)
      const to = this.rng.pick(this.nodes.filter((n) => n !== leader)).id
      if (leader.driver.transferLeadership(to).ok) {
        this.faults.transfers++
        leader.driver.leaderBecomes(to, 2 * this.p.electionTimeoutMs + 1000).then((moved) => { if (moved) this.faults.transfersDone++ }, (error) => this.#fail(error))
      }
    }
  }

  /**
   * A client write through the driver; checked once acknowledged. Every other one arrives encoded,
   * as a follower forwards it (proposeEncoded: the bytes go into the log, the decoded command is
   * applied on the leader as it is).
   */
  #write(node: DriverNode, command: KvCommand, onAck?: () => void): void {
    const bytes = encodeKv(command)
    const proposed = this.#counter % 2 === 0 ? node.driver.propose(command) : node.driver.proposeEncoded(bytes, decodeKv(bytes))
    proposed.then(({index}) => {
      const entry: Entry = {index, term: 0, type: 'command', data: encodeKv(command)}
      this.#check(() => this.checker.writeAcked(index, entry, this.#ev++))
      onAck?.()
    }, () => { this.faults.writesRefused++ })
  }

  /** A client read through the real read barrier (lease, ReadIndex, or a follower asking the leader). */
  #read(node: DriverNode, mode: 'leader' | 'consistent'): void {
    const key = this.rng.pick(KEYS)
    const startEv = this.#ev++
    const incarnation = node.incarnation
    node.barrier.barrier(mode, 0).then(() => {
      if (node.incarnation !== incarnation || node.status === 'down') return
      this.#check(() => this.checker.readServed(node, key, node.kv.get(key), startEv, mode === 'leader' ? 'lease' : 'readIndex'))
    }, () => { this.faults.readsFailed++ })
  }

  /** Liveness phase: a probe write on whoever leads, again every election timeout until one is acknowledged. */
  #liveness(): void {
    if (Math.round(this.nowMs) % this.p.electionTimeoutMs >= this.p.stepMs) return
    const leader = this.nodes.find((n) => n.status === 'up' && n.driver.isLeader())
    if (leader) this.#write(leader, {key: 'probe', value: `p${this.#counter++}`}, () => { this.#probeAcked = true })
  }

  #roles(): string {
    return this.nodes.map((n) => {
      if (n.status === 'down') return `${n.id}:down`
      const st = n.core.status()
      return `${n.id}:${st.role}@${st.term} commit=${st.commit} applied=${n.driver.appliedIndex} last=${st.lastIndex}`
    }).join('; ')
  }
}
