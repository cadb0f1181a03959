// What a Lock and a Semaphore share: hold something in KV with a session (ours, or the caller's),
// wait for it (riding out trouble with waitOut, replacing an owned session that died meanwhile),
// then watch it with monitorHold until it is lost or released. The primitive supplies only what
// differs: how one acquisition attempt goes, how to tidy up after giving up, and how to check
// that it still holds.
import {type ApiClient} from './client.js'
import {monitorHold, type HoldCheck, type HoldEnd, type LossReason} from './hold-monitor.js'
import {type KVPair} from './kv.js'
import {createOwnedSession, type OwnedSession, type SessionSpec} from './lock-session.js'
import type {RenewEnd} from './session-renewer.js'
import {waitOut} from './wait-out.js'

export interface HoldOptions {
  /** Use this session (the caller renews it) instead of creating one. */
  session?: string
  sessionName?: string
  /** Default 15s. */
  sessionTtl?: string
  /** Lock-delay of a created session; undefined = server default (15s in Consul). */
  lockDelayMs?: number
  /** Blocking wait per read while waiting. Default 15 s (Consul's DefaultLockWaitTime). */
  waitMs?: number
  /** >0: give up acquiring after this long (Consul's LockTryOnce + LockWaitTime). */
  timeoutMs?: number
  /** Pause after an acquire refused by lock-delay. Default 5000 (Consul's DefaultLockRetryTime). */
  retryMs?: number
  /** Retryable failures tolerated while monitoring. Default 0. */
  monitorRetries?: number
  /** Default 2000 ms. */
  monitorRetryMs?: number
  /** See hold-monitor.ts; undefined keeps Consul's behaviour. */
  confirmWithinMs?: number
  /**
   * coord servers only: the created session's renewals are the proofs of holding (hold-monitor.ts
   * proofAt), renewed every `renewEveryMs`. Ignored with a caller's session.
   */
  proofFromRenewals?: boolean
  renewEveryMs?: number
}

export interface Held {
  session: string
  key: string
  /** Aborted when the hold is lost (`reason` says why) or released. */
  lost: AbortSignal
  /** Resolves with why the hold ended. */
  ended: Promise<LossReason>
  /** Once `lost` is aborted: why, in words for the operator (describeLoss). */
  why?: string
  /** The key's LockIndex after our acquire (lock), 0 for a semaphore. */
  lockIndex: number
  /** ModifyIndex written by our acquire: a Raft index, greater for every later acquisition. */
  modifyIndex: number
}

/** What the primitive keeps while it holds: enough to release. */
export interface HoldState {
  owned?: OwnedSession
  session: string
  stopMonitor: AbortController
  held: Held
}

/** A successful acquire: the pair read back after it, and when the acquiring write started. */
export interface Acquired {
  pair: KVPair
  at: number
}

export interface HoldSteps {
  /** The key reported in Held. */
  key: string
  /** One acquisition with this session: null when stopped or timed out. */
  attempt(session: string): Promise<Acquired | null>
  /** Tidies up after giving up (before the owned session ends). */
  abandon?(session: string): Promise<void>
  /** One read of whether `session` still holds. */
  check(session: string): HoldCheck
  lockIndex(acquired: Acquired): number
}

/**
 * Acquires with a session and starts monitoring; null when `signal` aborts or the timeout passes.
 * A session we create gets `kind`'s default name and behaviour unless `opts` say otherwise.
 */
export async function acquireHold(client: ApiClient, opts: HoldOptions, kind: Pick<SessionSpec, 'name' | 'behavior'>, steps: HoldSteps, signal?: AbortSignal): Promise<HoldState | null> {
  const spec: SessionSpec = {name: opts.sessionName ?? kind.name, ttl: opts.sessionTtl ?? '15s', behavior: kind.behavior, lockDelayMs: opts.lockDelayMs, renewEveryMs: opts.renewEveryMs}
  let owned = opts.session ? undefined : await createOwnedSession(client, spec)
  let session = opts.session ?? owned!.id
  try {
    const acquired = await waitOut(signal, async (attempt) => {
      // A session that died while we waited (renewals failed past its TTL) is replaced: we
      // held nothing with it, so a fresh one is safe.
      if (attempt > 0 && owned) {
        await owned.stop()
        owned = await createOwnedSession(client, spec)
        session = owned.id
      }
      return steps.attempt(session)
    })
    if (!acquired) {
      await steps.abandon?.(session)
      await owned?.stop()
      return null
    }
    const stopMonitor = new AbortController()
    const lost = new AbortController()
    const ended = monitorSession(steps.check(session), opts, acquired, stopMonitor.signal, owned).then((end) => {
      held.why = describeLoss(end, session, opts.confirmWithinMs)
      lost.abort(end.reason)
      return end.reason
    })
    const held: Held = {session, key: steps.key, lost: lost.signal, ended, lockIndex: steps.lockIndex(acquired), modifyIndex: acquired.pair.modifyIndex}
    return {owned, session, stopMonitor, held}
  } catch (error) {
    await owned?.stop()
    throw error
  }
}

async function monitorSession(check: HoldCheck, opts: HoldOptions, acquired: Acquired, signal: AbortSignal, owned?: OwnedSession): Promise<LossEnd> {
  // A session that stops renewing (404, or errors past its TTL) is as good as gone.
  const renewalLost = new AbortController()
  let renewal: RenewEnd | undefined
  void owned?.ended.then((end) => {
    if (end === 'stopped') return
    renewal = end
    renewalLost.abort()
  })
  const both = AbortSignal.any([signal, renewalLost.signal])
  const end = await monitorHold(check, {
    retries: opts.monitorRetries, retryMs: opts.monitorRetryMs, confirmWithinMs: opts.confirmWithinMs,
    startIndex: acquired.pair.modifyIndex, confirmedAt: acquired.at, signal: both,
    proofAt: opts.proofFromRenewals && owned ? owned.lastProof : undefined,
  })
  return end.reason === 'stopped' && renewalLost.signal.aborted && !signal.aborted ? {...end, reason: 'error', renewal} : end
}

/** How a hold ended, with the session renewer's verdict when that is what ended it. */
export interface LossEnd extends HoldEnd {
  renewal?: RenewEnd
}

/**
 * Why a hold was lost, in one line for the operator (coord lock prints it when it stops the
 * child): the lock taken from us, the session invalidated or not renewable, or the agent not
 * answering since the last proof of holding.
 */
export function describeLoss(end: LossEnd, session: string, confirmWithinMs?: number): string {
  // A read cut off by the confirmation deadline says nothing more than the deadline itself.
  const cause = end.error instanceof Error && end.error.name !== 'AbortError' && end.error.name !== 'TimeoutError' ? ` (${end.error.message})` : ''
  switch (end.reason) {
    case 'taken':
      return `lock lost: the key no longer names session ${session} (the session was invalidated, or the lock was released or deleted)`
    case 'unconfirmed':
      return `agent unreachable since ${new Date(end.confirmedAt).toISOString()}: the lock could not be re-confirmed within ${Math.round(confirmWithinMs ?? 0)} ms${cause}`
    case 'error':
      if (end.renewal === 'expired') return `session ${session} invalidated: renewing it answered that it no longer exists`
      if (end.renewal === 'errors') return `session ${session} could not be renewed for a whole TTL, so the servers invalidate it`
      return `lock lost: checking it failed${cause}`
    case 'stopped':
      return 'lock released'
  }
}

/**
 * Paces an acquire loop's blocking reads: each `next()` gives the wait for the next read (the
 * per-read wait, cut to what is left of the timeout after the first pass), or null once the
 * timeout has passed.
 */
export function readPacer(opts: HoldOptions): {next(): number | null} {
  const started = Date.now()
  const waitMs = opts.waitMs ?? 15_000
  let attempts = 0
  return {
    next() {
      let wait = waitMs
      if (opts.timeoutMs && opts.timeoutMs > 0 && attempts > 0) {
        const left = opts.timeoutMs - (Date.now() - started)
        if (left <= 0) return null
        wait = Math.min(wait, left)
      }
      attempts += 1
      return wait
    },
  }
}

/** A blocking read that yields null instead of throwing when `signal` aborted it. */
export function unlessAborted<T>(read: Promise<T>, signal?: AbortSignal): Promise<T | null> {
  return read.catch((error: unknown) => { if (signal?.aborted) return null; throw error })
}

/** Ends a hold: stops the monitor, gives the KV hold up, then ends our owned session (even if giving up failed). */
export async function releaseHold(state: HoldState, giveUp: () => Promise<void>): Promise<void> {
  state.stopMonitor.abort()
  try {
    await giveUp()
  } finally {
    await state.owned?.stop()
  }
}
