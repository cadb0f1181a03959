// GossipCore: a pure, deterministic SWIM member with Lifeguard's refinements (memberlist's protocol,
// built the etcd way). No clock, timer or socket: time arrives as `nowMs` from the driver's
// monotonic clock, randomness from an injected Rng, and every effect leaves through ready().
//
// The driver (node.ts, GossipNode, over transport.ts) must:
//  - call tick(nowMs) at least every gossipIntervalMs / 2 (a 10–50 ms timer is typical; a gap over
//    localStallThresholdMs is read as this process having stalled, see GossipConfig);
//  - decode each datagram and call receive(source, packet, nowMs) with the datagram's source;
//  - after any call, drain ready() and do what it says (GossipReady in types.ts): send packets,
//    run stream exchanges, deliver events;
//  - for a StreamRequest: dial, send `state`, read the peer's state, call pushPullResult(remote);
//    for an incoming stream: read the peer's state, reply with pushPullReply(remote);
//  - after leave(), keep driving until status().state === 'left', then stop.
import {GossipConfigError} from './errors.js'
import {handleAlive, handleDead, handleLeave, handleSuspect, mergeRemoteState, reap, suspicionExpired} from './core-members.js'
import {abandonProbe, handleAck, handleIndirectPing, handleNack, handlePing, pingSuspect, tickProbe} from './core-probe.js'
import {expireQueries, handleQuery, handleQueryRelay, handleQueryResponse, respondToQuery, startQuery} from './core-query.js'
import {GossipState, isLive, userEventKey} from './core-state.js'
import {validateGossipConfig, type GossipConfig} from './config.js'
import type {Rng} from '../rng.js'
import type {WireSizes} from './wire-size.js'
import type {GossipMessage, GossipReady, GossipStatus, Member, Packet, PeerAddress, PushPullState, ReceivedQuery, Tags} from './types.js'

export interface GossipCoreOptions {
  config: GossipConfig
  /** This member's name (unique in the pool), advertised address and gossip port. */
  name: string
  address: string
  port: number
  tags?: Tags
  /** Start above any incarnation a previous life of this name may have used (optional; refutation copes). */
  incarnation?: number
  rng: Rng
  /** Driver's monotonic clock at construction. */
  nowMs: number
  /** Sizes to fill datagrams against (default: coord's codec, wire-size.ts); the simulation's memberlist model passes memberlist's. */
  wireSizes?: WireSizes
}

/** How often a member that sees every other member failed tries to reach one of them again. */
const ALONE_RECONNECT_MS = 1000

export class GossipCore {
  readonly #s: GossipState

  constructor(opts: GossipCoreOptions) {
    const problems = validateGossipConfig(opts.config)
    if (opts.name === '') problems.push('name must be a non-empty string')
    if (problems.length > 0) throw new GossipConfigError(problems)
    const self: Member = {name: opts.name, address: opts.address, port: opts.port, tags: {...(opts.tags ?? {})}, incarnation: opts.incarnation ?? 0, state: 'alive', stateChangeMs: opts.nowMs}
    this.#s = new GossipState(self, Object.freeze({...opts.config}), opts.rng, opts.nowMs, opts.wireSizes)
  }

  get name(): string {
    return this.#s.name
  }

  /** Ask each seed for a full state exchange; the pool learns of us through the seeds' gossip. */
  join(seeds: readonly PeerAddress[]): void {
    const s = this.#s
    if (s.self.state !== 'alive') return
    for (const seed of seeds) s.requestStream(seed, null, true)
    s.broadcastSelfAlive()
    s.scheduleJoinSyncs(s.cfg.joinSyncs, null)
  }

  /** Start a graceful leave: peers will report us `left`, never `failed`. */
  leave(): void {
    const s = this.#s
    if (s.self.state !== 'alive') return
    const ltime = s.lamport.increment()
    s.setState(s.self, 'leaving')
    s.broadcast(s.name, {type: 'leave', node: s.name, incarnation: s.self.incarnation, ltime})
    // Wait for the leave to be fully piggybacked, but not forever (e.g. we are alone).
    s.leaveDeadlineMs = s.nowMs + s.retransmitLimit() * s.cfg.gossipIntervalMs
  }

  /**
   * Operator's force-leave (serf's RemoveFailedNode): spread a leave intent for `name`, so a failed
   * member is reported `left` everywhere (a live member refutes it). With `prune`, also forget the
   * member here at once (serf prunes by a zero tombstone timeout). False when `name` is unknown or us.
   */
  forceLeave(name: string, prune = false): boolean {
    const s = this.#s
    const m = s.members.get(name)
    if (!m || name === s.name) return false
    if (m.state !== 'left') handleLeave(s, {type: 'leave', node: name, incarnation: m.incarnation, ltime: s.lamport.increment()})
    if (prune && s.members.get(name)?.state === 'left') {
      const gone = s.members.get(name) as Member
      s.removeMember(name)
      s.emit('reaped', gone)
    }
    return true
  }

  /** Publish new tags: a new incarnation, gossiped like a refutation. */
  updateTags(tags: Tags): void {
    const s = this.#s
    if (s.self.state !== 'alive') return
    s.self.tags = {...tags}
    s.self.incarnation++
    s.broadcastSelfAlive()
  }

  /**
   * What our acks carry from now on (serf: the network coordinate), to pingers tagged
   * ACK_PAYLOAD_TAG; null stops it. The caller keeps it small: it shares a datagram.
   */
  setAckPayload(payload: Uint8Array | null): void {
    this.#s.ackPayload = payload
  }

  /** Broadcast a user event (delivered here too, as serf does). Hook for `consul event`. */
  userEvent(name: string, payload: Uint8Array): void {
    const s = this.#s
    const ltime = s.lamport.increment()
    s.seeEvent(ltime, name, payload)
    s.broadcast(userEventKey(ltime, name, payload), {type: 'userEvent', ltime, name, payload})
    s.userEvents.push({ltime, name, payload})
  }

  /**
   * Ask every member (us included) a question (core-query.ts); returns the query's id. Answers come
   * back through respond() on each member; the outcome arrives in ready().queryResults.
   */
  query(name: string, payload: Uint8Array, timeoutMs: number, relayFactor = 0): number {
    return startQuery(this.#s, name, payload, timeoutMs, relayFactor)
  }

  /** Answer a query delivered in ready().queries (ignored past its deadline). */
  respond(query: ReceivedQuery, payload: Uint8Array, nowMs: number): void {
    const s = this.#s
    if (s.self.state === 'left') return
    s.nowMs = Math.max(s.nowMs, nowMs)
    respondToQuery(s, query, payload)
  }

  /** Advance time to `nowMs` (monotonic; smaller values are ignored) and fire due timers. */
  tick(nowMs: number): void {
    const s = this.#s
    if (s.self.state === 'left') return
    s.nowMs = Math.max(s.nowMs, nowMs)
    const gap = s.nowMs - s.lastTickMs
    s.lastTickMs = s.nowMs
    if (s.cfg.localStallThresholdMs > 0 && gap > s.cfg.localStallThresholdMs) this.#recoverFromStall()
    if (s.self.state === 'leaving') {
      if (s.nowMs >= (s.leaveDeadlineMs ?? 0) || s.broadcasts.size === 0) {
        s.setState(s.self, 'left')
        return
      }
    }
    if (s.suspicions.size > 0) this.#tickSuspicions()
    tickProbe(s)
    if (s.pendingQueries.size > 0) expireQueries(s)
    if (s.nowMs >= s.nextGossipMs) {
      s.nextGossipMs = s.nowMs + s.cfg.gossipIntervalMs
      this.#gossip()
    }
    if (s.cfg.pushPullIntervalMs > 0 && s.nowMs >= s.nextPushPullMs) {
      s.nextPushPullMs = s.nowMs + pushPullScaleMs(s.cfg.pushPullIntervalMs, s.liveCount)
      const [peer] = s.randomPeers(1, (m) => m.state === 'alive')
      if (peer) s.requestStream(peer, peer.name, false)
    }
    s.tickJoinSync()
    if (s.cfg.reconnectIntervalMs > 0) {
      // Alone (every other member failed), this member is most likely the one cut off: it tries
      // again every second rather than every reconnect interval, so a healed partition is
      // rejoined in about a second (serf waits for its 30 s ReconnectInterval whatever the view).
      const alone = s.liveCount === 1 && s.members.size > 1
      const interval = alone ? Math.min(s.cfg.reconnectIntervalMs, ALONE_RECONNECT_MS) : s.cfg.reconnectIntervalMs
      if (s.nextReconnectMs > s.nowMs + interval) s.nextReconnectMs = s.nowMs + interval
      if (s.nowMs >= s.nextReconnectMs) {
        s.nextReconnectMs = s.nowMs + interval
        const [peer] = s.randomPeers(1, (m) => m.state === 'failed')
        if (peer) s.requestStream(peer, peer.name, false)
      }
    }
    if (s.nowMs >= s.nextReapMs) {
      s.nextReapMs = s.nowMs + s.cfg.reapIntervalMs
      reap(s)
    }
  }

  #tickSuspicions(): void {
    const s = this.#s
    for (const [name, suspicion] of s.suspicions) {
      // coord's addition: before declaring, ping the suspect once ourselves, carrying the suspicion.
      // A live member answers with its alive record, so a refutation the epidemic missed us with
      // still arrives; a crashed one costs a single datagram and at most two probe timeouts.
      const lastChanceMs = 2 * s.cfg.probeTimeoutMs
      if (!suspicion.pinged && s.nowMs >= suspicion.deadlineMs - lastChanceMs) {
        suspicion.pinged = true
        suspicion.deadlineMs = Math.max(suspicion.deadlineMs, s.nowMs + lastChanceMs)
        pingSuspect(s, name)
      } else if (s.nowMs >= suspicion.deadlineMs) {
        suspicionExpired(s, name)
      }
    }
  }

  /**
   * A stall of our own (coord's addition; see GossipConfig.localStallThresholdMs): whatever timed
   * out meanwhile says nothing about peers. Refutations may be waiting unread in the socket buffer,
   * so no suspicion we hold expires before the driver has had a probe timeout to deliver them.
   */
  #recoverFromStall(): void {
    const s = this.#s
    abandonProbe(s)
    s.awareness.apply(1)
    const graceUntilMs = s.nowMs + s.cfg.probeTimeoutMs
    for (const suspicion of s.suspicions.values()) suspicion.deadlineMs = Math.max(suspicion.deadlineMs, graceUntilMs)
  }

  #gossip(): void {
    const s = this.#s
    if (s.broadcasts.size === 0) return
    // A member declared failed or left still hears gossip for a while, so that a live one learns of
    // the claim and refutes it (a force-leave of a live member: serf's leave intent never stops
    // memberlist's gossip to it, and here the two are one state).
    const targets = s.randomPeers(s.cfg.gossipNodes, (m) => isLive(m.state) || ((m.state === 'failed' || m.state === 'left') && s.nowMs - m.stateChangeMs < s.cfg.gossipToTheDeadMs))
    for (const m of targets) if (!s.sendGossip(m)) break
  }

  /** Handle one datagram from `source` (the address it came from). */
  receive(source: PeerAddress, packet: Packet, nowMs: number): void {
    const s = this.#s
    if (s.self.state === 'left') return
    s.nowMs = Math.max(s.nowMs, nowMs)
    // Gossip first, probes second: an ack then carries any refutation the packet provoked, and a
    // ping that accuses us (buddy system) is answered with our alive record.
    let accused = false
    for (const m of packet.messages) if ((m.type === 'suspect' || m.type === 'dead') && m.node === s.name) accused = true
    // Two passes rather than a sorted copy: every datagram comes through here.
    for (const m of packet.messages) if (!isProbeMessage(m)) this.#handle(source, packet.from, m, accused)
    for (const m of packet.messages) if (isProbeMessage(m)) this.#handle(source, packet.from, m, accused)
  }

  #handle(source: PeerAddress, from: string, m: GossipMessage, accused: boolean): void {
    const s = this.#s
    switch (m.type) {
      case 'ping':
        handlePing(s, source, from, m.seqNo, m.target, accused)
        break
      case 'indirectPing':
        handleIndirectPing(s, source, from, m)
        break
      case 'ack':
        handleAck(s, m.seqNo, m.payload)
        break
      case 'nack':
        handleNack(s, m.seqNo)
        break
      case 'alive':
        handleAlive(s, m)
        break
      case 'suspect':
        handleSuspect(s, m)
        break
      case 'dead':
        handleDead(s, m)
        break
      case 'leave':
        handleLeave(s, m)
        break
      case 'userEvent':
        s.lamport.witness(m.ltime)
        if (s.seeEvent(m.ltime, m.name, m.payload)) {
          s.userEvents.push({ltime: m.ltime, name: m.name, payload: m.payload})
          s.broadcast(userEventKey(m.ltime, m.name, m.payload), m)
        }
        break
      case 'query':
        handleQuery(s, m)
        break
      case 'queryResponse':
        handleQueryResponse(s, m)
        break
      case 'queryRelay':
        handleQueryRelay(s, m)
        break
    }
  }

  /** The peer's answer to one of our StreamRequests. */
  pushPullResult(remote: PushPullState, nowMs: number): void {
    const s = this.#s
    if (s.self.state === 'left') return
    s.nowMs = Math.max(s.nowMs, nowMs)
    mergeRemoteState(s, remote)
    // Anti-entropy for user events (serf's push-pull carries its event buffer): not to a joiner,
    // which should not replay what was fired before it joined.
    if (!remote.join) s.resendRecentEvents(remote.from)
  }

  /** A peer opened a push-pull with us: merge its state, then answer with ours (refutations included). */
  pushPullReply(remote: PushPullState, nowMs: number): PushPullState {
    this.pushPullResult(remote, nowMs)
    const s = this.#s
    // We are a join's seed: pass the joiner on to one more member by a full exchange soon.
    if (remote.join && s.self.state === 'alive') s.scheduleJoinSyncs(Math.min(1, s.cfg.joinSyncs), remote.from)
    return s.localState(false)
  }

  /** Everything to do since the last call; the core forgets it once returned. */
  ready(): GossipReady {
    const s = this.#s
    const out: GossipReady = {packets: s.packets, streams: s.streams, events: s.events, userEvents: s.userEvents, queries: s.queries, queryResults: s.queryResults, pingResults: s.pingResults, probes: s.probes}
    s.packets = []
    s.streams = []
    s.events = []
    s.userEvents = []
    s.queries = []
    s.queryResults = []
    s.pingResults = []
    s.probes = []
    return out
  }

  hasReady(): boolean {
    const s = this.#s
    return s.packets.length > 0 || s.streams.length > 0 || s.events.length > 0 || s.userEvents.length > 0 || s.queries.length > 0 || s.queryResults.length > 0 || s.pingResults.length > 0 || s.probes.length > 0
  }

  /** Copies of every known member (us included), in no particular order. */
  members(): Member[] {
    return [...this.#s.members.values()].map((m) => ({...m}))
  }

  member(name: string): Member | undefined {
    const m = this.#s.members.get(name)
    return m ? {...m} : undefined
  }

  /** Broadcasts still queued for piggybacking (O(1), unlike status()). */
  get pendingBroadcasts(): number {
    return this.#s.broadcasts.size
  }

  status(): GossipStatus {
    const s = this.#s
    const count = {alive: 0, suspect: 0, failed: 0, left: 0}
    for (const m of s.members.values()) {
      if (m.state === 'alive' || m.state === 'suspect' || m.state === 'failed' || m.state === 'left') count[m.state]++
    }
    return {name: s.name, incarnation: s.self.incarnation, state: s.self.state, health: s.awareness.score, members: s.members.size, ...count, pendingBroadcasts: s.broadcasts.size, ltime: s.lamport.time, suspected: s.transitions.suspect, declaredDead: s.transitions.dead}
  }
}

function isProbeMessage(m: GossipMessage): boolean {
  return m.type === 'ping' || m.type === 'indirectPing' || m.type === 'ack' || m.type === 'nack'
}

/** memberlist's pushPullScale: beyond 32 members, exchange full state less often (it costs O(N)). */
export function pushPullScaleMs(intervalMs: number, members: number): number {
  if (members <= 32) return intervalMs
  return intervalMs * (Math.ceil(Math.log2(members) - Math.log2(32)) + 1)
}
