// A whole gossip pool on a simulated clock and network (gossip-network.ts), driven exactly as a
// transport would drive GossipCore: tick every stepMs, deliver datagrams and streams, drain ready().
// Phases: join (everyone joins one seed; views must agree), drain (until every member's broadcast
// queue is empty, bounded: the join wave's alive messages are retransmitted for a while after the
// views agree, and are not failure-detection traffic), crash (k members crash at random times
// while one member stalls — it neither ticks nor reads its socket for stallMs, then ticks first and
// reads its backlog after, the order an event loop would give), and for the partition scenario a
// cut and heal. Bytes are counted over a fixed window from the start of the crash phase, the same
// length for every profile, per message kind; the memberlist profiles are sized as memberlist
// encodes its messages (memberlist-wire-size.ts), coord's as its codec does (wire-size.ts). Checkers run as events arrive: any "failed" or "left" about a member that is running
// is a false positive (outside a partition); every crash must be declared by every live member.
import {SeededRng} from '../../src/lib/rng.js'
import {GossipCore} from '../../src/lib/gossip/core.js'
import {encodedPacketSizeBytes, messageSizeBytes, packetSizeBytes, pushPullSizeBytes, type WireSizes} from '../../src/lib/gossip/wire-size.js'
import type {GossipMessage, MemberEvent, PushPullState} from '../../src/lib/gossip/types.js'
import {memberlistMessageBytes, memberlistSentPacketBytes, memberlistSentPushPullBytes, memberlistWireSizes} from './memberlist-wire-size.js'
import {GossipNetwork, type Delivery} from './gossip-network.js'
import type {GossipSimParams} from './gossip-params.js'

export class GossipSimFailure extends Error {
  constructor(why: string) {
    super(why)
    this.name = 'GossipSimFailure'
  }
}

interface SimMember {
  name: string
  address: string
  core: GossipCore
  crashedAtMs: number | null
  stallFromMs: number
  stallUntilMs: number
  backlog: Delivery[]
}

/** Where the measured bytes went: per message kind (its framing inside the datagram included), datagram framing, push-pull streams. */
export interface ByteBreakdown {
  ping: number
  ack: number
  /** Indirect probe requests and nacks. */
  indirect: number
  suspect: number
  alive: number
  dead: number
  /** Leave, user events, queries. */
  other: number
  /** Per-datagram framing: header, sender, compound header. */
  framing: number
  pushPull: number
  /** Datagrams sent (not bytes). */
  packets: number
}

export const BREAKDOWN_KINDS = ['ping', 'ack', 'indirect', 'suspect', 'alive', 'dead', 'other', 'framing', 'pushPull'] as const

function emptyBreakdown(): ByteBreakdown {
  return {ping: 0, ack: 0, indirect: 0, suspect: 0, alive: 0, dead: 0, other: 0, framing: 0, pushPull: 0, packets: 0}
}

function kindOf(m: GossipMessage): (typeof BREAKDOWN_KINDS)[number] {
  switch (m.type) {
    case 'ping':
    case 'ack':
    case 'suspect':
    case 'alive':
    case 'dead':
      return m.type
    case 'indirectPing':
    case 'nack':
      return 'indirect'
    default:
      return 'other'
  }
}

/** How one wire sizes what the simulation sends: the core's packing sizes and the counted bytes. */
interface WireModel {
  sizes: WireSizes
  /** A message's bytes inside a datagram of `count` messages from `from` (its framing included). */
  message(m: GossipMessage, from: string, count: number): number
  /** The datagram's bytes as sent (after any compression); `message` sizes are before it. */
  packet(from: string, fromAddress: string, messages: readonly GossipMessage[]): number
  pushPull(s: PushPullState): number
}

const WIRE_MODELS: Record<'coord' | 'memberlist', WireModel> = {
  coord: {sizes: {packet: packetSizeBytes, message: messageSizeBytes}, message: (m) => messageSizeBytes(m), packet: (from, _address, messages) => encodedPacketSizeBytes(from, messages), pushPull: pushPullSizeBytes},
  memberlist: {
    sizes: memberlistWireSizes,
    message: (m, from, count) => memberlistMessageBytes(m, from) + (count > 1 ? 2 : 0),
    packet: memberlistSentPacketBytes,
    pushPull: memberlistSentPushPullBytes,
  },
}

export interface GossipRunResult {
  /** From the last join until every member sees every member alive. */
  convergeMs: number
  /** Per crash: from the crash until the last live member declared it failed. */
  detectionsMs: number[]
  falsePositives: number
  /** Bytes sent (datagrams and streams, as the profile's wire encodes them) per member per second over the measured window. */
  bytesPerMemberPerSec: number
  /** The same window's bytes (and datagrams) per member per second, by kind. */
  breakdown: ByteBreakdown
  /** From convergence until every broadcast queue was empty; null if the drain budget ran out first. */
  drainMs: number | null
  /** partition scenario: from heal until the views agree again. */
  healMs: number | null
  simMs: number
  packets: number
}

const GOSSIP_PORT = 8301

function shuffle<T>(rng: SeededRng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1)
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}
const CHECK_EVERY_MS = 100

export class GossipSimulation {
  nowMs = 0
  readonly #p: GossipSimParams
  readonly #rng: SeededRng
  readonly #net: GossipNetwork
  readonly #members: SimMember[] = []
  readonly #byName = new Map<string, SimMember>()
  /** subject → observer → first time it declared the subject failed. */
  readonly #declared = new Map<string, Map<string, number>>()
  #exemptFromMs = Infinity
  #exemptUntilMs = -Infinity
  readonly #byAddress = new Map<string, string>()
  readonly #wire: WireModel
  #measureFromMs = Infinity
  #measureUntilMs = -Infinity
  #measuring = false
  #bytes = emptyBreakdown()
  falsePositives: string[] = []

  constructor(params: GossipSimParams) {
    this.#p = params
    this.#rng = new SeededRng(params.seed ^ 0x9e3779b9)
    this.#net = new GossipNetwork(params.network, this.#rng.fork())
    this.#wire = WIRE_MODELS[params.wire]
    for (let i = 0; i < params.members; i++) {
      const name = `m${i}`
      // A LAN address of a typical length (coord's codec carries it as text, memberlist as 4 bytes).
      const address = `10.${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`
      const core = new GossipCore({config: params.config, name, address, port: GOSSIP_PORT, tags: {role: i < 3 ? 'server' : 'client'}, rng: this.#rng.fork(), nowMs: 0, wireSizes: this.#wire.sizes})
      const m: SimMember = {name, address, core, crashedAtMs: null, stallFromMs: Infinity, stallUntilMs: -Infinity, backlog: []}
      this.#members.push(m)
      this.#byName.set(name, m)
      this.#byAddress.set(address, name)
    }
  }

  run(): GossipRunResult {
    const p = this.#p
    // Phase 1: join. m0 is the seed everyone else joins.
    const joinAt = this.#members.map((_, i) => (i === 0 ? 0 : Math.floor(this.#rng.next() * p.joinSpreadMs)))
    const lastJoinMs = Math.max(...joinAt)
    const joined = new Set<number>([0])
    const convergedAt = this.#runUntil(lastJoinMs + p.convergeBudgetMs, () => {
      for (let i = 1; i < this.#members.length; i++) {
        if (!joined.has(i) && this.nowMs >= joinAt[i]) {
          joined.add(i)
          this.#members[i].core.join([{address: this.#members[0].address, port: GOSSIP_PORT}])
          this.#flush(this.#members[i])
        }
      }
      return this.nowMs > lastJoinMs && this.#agreed()
    }, 'members did not converge after joining')
    const convergeMs = convergedAt - lastJoinMs

    // Phase 2: let the join wave's retransmissions finish (bounded), so the measured window holds
    // failure detection and steady state, for every profile alike.
    const drainedAt = this.#runUntil(convergedAt + p.drainBudgetMs, () => this.#live().every((m) => m.core.pendingBroadcasts === 0))
    const drainMs = this.#live().every((m) => m.core.pendingBroadcasts === 0) ? drainedAt - convergedAt : null

    // Phase 3: crashes and one stalled member on a lossy network.
    const t0 = this.nowMs + 1000
    const order = shuffle(this.#rng, this.#members.slice())
    const victims = order.slice(0, p.crashes)
    const crashAt = victims.map(() => t0 + Math.floor(this.#rng.next() * p.crashWindowMs))
    const stalled = order[p.crashes]
    stalled.stallFromMs = t0 + Math.floor(this.#rng.next() * Math.max(1, p.crashWindowMs - p.stallMs))
    stalled.stallUntilMs = stalled.stallFromMs + p.stallMs
    const lastCrashMs = Math.max(...crashAt)
    this.#runUntil(t0, () => false)
    this.#measureFromMs = t0
    this.#measureUntilMs = t0 + p.measureMs
    this.#runUntil(lastCrashMs + p.detectBudgetMs, () => {
      victims.forEach((v, i) => {
        if (v.crashedAtMs === null && this.nowMs >= crashAt[i]) v.crashedAtMs = this.nowMs
      })
      return this.nowMs > lastCrashMs && this.nowMs > stalled.stallUntilMs && this.#allDetected(victims)
    }, () => `crashes not detected by everyone: ${this.#undetected(victims)}`)
    this.#runUntil(this.#measureUntilMs, () => false)
    const perMemberSec = (n: number): number => n / p.members / (p.measureMs / 1000)
    const breakdown = emptyBreakdown()
    for (const k of [...BREAKDOWN_KINDS, 'packets'] as const) breakdown[k] = perMemberSec(this.#bytes[k])
    const bytesPerMemberPerSec = BREAKDOWN_KINDS.reduce((n, k) => n + breakdown[k], 0)
    const detectionsMs = victims.map((v) => Math.max(...this.#live().map((o) => this.#declared.get(v.name)?.get(o.name) ?? Infinity)) - (v.crashedAtMs as number))

    // Phase 4 (partition scenario): cut a group off, heal, and the views must agree again.
    let healMs: number | null = null
    if (p.scenario === 'partition') {
      const live = shuffle(this.#rng, this.#live().map((m) => m.name))
      const cut = Math.max(1, Math.floor(live.length * p.partitionFraction))
      const startMs = this.nowMs + 500
      this.#runUntil(startMs, () => false)
      this.#exemptFromMs = startMs
      this.#exemptUntilMs = Infinity
      this.#net.partition(live.slice(0, cut), live.slice(cut).concat(victims.map((v) => v.name)))
      this.#runUntil(startMs + p.partitionMs, () => false)
      this.#net.heal()
      const healedAt = this.nowMs
      const agreedAt = this.#runUntil(healedAt + p.healBudgetMs, () => this.#agreed(), 'views did not agree after the partition healed')
      healMs = agreedAt - healedAt
      this.#exemptUntilMs = agreedAt
    }
    if (this.falsePositives.length > 0) throw new GossipSimFailure(`false positives: ${this.falsePositives.slice(0, 5).join('; ')}${this.falsePositives.length > 5 ? ` (+${this.falsePositives.length - 5} more)` : ''}`)
    return {convergeMs, detectionsMs, falsePositives: this.falsePositives.length, bytesPerMemberPerSec, breakdown, drainMs, healMs, simMs: this.nowMs, packets: this.#net.stats.sent}
  }

  /** Step until `done()` (checked every CHECK_EVERY_MS) or `deadlineMs`; returns when it was done. */
  #runUntil(deadlineMs: number, done: () => boolean, failure?: string | (() => string)): number {
    let nextCheckMs = this.nowMs
    while (this.nowMs < deadlineMs) {
      this.#step()
      if (this.nowMs >= nextCheckMs) {
        nextCheckMs = this.nowMs + CHECK_EVERY_MS
        if (done()) return this.nowMs
      }
    }
    if (failure === undefined) return this.nowMs
    throw new GossipSimFailure(typeof failure === 'string' ? failure : failure())
  }

  #step(): void {
    this.nowMs += this.#p.stepMs
    const t = this.nowMs
    this.#measuring = t > this.#measureFromMs && t <= this.#measureUntilMs
    for (let d = this.#net.nextDue(t); d; d = this.#net.nextDue(t)) {
      const m = this.#byName.get(d.to)
      if (!m || m.crashedAtMs !== null) continue
      if (t >= m.stallFromMs && t < m.stallUntilMs) m.backlog.push(d)
      else this.#deliver(m, d)
    }
    for (const m of this.#members) {
      if (m.crashedAtMs !== null || (t >= m.stallFromMs && t < m.stallUntilMs)) continue
      m.core.tick(t)
      this.#flush(m)
      if (m.backlog.length > 0) {
        // Back from a stall: timers fired first (above), now the socket's backlog is read.
        const backlog = m.backlog
        m.backlog = []
        for (const d of backlog) this.#deliver(m, d)
      }
    }
  }

  #deliver(m: SimMember, d: Delivery): void {
    const t = this.nowMs
    if (d.kind === 'packet') {
      m.core.receive({address: this.#byName.get(d.from)?.address ?? d.from, port: GOSSIP_PORT}, d.packet, t)
    } else if (d.kind === 'streamRequest') {
      // Counted here, once the stream reached a running member: a dial to a crashed or cut-off
      // member sends no state (the request was not counted when sent).
      const reply = m.core.pushPullReply(d.state, t)
      if (this.#measuring) this.#bytes.pushPull += this.#wire.pushPull(d.state) + this.#wire.pushPull(reply)
      this.#net.send({kind: 'streamReply', from: m.name, to: d.from, state: reply}, t)
    } else {
      m.core.pushPullResult(d.state, t)
    }
    this.#flush(m)
  }

  #flush(m: SimMember): void {
    if (!m.core.hasReady()) return
    const ready = m.core.ready()
    for (const out of ready.packets) {
      if (this.#measuring) this.#countPacket(m, out.packet.messages)
      this.#net.send({kind: 'packet', from: m.name, to: out.toName ?? this.#nameAt(out.to.address), packet: out.packet}, this.nowMs)
    }
    for (const s of ready.streams) {
      this.#net.send({kind: 'streamRequest', from: m.name, to: s.toName ?? this.#nameAt(s.to.address), state: s.state}, this.nowMs)
    }
    for (const e of ready.events) this.#check(m, e)
  }

  #nameAt(address: string): string {
    return this.#byAddress.get(address) ?? address
  }

  #countPacket(from: SimMember, messages: readonly GossipMessage[]): void {
    const b = this.#bytes
    const sent = this.#wire.packet(from.name, from.address, messages)
    // Each kind's share of a compressed datagram is its share of the uncompressed one.
    let plain = 0
    const sizes = messages.map((msg) => this.#wire.message(msg, from.name, messages.length))
    for (const size of sizes) plain += size
    const framing = Math.max(0, this.#wireFraming(from.name, messages, plain))
    const scale = sent / (plain + framing)
    messages.forEach((msg, k) => { b[kindOf(msg)] += sizes[k] * scale })
    b.framing += framing * scale
    b.packets++
  }

  /** Bytes of a datagram outside its messages (uncompressed). */
  #wireFraming(from: string, messages: readonly GossipMessage[], inMessages: number): number {
    return this.#p.wire === 'coord' ? encodedPacketSizeBytes(from, messages) - inMessages : (messages.length > 1 ? 2 : 0)
  }

  #check(observer: SimMember, e: MemberEvent): void {
    if (e.type !== 'failed' && e.type !== 'left') return
    const subject = this.#byName.get(e.member.name)
    const crashed = subject?.crashedAtMs !== null && subject?.crashedAtMs !== undefined && subject.crashedAtMs <= e.atMs
    if (e.type === 'failed' && crashed) {
      const seen = this.#declared.get(e.member.name) ?? new Map<string, number>()
      if (!seen.has(observer.name)) seen.set(observer.name, e.atMs)
      this.#declared.set(e.member.name, seen)
      return
    }
    if (e.atMs >= this.#exemptFromMs && e.atMs <= this.#exemptUntilMs) return
    const stalled = subject && subject.stallFromMs !== Infinity ? ` (stalled ${subject.stallFromMs}..${subject.stallUntilMs}ms)` : ''
    this.falsePositives.push(`${observer.name} declared ${e.member.name}${stalled} ${e.type} at ${e.atMs}ms`)
  }

  #live(): SimMember[] {
    return this.#members.filter((m) => m.crashedAtMs === null)
  }

  /** Every live member sees exactly the live members alive, nobody suspect, and itself alive. */
  #agreed(): boolean {
    const live = this.#live()
    return live.every((m) => {
      const s = m.core.status()
      return s.state === 'alive' && s.alive === live.length && s.suspect === 0
    })
  }

  #allDetected(victims: SimMember[]): boolean {
    const live = this.#live()
    return victims.every((v) => v.crashedAtMs !== null && live.every((o) => this.#declared.get(v.name)?.has(o.name)))
  }

  #undetected(victims: SimMember[]): string {
    const live = this.#live()
    return victims.map((v) => `${v.name}: ${live.filter((o) => !this.#declared.get(v.name)?.has(o.name)).length} of ${live.length} missing`).join(', ')
  }
}
