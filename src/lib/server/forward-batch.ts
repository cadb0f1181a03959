// Writes a follower forwards to the leader, batched: the writes that arrive in one turn of the
// event loop travel as one 'propose-batch-on-leader' request (one frame, one timer, one answer
// frame) instead of one request each, and the leader proposes them together (they join the same
// Ready round: one append, one fsync). Each write still gets its own outcome: the leader answers
// a list, one entry per write, with the error code and status of a refusal, so a write refused as
// never applied is told apart from one whose outcome is unknown exactly as with a single request.
import {RpcRequestError} from '../rpc/transport.js'
import {CoordError} from '../errors.js'
import type {Clock} from '../clock.js'
import type {PeerTransport} from './driver-ports.js'

export const PROPOSE_BATCH = 'propose-batch-on-leader'

/** One write's outcome in the leader's answer. */
export type BatchOutcome = {ok: true; body: unknown} | {ok: false; error: string; code?: string; status?: number}

/** Most writes in one request: a bigger burst goes as several. */
const MAX_BATCH = 256

interface Waiting {
  bytes: Uint8Array
  resolve: (body: unknown) => void
  reject: (error: Error) => void
}

export class ForwardBatcher {
  readonly #queues = new Map<string, Waiting[]>()

  constructor(private readonly transport: PeerTransport, private readonly clock: Clock, private readonly timeoutMs: number) {}

  /** Sends one encoded write to the leader at `address` with the others of this turn; resolves with its own answer. */
  forward(address: string, bytes: Uint8Array): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let queue = this.#queues.get(address)
      if (!queue) {
        queue = []
        this.#queues.set(address, queue)
        this.clock.defer(() => this.#flush(address))
      }
      queue.push({bytes, resolve, reject})
    })
  }

  #flush(address: string): void {
    const queue = this.#queues.get(address) ?? []
    this.#queues.delete(address)
    for (let at = 0; at < queue.length; at += MAX_BATCH) this.#send(address, queue.slice(at, at + MAX_BATCH))
  }

  #send(address: string, batch: Waiting[]): void {
    this.transport.request(address, PROPOSE_BATCH, batch.map((w) => w.bytes), this.timeoutMs).then((answer) => {
      const outcomes = answer as BatchOutcome[]
      batch.forEach((w, i) => {
        const outcome = outcomes?.[i]
        if (!outcome) w.reject(new RpcRequestError(`${PROPOSE_BATCH} answered ${outcomes?.length ?? 0} outcomes for ${batch.length} writes`, {remote: true}))
        else if (outcome.ok) w.resolve(outcome.body)
        else w.reject(new RpcRequestError(outcome.error, {remote: true, code: outcome.code, httpStatus: outcome.status}))
      })
    }, (error: Error) => {
      // The request as a whole failed (never sent, connection lost, timed out): every write of it shares that fate.
      for (const w of batch) w.reject(error)
    })
  }
}

/** The leader's side: proposes each write of the batch and answers every outcome, in order. */
export async function proposeBatch(bodies: unknown, propose: (bytes: Uint8Array) => Promise<unknown>): Promise<BatchOutcome[]> {
  if (!Array.isArray(bodies) || !bodies.every((b) => b instanceof Uint8Array)) throw new CoordError('BAD_REQUEST', `${PROPOSE_BATCH} takes a list of encoded commands`, {httpStatus: 400})
  const outcomes: BatchOutcome[] = new Array<BatchOutcome>(bodies.length)
  if (bodies.length === 0) return outcomes
  // One callback pair per write rather than an async wrapper and allSettled's records: this runs for every forwarded write.
  return await new Promise<BatchOutcome[]>((resolve) => {
    let left = bodies.length
    const settle = (at: number, outcome: BatchOutcome): void => {
      outcomes[at] = outcome
      if (--left === 0) resolve(outcomes)
    }
    bodies.forEach((bytes: Uint8Array, at) => {
      let proposed: Promise<unknown>
      try {
        proposed = propose(bytes)
      } catch (error) {
        proposed = Promise.reject(error)
      }
      proposed.then((body) => settle(at, {ok: true, body}), (error: unknown) => settle(at, failed(error)))
    })
  })
}

function failed(error: unknown): BatchOutcome {
  return {ok: false, error: (error as Error)?.message ?? String(error), ...(error instanceof CoordError ? {code: error.code, status: error.httpStatus} : {})}
}
