// Watches a held lock or semaphore slot and says when it is lost. Shared by Lock and Semaphore.
//
// Consul's monitorLock: a consistent blocking read of the lock's key(s); lost when the read shows
// another (or no) holder, or when it fails (after `retries` retryable failures, `retryMs` apart).
//
// coord adds a confirmation deadline (`confirmWithinMs`): the holder only trusts the lock for that
// long after the start of the last consistent read that showed it held. A consistent read passes
// the leader's read barrier when it starts, so "held at start" is proven; the session can die at
// any moment after, and then others wait out its lock-delay, which starts no earlier than that
// start. So a holder that gives up `confirmWithinMs` after its last proof, and stops its work within
// a grace period after that, is done before lock-delay ends as long as
// confirmWithinMs + grace <= lock-delay (and clocks agree within the remaining margin). That covers
// what Consul's monitor cannot see: its agent paused (SIGSTOP) or partitioned away while a blocking
// read is parked on it. Reads then wait at most confirmWithinMs/3, so a healthy holder re-confirms
// about three times per window.
//
// With `proofAt` the proofs are the session's renewals instead (a lock against coord servers,
// ARCHITECTURE.md "Lock safety across failover"): the servers keep the key blocked until the
// last renewal + lock-delay + an allowance for an election, so the deadline is `proofAt()` +
// confirmWithinMs, reads only look for the lock being taken, and a read that fails or is held
// through an election is simply tried again until that deadline.
import {ApiConnectionError, ApiResponseError} from './errors.js'
import {abortableSleep} from './abortable-sleep.js'

export interface HoldCheck {
  /** One consistent read (blocking when waitIndex > 0): does our session still hold it? */
  (q: {waitIndex: number; waitMs: number; signal: AbortSignal}): Promise<{held: boolean; index: number}>
}

export interface MonitorOptions {
  /** Retryable failures (5xx, connection) tolerated in a row. Default 0 (Consul's default). */
  retries?: number
  /** Pause between retries. Default 2000 ms (Consul's DefaultMonitorRetryTime). */
  retryMs?: number
  /** See the file comment; undefined = trust the lock until a read says otherwise (Consul). */
  confirmWithinMs?: number
  /** Blocking wait per read when no deadline applies. Default 5 minutes. */
  waitMs?: number
  /** Start of the request that acquired (the first proof of holding). Default: now. */
  confirmedAt?: number
  /** When set: the send time of the latest proof (a successful renewal); reads then prove nothing. */
  proofAt?: () => number
  /** The index the acquisition saw, so the first read blocks. */
  startIndex?: number
  /** Abort to stop monitoring (release). */
  signal: AbortSignal
  now?: () => number
}

export type LossReason = 'taken' | 'unconfirmed' | 'error' | 'stopped'

/** Why a hold ended: the reason, the error behind it, and when it was last proven held (ms, `now`'s clock). */
export interface HoldEnd {
  reason: LossReason
  error?: unknown
  confirmedAt: number
}

/** Resolves when the hold is lost (or monitoring is stopped) with the reason. */
export async function monitorHold(check: HoldCheck, options: MonitorOptions): Promise<HoldEnd> {
  const now = options.now ?? Date.now
  const retries = options.retries ?? 0
  const retryMs = options.retryMs ?? 2000
  const deadline = options.confirmWithinMs
  const waitMs = deadline === undefined ? (options.waitMs ?? 300_000) : Math.max(50, Math.floor(deadline / 3))
  const proofAt = deadline === undefined ? undefined : options.proofAt
  let readProof = options.confirmedAt ?? now()
  const confirmed = (): number => proofAt?.() ?? readProof
  let index = options.startIndex ?? 0
  let failures = 0
  // Bounded: with a deadline every pass ends by confirmed() + deadline, which moves only with a
  // new proof; without one, failures end the loop after `retries`.
  while (!options.signal.aborted) {
    const started = now()
    // The read may not outlive the confirmation window, nor a generous bound over the server's
    // wait + jitter (wait/16) when no window applies.
    const limitMs = deadline === undefined ? waitMs + waitMs / 16 + 5000 : confirmed() + deadline - started
    if (limitMs <= 0) return {reason: 'unconfirmed', confirmedAt: confirmed()}
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(limitMs)))
    const signal = AbortSignal.any([options.signal, timeout])
    try {
      const result = await check({waitIndex: index, waitMs, signal})
      if (!result.held) return {reason: 'taken', confirmedAt: confirmed()}
      readProof = started
      failures = 0
      index = result.index < index ? 0 : result.index
    } catch (error) {
      if (options.signal.aborted) break
      if (timeout.aborted) {
        // A renewal may have moved the deadline while this read waited: look again.
        if (proofAt && confirmed() + deadline! > now()) continue
        if (deadline !== undefined) return {reason: 'unconfirmed', error, confirmedAt: confirmed()}
      } else if (!isRetryable(error)) {
        return {reason: 'error', error, confirmedAt: confirmed()}
      }
      if (!proofAt) failures += 1
      if (failures > retries) return {reason: 'error', error, confirmedAt: confirmed()}
      const pause = deadline === undefined ? retryMs : Math.min(retryMs, confirmed() + deadline - now())
      if (pause <= 0) return {reason: 'unconfirmed', error, confirmedAt: confirmed()}
      await abortableSleep(pause, options.signal)
      index = 0
    }
  }
  return {reason: 'stopped', confirmedAt: confirmed()}
}

/** Consul's api.IsRetryableError: server errors (5xx) and failures to reach the agent. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ApiResponseError) return error.status >= 500
  return error instanceof ApiConnectionError
}
