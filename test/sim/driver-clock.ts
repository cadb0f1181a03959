// Simulated time for the driver simulation: one queue of timers for the whole cluster, ordered by
// (due time, order of scheduling), and a Clock per server incarnation on top of it. A node's clock
// drifts (local = offset + rate × simulated time), stops firing while the node is paused (what came
// due fires on resume, as a SIGCONT'd process runs its overdue timers), and dies with a kill.
// A callback runs in the async context it was scheduled from, as Node's timers and setImmediate
// run theirs, so AsyncLocalStorage (client-agent-hold.ts) reaches across a deferred step here too.
import {AsyncResource} from 'node:async_hooks'
import type {Clock, Timer} from '../../src/lib/clock.js'

interface Scheduled {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

export class SimScheduler {
  nowMs = 0
  #heap: Scheduled[] = []
  #seq = 0

  at(atMs: number, fn: () => void): Scheduled {
    const item: Scheduled = {at: Math.max(atMs, this.nowMs), seq: this.#seq++, fn, cancelled: false}
    const heap = this.#heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i], heap[parent])) break
      ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
      i = parent
    }
    return item
  }

  /** When the next live timer is due (Infinity when none is). */
  nextMs(): number {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop()
    return this.#heap[0]?.at ?? Infinity
  }

  /** Runs every timer due at or before nowMs, in order (timers they set for now run too); returns how many ran. */
  runDue(limit: number): number {
    let ran = 0
    while (ran < limit && this.nextMs() <= this.nowMs) {
      const item = this.#pop()
      ran++
      item.fn()
    }
    return ran
  }

  #pop(): Scheduled {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop() as Scheduled
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && before(heap[l], heap[m])) m = l
        if (r < heap.length && before(heap[r], heap[m])) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m], heap[i]]
        i = m
      }
    }
    return top
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** One server incarnation's clock (the driver, its read barrier, leader hold and disk use it). */
export class NodeClock implements Clock {
  #alive = true
  #paused = false
  #backlog: Array<() => void> = []

  constructor(readonly scheduler: SimScheduler, readonly rate: number, readonly offsetMs: number) {}

  now(): number {
    return this.offsetMs + this.rate * this.scheduler.nowMs
  }

  after(ms: number, fn: () => void): Timer {
    fn = AsyncResource.bind(fn)
    const item = this.scheduler.at(this.scheduler.nowMs + Math.max(0, ms) / this.rate, () => this.#fire(fn))
    return {cancel: () => { item.cancelled = true }}
  }

  every(ms: number, fn: () => void): Timer {
    let cancelled = false
    let current: Timer | undefined
    const arm = () => {
      current = this.after(ms, () => {
        if (cancelled) return
        arm()
        fn()
      })
    }
    arm()
    return {cancel: () => { cancelled = true; current?.cancel() }}
  }

  defer(fn: () => void): void {
    fn = AsyncResource.bind(fn)
    this.scheduler.at(this.scheduler.nowMs, () => this.#fire(fn))
  }

  get paused(): boolean {
    return this.#paused
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    const backlog = this.#backlog
    this.#backlog = []
    for (const fn of backlog) this.defer(fn)
  }

  /** The process is gone: nothing it scheduled runs any more. */
  kill(): void {
    this.#alive = false
    this.#backlog = []
  }

  #fire(fn: () => void): void {
    if (!this.#alive) return
    if (this.#paused) this.#backlog.push(fn)
    else fn()
  }
}
