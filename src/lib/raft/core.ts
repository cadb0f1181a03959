// RaftCore: a pure, deterministic Raft node (etcd-io/raft's design, Ongaro's dissertation's
// algorithm). No clock, timer, socket or file: time arrives as `nowMs` from the driver's monotonic
// clock, randomness from an injected Rng, the durable log through RaftStorage (read only), and all
// effects leave through ready()/advance() (the order contract is on `Ready` in types.ts).
//
// The driver (server/raft-driver.ts) owns: timers calling tick(), the transport calling step(),
// persistence and fsync of Ready, applying committed entries, snapshots and compaction.
import {assert} from './assert.js'
import {applyConfChange, confChangeProblem, encodeConfChange} from './conf-change.js'
import {campaign, handleVoteRequest, handleVoteResponse, tickElection} from './core-election.js'
import {bcastAppend, bcastHeartbeat, handleAppend, handleAppendResponse, handleHeartbeat, handleHeartbeatResponse, handleInstallSnapshot, handleSnapshotResponse, maybeCommit, sendAppend, sendTimeoutNow, startRead} from './core-replication.js'
import {RaftState} from './core-state.js'
import {quorumValue} from './quorum.js'
import {RaftLog} from './raft-log.js'
import type {Rng} from '../rng.js'
import type {RaftStorage} from './storage.js'
import {validateRaftConfig, type RaftConfig} from './config.js'
import type {ConfChange, Entry, Message, NodeId, ProposeResult, ReadResult, Ready, Refusal, RefusalCode, SnapshotMeta, Status} from './types.js'

export interface RaftCoreOptions {
  config: RaftConfig
  /** The node's durable log as of now (after a restart: what survived on disk). */
  storage: RaftStorage
  rng: Rng
  /** Driver's monotonic clock at construction. */
  nowMs: number
  /** Index the state machine already reflects (its restored snapshot); default storage's snapshot index. */
  applied?: number
}

export class RaftConfigError extends Error {
  readonly code = 'RAFT_CONFIG_INVALID'
  constructor(readonly problems: string[]) {
    super(`invalid raft config: ${problems.join('; ')}`)
    this.name = 'RaftConfigError'
  }
}

/** Bytes of committed entries handed out per Ready (bounds one apply batch after a restart). */
const MAX_COMMITTED_BYTES_PER_READY = 8 << 20

export class RaftCore {
  readonly #s: RaftState

  constructor(opts: RaftCoreOptions) {
    const problems = validateRaftConfig(opts.config)
    if (problems.length > 0) throw new RaftConfigError(problems)
    const log = new RaftLog(opts.storage, opts.applied)
    this.#s = new RaftState(opts.config.id, Object.freeze({...opts.config}), opts.rng, log, opts.nowMs)
    this.#s.becomeFollower(this.#s.term, null)
  }

  /** Advance time to `nowMs` (monotonic; smaller values are ignored) and fire due timers. */
  tick(nowMs: number): void {
    const s = this.#s
    s.nowMs = Math.max(s.nowMs, nowMs)
    if (s.role !== 'leader') {
      tickElection(s)
      return
    }
    if (s.nowMs >= s.checkQuorumDueMs) {
      s.checkQuorumDueMs = s.nowMs + s.cfg.electionTimeoutMs
      // diss. §6.2: a leader cut off from a quorum steps down, so clients stop waiting on it.
      const active = quorumValue(s.conf.voters, (id) => (id === s.id || s.progress.get(id)?.recentActive ? 1 : 0))
      if (s.cfg.checkQuorum && active < 1) {
        const silent = s.conf.voters.filter((id) => id !== s.id && !s.progress.get(id)?.recentActive)
        s.becomeFollower(s.term, null, `no answer from a quorum within the election timeout (${s.cfg.electionTimeoutMs} ms): silent ${silent.join(', ')}`)
        return
      }
      for (const [id, pr] of s.progress) pr.recentActive = id === s.id
    }
    if (s.transferee !== null && s.nowMs >= s.transferDeadlineMs) s.transferee = null // §3.10: give up
    if (s.nowMs >= s.heartbeatDueMs) {
      s.heartbeatDueMs = s.nowMs + s.cfg.heartbeatIntervalMs
      bcastHeartbeat(s)
    }
  }

  /**
   * Handle a message from a peer. `nowMs` (optional) advances the clock first: pass it so the
   * stickiness window is measured from when the leader's message actually arrived.
   */
  step(m: Message, nowMs?: number): void {
    const s = this.#s
    if (nowMs !== undefined) s.nowMs = Math.max(s.nowMs, nowMs)
    if (m.to !== s.id) return
    if (m.term > s.term) {
      if (m.type === 'preVote' || m.type === 'vote') {
        // Stickiness (diss. §4.2.3): while a leader is live, a higher-term candidate is ignored.
        if (!m.transfer && s.inLease()) return
        if (m.type === 'vote') s.becomeFollower(m.term, null, `${m.transfer ? 'leadership transfer: ' : ''}vote request from ${m.from} at term ${m.term}`)
      } else if (m.type === 'preVoteResponse' && !m.reject) {
        // Granted pre-votes carry the term we would campaign at: not a reason to step down.
      } else {
        const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'installSnapshot'
        s.becomeFollower(m.term, fromLeader ? m.from : null, `${m.type} from ${m.from} at the higher term ${m.term}`)
      }
    } else if (m.term < s.term) {
      if (m.type === 'append' || m.type === 'heartbeat') {
        // A stale leader (e.g. after a partition) learns the new term from this and steps down;
        // without it, PreVote+checkQuorum could leave it leading a minority forever.
        s.send({type: 'appendResponse', to: m.from, reject: false, index: 0, rejectHint: 0, hintTerm: 0, seq: m.seq, sentAtMs: m.sentAtMs})
      } else if (m.type === 'preVote') {
        s.send({type: 'preVoteResponse', to: m.from, reject: true})
      }
      return
    }
    this.#dispatch(m)
  }

  #dispatch(m: Message): void {
    const s = this.#s
    switch (m.type) {
      case 'preVote':
      case 'vote':
        return handleVoteRequest(s, m)
      case 'preVoteResponse':
      case 'voteResponse':
        return handleVoteResponse(s, m)
      case 'append':
      case 'heartbeat':
      case 'installSnapshot':
        assert(s.role !== 'leader', `two leaders in term ${s.term}: ${s.id} and ${m.from}`)
        if (s.role !== 'follower' || s.leader !== m.from) s.becomeFollower(s.term, m.from)
        s.lastLeaderContactMs = s.nowMs
        s.resetElectionDeadline()
        if (m.type === 'append') return handleAppend(s, m)
        if (m.type === 'heartbeat') return handleHeartbeat(s, m)
        return handleInstallSnapshot(s, m)
      case 'appendResponse':
        if (s.role === 'leader') handleAppendResponse(s, m)
        return
      case 'heartbeatResponse':
        if (s.role === 'leader') handleHeartbeatResponse(s, m)
        return
      case 'installSnapshotResponse':
        if (s.role === 'leader') handleSnapshotResponse(s, m)
        return
      case 'timeoutNow':
        // diss. §3.10: the leader brought us up to date; campaign now, skipping PreVote.
        if (s.role === 'follower' && s.leader === m.from) campaign(s, 'vote', true)
        return
    }
  }

  /** Append commands to the log (leader only). Wait for them among committedEntries at these indexes with this term. */
  propose(commands: Uint8Array[]): ProposeResult {
    const s = this.#s
    const refusal = this.#refuseWrite()
    if (refusal) return refusal
    const first = s.log.lastIndex() + 1
    const entries: Entry[] = commands.map((data, i) => ({index: first + i, term: s.term, type: 'command', data}))
    s.log.append(entries)
    bcastAppend(s)
    return {ok: true, firstIndex: first, lastIndex: first + entries.length - 1, term: s.term}
  }

  /**
   * One membership change at a time (diss. §4.1), effective on append. Refused until this leader has
   * committed an entry of its term (the dissertation's fix for a single-server-change bug, §4.1 note)
   * and while an earlier change is uncommitted.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    const s = this.#s
    const refusal = this.#refuseWrite()
    if (refusal) return refusal
    if (s.log.term(s.log.committed) !== s.term || s.lastConfIndex() > s.log.committed) return this.#refuse('CONF_CHANGE_PENDING')
    if (confChangeProblem(s.conf, change) !== null) return this.#refuse('INVALID_CONF_CHANGE')
    const entry: Entry = {index: s.log.lastIndex() + 1, term: s.term, type: 'conf', data: encodeConfChange(change, applyConfChange(s.conf, change))}
    s.log.append([entry])
    s.onEntriesWritten([entry])
    bcastAppend(s)
    return {ok: true, firstIndex: entry.index, lastIndex: entry.index, term: s.term}
  }

  /** Starts a ReadIndex read (diss. §6.4); the answer is a ReadState (or abortedReads) in a later Ready. */
  readIndex(requestId: string): {ok: true} | Refusal {
    const s = this.#s
    if (s.role !== 'leader') return this.#refuse('NOT_LEADER')
    if (s.log.term(s.log.committed) !== s.term) s.reads.wait(requestId)
    else startRead(s, requestId)
    return {ok: true}
  }

  /**
   * May a default-mode read be served by this leader alone at `nowMs`? If ok, serve it once applied
   * >= index. Pass the driver's clock read right now (not the last tick): a process resumed after
   * SIGSTOP must see how much time passed before it answers.
   *
   * Why it is safe (diss. §6.4.1): let T be the send time, on our clock, of the newest message a
   * quorum has acknowledged (leaseStart). Each of those followers received it after T and then
   * refuses (pre)votes for electionTimeoutMs on its own clock (stickiness; a restarted follower
   * treats its boot as contact, so a crash does not shorten that). No other leader can be elected
   * without one of them, so none exists before T + electionTimeoutMs in real time, give or take clock
   * rate drift. We stop at T + electionTimeoutMs × (1 − leaseDriftRatio), which is earlier as long as
   * clock rates differ by less than leaseDriftRatio. TimeoutNow waives stickiness, so it voids the lease.
   * Our commitIndex includes every acknowledged write once we committed an entry of our term.
   */
  leaseRead(nowMs: number): ReadResult {
    const s = this.#s
    s.nowMs = Math.max(s.nowMs, nowMs)
    if (s.role !== 'leader') return this.#refuse('NOT_LEADER')
    if (!s.cfg.leaseReads || s.leaseRevoked || !s.isVoter() || s.log.term(s.log.committed) !== s.term) return this.#refuse('LEASE_NOT_HELD')
    const leaseStart = quorumValue(s.conf.voters, (id) => (id === s.id ? Infinity : s.progress.get(id)?.ackedSentAtMs ?? -Infinity))
    const leaseMs = s.cfg.electionTimeoutMs * (1 - s.cfg.leaseDriftRatio)
    if (!(s.nowMs < leaseStart + leaseMs)) return this.#refuse('LEASE_NOT_HELD')
    return {ok: true, index: s.log.committed}
  }

  /** diss. §3.10: catch `to` up, then send it TimeoutNow; proposals are refused meanwhile. */
  transferLeadership(to: NodeId): {ok: true} | Refusal {
    const s = this.#s
    if (s.role !== 'leader') return this.#refuse('NOT_LEADER')
    if (to === s.id || !s.isVoter(to)) return this.#refuse('INVALID_CONF_CHANGE')
    s.transferee = to
    s.transferDeadlineMs = s.nowMs + s.cfg.electionTimeoutMs
    const pr = s.progress.get(to)
    if (pr && pr.match === s.log.lastIndex()) sendTimeoutNow(s, to)
    else sendAppend(s, to, true)
    return {ok: true}
  }

  /** Campaign now (bootstrap, or an operator forcing an election); no-op for leaders and non-voters. */
  campaign(): void {
    if (this.#s.role !== 'leader') campaign(this.#s, this.#s.cfg.preVote ? 'preVote' : 'vote', false)
  }

  hasReady(): boolean {
    const s = this.#s
    const hs = s.hardState()
    const prev = s.prevHardState
    return s.msgs.length > 0 || s.readStates.length > 0 || s.abortedReads.length > 0 ||
      s.log.hasUnstable() || s.log.pendingSnapshot() !== undefined || s.log.hasNextCommitted() ||
      hs.term !== prev.term || hs.vote !== prev.vote || hs.commit !== prev.commit
  }

  ready(): Ready {
    const s = this.#s
    const hs = s.hardState()
    const prev = s.prevHardState
    const entries = s.log.unstableEntries()
    const snapshot = s.log.pendingSnapshot()
    const changed = hs.term !== prev.term || hs.vote !== prev.vote || hs.commit !== prev.commit
    const rd: Ready = {
      hardState: changed ? hs : undefined,
      snapshot,
      entries,
      mustSync: entries.length > 0 || snapshot !== undefined || hs.term !== prev.term || hs.vote !== prev.vote,
      messages: s.msgs,
      committedEntries: s.log.nextCommitted(MAX_COMMITTED_BYTES_PER_READY),
      readStates: s.readStates,
      abortedReads: s.abortedReads,
    }
    s.prevHardState = hs
    s.msgs = []
    s.readStates = []
    s.abortedReads = []
    return rd
  }

  /** The driver finished `rd` (persisted, sent, applied). */
  advance(rd: Ready): void {
    const s = this.#s
    if (rd.snapshot) s.log.stableSnapshotTo(rd.snapshot.index)
    const last = rd.entries.at(-1)
    if (last) s.log.stableTo(last.index, last.term)
    const applied = rd.committedEntries.at(-1)
    if (applied) s.log.appliedTo(applied.index)
    if (s.role === 'leader') {
      // §10.2.1 of the dissertation: the leader counts itself only for what it has persisted.
      s.progress.get(s.id)?.maybeUpdate(s.log.persistedLastIndex())
      // A restore just installed (installLocalSnapshot): every follower is behind our first index.
      if ((maybeCommit(s) || rd.snapshot) && s.role === 'leader') bcastAppend(s)
    }
  }

  /**
   * Meta to store with a state-machine snapshot taken at applied index `index`; undefined when
   * there is no point: the index is already compacted, or a leader's snapshot is being installed
   * (it will replace this state anyway).
   */
  snapshotMeta(index: number): SnapshotMeta | undefined {
    const s = this.#s
    assert(index <= s.log.applied, `snapshot at ${index} beyond applied ${s.log.applied}`)
    const term = s.log.term(index)
    if (term === undefined || s.log.pendingSnapshot() !== undefined) return undefined
    return {index, term, conf: s.confAt(index)}
  }

  /**
   * An operator's restore on the leader (hashicorp/raft's Restore, api.go; restoreUserSnapshot in
   * raft.go): the meta to stage the restored state under. Its index leaves a hole past our log and
   * past the restored state's own index (`minIndex`), so no follower can be sent the entries before
   * it and each gets the snapshot by InstallSnapshot; its term is ours and its membership the one in
   * force (not the archive's, so a backup restores into any cluster). Refused unless this leader
   * has committed its whole log: an uncommitted entry would be overtaken by the restore.
   */
  restoreMeta(minIndex: number): {ok: true; meta: SnapshotMeta} | Refusal {
    const s = this.#s
    const refusal = this.#refuseWrite()
    if (refusal) return refusal
    if (s.log.committed !== s.log.lastIndex() || s.log.applied !== s.log.committed) return this.#refuse('LOG_NOT_SETTLED')
    return {ok: true, meta: {index: Math.max(s.log.lastIndex(), minIndex) + 1, term: s.term, conf: {voters: s.conf.voters.slice(), learners: s.conf.learners.slice()}}}
  }

  /**
   * The driver staged (durably) the restored state under `meta` from restoreMeta: it becomes this
   * leader's snapshot. The next Ready names it (the driver swaps the state machine and adopts the
   * staged file, as for a snapshot received from a leader); the log restarts after it; every
   * follower probes again from its match, which now lies before our first index, so it is sent
   * the snapshot. The core counts the restore committed on the leader alone, so the driver answers
   * the operator only once a quorum's match index reached it (as hashicorp/raft's Restore waits for
   * a no-op after it): a leader failing before that may be replaced by one without it. Refused when the log or the term moved since restoreMeta (the staged state is then stale).
   */
  installLocalSnapshot(meta: SnapshotMeta): {ok: true} | Refusal {
    const s = this.#s
    const refusal = this.#refuseWrite()
    if (refusal) return refusal
    if (meta.term !== s.term || meta.index <= s.log.lastIndex() || s.log.committed !== s.log.lastIndex() || s.log.applied !== s.log.committed) return this.#refuse('LOG_NOT_SETTLED')
    s.log.restore({index: meta.index, term: meta.term, conf: {voters: meta.conf.voters.slice(), learners: meta.conf.learners.slice()}})
    s.onSnapshotRestored()
    for (const [id, pr] of s.progress) if (id !== s.id) pr.becomeProbe()
    return {ok: true}
  }

  /** The driver persisted a snapshot with snapshotMeta(index) and compacted its storage to it. */
  compact(index: number): void {
    const s = this.#s
    assert(s.log.storage.snapshot().index >= index, `compact(${index}) before the storage was compacted`)
    // Changes at or before `index` are folded into the snapshot's conf, which is now the base.
    s.confHistory = s.confHistory.filter((h) => h.index > index)
  }

  /**
   * Term of the entry at `index` in this node's log (persisted or not), undefined if compacted or
   * absent. A proposer whose (index, term) was replaced knows its proposal is lost.
   */
  termAt(index: number): number | undefined {
    return this.#s.log.term(index)
  }

  /** This node's role, without building a whole status (asked on every request). */
  get role(): Status['role'] {
    return this.#s.role
  }

  /** The leader this node knows of, or null. */
  get leader(): NodeId | null {
    return this.#s.leader
  }

  /** When this node last heard from a leader (its clock), without building a whole status (asked on every read). */
  get lastLeaderContactMs(): number {
    return this.#s.lastLeaderContactMs
  }

  /** True while this leader is handing leadership over (§3.10): it takes no writes meanwhile. */
  transferring(): boolean {
    return this.#s.transferee !== null
  }

  /** This node's current term (with `leader`: which leader, since one server may lead twice). */
  get term(): number {
    return this.#s.term
  }

  /** Why this node last stopped leading ('' if it never led, or the reason was not recorded). */
  get stepDownReason(): string {
    return this.#s.stepDownReason
  }

  status(): Status {
    const s = this.#s
    return {
      id: s.id, role: s.role, term: s.term, leader: s.leader, commit: s.log.committed, applied: s.log.applied,
      lastIndex: s.log.lastIndex(), conf: {voters: s.conf.voters.slice(), learners: s.conf.learners.slice()},
      lastLeaderContactMs: s.lastLeaderContactMs,
      peers: [...s.progress].map(([id, pr]) => ({id, match: pr.match, next: pr.next, state: pr.state, learner: pr.learner, recentActive: pr.recentActive})),
    }
  }

  #refuseWrite(): Refusal | undefined {
    if (this.#s.role !== 'leader') return this.#refuse('NOT_LEADER')
    if (this.#s.transferee !== null) return this.#refuse('TRANSFER_IN_PROGRESS')
    return undefined
  }

  #refuse(code: RefusalCode): Refusal {
    return {ok: false, code, leader: this.#s.leader}
  }
}
