// Consul's blocking queries (Consul docs: api-docs/features/blocking): a read with ?index=N parks until what it read changes
// to an index above N, or until wait (+ up to wait/16 jitter) passes, then answers with the current
// result either way.
//
// A parked read is one small record (ParkedRead): its watcher, its slot in a shared timer wheel
// and the promise the request awaits; no per-query timer, no promise race, nothing allocated per
// spurious wake-up but the re-read. Tens of thousands wait at once (`coord watch`, lock waiters,
// consul-template), so the bytes each holds are the agent's memory.
//
// The watcher is registered *before* each read, so a change landing between the read and the park
// still wakes us (no lost wake-ups). A wake-up whose re-read shows no index past N parks again.
import type {Indexed} from '../state/types.js'
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'

/** Blocking reads parked on this agent now (Consul's consul.rpc.queries_blocking gauge). */
let parked = 0

export type Watch = (wake: () => void) => () => void

export interface BlockingOptions {
  minIndex: number
  waitMs: number
  /** Resolves when the client has gone away: stop waiting and free the watcher. */
  closed: Promise<void>
  /** Injected for tests; defaults to Math.random. */
  random?: () => number
}

export function blockingRead<T>(read: () => Indexed<T>, watch: Watch, opts: BlockingOptions): Promise<Indexed<T> | undefined> {
  if (opts.minIndex === 0) {
    try {
      return Promise.resolve(read())
    } catch (error) {
      return Promise.reject(error)
    }
  }
  metrics.incrCounter(['rpc', 'query'])
  return new Promise((resolve, reject) => {
    const query = new ParkedRead(read, watch, opts.minIndex, resolve, reject)
    metrics.setGauge(['rpc', 'queries_blocking'], ++parked)
    if (query.check(false)) return
    wheel.add(query, performance.now() + opts.waitMs + opts.waitMs / 16 * (opts.random ?? Math.random)())
    void opts.closed.then(() => query.finish(undefined))
  })
}

/** One parked blocking read: all it holds until it answers. */
class ParkedRead<T> implements WheelSlot {
  #cancel: (() => void) | undefined = undefined
  #done = false
  /** The timer wheel's tick this read is due at (0: not in the wheel). */
  tick = 0
  /** Set by the watcher: a re-check is queued (several wake-ups before it runs cost one re-read). */
  #queued = false
  readonly #wake = (): void => {
    if (this.#queued || this.#done) return
    this.#queued = true
    // After the notifying command's whole notify pass, as an awaited wake-up would.
    queueMicrotask(() => {
      this.#queued = false
      this.check(false)
    })
  }

  constructor(
    readonly read: () => Indexed<T>,
    readonly watch: Watch,
    readonly minIndex: number,
    readonly resolve: (result: Indexed<T> | undefined) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  /** Watches, then reads: answers (true) when the index passed minIndex or the wait is over, else stays parked. */
  check(timedOut: boolean): boolean {
    if (this.#done) return true
    this.#cancel?.()
    this.#cancel = timedOut ? undefined : this.watch(this.#wake)
    let result: Indexed<T>
    try {
      result = this.read()
    } catch (error) {
      this.#settle()
      this.reject(error)
      return true
    }
    if (!timedOut && result.index <= this.minIndex) return false
    this.finish(result)
    return true
  }

  /** Answers with `result` (undefined: the client went away) and frees the watcher and the wheel slot. */
  finish(result: Indexed<T> | undefined): void {
    if (this.#done) return
    this.#settle()
    this.resolve(result)
  }

  #settle(): void {
    this.#done = true
    this.#cancel?.()
    this.#cancel = undefined
    wheel.remove(this)
    metrics.setGauge(['rpc', 'queries_blocking'], --parked)
  }
}

/**
 * Deadlines of parked reads in ticks of TICK_MS, one Node timer armed for the earliest: a parked
 * read costs a Set entry instead of a Timeout of its own. A read answers at its deadline rounded up
 * to the tick (never early).
 */
const TICK_MS = 50

/** What the wheel knows of a parked read. */
interface WheelSlot {
  tick: number
  /** Called with true at the deadline: answer with the current result. */
  check(timedOut: boolean): boolean
}

class TimerWheel {
  readonly #due = new Map<number, Set<WheelSlot>>()
  #armed: {tick: number; timer: NodeJS.Timeout} | undefined

  add(query: WheelSlot, deadline: number): void {
    const tick = Math.ceil(deadline / TICK_MS)
    query.tick = tick
    let set = this.#due.get(tick)
    if (set === undefined) this.#due.set(tick, set = new Set())
    set.add(query)
    if (this.#armed === undefined || tick < this.#armed.tick) this.#arm(tick)
  }

  remove(query: WheelSlot): void {
    const tick = query.tick
    if (tick === 0) return
    query.tick = 0
    const set = this.#due.get(tick)
    if (set === undefined) return
    set.delete(query)
    if (set.size > 0) return
    this.#due.delete(tick)
    // Nothing left to time out: no timer may outlive the reads (the agent's shutdown checks for open handles).
    if (this.#due.size === 0 && this.#armed !== undefined) {
      clearTimeout(this.#armed.timer)
      this.#armed = undefined
    }
  }

  #arm(tick: number): void {
    if (this.#armed !== undefined) clearTimeout(this.#armed.timer)
    this.#armed = {tick, timer: setTimeout(() => this.#fire(), Math.max(0, tick * TICK_MS - performance.now()))}
  }

  #fire(): void {
    this.#armed = undefined
    const now = performance.now() / TICK_MS
    let next = Infinity
    for (const [tick, set] of this.#due) {
      if (tick > now) {
        next = Math.min(next, tick)
        continue
      }
      this.#due.delete(tick)
      for (const query of set) {
        query.tick = 0
        query.check(true)
      }
    }
    if (next !== Infinity) this.#arm(next)
  }
}

const wheel = new TimerWheel()
