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
    wheel.add(query, blockingDeadline(opts.waitMs, opts.random))
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
 * A request that can be run again from its start (one on this agent's own socket) parks without
 * its handler: the read answers `undefined` at once, the handler and the pipeline above it return,
 * and all the request keeps while it waits is this record (its watcher, its wheel slot, its
 * minIndex and deadline, and what its subclass needs to run the request again). A wake-up whose
 * index may have moved, or the deadline, runs the request again (`rerun`): routing, the route's ACL
 * check and the handler, whose read then answers (or, on a spurious wake-up, parks this same record
 * again). So a parked query holds no suspended async frames, RequestContext or closures of its
 * handler: tens of thousands of them are a few hundred bytes each above what node:http holds.
 */
export abstract class ParkedRequest implements WheelSlot {
  tick = 0
  /** The deadline passed: the next run answers with the current result, whatever its index. */
  timedOut = false
  #cancel: (() => void) | undefined = undefined
  /** 0 running (its handler is on the stack or awaited), 1 parked, 2 a re-run is queued, 3 done. */
  #phase = 0
  #counted = false
  readonly #wake = (): void => {
    if (this.#phase !== 1) return
    this.#phase = 2
    // After the notifying command's whole notify pass, as an awaited wake-up would.
    queueMicrotask(() => this.#run())
  }

  constructor(readonly minIndex: number, readonly deadline: number) {}

  /** Runs the request again; resolves once that run has answered or parked again. */
  protected abstract rerun(): Promise<void>

  /** The request is over (the client went away, or it was answered): lets go of everything. */
  protected close(): void {
    if (this.#phase === 3) return
    this.#phase = 3
    this.unwatch()
    wheel.remove(this)
    if (this.#counted) metrics.setGauge(['rpc', 'queries_blocking'], --parked)
  }

  get closed(): boolean {
    return this.#phase === 3
  }

  /** Parked, or a re-run queued: the request has not answered and its handler is not running. */
  get waiting(): boolean {
    return this.#phase === 1 || this.#phase === 2
  }

  /** Registers the watcher for the read about to run (before it, so no change is missed). */
  watch(watch: Watch): void {
    this.#cancel?.()
    this.#cancel = watch(this.#wake)
  }

  unwatch(): void {
    this.#cancel?.()
    this.#cancel = undefined
  }

  /** The read did not pass minIndex: wait (first park: into the wheel and the gauge). */
  park(): void {
    if (this.#phase === 3) return
    this.#phase = 1
    if (this.tick === 0) wheel.add(this, this.deadline)
    if (!this.#counted) {
      this.#counted = true
      metrics.setGauge(['rpc', 'queries_blocking'], ++parked)
    }
  }

  check(timedOut: boolean): boolean {
    if (timedOut) this.timedOut = true
    if (this.#phase === 1) {
      this.#phase = 2
      this.#run()
    }
    return true
  }

  #run(): void {
    if (this.#phase !== 2) return
    this.#phase = 0
    this.unwatch()
    // A run that neither parked again nor saw the client leave has answered (or failed): done.
    void this.rerun().then(() => { if (this.#phase === 0) this.close() }, () => this.close())
  }
}

/**
 * A blocking read for a request that can park without its handler (`parked` is its record, made
 * on the first run, passed back on each re-run): the result when it is past minIndex or the wait
 * is over, else undefined (parked; the handler returns without answering).
 */
export function readOrPark<T>(read: () => Indexed<T>, watch: Watch, record: ParkedRequest): Indexed<T> | undefined {
  if (record.closed) return undefined
  if (!record.timedOut) record.watch(watch)
  let result: Indexed<T>
  try {
    result = read()
  } catch (error) {
    record.unwatch()
    throw error
  }
  if (!record.timedOut && result.index <= record.minIndex) {
    record.park()
    return undefined
  }
  record.unwatch()
  return result
}

/** Where a parked read's deadline falls: wait plus Consul's jitter of up to wait/16. */
export function blockingDeadline(waitMs: number, random: () => number = Math.random): number {
  return performance.now() + waitMs + waitMs / 16 * random()
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
