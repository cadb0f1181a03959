// The SWIM member state machine (memberlist state.go's aliveNode/suspectNode/deadNode, serf's leave
// intent) and push-pull merging. Rules, for a member other than us:
//  - an incarnation number orders claims about one member's life: a claim with a lower incarnation
//    than we hold is stale and ignored; only the member raises its own incarnation;
//  - alive needs a strictly higher incarnation to override anything (so a refutation wins);
//  - suspect (same or higher incarnation) turns alive into suspect and starts a Lifeguard timer;
//    more suspects from other accusers confirm it, shrinking the timeout (suspicion.ts);
//  - dead (failed) overrides alive/suspect at the same or higher incarnation, never `left`;
//  - leave overrides everything but a later life (higher incarnation), so a member that left is
//    reported left, not failed, even if its silence was noticed first.
// About ourselves: suspect, dead and newer-alive claims are refuted with a higher incarnation,
// except while leaving (a refutation would out-rank our own leave intent).
import {assert, isLive, sameTags, type GossipState} from './core-state.js'
import {Suspicion, expectedConfirmations, suspicionMinTimeoutMs} from './suspicion.js'
import type {Alive, Dead, Leave, Member, PushPullState, Suspect} from './types.js'

export function handleAlive(s: GossipState, a: Alive): void {
  if (a.node === s.name) {
    const me = s.self
    if (me.state !== 'alive' || a.incarnation < me.incarnation) return
    if (a.incarnation === me.incarnation && a.address === me.address && a.port === me.port && sameTags(a.tags, me.tags)) return
    s.refute(a.incarnation) // someone speaks for a newer "us" (e.g. our previous life before a restart)
    return
  }
  const m = s.members.get(a.node)
  if (!m) {
    s.addMember({name: a.node, address: a.address, port: a.port, tags: a.tags, incarnation: a.incarnation, state: 'alive', stateChangeMs: s.nowMs})
    s.emit('joined', s.members.get(a.node) as Member)
    s.broadcast(a.node, a)
    return
  }
  if (a.incarnation <= m.incarnation) return
  const changed = a.address !== m.address || a.port !== m.port || !sameTags(a.tags, m.tags)
  const prev = m.state
  m.incarnation = a.incarnation
  m.address = a.address
  m.port = a.port
  m.tags = a.tags
  s.suspicions.delete(m.name)
  s.setState(m, 'alive')
  if (changed && prev !== 'failed' && prev !== 'left') s.emit('updated', m)
  s.broadcast(a.node, a)
}

/**
 * The member an accusation (suspect or dead) is about, if it still applies: not stale, about a live
 * member, and not about us — an accusation against ourselves is refuted instead (SWIM §4.2).
 */
function accused(s: GossipState, node: string, incarnation: number): Member | undefined {
  const m = s.members.get(node)
  if (!m || incarnation < m.incarnation || !isLive(m.state)) return undefined
  if (node === s.name) {
    if (m.state === 'alive') s.refute(incarnation)
    return undefined
  }
  return m
}

export function handleSuspect(s: GossipState, msg: Suspect): void {
  const m = accused(s, msg.node, msg.incarnation)
  if (!m) return
  if (m.state === 'suspect') {
    const suspicion = s.suspicions.get(m.name)
    // A new independent accuser: shorten the timer and pass the confirmation on.
    if (suspicion && suspicion.confirm(msg.from)) s.broadcast(m.name, msg)
    return
  }
  m.incarnation = msg.incarnation
  s.setState(m, 'suspect')
  const n = s.liveCount
  const minMs = Math.max(s.cfg.suspicionFloorMs, suspicionMinTimeoutMs(s.cfg.suspicionMult, n, s.cfg.probeIntervalMs))
  s.suspicions.set(m.name, new Suspicion(msg.from, s.nowMs, expectedConfirmations(s.cfg.suspicionMult, n), minMs, minMs * s.cfg.suspicionMaxTimeoutMult))
  s.broadcast(m.name, msg)
}

export function handleDead(s: GossipState, d: Dead): void {
  const m = accused(s, d.node, d.incarnation)
  if (!m) return
  m.incarnation = d.incarnation
  s.suspicions.delete(m.name)
  s.setState(m, 'failed')
  s.broadcast(m.name, d)
}

export function handleLeave(s: GossipState, l: Leave): void {
  s.lamport.witness(l.ltime)
  const m = s.members.get(l.node)
  if (l.node === s.name) {
    // A leave about us while we are alive (a previous life's, or an operator's force-leave) is
    // refuted whatever its incarnation: a member that missed our last alive may still accept it.
    if (m?.state === 'alive') s.refute(l.incarnation)
    return
  }
  if (!m || m.state === 'left' || l.incarnation < m.incarnation) return
  m.incarnation = l.incarnation
  s.suspicions.delete(m.name)
  s.setState(m, 'left')
  s.broadcast(m.name, l)
}

/** Our suspicion of `name` ran out: declare it failed and tell everyone. */
export function suspicionExpired(s: GossipState, name: string): void {
  const m = s.members.get(name)
  s.suspicions.delete(name)
  if (!m || m.state !== 'suspect') return
  handleDead(s, {type: 'dead', node: name, incarnation: m.incarnation, from: s.name})
}

/**
 * Merge a peer's full state (push-pull). As memberlist does, a peer's "failed" is taken only as a
 * suspicion: it may be stale, and a suspicion lets the member refute before anyone declares it.
 */
export function mergeRemoteState(s: GossipState, remote: PushPullState): void {
  s.lamport.witness(remote.ltime)
  for (const r of remote.members) {
    switch (r.state) {
      case 'alive': {
        // Most of a peer's state is news we already have: skip it without building a message
        // (handleAlive ignores an alive about another member at an incarnation we hold or passed).
        const known = r.name === s.name ? undefined : s.members.get(r.name)
        if (known && r.incarnation <= known.incarnation) break
        handleAlive(s, {type: 'alive', node: r.name, incarnation: r.incarnation, address: r.address, port: r.port, tags: r.tags})
        break
      }
      case 'suspect':
      case 'failed':
        handleSuspect(s, {type: 'suspect', node: r.name, incarnation: r.incarnation, from: remote.from})
        break
      case 'leaving':
      case 'left':
        handleLeave(s, {type: 'leave', node: r.name, incarnation: r.incarnation, ltime: 0})
        break
    }
  }
}

/** Forget failed and left members past their timeouts (Consul's reconnect_timeout and serf's tombstone timeout). */
export function reap(s: GossipState): void {
  const due: Member[] = []
  for (const m of s.members.values()) {
    if (m.name === s.name) continue
    const age = s.nowMs - m.stateChangeMs
    if ((m.state === 'failed' && age >= s.cfg.reconnectTimeoutMs) || (m.state === 'left' && age >= s.cfg.tombstoneTimeoutMs)) due.push(m)
  }
  for (const m of due) {
    s.removeMember(m.name)
    s.emit('reaped', m)
  }
  assert(s.members.has(s.name), 'reaping removed ourselves')
}
