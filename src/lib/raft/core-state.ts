// The mutable state of one Raft node and the few transitions every role shares. Kept apart from
// the public facade (core.ts) so the per-concern modules (core-election.ts, core-replication.ts)
// can operate on it without widening RaftCore's API. Internal to src/lib/raft.
import {assert} from './assert.js'
import {confAfterEntry} from './conf-change.js'
import {Progress} from './progress.js'
import {RaftLog} from './raft-log.js'
import {ReadOnly} from './read-only.js'
import {randomInt, type Rng} from '../rng.js'
import {copyConf} from './storage.js'
import type {ConfState, Entry, HardState, Message, NodeId, ReadState, Role} from './types.js'
import type {RaftConfig} from './config.js'

/** Distributes Omit over the union so each message variant keeps its own fields. */
export type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'term'> & {term?: number} : never) : never

export class RaftState {
  term: number
  vote: NodeId | null
  role: Role = 'follower'
  leader: NodeId | null = null
  /** Latest time the driver told us (tick/step/leaseRead); monotonic. */
  nowMs: number
  /** Configuration entries in the log after the snapshot, oldest first; the last one is in effect. */
  confHistory: Array<{index: number; conf: ConfState}> = []
  conf: ConfState = {voters: [], learners: []}
  /** Leader only: one per member, including this node (whose match counts only persisted entries). */
  progress = new Map<NodeId, Progress>()
  votes = new Map<NodeId, boolean>()
  electionDeadlineMs = 0
  /**
   * When we last heard from a leader of our term (or, after a restart with term > 0, the boot
   * time: we may have acked a leader just before crashing and forgotten). While
   * nowMs - lastLeaderContactMs < electionTimeoutMs we refuse (pre)votes: leader stickiness
   * (diss. §4.2.3), which is what keeps a leader's lease safe.
   */
  lastLeaderContactMs = -Infinity
  heartbeatDueMs = 0
  checkQuorumDueMs = 0
  /** Counter stamped on every leader message (LeaderStamp.seq). */
  seq = 0
  msgs: Message[] = []
  reads = new ReadOnly()
  readStates: ReadState[] = []
  abortedReads: string[] = []
  transferee: NodeId | null = null
  transferDeadlineMs = 0
  /** Set once TimeoutNow went out: voters may now elect another leader regardless of stickiness. */
  leaseRevoked = false
  /** Why this node last stopped leading (for the driver's log line): set whenever a leader becomes a follower. */
  stepDownReason = ''
  prevHardState: HardState

  constructor(readonly id: NodeId, readonly cfg: Readonly<RaftConfig>, readonly rng: Rng, readonly log: RaftLog, nowMs: number) {
    const hs = log.storage.hardState()
    this.term = hs.term
    this.vote = hs.vote
    this.nowMs = nowMs
    this.prevHardState = {term: hs.term, vote: hs.vote, commit: log.committed}
    if (hs.term > 0) this.lastLeaderContactMs = nowMs
    const first = log.firstIndex()
    const last = log.lastIndex()
    if (last >= first) this.onEntriesWritten(log.slice(first, last + 1, Number.MAX_SAFE_INTEGER))
    else this.recomputeConf()
  }

  hardState(): HardState {
    return {term: this.term, vote: this.vote, commit: this.log.committed}
  }

  isVoter(id: NodeId = this.id): boolean {
    return this.conf.voters.includes(id)
  }

  members(): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners]
  }

  send(m: Outgoing): void {
    assert(m.to !== this.id, 'message to self')
    this.msgs.push({...m, from: this.id, term: m.term ?? this.term} as Message)
  }

  stamp(): {seq: number; sentAtMs: number} {
    return {seq: ++this.seq, sentAtMs: this.nowMs}
  }

  /** Randomized in [E, 2E) so split votes resolve (§5.2). */
  resetElectionDeadline(): void {
    const e = this.cfg.electionTimeoutMs
    this.electionDeadlineMs = this.nowMs + randomInt(this.rng, e, 2 * e)
  }

  /** Heard from a live leader recently (or we lead): ignore disruptive (pre)votes. */
  inLease(): boolean {
    if (!this.cfg.checkQuorum) return false
    return this.role === 'leader' || this.nowMs - this.lastLeaderContactMs < this.cfg.electionTimeoutMs
  }

  lastConfIndex(): number {
    return this.confHistory.at(-1)?.index ?? 0
  }

  /** Membership as of `index` (for snapshot metadata). */
  confAt(index: number): ConfState {
    for (let i = this.confHistory.length - 1; i >= 0; i--) {
      if (this.confHistory[i].index <= index) return copyConf(this.confHistory[i].conf)
    }
    return copyConf(this.log.snapshotMeta().conf)
  }

  /** Entries just written to the log (possibly replacing a truncated suffix): track conf on append. */
  onEntriesWritten(written: Entry[]): void {
    if (written.length === 0) return
    const from = written[0].index
    this.confHistory = this.confHistory.filter((h) => h.index < from)
    for (const entry of written) {
      if (entry.type !== 'conf') continue
      const base = this.confHistory.at(-1)?.conf ?? this.log.snapshotMeta().conf
      this.confHistory.push({index: entry.index, conf: confAfterEntry(base, entry.data)})
    }
    this.recomputeConf()
  }

  onSnapshotRestored(): void {
    this.confHistory = []
    this.recomputeConf()
  }

  recomputeConf(): void {
    this.conf = copyConf(this.confHistory.at(-1)?.conf ?? this.log.snapshotMeta().conf)
    if (this.role !== 'leader') return
    for (const id of this.members()) {
      const learner = this.conf.learners.includes(id)
      const pr = this.progress.get(id)
      if (pr) pr.learner = learner
      else this.progress.set(id, new Progress(this.log.lastIndex() + 1, learner, this.cfg.maxInflightMsgs))
    }
    for (const id of [...this.progress.keys()]) {
      if (!this.members().includes(id) && id !== this.id) this.progress.delete(id)
    }
    if (this.transferee !== null && !this.isVoter(this.transferee)) this.transferee = null
  }

  /** Any role → follower (§5.1: a higher term always wins; a candidate that hears a leader yields). */
  becomeFollower(term: number, leader: NodeId | null, why = ''): void {
    assert(term >= this.term, `term must not go back from ${this.term} to ${term}`)
    if (this.role === 'leader') this.stepDownReason = why
    if (term > this.term) {
      this.term = term
      this.vote = null
    }
    if (this.role === 'leader') this.abortedReads.push(...this.reads.abortAll())
    this.role = 'follower'
    this.leader = leader
    this.progress.clear()
    this.votes.clear()
    this.transferee = null
    this.leaseRevoked = false
    this.resetElectionDeadline()
  }
}
