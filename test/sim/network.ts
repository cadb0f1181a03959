// Simulated network (after TigerBeetle's packet_simulator): one seeded PRNG and plain options.
// Every packet gets a delay of delayMinMs plus an exponential tail with mean delayMeanMs, so packets
// may overtake earlier ones on the same path (reorderRate; otherwise paths are FIFO like TCP); packets may be lost or duplicated; and partitions (isolate one,
// split in two, or one-way) come and go, each lasting at least partitionStabilityMs and each healed
// state lasting at least unpartitionStabilityMs.
import type {SeededRng} from '../../src/lib/rng.js'
import type {Message, NodeId} from '../../src/lib/raft/types.js'

export interface NetworkOptions {
  delayMinMs: number
  delayMeanMs: number
  /** Chance each packet is dropped. */
  lossRate: number
  /** Chance each packet is delivered twice (the copy with its own delay). */
  duplicateRate: number
  /**
   * Chance a packet may overtake earlier packets on its path. Otherwise a path is FIFO, as a TCP
   * connection is (the real transport); 1 makes every packet independent (UDP-like).
   */
  reorderRate: number
  /** Per-ms chance that a partition starts while healed (after unpartitionStabilityMs). */
  partitionRate: number
  /** Per-ms chance that a partition heals (after partitionStabilityMs). */
  unpartitionRate: number
  partitionStabilityMs: number
  unpartitionStabilityMs: number
  /** Chance a new partition is one-way (a can reach b, b cannot reach a). */
  asymmetricRate: number
}

interface Packet<M> {
  deliverAtMs: number
  order: number
  message: M
}

/** Anything addressed from one node to another: a Raft message (the core simulation) or an RPC frame (the driver simulation). */
export interface Addressed {
  from: NodeId
  to: NodeId
}

export class SimNetwork<M extends Addressed = Message> {
  #queue: Packet<M>[] = []
  #order = 0
  /** Directed links "from>to" that currently drop everything. */
  #blocked = new Set<string>()
  /** Latest delivery time scheduled per path "from>to" (for FIFO paths). */
  #pathTail = new Map<string, number>()
  #changedAtMs = 0
  partitionDescription = 'none'
  stats = {sent: 0, delivered: 0, lost: 0, duplicated: 0, blocked: 0, partitions: 0}

  constructor(readonly nodes: NodeId[], public opts: NetworkOptions, readonly rng: SeededRng) {}

  /** Liveness phase: no more loss or partitions (delay, duplication and reordering stay). */
  calm(nowMs: number): void {
    this.heal(nowMs)
    this.opts = {...this.opts, lossRate: 0}
  }

  send(message: M, nowMs: number): void {
    this.stats.sent++
    if (this.#blocked.has(`${message.from}>${message.to}`)) {
      this.stats.blocked++
      return
    }
    if (this.rng.chance(this.opts.lossRate)) {
      this.stats.lost++
      return
    }
    this.#enqueue(message, nowMs)
    if (this.rng.chance(this.opts.duplicateRate)) {
      this.stats.duplicated++
      this.#enqueue(message, nowMs)
    }
  }

  #enqueue(message: M, nowMs: number): void {
    const tail = this.opts.delayMeanMs > 0 ? -Math.log(1 - this.rng.next()) * this.opts.delayMeanMs : 0
    let deliverAtMs = nowMs + this.opts.delayMinMs + tail
    const path = `${message.from}>${message.to}`
    if (!this.rng.chance(this.opts.reorderRate)) deliverAtMs = Math.max(deliverAtMs, this.#pathTail.get(path) ?? 0)
    this.#pathTail.set(path, Math.max(deliverAtMs, this.#pathTail.get(path) ?? 0))
    this.#queue.push({deliverAtMs, order: this.#order++, message})
  }

  /** Packets due by `nowMs`, in delivery order. */
  deliverDue(nowMs: number): M[] {
    const due: Packet<M>[] = []
    const rest: Packet<M>[] = []
    for (const p of this.#queue) (p.deliverAtMs <= nowMs ? due : rest).push(p)
    if (due.length === 0) return []
    this.#queue = rest
    due.sort((a, b) => a.deliverAtMs - b.deliverAtMs || a.order - b.order)
    this.stats.delivered += due.length
    return due.map((p) => p.message)
  }

  /** Advance the partition state machine by `elapsedMs`. */
  evolve(nowMs: number, elapsedMs: number): void {
    const partitioned = this.#blocked.size > 0
    const stable = nowMs - this.#changedAtMs < (partitioned ? this.opts.partitionStabilityMs : this.opts.unpartitionStabilityMs)
    if (stable) return
    const rate = partitioned ? this.opts.unpartitionRate : this.opts.partitionRate
    if (!this.rng.chance(1 - Math.pow(1 - rate, elapsedMs))) return
    if (partitioned) this.heal(nowMs)
    else this.#partition(nowMs)
  }

  heal(nowMs: number): void {
    this.#blocked.clear()
    this.#changedAtMs = nowMs
    this.partitionDescription = 'none'
  }

  /** A scripted partition: `node` cut off from every other node both ways (until heal). */
  isolate(node: NodeId, nowMs: number): void {
    this.stats.partitions++
    this.#changedAtMs = nowMs
    for (const other of this.nodes) {
      if (other === node) continue
      this.#blocked.add(`${node}>${other}`)
      this.#blocked.add(`${other}>${node}`)
    }
    this.partitionDescription = `isolate {${node}}`
  }

  #partition(nowMs: number): void {
    this.stats.partitions++
    this.#changedAtMs = nowMs
    const oneWay = this.rng.chance(this.opts.asymmetricRate)
    let side: NodeId[]
    if (this.rng.chance(0.5)) {
      side = [this.rng.pick(this.nodes)]
    } else {
      side = this.nodes.filter(() => this.rng.chance(0.5))
      if (side.length === 0 || side.length === this.nodes.length) side = [this.rng.pick(this.nodes)]
    }
    const other = this.nodes.filter((n) => !side.includes(n))
    for (const a of side) {
      for (const b of other) {
        this.#blocked.add(`${b}>${a}`)
        if (!oneWay) this.#blocked.add(`${a}>${b}`)
      }
    }
    this.partitionDescription = `${oneWay ? 'one-way into' : 'isolate'} {${side.join(',')}}`
  }

  /** When the next queued packet is due (Infinity when none is). */
  nextDueMs(): number {
    let next = Infinity
    for (const p of this.#queue) if (p.deliverAtMs < next) next = p.deliverAtMs
    return next
  }

  inFlight(): number {
    return this.#queue.length
  }
}
