// A distributed lock on one KV key, compatible with Consul's api.Lock (and so with `consul lock`
// on the same key): the key carries Flags = LOCK_FLAG_VALUE and is acquired by a session.
//
//   const lock = new Lock(client, {key: 'app/leader/.lock'})
//   const held = await lock.acquire()          // null: stopped or timed out
//   held.lost.addEventListener('abort', ...)   // the lock is gone: stop working now
//   await lock.release()
//
// Acquisition follows Consul's loop: blocking-read the key; wait while another session holds it;
// try to acquire when free; a refused acquire on a free key means a lock-delay window, so retry
// after `retryMs`. After the acquire, a consistent read gives the key's LockIndex and ModifyIndex:
// the fencing token (`Held.lockIndex`, `modifyIndex`), greater for every later holder.
import {type ApiClient} from './client.js'
import {monitorHold, type LossReason} from './hold-monitor.js'
import {kvDelete, kvGet, kvPut, type KVPair} from './kv.js'
import {lockErrors} from './lock-errors.js'
import {createOwnedSession, type OwnedSession} from './lock-session.js'
import {abortableSleep} from './session-renewer.js'
import {waitOut} from './wait-out.js'

/** Consul's api.LockFlagValue: marks a key as a lock. */
export const LOCK_FLAG_VALUE = 0x2ddccbc058a50c18n

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
}

export interface LockOptions extends HoldOptions {
  key: string
  value?: Uint8Array | string
}

export interface Held {
  session: string
  key: string
  /** Aborted when the hold is lost (`reason` says why) or released. */
  lost: AbortSignal
  /** Resolves with why the hold ended. */
  ended: Promise<LossReason>
  /** The key's LockIndex after our acquire (lock), 0 for a semaphore. */
  lockIndex: number
  /** ModifyIndex written by our acquire: a Raft index, greater for every later acquisition. */
  modifyIndex: number
}

export class Lock {
  readonly #client: ApiClient
  readonly #opts: LockOptions
  #held?: {owned?: OwnedSession; session: string; stopMonitor: AbortController; held: Held}

  constructor(client: ApiClient, opts: LockOptions) {
    this.#client = client
    this.#opts = {...opts, key: opts.key.replace(/^\/+/, '')}
  }

  get isHeld(): boolean {
    return this.#held !== undefined
  }

  /** Blocks until held; null when `signal` aborts or the timeout passes first. */
  async acquire(signal?: AbortSignal): Promise<Held | null> {
    if (this.#held) throw lockErrors.held()
    const opts = this.#opts
    const spec = {name: opts.sessionName ?? 'Consul API Lock', ttl: opts.sessionTtl ?? '15s', behavior: 'release' as const, lockDelayMs: opts.lockDelayMs}
    let owned = opts.session ? undefined : await createOwnedSession(this.#client, spec)
    let session = opts.session ?? owned!.id
    try {
      const acquired = await waitOut(signal, async (attempt) => {
        // A session that died while we waited (renewals failed past its TTL) is replaced: we
        // held nothing with it, so a fresh one is safe.
        if (attempt > 0 && owned) {
          await owned.stop()
          owned = await createOwnedSession(this.#client, spec)
          session = owned.id
        }
        return this.#acquireLoop(session, signal)
      })
      if (!acquired) {
        await owned?.stop()
        return null
      }
      const stopMonitor = new AbortController()
      const lost = new AbortController()
      const ended = this.#monitor(session, acquired.pair.modifyIndex, acquired.at, stopMonitor.signal, owned).then((reason) => {
        lost.abort(reason)
        return reason
      })
      const held: Held = {session, key: opts.key, lost: lost.signal, ended, lockIndex: acquired.pair.lockIndex, modifyIndex: acquired.pair.modifyIndex}
      this.#held = {owned, session, stopMonitor, held}
      return held
    } catch (error) {
      await owned?.stop()
      throw error
    }
  }

  async #acquireLoop(session: string, signal?: AbortSignal): Promise<{pair: KVPair; at: number} | null> {
    const opts = this.#opts
    const started = Date.now()
    const waitMs = opts.waitMs ?? 15_000
    const retryMs = opts.retryMs ?? 5000
    let index = 0
    let attempts = 0
    // Bounded by `signal` and the timeout; each pass blocks on the server or sleeps retryMs.
    for (;;) {
      if (signal?.aborted) return null
      let wait = waitMs
      if (opts.timeoutMs && opts.timeoutMs > 0 && attempts > 0) {
        const left = opts.timeoutMs - (Date.now() - started)
        if (left <= 0) return null
        wait = Math.min(wait, left)
      }
      attempts += 1
      const read = await kvGet(this.#client, opts.key, {waitIndex: index, waitMs: wait, signal})
        .catch((error: unknown) => { if (signal?.aborted) return null; throw error })
      if (!read) return null
      const {pair, meta} = read
      if (pair && pair.flags !== LOCK_FLAG_VALUE) throw lockErrors.conflict()
      if (pair?.session && pair.session !== session) {
        index = meta.lastIndex
        continue
      }
      // A plain acquire, not a txn `lock`: Consul checks lock-delay only on the KV endpoint.
      const at = Date.now()
      if (await kvPut(this.#client, opts.key, opts.value ?? '', {acquire: session, flags: LOCK_FLAG_VALUE})) {
        // The fencing token: read back what our acquire wrote (LockIndex is ours while we hold it).
        const mine = await kvGet(this.#client, opts.key, {consistent: true})
        if (mine.pair?.session === session) return {pair: mine.pair, at}
        index = 0
        continue
      }
      // Refused on a free key: a lock-delay window is open (or we raced another contender).
      const again = await kvGet(this.#client, opts.key, {signal}).catch(() => null)
      if (again?.pair?.session) {
        index = again.meta.lastIndex
        continue
      }
      index = 0
      await abortableSleep(retryMs, signal)
    }
  }

  async #monitor(session: string, startIndex: number, confirmedAt: number, signal: AbortSignal, owned?: OwnedSession): Promise<LossReason> {
    const key = this.#opts.key
    const check = async (q: {waitIndex: number; waitMs: number; signal: AbortSignal}) => {
      const {pair, meta} = await kvGet(this.#client, key, {consistent: true, ...q})
      return {held: pair?.session === session, index: meta.lastIndex}
    }
    // A session that stops renewing (404, or errors past its TTL) is as good as gone.
    const renewalLost = new AbortController()
    void owned?.ended.then((end) => { if (end !== 'stopped') renewalLost.abort() })
    const both = AbortSignal.any([signal, renewalLost.signal])
    const {reason} = await monitorHold(check, {
      retries: this.#opts.monitorRetries, retryMs: this.#opts.monitorRetryMs, confirmWithinMs: this.#opts.confirmWithinMs,
      startIndex, confirmedAt, signal: both,
    })
    return reason === 'stopped' && renewalLost.signal.aborted && !signal.aborted ? 'error' : reason
  }

  /** Gives the lock up (Consul's Unlock): stops the monitor and renewal, releases the key, destroys our session. */
  async release(): Promise<void> {
    const state = this.#held
    if (!state) throw lockErrors.notHeld()
    this.#held = undefined
    state.stopMonitor.abort()
    try {
      await kvPut(this.#client, this.#opts.key, this.#opts.value ?? '', {release: state.session, flags: LOCK_FLAG_VALUE})
    } finally {
      await state.owned?.stop()
    }
  }

  /** Deletes the key when nobody holds it (Consul's Destroy); LOCK_IN_USE otherwise. */
  async destroy(): Promise<void> {
    if (this.#held) throw lockErrors.held()
    const {pair} = await kvGet(this.#client, this.#opts.key)
    if (!pair) return
    if (pair.flags !== LOCK_FLAG_VALUE) throw lockErrors.conflict()
    if (pair.session) throw lockErrors.inUse()
    if (!(await kvDelete(this.#client, this.#opts.key, {cas: pair.modifyIndex}))) throw lockErrors.inUse()
  }
}
