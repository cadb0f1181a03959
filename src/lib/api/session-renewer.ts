// Keeps a TTL session alive, as Consul's api.Session.RenewPeriodic (and consuldotnet's
// RenewPeriodic) do: renew every TTL/2; the server may answer a different TTL, which then sets
// the pace; a 404 means the session is gone (expired or destroyed) and ends the renewer; other
// errors retry every second, but only until one TTL has passed since the last good renewal: past
// that, the server has (or soon will have) expired the session, so retrying would only hide it.
// Stopping (abort `signal`) destroys the session, as Consul's renewer does on doneCh.
import {type ApiClient} from './client.js'
import {parseDuration} from '../duration.js'
import {sessionDestroy, sessionRenew} from './session.js'
import {abortableSleep} from './abortable-sleep.js'

export type RenewEnd = 'stopped' | 'expired' | 'errors'

export interface RenewOptions {
  /** Abort to stop renewing; the session is then destroyed (best effort). */
  signal?: AbortSignal
  /** Pause between retries after an error. Default 1000 ms. */
  retryMs?: number
  /** Sleep used between renewals; tests inject a fake. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  now?: () => number
  /** Called with each error (logging). */
  onError?: (error: unknown) => void
  /** Renew at least this often (default: every TTL/2); errors are then retried at this pace too. */
  everyMs?: number
  /** Called after each successful renewal with the time its request was sent. */
  onRenewed?: (sentAt: number) => void
}

/** Renews `id` until stopped or lost; resolves with why it ended. */
export async function renewPeriodic(client: ApiClient, id: string, ttl: string, options: RenewOptions = {}): Promise<RenewEnd> {
  const sleep = options.sleep ?? abortableSleep
  const now = options.now ?? Date.now
  const retryMs = Math.min(options.retryMs ?? 1000, options.everyMs ?? Infinity)
  let ttlMs = parseTtl(ttl)
  const pace = (): number => Math.min(ttlMs / 2, options.everyMs ?? Infinity)
  let waitMs = pace()
  let lastRenewed = now()
  // Bounded: every pass either sleeps at least min(retryMs, ttl/2) or ends the loop, and error
  // passes end once one TTL has gone by without a good renewal.
  for (;;) {
    await sleep(waitMs, options.signal)
    if (options.signal?.aborted) {
      await sessionDestroy(client, id).catch(() => undefined)
      return 'stopped'
    }
    try {
      const sentAt = now()
      const entry = await sessionRenew(client, id, {signal: options.signal})
      if (!entry) return 'expired'
      const next = entry.TTL ? parseTtl(entry.TTL) : ttlMs
      if (next > 0) ttlMs = next
      waitMs = pace()
      lastRenewed = now()
      options.onRenewed?.(sentAt)
    } catch (error) {
      if (options.signal?.aborted) continue
      options.onError?.(error)
      if (now() - lastRenewed > ttlMs) return 'errors'
      waitMs = Math.min(retryMs, ttlMs / 2)
    }
  }
}

function parseTtl(ttl: string): number {
  const ms = parseDuration(ttl)
  if (!(ms > 0)) throw new Error(`session TTL must be positive, got "${ttl}"`)
  return ms
}
