// How much request work one turn of the event loop takes. Requests that arrive together are handled
// in the same turn: node:http runs every socket that became readable in one poll phase, and each
// request's handler runs on in the microtasks after it. Sixteen 64-op txns decoded and proposed in
// one turn held the loop 15-20 ms on a warm server and 50-90 ms right after start (code not yet
// optimised), and timers (Raft heartbeats, gossip probes, session TTLs) waited that long.
//
// A request with a body asks for a turn once the body is in (`admit`): while the current turn has
// run less than `budgetMs` it goes on at once; after that it waits, first in first out, and the
// waiting ones go on one at a time, each in a turn's check phase (setImmediate: the first in the
// turn that queued it, after its poll phase), so timers and I/O run between them.
// Requests without a body (reads) are not held: their answers are sliced where they are large.

/** The default bound: the same ~10 ms slice as the Raft driver's apply and restore steps. */
export const TURN_BUDGET_MS = 10

export class TurnBudget {
  /** When the current turn's first admitted request went on; -1 between turns. */
  #turnStart = -1
  readonly #waiting: Array<() => void> = []
  #draining = false

  constructor(private readonly budgetMs = TURN_BUDGET_MS, private readonly now: () => number = () => performance.now()) {}

  /** How many requests wait for a turn (for a gauge or a test). */
  get waiting(): number {
    return this.#waiting.length
  }

  /**
   * Undefined when the request may go on in this turn; otherwise a promise that resolves in a later
   * turn, in arrival order. (Undefined rather than a resolved promise: the caller goes on without a
   * microtask hop, as before.)
   */
  admit(): Promise<void> | undefined {
    const now = this.now()
    if (this.#turnStart < 0) {
      this.#turnStart = now
      // Immediates queued from the poll phase run in this turn's check phase: the turn ends there.
      setImmediate(this.#endTurn)
    }
    if (this.#waiting.length === 0 && now - this.#turnStart < this.budgetMs) return undefined
    return new Promise<void>((resolve) => {
      this.#waiting.push(resolve)
      if (!this.#draining) {
        this.#draining = true
        setImmediate(this.#next)
      }
    })
  }

  readonly #endTurn = (): void => {
    this.#turnStart = -1
  }

  /**
   * Lets the longest-waiting request go on (its handler runs in the microtasks right after this
   * callback); the next one goes in the next turn's check phase, an immediate queued from an
   * immediate. While any wait, newcomers queue behind them whatever the turn's budget.
   */
  readonly #next = (): void => {
    const go = this.#waiting.shift()
    if (this.#waiting.length === 0) this.#draining = false
    else setImmediate(this.#next)
    go?.()
  }
}
