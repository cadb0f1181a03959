// A hand-driven cluster of RaftCores for scenario tests: every node persists each Ready at once
// into a MemoryRaftStorage; messages wait in a queue until the test delivers them, so a test can
// drop, hold or inspect any of them. Time moves only when the test says so.
import {RaftCore} from '../../../src/lib/raft/core.js'
import {defaultRaftConfig, type RaftConfig} from '../../../src/lib/raft/config.js'
import {SeededRng} from '../../../src/lib/rng.js'
import {MemoryRaftStorage} from '../../../src/lib/raft/storage.js'
import type {Entry, Message, NodeId, ReadState} from '../../../src/lib/raft/types.js'

export const E = 1000
export const H = 100

export interface TestNode {
  id: NodeId
  core: RaftCore
  storage: MemoryRaftStorage
  nowMs: number
  applied: Entry[]
  readStates: ReadState[]
  aborted: string[]
}

export class TestCluster {
  nodes = new Map<NodeId, TestNode>()
  queue: Message[] = []
  /** Links that drop messages: "from>to". */
  cut = new Set<string>()

  constructor(ids: NodeId[], opts: {config?: Partial<RaftConfig>; storages?: Record<NodeId, MemoryRaftStorage>; voters?: NodeId[]} = {}) {
    const conf = {voters: opts.voters ?? ids, learners: []}
    ids.forEach((id, i) => this.add(id, opts.storages?.[id] ?? new MemoryRaftStorage(conf), opts.config, i + 1))
  }

  add(id: NodeId, storage: MemoryRaftStorage, config: Partial<RaftConfig> = {}, seed = 99): TestNode {
    const cfg = {...defaultRaftConfig(id), electionTimeoutMs: E, heartbeatIntervalMs: H, ...config}
    const node: TestNode = {id, storage, nowMs: 0, applied: [], readStates: [], aborted: [],
      core: new RaftCore({config: cfg, storage, rng: new SeededRng(seed), nowMs: 0})}
    this.nodes.set(id, node)
    return node
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id)
    if (!n) throw new Error(`no node ${id}`)
    return n
  }

  core(id: NodeId): RaftCore {
    return this.node(id).core
  }

  /** Advance one node's clock by `ms` and tick it. */
  tick(id: NodeId, ms: number): void {
    const n = this.node(id)
    n.nowMs += ms
    n.core.tick(n.nowMs)
  }

  tickAll(ms: number): void {
    for (const id of this.nodes.keys()) this.tick(id, ms)
  }

  /** Handle every node's Ready in the documented order; outgoing messages join the queue. */
  flush(): void {
    for (const n of this.nodes.values()) {
      while (n.core.hasReady()) {
        const rd = n.core.ready()
        if (rd.snapshot) n.storage.applySnapshot(rd.snapshot)
        n.storage.append(rd.entries)
        if (rd.hardState) n.storage.setHardState(rd.hardState)
        for (const m of rd.messages) if (!this.cut.has(`${m.from}>${m.to}`)) this.queue.push(m)
        n.applied.push(...rd.committedEntries)
        n.readStates.push(...rd.readStates)
        n.aborted.push(...rd.abortedReads)
        n.core.advance(rd)
      }
    }
  }

  /** Deliver queued messages (those `filter` keeps; the rest are dropped) until none are left. */
  stabilize(filter: (m: Message) => boolean = () => true, maxRounds = 100): void {
    for (let round = 0; round < maxRounds; round++) {
      this.flush()
      if (this.queue.length === 0) return
      const batch = this.queue
      this.queue = []
      for (const m of batch) {
        const to = this.nodes.get(m.to)
        if (to && filter(m)) to.core.step(m, to.nowMs)
      }
    }
    throw new Error('cluster did not stabilize')
  }

  /** Take the queued messages (after flushing) without delivering them. */
  take(): Message[] {
    this.flush()
    const batch = this.queue
    this.queue = []
    return batch
  }

  deliver(messages: Message[]): void {
    for (const m of messages) this.nodes.get(m.to)?.core.step(m, this.nodes.get(m.to)?.nowMs)
  }

  elect(id: NodeId): void {
    this.core(id).campaign()
    this.stabilize()
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue
      this.cut.add(`${id}>${other}`)
      this.cut.add(`${other}>${id}`)
    }
  }

  heal(): void {
    this.cut.clear()
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.core.status().role === 'leader').map((n) => n.id)
  }
}

export const cmd = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (e: Entry): string => new TextDecoder().decode(e.data)
