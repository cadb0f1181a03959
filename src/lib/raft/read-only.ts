// ReadIndex bookkeeping on the leader (diss. §6.4). A read is linearizable if it observes every
// write committed before it arrived. The leader (1) notes its commitIndex as the read index,
// (2) confirms it is still leader by hearing from a quorum in response to messages sent AFTER the
// read arrived (the first such message has LeaderStamp.seq >= `seq`), then (3) the driver serves
// the read once it has applied up to the index. Before the leader has committed an entry of its own
// term its commitIndex may lag what earlier leaders committed, so reads wait in `#waiting` (§6.4 step 1).
import type {ReadState} from './types.js'

interface PendingRead {
  requestId: string
  index: number
  seq: number
}

export class ReadOnly {
  #waiting: string[] = []
  #pending: PendingRead[] = []

  /** Park a read until the leader's first current-term entry commits. */
  wait(requestId: string): void {
    this.#waiting.push(requestId)
  }

  takeWaiting(): string[] {
    const ids = this.#waiting
    this.#waiting = []
    return ids
  }

  add(requestId: string, index: number, seq: number): void {
    this.#pending.push({requestId, index, seq})
  }

  /** Reads whose confirming round a quorum acknowledged (acked seq >= their seq), in arrival order. */
  release(quorumSeq: number): ReadState[] {
    const out: ReadState[] = []
    while (this.#pending.length > 0 && this.#pending[0].seq <= quorumSeq) {
      const read = this.#pending.shift() as PendingRead
      out.push({requestId: read.requestId, index: read.index})
    }
    return out
  }

  /** Leadership lost: every unanswered read fails (the client retries at the new leader). */
  abortAll(): string[] {
    const ids = [...this.#waiting, ...this.#pending.map((r) => r.requestId)]
    this.#waiting = []
    this.#pending = []
    return ids
  }

  size(): number {
    return this.#waiting.length + this.#pending.length
  }
}
