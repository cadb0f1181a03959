// A follower's reads ask the leader for a read index, batched: the reads of one mode that arrive in
// one turn of the event loop share one 'read-index' request (one frame, one timer, one answer)
// instead of one request each. Sharing the answer is sound: every read of the batch arrived before
// the request left, so an index that reflects every write committed when the leader received the
// request also reflects every write acknowledged before each of those reads arrived (diss. §6.4).
// The request names the mode: the leader answers a default ('leader') one from its lease, as it
// serves its own default reads, and a ?consistent one after a ReadIndex round (read-barrier.ts).
import {CoordError} from '../errors.js'
import type {ReadMode} from '../consensus.js'
import type {Clock} from '../clock.js'
import type {PeerTransport} from './driver-ports.js'

export const READ_INDEX = 'read-index'

/** The modes a 'read-index' request may name; an older peer sends no body, meaning 'consistent'. */
export type LeaderReadMode = Exclude<ReadMode, 'stale'>

interface Batch {
  answer: Promise<number>
  timeoutMs: number
}

export class ReadIndexBatcher {
  readonly #batches = new Map<string, Batch>()

  constructor(private readonly transport: PeerTransport, private readonly clock: Clock) {}

  /**
   * A read index from the leader at `address`, asked once for all reads of `mode` in this turn.
   * The request waits the longest `timeoutMs` any of them was given (each read's own hold still
   * bounds it: leader-hold.ts).
   */
  ask(address: string, mode: LeaderReadMode, timeoutMs: number): Promise<number> {
    const key = `${mode} ${address}`
    const batch = this.#batches.get(key)
    if (batch) {
      batch.timeoutMs = Math.max(batch.timeoutMs, timeoutMs)
      return batch.answer
    }
    let send!: () => void
    const answer = new Promise<number>((resolve, reject) => {
      send = () => {
        const sent = this.#batches.get(key)
        this.#batches.delete(key)
        this.transport.request(address, READ_INDEX, mode, sent?.timeoutMs ?? timeoutMs).then((index) => {
          if (typeof index === 'number' && Number.isSafeInteger(index) && index >= 0) resolve(index)
          else reject(new CoordError('BAD_ANSWER', `${READ_INDEX} from ${address} answered ${JSON.stringify(index)}, not an index`, {httpStatus: 500}))
        }, reject)
      }
    })
    this.#batches.set(key, {answer, timeoutMs})
    this.clock.defer(send)
    return answer
  }
}

/** The leader's side: the mode a 'read-index' request asks for (no body: an older peer, 'consistent'). */
export function requestedReadMode(body: unknown): LeaderReadMode {
  if (body === undefined || body === null || body === 'consistent') return 'consistent'
  if (body === 'leader') return 'leader'
  throw new CoordError('BAD_REQUEST', `${READ_INDEX} takes the read mode 'leader' or 'consistent', not ${JSON.stringify(body)}`, {httpStatus: 400})
}
