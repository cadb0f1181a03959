// A whole simulated cluster run: seeded network, disks, drifting clocks, crashes, pauses, client
// writes and reads, with the checkers after every step. Two phases (VOPR): safety (faults on), then
// liveness (faults healed: a leader must be elected and a write must commit within the budget).
import {defaultRaftConfig} from '../../src/lib/raft/config.js'
import {SeededRng} from '../../src/lib/rng.js'
import type {Entry, Message} from '../../src/lib/raft/types.js'
import {Checker, SimFailure} from './checker.js'
import {encodeKv} from './kv.js'
import {SimNetwork} from './network.js'
import {SimNode} from './node.js'
import type {SimParams} from './params.js'

interface PendingWrite {
  index: number
  term: number
}

interface PendingRead {
  key: string
  startEv: number
  index: number | undefined
  requestId: string
  mode: 'lease' | 'readIndex'
}

export interface RunResult {
  steps: number
  livenessSteps: number
  stats: Record<string, number>
}

const KEYS = ['a', 'b', 'c', 'd']

export class Simulation {
  realMs = 0
  step = 0
  #ev = 0
  #counter = 0
  readonly rng: SeededRng
  readonly net: SimNetwork
  readonly nodes: SimNode[]
  readonly checker = new Checker()
  #writes = new Map<string, PendingWrite>() // `${node}:${index}`
  #reads = new Map<string, PendingRead[]>()
  #probe: {node: string; index: number; term: number; acked: boolean} | undefined
  faults = {crashes: 0, pauses: 0, transfers: 0}

  constructor(readonly p: SimParams) {
    this.rng = new SeededRng(p.seed ^ 0x5eed)
    const ids = Array.from({length: p.nodes}, (_, i) => `n${i + 1}`)
    this.net = new SimNetwork(ids, p.network, this.rng.fork())
    const conf = {voters: ids, learners: []}
    this.nodes = ids.map((id) => {
      const config = {...defaultRaftConfig(id), electionTimeoutMs: p.electionTimeoutMs, heartbeatIntervalMs: p.heartbeatIntervalMs,
        leaseDriftRatio: p.leaseDriftRatio, maxSizePerMsgBytes: p.maxSizePerMsgBytes, maxInflightMsgs: p.maxInflightMsgs}
      const rate = 1 + (this.rng.next() * 2 - 1) * p.clockDriftMax
      const node = new SimNode(id, conf, config, rate, this.rng.int(0, 1e6), this.rng.fork(), {
        send: (m) => this.net.send(m, this.realMs),
        persisted: (n, entries) => this.checker.logMatching(n, entries),
        applied: (n, entry) => this.#onApplied(n, entry),
        readState: (n, rs) => {
          const read = this.#reads.get(n.id)?.find((r) => r.requestId === rs.requestId)
          if (read) read.index = rs.index
        },
        abortedRead: (n, id) => this.#reads.set(n.id, (this.#reads.get(n.id) ?? []).filter((r) => r.requestId !== id)),
      }, p.snapshotEvery)
      this.#reads.set(id, [])
      return node
    })
    for (const node of this.nodes) node.start(0)
  }

  run(): RunResult {
    for (let i = 0; i < this.p.safetySteps; i++) this.#step(true)
    this.#heal()
    let live = 0
    for (; live < this.p.livenessSteps; live++) {
      this.#step(false)
      if (this.#probe?.acked) break
    }
    if (!this.#probe?.acked) {
      const roles = this.nodes.map((n) => {
        const st = n.core.status()
        const peers = st.peers.map((p) => `${p.id}:${p.state}/m${p.match}/n${p.next}`).join(',')
        return `${n.id}:${st.role}@${st.term} commit=${st.commit} applied=${st.applied} last=${st.lastIndex} [${peers}]`
      }).join('; ')
      throw new SimFailure(`liveness: no write committed within ${this.p.livenessSteps} steps after healing (${roles})`)
    }
    return {
      steps: this.step,
      livenessSteps: live + 1,
      stats: {...this.checker.stats, ...this.net.stats, ...this.faults, fsyncs: this.nodes.reduce((n, x) => n + x.disk.stats.fsyncs, 0),
        lostOps: this.nodes.reduce((n, x) => n + x.disk.stats.lostOps, 0)},
    }
  }

  #step(faulty: boolean): void {
    this.step++
    this.realMs += this.p.stepMs
    if (faulty) this.#faults()
    else this.#liveness()
    for (const m of this.net.deliverDue(this.realMs)) this.#deliver(m)
    for (const node of this.nodes) if (node.status === 'up') node.core.tick(node.localNow(this.realMs))
    if (faulty) this.#clients()
    for (const node of this.nodes) {
      if (node.status === 'up') node.processReady(this.rng.chance(this.p.splitPersistRate))
    }
    this.#serveReads()
    this.checker.electionSafety(this.nodes)
    this.checker.leaderCompleteness(this.nodes)
  }

  #deliver(m: Message): void {
    const node = this.nodes.find((n) => n.id === m.to)
    if (!node || node.status === 'down') return
    if (node.status === 'paused') node.inbox.push(m)
    else node.receive(m, this.realMs)
  }

  #faults(): void {
    this.net.evolve(this.realMs, this.p.stepMs)
    for (const node of this.nodes) {
      if (node.status === 'up') {
        if (this.rng.chance(this.p.crashRate)) {
          this.faults.crashes++
          node.crash()
          this.#reads.set(node.id, [])
          node.untilMs = this.realMs + this.rng.int(this.p.downMs[0], this.p.downMs[1])
        } else if (this.rng.chance(this.p.pauseRate)) {
          this.faults.pauses++
          node.status = 'paused'
          node.untilMs = this.realMs + this.rng.int(this.p.pauseMs[0], this.p.pauseMs[1])
        }
      } else if (this.realMs >= node.untilMs) {
        this.#wake(node)
      }
    }
  }

  #wake(node: SimNode): void {
    if (node.status === 'down') {
      node.start(this.realMs)
      return
    }
    node.status = 'up'
    // Like a SIGCONT'd process answering a buffered request before its timers fire.
    if (this.rng.chance(0.5)) this.#leaseRead(node)
    const inbox = node.inbox
    node.inbox = []
    for (const m of inbox) node.receive(m, this.realMs)
  }

  #heal(): void {
    this.net.calm(this.realMs)
    for (const node of this.nodes) if (node.status !== 'up') this.#wake(node)
  }

  /** Liveness phase: keep proposing one probe write until it is acknowledged. */
  #liveness(): void {
    if (this.#probe && !this.#probe.acked) {
      const node = this.nodes.find((n) => n.id === this.#probe?.node)
      const term = node?.core.termAt(this.#probe.index)
      if (node && node.core.status().role === 'leader' && (term === undefined || term === this.#probe.term)) return
    }
    if (this.#probe?.acked) return
    const leader = this.nodes.find((n) => n.status === 'up' && n.core.status().role === 'leader')
    if (!leader) return
    const r = leader.core.propose([encodeKv({key: 'probe', value: `p${this.#counter++}`})])
    if (r.ok) this.#probe = {node: leader.id, index: r.firstIndex, term: r.term, acked: false}
  }

  #clients(): void {
    const up = this.nodes.filter((n) => n.status === 'up')
    if (up.length === 0) return
    // During a partition two nodes may believe they lead; clients reach either (the stale one is
    // where an unsafe lease would show).
    const leaders = up.filter((n) => n.core.status().role === 'leader')
    const leader = leaders.length > 0 ? this.rng.pick(leaders) : undefined
    const target = (): SimNode => (leader && this.rng.chance(0.9) ? this.rng.pick(leaders) : this.rng.pick(up))
    if (this.rng.chance(this.p.writeRate)) {
      const node = target()
      const r = node.core.propose([encodeKv({key: this.rng.pick(KEYS), value: `v${this.#counter++}`})])
      if (r.ok) this.#writes.set(`${node.id}:${r.firstIndex}`, {index: r.firstIndex, term: r.term})
    }
    if (this.rng.chance(this.p.readRate)) {
      const node = target()
      if (this.rng.chance(0.5)) this.#leaseRead(node)
      else {
        const requestId = `r${this.#counter++}`
        const key = this.rng.pick(KEYS)
        const startEv = this.#ev++
        if (node.core.readIndex(requestId).ok) this.#reads.get(node.id)?.push({key, startEv, index: undefined, requestId, mode: 'readIndex'})
      }
    }
    if (leader && this.rng.chance(this.p.transferRate)) {
      const to = this.rng.pick(this.nodes.filter((n) => n !== leader)).id
      if (leader.core.transferLeadership(to).ok) this.faults.transfers++
    }
  }

  #leaseRead(node: SimNode): void {
    const startEv = this.#ev++
    const r = node.core.leaseRead(node.localNow(this.realMs))
    if (r.ok) this.#reads.get(node.id)?.push({key: this.rng.pick(KEYS), startEv, index: r.index, requestId: '', mode: 'lease'})
  }

  #serveReads(): void {
    for (const node of this.nodes) {
      if (node.status !== 'up') continue
      const reads = this.#reads.get(node.id) ?? []
      const waiting = reads.filter((r) => r.index === undefined || r.index > node.kv.applied)
      if (waiting.length === reads.length) continue
      for (const r of reads) {
        if (r.index !== undefined && r.index <= node.kv.applied) this.checker.readServed(node, r.key, node.kv.get(r.key), r.startEv, r.mode)
      }
      this.#reads.set(node.id, waiting)
    }
  }

  #onApplied(node: SimNode, entry: Entry): void {
    this.checker.stateMachineSafety(node, entry)
    const key = `${node.id}:${entry.index}`
    const write = this.#writes.get(key)
    if (write) {
      this.#writes.delete(key)
      if (write.term === entry.term) this.checker.writeAcked(entry.index, entry, this.#ev++)
    }
    const probe = this.#probe
    if (probe && probe.node === node.id && probe.index === entry.index && probe.term === entry.term) probe.acked = true
  }
}
