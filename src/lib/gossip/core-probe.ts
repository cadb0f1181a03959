// Failure detection (SWIM §4 with Lifeguard): each protocol period probe one member, round-robin
// over a shuffled list; no ack within probeTimeout → ask indirectChecks members to probe it for us
// (with nacks, Lifeguard §IV-A); still nothing by the end of the period → suspect it. Timeouts and
// the period itself are stretched by the local health score. A probe of a suspect member carries
// the suspicion (Lifeguard's "buddy system"), so the member can refute at the first chance.
import {handleSuspect} from './core-members.js'
import type {GossipState, Probe} from './core-state.js'
import {ACK_PAYLOAD_TAG, type Ack, type GossipMessage, type IndirectPing, type Member, type PeerAddress, type ProbeTiming} from './types.js'

function probeable(m: Member): boolean {
  return m.state === 'alive' || m.state === 'suspect'
}

/** Next member to probe, reshuffling the order after each full round (memberlist resetNodes). */
function nextTarget(s: GossipState): Member | null {
  for (let pass = 0; pass < 2; pass++) {
    while (s.probeIndex < s.probeOrder.length) {
      const m = s.members.get(s.probeOrder[s.probeIndex++])
      if (m && probeable(m)) return m
    }
    const order = s.peers.filter((name) => probeable(s.members.get(name) as Member))
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(s.rng.next() * (i + 1))
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    s.probeOrder = order
    s.probeIndex = 0
    if (order.length === 0) return null
  }
  return null
}

export function startProbe(s: GossipState): void {
  const target = nextTarget(s)
  const periodMs = s.awareness.scale(s.cfg.probeIntervalMs)
  s.nextProbeMs = s.nowMs + periodMs
  if (!target) return
  const seqNo = ++s.seqNo
  const messages: GossipMessage[] = [{type: 'ping', seqNo, target: target.name}]
  if (target.state === 'suspect') messages.push({type: 'suspect', node: target.name, incarnation: target.incarnation, from: s.name})
  s.probe = {
    seqNo,
    target: target.name,
    sentMs: s.nowMs,
    incarnation: target.incarnation,
    directDeadlineMs: s.nowMs + s.awareness.scale(s.cfg.probeTimeoutMs),
    deadlineMs: s.nowMs + periodMs,
    indirectSent: false,
    expectedNacks: 0,
    nacks: 0,
  }
  s.send(target, target.name, messages)
}

/** Timers of the probe in flight and of relayed probes. */
export function tickProbe(s: GossipState): void {
  const p = s.probe
  if (p && !p.indirectSent && s.nowMs >= p.directDeadlineMs) sendIndirect(s)
  if (p && s.nowMs >= p.deadlineMs) probeFailed(s)
  if (s.relays.size > 0) {
    for (const [seqNo, relay] of s.relays) {
      if (s.nowMs < relay.deadlineMs) continue
      s.relays.delete(seqNo)
      if (relay.wantNack) s.send(relay.origin, relay.originName, [{type: 'nack', seqNo: relay.originSeqNo}])
    }
  }
  if (!s.probe && s.nowMs >= s.nextProbeMs) startProbe(s)
}

function sendIndirect(s: GossipState): void {
  const p = s.probe
  if (!p) return
  p.indirectSent = true
  const target = s.members.get(p.target)
  if (!target) return
  const relays = s.randomPeers(s.cfg.indirectChecks, (m) => m.state === 'alive' && m.name !== p.target)
  const req: IndirectPing = {type: 'indirectPing', seqNo: p.seqNo, target: target.name, targetAddress: {address: target.address, port: target.port}, wantNack: true}
  for (const relay of relays) s.send(relay, relay.name, [req])
  p.expectedNacks = relays.length
}

function probeFailed(s: GossipState): void {
  const p = s.probe
  if (!p) return
  s.probe = null
  endProbe(s, p, 'failed')
  // Lifeguard: relays that did not even nack suggest our own links or CPU are the problem.
  s.awareness.apply(p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1)
  handleSuspect(s, {type: 'suspect', node: p.target, incarnation: p.incarnation, from: s.name})
}

/** We were not running (a stall): nobody is to blame for the probe that ran out meanwhile. */
export function abandonProbe(s: GossipState): void {
  if (s.probe) endProbe(s, s.probe, 'abandoned')
  s.probe = null
  s.relays.clear()
  s.nextProbeMs = s.nowMs
}

export function handlePing(s: GossipState, source: PeerAddress, fromName: string, seqNo: number, target: string, accused: boolean): void {
  if (target !== s.name) return // meant for whoever had this address before
  // The payload (our coordinate) only to pingers that said they can decode a three-field ack.
  const ack: Ack = {type: 'ack', seqNo}
  if (s.ackPayload && s.members.get(fromName)?.tags[ACK_PAYLOAD_TAG] === '1') ack.payload = s.ackPayload
  const reply: GossipMessage[] = [ack]
  if (accused && s.self.state === 'alive') {
    const me = s.self
    reply.push({type: 'alive', node: me.name, incarnation: me.incarnation, address: me.address, port: me.port, tags: me.tags})
  }
  s.send(source, fromName, reply)
}

/** A last direct ping to a member we suspect, carrying the suspicion (the ack is not tracked). */
export function pingSuspect(s: GossipState, name: string): void {
  const m = s.members.get(name)
  if (!m || m.state !== 'suspect') return
  s.send(m, m.name, [{type: 'ping', seqNo: ++s.seqNo, target: m.name}, {type: 'suspect', node: m.name, incarnation: m.incarnation, from: s.name}])
}

export function handleIndirectPing(s: GossipState, source: PeerAddress, fromName: string, req: IndirectPing): void {
  const seqNo = ++s.seqNo
  s.relays.set(seqNo, {origin: source, originName: fromName, originSeqNo: req.seqNo, deadlineMs: s.nowMs + s.cfg.probeTimeoutMs, wantNack: req.wantNack})
  s.send(req.targetAddress, req.target, [{type: 'ping', seqNo, target: req.target}])
}

export function handleAck(s: GossipState, seqNo: number, payload?: Uint8Array): void {
  const relay = s.relays.get(seqNo)
  if (relay) {
    s.relays.delete(seqNo)
    s.send(relay.origin, relay.originName, [{type: 'ack', seqNo: relay.originSeqNo}])
    return
  }
  const probe = s.probe
  if (probe?.seqNo !== seqNo) return // late: that probe already ended
  s.probe = null
  endProbe(s, probe, 'acked')
  // Relayed acks never carry a payload, so every result is a direct round trip (serf's
  // NotifyPingComplete), timed from the ping's send to this ack's arrival.
  if (payload) s.pingResults.push({node: probe.target, rttMs: Math.max(0, s.nowMs - probe.sentMs), payload})
  s.awareness.apply(-1)
}

/**
 * Every probe round is timed however it ends, as memberlist's probeNode (a deferred MeasureSince):
 * a round whose target is dead or unreachable counts too, so the timing does not go quiet exactly
 * when members fail.
 */
function endProbe(s: GossipState, p: Probe, outcome: ProbeTiming['outcome']): void {
  s.probes.push({node: p.target, ms: Math.max(0, s.nowMs - p.sentMs), outcome})
}

export function handleNack(s: GossipState, seqNo: number): void {
  if (s.probe?.seqNo === seqNo) s.probe.nacks++
}
