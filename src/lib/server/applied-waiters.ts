// Reads that must wait until this server has applied a given log index (a ReadIndex answer, or a
// follower catching up to the leader's read index). Kept sorted by index so each apply releases
// exactly the waiters it satisfies. The read barrier (read-barrier.ts) releases them on the
// driver's `applied` event.
import {systemClock, type Clock, type Timer} from '../clock.js'

interface Waiter {
  index: number
  resolve: () => void
  reject: (error: Error) => void
  timer: Timer
}

export class AppliedWaitTimeout extends Error {
  readonly code = 'APPLY_WAIT_TIMEOUT'
}

export class AppliedWaiters {
  #waiters: Waiter[] = []

  constructor(private readonly clock: Clock = systemClock) {}

  /** Resolves once applied >= index (at once if already), or rejects after timeoutMs. */
  wait(index: number, applied: number, timeoutMs: number): Promise<void> {
    if (applied >= index) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        index, resolve, reject,
        timer: this.clock.after(timeoutMs, () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          reject(new AppliedWaitTimeout(`this server did not catch up to index ${index} within ${timeoutMs} ms`))
        }),
      }
      const at = this.#waiters.findIndex((w) => w.index > index)
      if (at === -1) this.#waiters.push(waiter)
      else this.#waiters.splice(at, 0, waiter)
    })
  }

  release(applied: number): void {
    let count = 0
    while (count < this.#waiters.length && this.#waiters[count].index <= applied) count++
    if (count === 0) return
    for (const waiter of this.#waiters.splice(0, count)) {
      waiter.timer.cancel()
      waiter.resolve()
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) {
      waiter.timer.cancel()
      waiter.reject(error)
    }
  }
}
