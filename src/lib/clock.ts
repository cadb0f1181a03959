// Time for the drivers, injected (ARCHITECTURE.md, house rule 2): the Raft driver, its read barrier
// and the leader hold read `now` and set timers only through a Clock, so the driver simulation
// (test/sim/driver-*.ts) runs the real driver on simulated time and replays a run from its seed.

/** A pending timer; `cancel` is safe to call after it fired. */
export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Monotonic milliseconds (performance.now() on the system clock). */
  now(): number
  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: () => void): Timer
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer
  /** Runs `fn` soon, after the work already queued (setImmediate on the system clock). */
  defer(fn: () => void): void
}

export const systemClock: Clock = {
  now: () => performance.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms)
    return {cancel: () => clearTimeout(timer)}
  },
  every(ms, fn) {
    const timer = setInterval(fn, ms)
    return {cancel: () => clearInterval(timer)}
  },
  defer: (fn) => { setImmediate(fn) },
}

/**
 * Resolves true once `ready()` holds, re-checked whenever `subscribe`'s callback fires; false
 * after `timeoutMs` (or at once if the time is up). The wait for an event, bounded in time.
 */
export function waitFor(clock: Clock, ready: () => boolean, subscribe: (wake: () => void) => () => void, timeoutMs: number): Promise<boolean> {
  if (ready()) return Promise.resolve(true)
  if (timeoutMs <= 0) return Promise.resolve(false)
  return new Promise((resolve) => {
    let unsubscribe = () => {}
    const timer = clock.after(timeoutMs, () => {
      unsubscribe()
      resolve(ready())
    })
    unsubscribe = subscribe(() => {
      if (!ready()) return
      timer.cancel()
      unsubscribe()
      resolve(true)
    })
  })
}
