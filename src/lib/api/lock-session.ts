// The session a Lock or Semaphore creates for itself when the caller gives none: Consul's
// defaults (TTL 15s, bound to the node's serfHealth, lock-delay 15s) with the behaviour the
// primitive needs (release for a lock; delete for a semaphore, so dead contender keys vanish),
// renewed in the background until the hold ends.
import {type ApiClient} from './client.js'
import {lockErrors} from './lock-errors.js'
import {renewPeriodic, type RenewEnd} from './session-renewer.js'
import {sessionCreate} from './session.js'

export interface SessionSpec {
  name: string
  ttl: string
  behavior: 'release' | 'delete'
  /** undefined = the server's default (Consul: 15s). */
  lockDelayMs?: number
  /** Renew at least this often (default TTL/2). */
  renewEveryMs?: number
}

export interface OwnedSession {
  id: string
  /** Resolves when renewal ends (stopped, expired, or errors past one TTL). */
  ended: Promise<RenewEnd>
  /** Stops renewing and destroys the session. */
  stop(): Promise<void>
  /** When the request behind the latest proof that the session lives was sent (its creation, then each renewal). */
  lastProof(): number
}

export async function createOwnedSession(client: ApiClient, spec: SessionSpec): Promise<OwnedSession> {
  let id: string
  let lastProof = Date.now()
  try {
    id = await sessionCreate(client, {
      Name: spec.name, TTL: spec.ttl, Behavior: spec.behavior,
      ...(spec.lockDelayMs === undefined ? {} : {LockDelay: `${Math.round(spec.lockDelayMs)}ms`}),
    })
  } catch (error) {
    throw lockErrors.session(error)
  }
  const stopper = new AbortController()
  const ended = renewPeriodic(client, id, spec.ttl, {
    signal: stopper.signal, everyMs: spec.renewEveryMs, onRenewed: (sentAt) => { lastProof = Math.max(lastProof, sentAt) },
  }).catch((): RenewEnd => 'errors')
  return {
    id,
    ended,
    lastProof: () => lastProof,
    stop: async () => {
      stopper.abort()
      await ended.catch(() => undefined)
    },
  }
}
