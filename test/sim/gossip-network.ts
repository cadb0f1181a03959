// Simulated network for the gossip simulation (after TigerBeetle's packet_simulator, like
// network.ts for Raft, but carrying gossip datagrams and push-pull streams): one seeded PRNG, a
// delay of delayMinMs plus an exponential tail (datagrams are independent, so they reorder),
// datagram loss, and partitions as sets of blocked directed links. Streams (TCP) are never lost
// but fail when either direction is blocked. Delivery order is a heap on (time, send order).
import type {SeededRng} from '../../src/lib/rng.js'
import type {Packet, PushPullState} from '../../src/lib/gossip/types.js'

export interface GossipNetworkOptions {
  delayMinMs: number
  delayMeanMs: number
  /** Chance each datagram is dropped. */
  lossRate: number
}

export type Delivery =
  | {kind: 'packet'; from: string; to: string; packet: Packet}
  | {kind: 'streamRequest'; from: string; to: string; state: PushPullState}
  | {kind: 'streamReply'; from: string; to: string; state: PushPullState}

interface Queued {
  atMs: number
  order: number
  item: Delivery
}

class Heap {
  readonly #a: Queued[] = []

  get size(): number {
    return this.#a.length
  }

  peek(): Queued | undefined {
    return this.#a[0]
  }

  push(q: Queued): void {
    const a = this.#a
    a.push(q)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }

  pop(): Queued | undefined {
    const a = this.#a
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && less(a[l], a[m])) m = l
        if (r < a.length && less(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
}

function less(x: Queued, y: Queued): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.order < y.order)
}

export class GossipNetwork {
  readonly #queue = new Heap()
  #order = 0
  /** Directed links "from>to" that drop everything. */
  readonly #blocked = new Set<string>()
  stats = {sent: 0, lost: 0, blocked: 0, streams: 0, streamsFailed: 0}

  constructor(public opts: GossipNetworkOptions, readonly rng: SeededRng) {}

  send(item: Delivery, nowMs: number): void {
    const blocked = this.#blocked.has(`${item.from}>${item.to}`)
    if (item.kind === 'packet') {
      this.stats.sent++
      if (blocked) {
        this.stats.blocked++
        return
      }
      if (this.rng.chance(this.opts.lossRate)) {
        this.stats.lost++
        return
      }
    } else {
      if (item.kind === 'streamRequest') this.stats.streams++
      // A stream needs both directions; the dial fails (times out) if either is cut.
      if (blocked || this.#blocked.has(`${item.to}>${item.from}`)) {
        this.stats.streamsFailed++
        return
      }
    }
    const tail = this.opts.delayMeanMs > 0 ? -Math.log(1 - this.rng.next()) * this.opts.delayMeanMs : 0
    this.#queue.push({atMs: nowMs + this.opts.delayMinMs + tail, order: this.#order++, item})
  }

  /** Next delivery due by `nowMs`, or undefined. */
  nextDue(nowMs: number): Delivery | undefined {
    const top = this.#queue.peek()
    if (!top || top.atMs > nowMs) return undefined
    return this.#queue.pop()?.item
  }

  /** Cut every link between `side` and the rest (both directions). */
  partition(side: readonly string[], rest: readonly string[]): void {
    for (const a of side) {
      for (const b of rest) {
        this.#blocked.add(`${a}>${b}`)
        this.#blocked.add(`${b}>${a}`)
      }
    }
  }

  heal(): void {
    this.#blocked.clear()
  }

  get inFlight(): number {
    return this.#queue.size
  }
}
