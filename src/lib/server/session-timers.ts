// Session TTLs are enforced by the leader, not the state machine (which may not read clocks).
// As in Consul, a session with TTL t is destroyed if not renewed within t × 2 (the grace multiplier),
// and every timer restarts from the full window when a server becomes leader.
import type {Session} from '../state/types.js'
import {parseDuration} from '../duration.js'
import type {Logger} from '../logger.js'
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'

export const SESSION_TTL_MULTIPLIER = 2

export class SessionTimers {
  #timers = new Map<string, NodeJS.Timeout>()

  constructor(private readonly destroy: (id: string) => Promise<void>, private readonly logger: Logger) {}

  /** Arms (or re-arms) the timer for a session; sessions without a TTL are ignored. */
  reset(session: Pick<Session, 'id' | 'ttl'>): void {
    this.clear(session.id)
    const ttlMs = session.ttl ? parseDuration(session.ttl) : 0
    if (ttlMs <= 0) return
    const timer = setTimeout(() => {
      this.#timers.delete(session.id)
      this.logger.debug('session TTL expired', {session: session.id})
      const start = performance.now()
      this.destroy(session.id).then(() => metrics.measureSince(['session_ttl', 'invalidate'], start)).catch((error: Error) => this.logger.error('failed to destroy expired session', {session: session.id, error}))
    }, ttlMs * SESSION_TTL_MULTIPLIER)
    timer.unref()
    this.#timers.set(session.id, timer)
  }

  clear(id: string): void {
    const timer = this.#timers.get(id)
    if (timer) clearTimeout(timer)
    this.#timers.delete(id)
  }

  resetAll(sessions: Iterable<Pick<Session, 'id' | 'ttl'>>): void {
    for (const session of sessions) this.reset(session)
  }

  get size(): number {
    return this.#timers.size
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }
}
