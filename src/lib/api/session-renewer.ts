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
  /**
   * Renew every `everyMs` without waiting for the previous renewal to answer (at most
   * MAX_IN_FLIGHT at once, each given up after TTL): during an election the servers hold them all,
   * and the freshest one that succeeds is the proof `onRenewed` reports.
   */
  everyMs?: number
  /** Called after each successful renewal with the time its request was sent. */
  onRenewed?: (sentAt: number) => void
}

const MAX_IN_FLIGHT = 8

/** Renews `id` until stopped or lost; resolves with why it ended. */
export async function renewPeriodic(client: ApiClient, id: string, ttl: string, options: RenewOptions = {}): Promise<RenewEnd> {
  if (options.everyMs !== undefined) return renewOverlapping(client, id, ttl, options.everyMs, options)
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

/** renewPeriodic with `everyMs`: renewals sent on a fixed pace, overlapping while the servers hold them. */
async function renewOverlapping(client: ApiClient, id: string, ttl: string, everyMs: number, options: RenewOptions): Promise<RenewEnd> {
  const sleep = options.sleep ?? abortableSleep
  const now = options.now ?? Date.now
  const ttlMs = parseTtl(ttl)
  let lastRenewed = now()
  let inFlight = 0
  let end: RenewEnd | undefined
  const ended = new AbortController()
  const stop = options.signal ? AbortSignal.any([options.signal, ended.signal]) : ended.signal
  // Bounded: one pass per everyMs (at least 10 ms), ending on stop, a 404, or a TTL without success.
  while (end === undefined) {
    if (options.signal?.aborted) {
      await sessionDestroy(client, id).catch(() => undefined)
      return 'stopped'
    }
    if (now() - lastRenewed > ttlMs) return 'errors'
    if (inFlight < MAX_IN_FLIGHT) {
      const sentAt = now()
      inFlight++
      sessionRenew(client, id, {signal: AbortSignal.any([stop, AbortSignal.timeout(ttlMs)])}).then((entry) => {
        if (!entry) {
          end ??= 'expired'
          ended.abort()
          return
        }
        lastRenewed = Math.max(lastRenewed, now())
        options.onRenewed?.(sentAt)
      }, (error: unknown) => {
        if (!stop.aborted) options.onError?.(error)
      }).finally(() => { inFlight-- })
    }
    await sleep(Math.max(10, everyMs), stop)
  }
  return end
}
