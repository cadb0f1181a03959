// Holding a request through a leader election instead of failing it, as Consul's servers do for
// `performance { rpc_hold_timeout }` (agent/consul/rpc.go: forwardRequestToLeader, canRetry): a
// request that needs the leader and finds none, or whose call to the leader failed in a way that
// is safe to repeat, waits for a leader and tries again, until the hold time has passed; then it
// answers Consul's "No cluster leader".
//
// The wait is on an event: the Raft driver calls `note` whenever the leader it knows may have
// changed (after every tick and message), and that wakes the held requests. A request whose
// leader failed while the same leader is still the one known (its followers have not timed it out
// yet, or the connection dropped for a moment) is tried again after a short backoff as well.
//
// A client agent's request waits less (client-agent-hold.ts, through opts.waitCapMs): a server with no leader for a second
// is likely cut off from the others, or the election is slow; its No cluster leader sends the
// client agent on to another server (server-rpc.ts), and the client agent's own hold bounds the
// whole. Consul's server holds a client's request the full rpc_hold_timeout, so a client whose
// server is cut off waits that long; with coord's short lock trust windows (ARCHITECTURE.md, "Lock
// safety across failover") a holder would lose its lock meanwhile.
//
// One line is logged per failover: requests that had to wait are counted from the first held one
// until the last of them finishes, so a burst of requests through one election is one line.
import {NoLeaderError} from '../consensus.js'
import {HoldEpisodes, type HoldEpisode} from '../forward/hold-episodes.js'
import {systemClock, type Clock} from '../clock.js'

/** The leader a server knows: its ID and the term it leads in (a new term is a new leader). */
export interface LeaderView {
  id: string
  term: number
}


/** Attempts per request at most (each after a wait: bounded by the hold time as well). */
const MAX_ATTEMPTS = 64
const FIRST_BACKOFF_MS = 50
const MAX_BACKOFF_MS = 1_000

export interface LeaderHoldOptions {
  holdMs: number
  onEpisode: (episode: HoldEpisode) => void
  /** Time and timers (the system clock unless a simulation brings its own). */
  clock?: Clock
  /**
   * The wait for a leader allowed to the request being run, when shorter than holdMs: a client
   * agent's (client-agent-hold.ts, which tracks whose request is running). Undefined: holdMs.
   */
  waitCapMs?: () => number | undefined
}

/** A request's call to the leader failed because another leader took over while it was in flight. */
export class LeaderChangedError extends Error {
  constructor() {
    super('the leader changed while the request was in flight')
  }
}

function same(a: LeaderView | undefined, b: LeaderView | undefined): boolean {
  return a !== undefined && b !== undefined && a.id === b.id && a.term === b.term
}

export class LeaderHold {
  #view: LeaderView | undefined
  #closed = false
  readonly #listeners = new Set<() => void>()
  readonly #clock: Clock
  readonly #now: () => number
  readonly #episodes: HoldEpisodes

  /** Does the request being run now wait less for a leader (opts.waitCapMs: a client agent's)? */
  waitCapped(): boolean {
    return this.opts.waitCapMs?.() !== undefined
  }

  constructor(private readonly opts: LeaderHoldOptions) {
    this.#clock = opts.clock ?? systemClock
    this.#now = () => this.#clock.now()
    this.#episodes = new HoldEpisodes(opts.onEpisode, this.#now)
  }

  get holdMs(): number {
    return this.opts.holdMs
  }

  /** The driver's view of the leader now; wakes held requests when a leader appears or changes. */
  note(view: LeaderView | undefined): void {
    if (same(view, this.#view) || (view === undefined && this.#view === undefined)) return
    this.#view = view
    if (view) for (const listener of [...this.#listeners]) listener()
  }

  /** Ends every wait (the server is stopping): held requests answer No cluster leader at once. */
  close(): void {
    this.#closed = true
    for (const listener of [...this.#listeners]) listener()
  }

  /**
   * Resolves (true) once the known leader is no longer `from`, false when the server stops first.
   * `cancel` drops the listener (call it when the race it served is over).
   */
  changedFrom(from: LeaderView): {changed: Promise<boolean>; cancel: () => void} {
    let cancel = () => {}
    const changed = new Promise<boolean>((resolve) => {
      const listener = () => {
        if (!this.#closed && same(this.#view, from)) return
        this.#listeners.delete(listener)
        resolve(!this.#closed)
      }
      this.#listeners.add(listener)
      cancel = () => { this.#listeners.delete(listener) }
    })
    return {changed, cancel}
  }

  /** `call` to `leader`, abandoned (LeaderChangedError) if another leader takes over first. */
  async whileLeading<T>(leader: LeaderView, call: Promise<T>): Promise<T> {
    const watch = this.changedFrom(leader)
    try {
      return await Promise.race([call, watch.changed.then((changed): never => { throw changed ? new LeaderChangedError() : new Error('agent is shutting down') })])
    } finally {
      watch.cancel()
      call.catch(() => {}) // an abandoned call's late failure is nobody's to report
    }
  }

  /**
   * Runs `attempt` with the leader known now. When there is none, or the attempt fails with an
   * error `retryable` accepts, waits for a (new) leader and runs it again, until `holdMs` from the
   * start; then throws NoLeaderError. Any other error is thrown as it is. `attempt` gets the time
   * left, so a call it makes can be bounded by the hold too. With a wait cap (opts.waitCapMs) the
   * waits for a leader end that long after the start (an attempt under way keeps its time).
   */
  async run<T>(attempt: (leader: LeaderView, remainingMs: number) => Promise<T>, retryable: (error: unknown) => boolean): Promise<T> {
    const start = this.#now()
    const deadline = start + this.opts.holdMs
    // A leader is known (every request while one is): try it at once. Nothing is held, waited for
    // or counted unless the attempt fails, so a request costs one call here, not the loop below.
    const known = this.#closed ? undefined : this.#view
    if (!known) return await this.#held(attempt, retryable, start, deadline, undefined)
    try {
      return await attempt(known, Math.max(1, deadline - this.#now()))
    } catch (error) {
      if (this.#closed || !retryable(error)) throw error
      return await this.#held(attempt, retryable, start, deadline, known)
    }
  }

  /** run() once it has to wait: for a leader (none known), or for another one after `failed` failed. */
  async #held<T>(attempt: (leader: LeaderView, remainingMs: number) => Promise<T>, retryable: (error: unknown) => boolean, start: number, deadline: number, failed: LeaderView | undefined): Promise<T> {
    const waitDeadline = Math.min(deadline, start + (this.opts.waitCapMs?.() ?? Infinity))
    let leave: ((ok: boolean) => void) | undefined
    let ok = false
    const hold = () => {
      leave ??= this.#episodes.enter()
    }
    let avoid = failed
    if (failed) hold()
    try {
      for (let round = failed ? 1 : 0; round < MAX_ATTEMPTS; round++) {
        const leader = await this.#leader(waitDeadline, avoid, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** round), hold)
        if (!leader) break
        try {
          const result = await attempt(leader, Math.max(1, deadline - this.#now()))
          ok = true
          return result
        } catch (error) {
          if (this.#closed || !retryable(error)) throw error
          hold()
          avoid = leader
        }
      }
      throw new NoLeaderError()
    } finally {
      leave?.(ok)
    }
  }

  /**
   * The leader to try: the one known now unless it is `avoid` (which just failed). Otherwise waits
   * for `note` to bring another, or, while `avoid` is still the one known, for `backoffMs` before
   * trying it again. Undefined at the deadline or when closed.
   */
  async #leader(deadline: number, avoid: LeaderView | undefined, backoffMs: number, hold: () => void): Promise<LeaderView | undefined> {
    for (let wait = 0; wait < MAX_ATTEMPTS; wait++) {
      if (this.#closed) return undefined
      const view = this.#view
      if (view && !same(view, avoid)) return view
      const remaining = deadline - this.#now()
      if (remaining <= 0) return undefined
      hold()
      const stale = view !== undefined
      const woken = await this.#wake(stale ? Math.min(remaining, backoffMs) : remaining)
      // The backoff passed and the failed leader is still the one known: try it once more.
      if (!woken && stale && same(this.#view, avoid)) return this.#view
    }
    return undefined
  }

  /** True when `note` (or close) woke us, false when `ms` passed first. */
  #wake(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const listener = () => {
        timer.cancel()
        this.#listeners.delete(listener)
        resolve(true)
      }
      const timer = this.#clock.after(ms, () => {
        this.#listeners.delete(listener)
        resolve(false)
      })
      this.#listeners.add(listener)
    })
  }
}
