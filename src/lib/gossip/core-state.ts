// The gossip core's state and the small operations every handler shares: the member table (with
// live counts kept incrementally, since N is read for every packet), state changes and their
// events, the outbox, packet assembly with piggybacked broadcasts, and random peer selection.
// Protocol logic lives in core-members.ts (SWIM state machine, push-pull) and core-probe.ts.
import {Awareness} from './awareness.js'
import {BroadcastQueue} from './broadcast-queue.js'
import type {GossipConfig} from './config.js'
import {LamportClock} from './lamport.js'
import type {Rng} from '../rng.js'
import type {Suspicion} from './suspicion.js'
import type {PendingQuery, Broadcast, GossipMessage, Member, MemberEventType, MemberState, OutboundPacket, PeerAddress, PingResult, ProbeTiming, PushPullState, ReceivedUserEvent, StreamRequest, MemberEvent, Tags, ReceivedQuery, QueryResult, UserEvent} from './types.js'
import {coordWireSizes, type WireSizes} from './wire-size.js'
import {invariantChecker, type Assert} from '../invariant.js'

export const assert: Assert = invariantChecker('GOSSIP_INVARIANT', 'gossip')

/** The probe in flight (SWIM: one per protocol period). */
export interface Probe {
  seqNo: number
  target: string
  /** When the ping left (driver ms): an ack's round trip time counts from here. */
  sentMs: number
  /** Target's incarnation when the probe started: a failed probe suspects exactly that life. */
  incarnation: number
  directDeadlineMs: number
  deadlineMs: number
  indirectSent: boolean
  expectedNacks: number
  nacks: number
}

/** An indirect probe we relay for another member. */
export interface Relay {
  origin: PeerAddress
  originName: string
  originSeqNo: number
  deadlineMs: number
  wantNack: boolean
}

/** States that count towards N and that are probed and gossiped to. */
export function isLive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect' || state === 'leaving'
}

const SEEN_EVENTS_MAX = 1024
/**
 * User events handed again to the other side of each push-pull (not a join's): at most this many,
 * none older than RECENT_EVENTS_MS. Serf sends its recent event buffer in every push-pull for the
 * same reason: a member that missed an event's gossip (cut off, or every send of it went astray)
 * gets it at the next full exchange; the receiver's dedup drops what it already had.
 */
const RECENT_EVENTS_MAX = 16
export const RECENT_EVENTS_MS = 60_000

export class GossipState {
  readonly members = new Map<string, Member>()
  /**
   * Every member name but ours, for random selection (order is irrelevant; swap-removal). No
   * name → index map: removal (reaping, a pruning force-leave) is rare, and in a pool of N every
   * member would hold N more map entries.
   */
  readonly peers: string[] = []
  /** randomPeers' scratch list of the names it drew. */
  readonly #drawn: string[] = []
  #live = 0
  readonly awareness: Awareness
  readonly broadcasts: BroadcastQueue
  readonly lamport = new LamportClock()
  readonly suspicions = new Map<string, Suspicion>()
  readonly relays = new Map<number, Relay>()
  readonly seenEvents = new Set<string>()
  /** When each member was first known here: it is handed again only events seen after that (not what was fired before it joined). */
  readonly knownSince = new Map<string, number>()
  /** The newest user events (sent or received), oldest first, with when they were seen. */
  recentEvents: Array<{event: UserEvent; atMs: number}> = []
  seqNo = 0
  streamId = 0
  probe: Probe | null = null
  probeOrder: string[] = []
  probeIndex = 0
  nextProbeMs: number
  nextGossipMs: number
  nextPushPullMs: number
  nextReconnectMs: number
  nextReapMs: number
  lastTickMs: number
  /** Follow-up push-pulls still due after a join (GossipConfig.joinSyncs), the next one at nextJoinSyncMs. */
  joinSyncsLeft = 0
  nextJoinSyncMs = Infinity
  joinSyncGapMs = 0
  /** A member not to pick for the follow-up (the joiner itself, when we served its join). */
  joinSyncExclude: string | null = null
  /** While leaving: when to give up waiting for the leave broadcast to drain. */
  leaveDeadlineMs: number | null = null

  packets: OutboundPacket[] = []
  streams: StreamRequest[] = []
  events: MemberEvent[] = []
  userEvents: ReceivedUserEvent[] = []
  /** Queries (core-query.ts): to answer, outcomes of ours, ours in flight, and those already seen. */
  queries: ReceivedQuery[] = []
  queryResults: QueryResult[] = []
  readonly pendingQueries = new Map<number, PendingQuery>()
  /** Direct probes acked with a payload, and the payload our own acks carry (null: none). */
  pingResults: PingResult[] = []
  /** Probe rounds of ours that ended (each one timed, as memberlist's probeNode). */
  probes: ProbeTiming[] = []
  ackPayload: Uint8Array | null = null
  readonly seenQueries = new Set<string>()

  constructor(readonly self: Member, readonly cfg: Readonly<GossipConfig>, readonly rng: Rng, public nowMs: number, readonly wire: WireSizes = coordWireSizes) {
    this.broadcasts = new BroadcastQueue(wire.message)
    this.awareness = new Awareness(cfg.awarenessMaxMultiplier)
    this.members.set(self.name, self)
    this.#live = 1
    // Stagger the periodic work so members started together do not probe in lockstep.
    this.nextProbeMs = nowMs + Math.floor(rng.next() * cfg.probeIntervalMs)
    this.nextGossipMs = nowMs + Math.floor(rng.next() * cfg.gossipIntervalMs)
    this.nextPushPullMs = nowMs + cfg.pushPullIntervalMs + Math.floor(rng.next() * cfg.pushPullIntervalMs)
    this.nextReconnectMs = nowMs + cfg.reconnectIntervalMs + Math.floor(rng.next() * cfg.reconnectIntervalMs)
    this.nextReapMs = nowMs + cfg.reapIntervalMs
    this.lastTickMs = nowMs
  }

  get name(): string {
    return this.self.name
  }

  /** N for timeouts and retransmit limits: members alive, suspect or leaving, us included. */
  get liveCount(): number {
    return this.#live
  }

  retransmitLimit(): number {
    return BroadcastQueue.retransmitLimit(this.cfg.retransmitMult, this.#live)
  }

  addMember(m: Member): void {
    assert(!this.members.has(m.name), `member ${m.name} added twice`)
    this.members.set(m.name, m)
    this.knownSince.set(m.name, this.nowMs)
    if (isLive(m.state)) this.#live++
    this.peers.push(m.name)
    // memberlist inserts new members at a random place in the probe order, so a joiner is probed soon.
    const at = Math.floor(this.rng.next() * (this.probeOrder.length + 1))
    this.probeOrder.splice(at, 0, m.name)
  }

  removeMember(name: string): void {
    const m = this.members.get(name)
    assert(m !== undefined && name !== this.name, `reaping unknown member or self: ${name}`)
    if (isLive(m.state)) this.#live--
    this.members.delete(name)
    this.knownSince.delete(name)
    this.suspicions.delete(name)
    const i = this.peers.indexOf(name)
    const last = this.peers.pop() as string
    if (last !== name) this.peers[i] = last
  }

  /** The one place a member's state changes: keeps N and emits serf's member events. */
  /** Members that became suspect or failed (in our view) since start. */
  readonly transitions = {suspect: 0, dead: 0}

  setState(m: Member, state: MemberState): void {
    const prev = m.state
    if (prev === state) return
    // Counted for the driver's metrics (memberlist's msg.suspect and msg.dead).
    if (state === 'suspect') this.transitions.suspect++
    else if (state === 'failed') this.transitions.dead++
    if (isLive(prev) && !isLive(state)) this.#live--
    if (!isLive(prev) && isLive(state)) this.#live++
    m.state = state
    m.stateChangeMs = this.nowMs
    if (m.name === this.name && state !== 'left') return
    if (state === 'failed') this.emit('failed', m)
    else if (state === 'left') this.emit('left', m)
    else if (state === 'alive' && (prev === 'failed' || prev === 'left')) this.emit('joined', m)
  }

  emit(type: MemberEventType, m: Member): void {
    this.events.push({type, member: {...m}, atMs: this.nowMs})
  }

  /** Queue a broadcast about `node` (replacing older news about it). */
  broadcast(node: string, message: Broadcast): void {
    this.broadcasts.enqueue(node, message)
  }

  /** Send `primary` messages to `to`, filling the rest of the datagram with broadcasts. */
  send(to: PeerAddress, toName: string | null, primary: GossipMessage[]): void {
    const base = this.wire.packet(this.name, primary)
    const extra = this.broadcasts.take(this.cfg.packetBudgetBytes - base, this.retransmitLimit())
    const messages = primary.concat(extra)
    this.packets.push({to: {address: to.address, port: to.port}, toName, packet: {from: this.name, messages}, sizeBytes: base + this.broadcasts.takenBytes})
  }

  /**
   * Send only piggybacked broadcasts (gossip); false when there was nothing to send. A packet to a
   * member declared failed or left (gossip to the dead, so a live one can refute) counts no
   * transmit: with dead members among the targets, memberlist's counting spends part of each
   * broadcast's sends on them, and in a small pool a live member then misses a user event now and
   * then (1 run in 20 with 3 of 5 members live; test/unit/gossip/core.test.ts).
   */
  sendGossip(to: Member): boolean {
    const base = this.wire.packet(this.name, [])
    const budget = this.cfg.packetBudgetBytes - base
    const messages = isLive(to.state) ? this.broadcasts.take(budget, this.retransmitLimit()) : this.broadcasts.peek(budget, this.retransmitLimit())
    if (messages.length === 0) return false
    this.packets.push({to: {address: to.address, port: to.port}, toName: to.name, packet: {from: this.name, messages}, sizeBytes: base + this.broadcasts.takenBytes})
    return true
  }

  requestStream(to: PeerAddress, toName: string | null, join: boolean): void {
    this.streams.push({id: ++this.streamId, to: {address: to.address, port: to.port}, toName, state: this.localState(join)})
  }

  /**
   * Schedule `count` follow-up push-pulls (at least; pending ones are kept), the first after
   * max(probeInterval, 4 × gossipInterval): by then the join's own broadcasts have had their chance,
   * and a random member that still missed them is repaired with one O(N) exchange.
   */
  scheduleJoinSyncs(count: number, exclude: string | null): void {
    if (count <= 0) return
    const firstMs = Math.max(this.cfg.probeIntervalMs, 4 * this.cfg.gossipIntervalMs)
    if (this.joinSyncsLeft === 0) this.joinSyncExclude = exclude
    this.joinSyncsLeft = Math.max(this.joinSyncsLeft, count)
    this.joinSyncGapMs = firstMs
    this.nextJoinSyncMs = Math.min(this.nextJoinSyncMs, this.nowMs + firstMs)
  }

  /** Run a due follow-up push-pull (tick). */
  tickJoinSync(): void {
    if (this.joinSyncsLeft === 0 || this.nowMs < this.nextJoinSyncMs) return
    this.joinSyncsLeft--
    this.joinSyncGapMs *= 2
    this.nextJoinSyncMs = this.joinSyncsLeft > 0 ? this.nowMs + this.joinSyncGapMs : Infinity
    const exclude = this.joinSyncExclude
    const [peer] = this.randomPeers(1, (m) => m.state === 'alive' && m.name !== exclude)
    if (peer) this.requestStream(peer, peer.name, false)
  }

  localState(join: boolean): PushPullState {
    const members = []
    for (const m of this.members.values()) members.push({name: m.name, address: m.address, port: m.port, tags: m.tags, incarnation: m.incarnation, state: m.state})
    return {from: this.name, join, members, ltime: this.lamport.time}
  }

  /**
   * Up to `k` distinct random peers passing `accept`. Samples rather than scans: O(k) expected
   * while most peers qualify; gives up after a bounded number of draws.
   */
  randomPeers(k: number, accept: (m: Member) => boolean): Member[] {
    const out: Member[] = []
    if (k <= 0 || this.peers.length === 0) return out
    // Names drawn so far: at most 3k + 16, so a reused array beats a Set built per call.
    const chosen = this.#drawn
    chosen.length = 0
    for (let tries = 0; tries < 3 * k + 16 && out.length < k; tries++) {
      const name = this.peers[Math.floor(this.rng.next() * this.peers.length)]
      if (chosen.includes(name)) continue
      chosen.push(name)
      const m = this.members.get(name) as Member
      if (accept(m)) out.push(m)
    }
    if (out.length < k && this.peers.length <= 4 * k + 16) {
      // Small pools: sampling may miss the few that qualify; scan instead.
      for (const name of this.peers) {
        if (out.length >= k) break
        const m = this.members.get(name) as Member
        if (!chosen.includes(name) && accept(m)) out.push(m)
      }
    }
    chosen.length = 0
    return out
  }

  /**
   * Deduplicate a user event; true when it is new. Identity is (Lamport time, name, payload bytes),
   * as serf compares them: two agents may fire same-named events of equal size at the same time.
   */
  seeEvent(ltime: number, name: string, payload: Uint8Array): boolean {
    const key = userEventKey(ltime, name, payload)
    if (this.seenEvents.has(key)) return false
    this.seenEvents.add(key)
    if (this.seenEvents.size > SEEN_EVENTS_MAX) this.seenEvents.delete(this.seenEvents.values().next().value as string)
    this.recentEvents.push({event: {type: 'userEvent', ltime, name, payload}, atMs: this.nowMs})
    if (this.recentEvents.length > RECENT_EVENTS_MAX) this.recentEvents.shift()
    return true
  }

  /**
   * Sends `to` (just heard from by push-pull) the user events seen in the last RECENT_EVENTS_MS,
   * one packet each; only those seen after `to` was known here, so a joiner is not handed what was
   * fired before it joined (Consul joins its LAN pool ignoring old events).
   */
  resendRecentEvents(to: string): void {
    const member = this.members.get(to)
    const since = this.knownSince.get(to)
    if (member === undefined || since === undefined || to === this.name) return
    for (const {event, atMs} of this.recentEvents) {
      if (atMs >= since && this.nowMs - atMs <= RECENT_EVENTS_MS) this.send({address: member.address, port: member.port}, member.name, [event])
    }
  }

  /** Raise our incarnation past `incarnation` and announce that we are alive (SWIM refutation). */
  refute(incarnation: number): void {
    this.self.incarnation = Math.max(this.self.incarnation, incarnation) + 1
    this.awareness.apply(1) // Lifeguard: being suspected hints that we are the slow one
    this.broadcastSelfAlive()
  }

  broadcastSelfAlive(): void {
    const s = this.self
    this.broadcast(s.name, {type: 'alive', node: s.name, incarnation: s.incarnation, address: s.address, port: s.port, tags: s.tags})
  }
}

/** The identity of a user event: the broadcast-queue key and the dedup key. */
export function userEventKey(ltime: number, name: string, payload: Uint8Array): string {
  return `event:${ltime}:${name}:${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64')}`
}

export function sameTags(a: Tags, b: Tags): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => a[k] === b[k])
}
