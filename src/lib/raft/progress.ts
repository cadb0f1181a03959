// The leader's view of one peer's log (§5.3 nextIndex/matchIndex), with the flow control that
// makes replication fast on a good network and cheap on a bad one:
//  - probe:     we do not know where the logs agree; one append at a time, then wait for an answer.
//  - replicate: logs agree up to `match`; send optimistically (advance `next` on send, pipelining)
//               with at most maxInflightMsgs appends un-acked.
//  - snapshot:  `next` fell behind the leader's first index; an InstallSnapshot is in flight.
import {assert} from './assert.js'

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** probe: an append is out and unanswered, so send nothing more until a response or heartbeat. */
  probeSent = false
  /** snapshot: index of the snapshot sent, and when (to retry if the answer was lost). */
  pendingSnapshot = 0
  snapshotSentAtMs = 0
  /** Heard from since the last check-quorum (diss. §6.2). */
  recentActive = false
  learner: boolean
  /** Highest LeaderStamp this peer echoed in the current term (ReadIndex rounds and the lease). */
  ackedSeq = 0
  ackedSentAtMs = -Infinity
  /** Last index of each un-acked append, oldest first (replicate state only). */
  #inflights: number[] = []

  constructor(next: number, learner: boolean, readonly maxInflight: number) {
    this.next = next
    this.learner = learner
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it; otherwise from the last known match.
    const from = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) : this.match
    this.state = 'probe'
    this.next = from + 1
    this.probeSent = false
    this.pendingSnapshot = 0
    this.#inflights = []
  }

  becomeReplicate(): void {
    this.state = 'replicate'
    this.next = this.match + 1
    this.probeSent = false
    this.#inflights = []
  }

  becomeSnapshot(index: number, nowMs: number): void {
    this.state = 'snapshot'
    this.pendingSnapshot = index
    this.snapshotSentAtMs = nowMs
    this.#inflights = []
  }

  /** A success ack up to `index`. Returns whether `match` moved (a stale ack does not). */
  maybeUpdate(index: number): boolean {
    const updated = index > this.match
    if (updated) {
      this.match = index
      this.probeSent = false
    }
    this.next = Math.max(this.next, index + 1)
    return updated
  }

  /** After sending entries up to `last` in replicate state. */
  sentOptimistically(last: number): void {
    assert(this.state === 'replicate', 'optimistic send outside replicate state')
    this.next = last + 1
    this.#inflights.push(last)
  }

  /**
   * A reject of the append whose prevLogIndex was `rejected`; `hint` is the highest index that may
   * match. Returns false for a stale reject (an answer to something we already moved past).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Acked up to `index`: its appends no longer count against the window. */
  freeTo(index: number): void {
    while (this.#inflights.length > 0 && this.#inflights[0] <= index) this.#inflights.shift()
  }

  /** A heartbeat answer while the window is full: the oldest append was probably lost. */
  freeFirst(): void {
    this.#inflights.shift()
  }

  inflightFull(): boolean {
    return this.#inflights.length >= this.maxInflight
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflightFull()
      case 'snapshot':
        return true
    }
  }
}
