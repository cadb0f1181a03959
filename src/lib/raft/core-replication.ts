// Log replication (§5.3), commitment (§5.4.2), snapshots (§7) and the leader-side bookkeeping for
// ReadIndex and the lease (diss. §6.4). Leader and follower halves of each exchange sit together.
import type {RaftState} from './core-state.js'
import type {Progress} from './progress.js'
import {quorumValue} from './quorum.js'
import type {AppendRequest, AppendResponse, Heartbeat, HeartbeatResponse, InstallSnapshot, InstallSnapshotResponse, NodeId} from './types.js'

// ---------------------------------------------------------------- leader: sending

/**
 * Sends `to` the entries from its nextIndex on, as many as fit maxSizePerMsgBytes (batching). In
 * replicate state nextIndex advances on send (pipelining) up to maxInflightMsgs un-acked appends.
 * Falls back to InstallSnapshot when the entries it needs were compacted away (§7).
 * Returns whether a message was sent.
 */
export function sendAppend(s: RaftState, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = s.progress.get(to)
  if (!pr || to === s.id || pr.isPaused()) return false
  const prevLogIndex = pr.next - 1
  const prevLogTerm = s.log.term(prevLogIndex)
  const entries = s.log.entriesFrom(pr.next, s.cfg.maxSizePerMsgBytes)
  if (prevLogTerm === undefined || entries === undefined) {
    sendSnapshot(s, to, pr)
    return true
  }
  if (entries.length === 0 && !sendIfEmpty) return false
  s.send({type: 'append', to, prevLogIndex, prevLogTerm, entries, commit: s.log.committed, ...s.stamp()})
  if (pr.state === 'replicate' && entries.length > 0) pr.sentOptimistically(entries[entries.length - 1].index)
  else if (pr.state === 'probe') pr.probeSent = true
  return true
}

function sendSnapshot(s: RaftState, to: NodeId, pr: Progress): void {
  const snapshot = s.log.snapshotMeta()
  s.send({type: 'installSnapshot', to, snapshot, ...s.stamp()})
  pr.becomeSnapshot(snapshot.index, s.nowMs)
}

/** After new entries or a commit advance: every peer gets what it lacks (and the commit index). */
export function bcastAppend(s: RaftState): void {
  for (const id of s.progress.keys()) if (id !== s.id) sendAppend(s, id, true)
}

/**
 * Heartbeats keep followers from campaigning (§5.2) and, stamped with a fresh seq, double as the
 * ReadIndex confirmation round. The commit index is capped at what the follower is known to hold,
 * so it never learns a commit index beyond its (possibly divergent) log.
 */
export function bcastHeartbeat(s: RaftState): void {
  for (const [id, pr] of s.progress) {
    if (id === s.id) continue
    s.send({type: 'heartbeat', to: id, commit: Math.min(pr.match, s.log.committed), ...s.stamp()})
  }
}

export function sendTimeoutNow(s: RaftState, to: NodeId): void {
  // From here on another node may win an election without waiting out the stickiness window, so
  // this leader's lease is void for the rest of its term (see leaseRead).
  s.leaseRevoked = true
  s.send({type: 'timeoutNow', to})
}

// ---------------------------------------------------------------- leader: commitment and reads

/**
 * Commit the highest index a quorum of voters has persisted, but only if it is from the current
 * term (§5.4.2: counting replicas of an older-term entry is unsafe, Figure 8); older entries commit
 * with it by the log matching property.
 */
export function maybeCommit(s: RaftState): boolean {
  const index = quorumValue(s.conf.voters, (id) => s.progress.get(id)?.match ?? 0)
  if (index <= s.log.committed || s.log.term(index) !== s.term) return false
  const firstOfTerm = s.log.term(s.log.committed) !== s.term
  s.log.commitTo(index)
  if (firstOfTerm) {
    // Our commit index is now at least every earlier leader's: parked reads may proceed (§6.4).
    for (const id of s.reads.takeWaiting()) startRead(s, id)
  }
  // A leader removed from the configuration leads until that change commits, then steps down (diss. §4.2.2).
  if (!s.isVoter() && s.lastConfIndex() <= s.log.committed) s.becomeFollower(s.term, null, 'removed from the configuration')
  return true
}

/** Records the ReadIndex and starts (or joins) a confirmation round. */
export function startRead(s: RaftState, requestId: string): void {
  if (s.conf.voters.length === 1 && s.isVoter()) {
    s.readStates.push({requestId, index: s.log.committed})
    return
  }
  s.reads.add(requestId, s.log.committed, s.seq + 1)
  bcastHeartbeat(s)
}

function onAck(s: RaftState, pr: Progress, m: {seq: number; sentAtMs: number}): void {
  pr.recentActive = true
  pr.ackedSeq = Math.max(pr.ackedSeq, m.seq)
  pr.ackedSentAtMs = Math.max(pr.ackedSentAtMs, m.sentAtMs)
  if (s.reads.size() > 0) {
    const confirmed = quorumValue(s.conf.voters, (id) => (id === s.id ? Infinity : s.progress.get(id)?.ackedSeq ?? 0))
    s.readStates.push(...s.reads.release(confirmed))
  }
}

// ---------------------------------------------------------------- leader: responses

export function handleAppendResponse(s: RaftState, m: AppendResponse): void {
  const pr = s.progress.get(m.from)
  if (!pr) return
  onAck(s, pr, m)
  if (m.reject) {
    const hint = m.hintTerm > 0 ? s.log.findConflictByTerm(m.rejectHint, m.hintTerm) : m.rejectHint
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === 'replicate') pr.becomeProbe()
      sendAppend(s, m.from, true)
    }
    return
  }
  if (!pr.maybeUpdate(m.index)) return
  if (pr.state === 'probe') pr.becomeReplicate()
  else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeProbe()
  else if (pr.state === 'replicate') pr.freeTo(m.index)
  if (maybeCommit(s)) {
    if (s.role !== 'leader') return
    bcastAppend(s)
  } else {
    while (sendAppend(s, m.from, false)) { /* fill the pipeline */ }
  }
  if (m.from === s.transferee && pr.match === s.log.lastIndex()) sendTimeoutNow(s, m.from)
}

export function handleHeartbeatResponse(s: RaftState, m: HeartbeatResponse): void {
  const pr = s.progress.get(m.from)
  if (!pr) return
  onAck(s, pr, m)
  pr.probeSent = false
  // Window full and still answering heartbeats: an append was probably lost; free a slot to resend.
  if (pr.state === 'replicate' && pr.inflightFull()) pr.freeFirst()
  // A snapshot (or its answer) lost: retry after an election timeout.
  if (pr.state === 'snapshot' && s.nowMs - pr.snapshotSentAtMs >= s.cfg.electionTimeoutMs) pr.becomeProbe()
  // Lagging: send even an empty append; if the follower lacks our tail it rejects and we back off.
  if (pr.match < s.log.lastIndex()) sendAppend(s, m.from, true)
}

export function handleSnapshotResponse(s: RaftState, m: InstallSnapshotResponse): void {
  const pr = s.progress.get(m.from)
  if (!pr) return
  onAck(s, pr, m)
  pr.maybeUpdate(m.index)
  if (pr.state === 'snapshot') pr.becomeProbe()
  sendAppend(s, m.from, false)
}

// ---------------------------------------------------------------- follower

export function handleAppend(s: RaftState, m: AppendRequest): void {
  const echo = {to: m.from, seq: m.seq, sentAtMs: m.sentAtMs, rejectHint: 0, hintTerm: 0}
  if (m.prevLogIndex < s.log.committed) {
    // Old news (a duplicate or reordered append): everything up to our commit matches the leader.
    s.send({type: 'appendResponse', ...echo, reject: false, index: s.log.committed})
    return
  }
  const result = s.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commit, m.entries)
  if (result) {
    s.onEntriesWritten(result.written)
    s.send({type: 'appendResponse', ...echo, reject: false, index: result.lastNew})
    return
  }
  const rejectHint = s.log.findConflictByTerm(Math.min(m.prevLogIndex, s.log.lastIndex()), m.prevLogTerm)
  s.send({type: 'appendResponse', ...echo, reject: true, index: m.prevLogIndex, rejectHint, hintTerm: s.log.term(rejectHint) ?? 0})
}

export function handleHeartbeat(s: RaftState, m: Heartbeat): void {
  s.log.commitTo(m.commit)
  s.send({type: 'heartbeatResponse', to: m.from, seq: m.seq, sentAtMs: m.sentAtMs})
}

/**
 * §7: if we already hold the snapshot's last entry, keep the log after it (only fast-forward the
 * commit index); otherwise discard the log and restore from the snapshot (the driver does the
 * restore when the Ready names it).
 */
export function handleInstallSnapshot(s: RaftState, m: InstallSnapshot): void {
  const snap = m.snapshot
  let index = snap.index
  if (snap.index <= s.log.committed) {
    index = s.log.committed
  } else if (s.log.matchTerm(snap.index, snap.term)) {
    s.log.commitTo(snap.index)
  } else {
    s.log.restore(snap)
    s.onSnapshotRestored()
  }
  s.send({type: 'installSnapshotResponse', to: m.from, index, seq: m.seq, sentAtMs: m.sentAtMs})
}
