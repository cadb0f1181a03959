// Reads batched per event-loop turn: the reads of one mode that arrive in one turn share one trip
// through the read barrier (read-barrier.ts): one hold, one read index (one 'read-index' request
// from a follower, one ReadIndex round on a leader), one wait for it to be applied, instead of one
// of each per read. Sharing the outcome is sound: every read of the batch arrived before the batch
// asked, so an index that reflects every write committed when the leader received the request also
// reflects every write acknowledged before each of those reads arrived (diss. §6.4).
// A follower's request names the mode: the leader answers a default ('leader') one from its lease,
// as it serves its own default reads, and a ?consistent one after a ReadIndex round.
import {CoordError} from '../errors.js'
import type {ReadMode} from '../consensus.js'
import type {Clock} from '../clock.js'

export const READ_INDEX = 'read-index'

/** The modes a 'read-index' request may name; an older peer sends no body, meaning 'consistent'. */
export type LeaderReadMode = Exclude<ReadMode, 'stale'>

/** Runs `run` once per key per event-loop turn, at the turn's end, for every caller that joined in that turn. */
export class PerTurn<K, T> {
  readonly #pending = new Map<K, Promise<T>>()

  constructor(private readonly clock: Clock) {}

  /** The outcome of `run` started at the end of this turn for `key` (the first joiner's `run`; later ones share it). */
  join(key: K, run: () => Promise<T>): Promise<T> {
    let shared = this.#pending.get(key)
    if (!shared) {
      shared = new Promise<T>((resolve, reject) => this.clock.defer(() => {
        this.#pending.delete(key)
        run().then(resolve, reject)
      }))
      this.#pending.set(key, shared)
    }
    return shared
  }
}

/** The leader's side: the mode a 'read-index' request asks for (no body: an older peer, 'consistent'). */
export function requestedReadMode(body: unknown): LeaderReadMode {
  if (body === undefined || body === null || body === 'consistent') return 'consistent'
  if (body === 'leader') return 'leader'
  throw new CoordError('BAD_REQUEST', `${READ_INDEX} takes the read mode 'leader' or 'consistent', not ${JSON.stringify(body)}`, {httpStatus: 400})
}

/** A follower's side: the read index a leader answered, or why it is none. */
export function answeredIndex(answer: unknown, from: string): number {
  if (typeof answer === 'number' && Number.isSafeInteger(answer) && answer >= 0) return answer
  throw new CoordError('BAD_ANSWER', `${READ_INDEX} from ${from} answered ${JSON.stringify(answer)}, not an index`, {httpStatus: 500})
}
