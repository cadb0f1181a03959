// Bounded polling for tests: wait for a condition that a real process or socket will make true,
// failing with what was awaited once the time is up (never an unbounded loop).
import assert from 'node:assert/strict'
import {setTimeout as delay} from 'node:timers/promises'

/** Polls `fn` (sync or async) every 50 ms until it returns a truthy value, and resolves with that value. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(50)
  }
}

/** Polls `cond` every 10 ms until it holds; resolves with the elapsed ms (for reporting figures). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now()
  while (!cond()) {
    if (performance.now() - start > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await delay(10)
  }
  return Math.round(performance.now() - start)
}

/** Polls `check` every `everyMs` until it resolves true; a check that throws (a server not answering yet) counts as false. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch {
      // not answering yet
    }
    await delay(everyMs)
  }
  assert.fail(`${what}: not within ${timeoutMs} ms`)
}
