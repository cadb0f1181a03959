// A counting semaphore under a KV prefix, compatible with Consul's api.Semaphore (and `consul lock
// -n=N`): each contender holds `<prefix>/<session>` with its own session (behaviour delete, so a
// dead contender's key vanishes), and `<prefix>/.lock` holds {"Limit":N,"Holders":{"<session>":true}},
// changed only by check-and-set. A holder whose contender key is gone is pruned by whoever next
// reads the document. Both kinds of key carry Flags = SEMAPHORE_FLAG_VALUE.
import {type ApiClient} from './client.js'
import {monitorHold, type LossReason} from './hold-monitor.js'
import {kvDelete, kvGet, kvList, kvPut, type KVPair} from './kv.js'
import {lockErrors} from './lock-errors.js'
import {createOwnedSession, type OwnedSession} from './lock-session.js'
import {type Held, type HoldOptions} from './lock.js'
import {waitOut} from './wait-out.js'

/** Consul's api.SemaphoreFlagValue. */
export const SEMAPHORE_FLAG_VALUE = 0xe0f69a2baa414de0n
/** Consul's api.DefaultSemaphoreKey: the holder document under the prefix. */
export const SEMAPHORE_KEY = '.lock'

export interface SemaphoreOptions extends HoldOptions {
  prefix: string
  limit: number
  /** Value of our contender key. */
  value?: Uint8Array | string
}

interface HolderDoc {
  Limit: number
  Holders: Record<string, boolean>
}

/** Release re-reads and retries its CAS at most this many times (others race the same document). */
const RELEASE_ATTEMPTS = 32

export class Semaphore {
  readonly #client: ApiClient
  readonly #opts: SemaphoreOptions
  readonly #lockKey: string
  #held?: {owned?: OwnedSession; session: string; stopMonitor: AbortController; held: Held}

  constructor(client: ApiClient, opts: SemaphoreOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit <= 0) throw new RangeError('semaphore limit must be a positive integer')
    this.#client = client
    const prefix = opts.prefix.replace(/^\/+/, '').replace(/\/+$/, '')
    this.#opts = {...opts, prefix}
    this.#lockKey = `${prefix}/${SEMAPHORE_KEY}`
  }

  get isHeld(): boolean {
    return this.#held !== undefined
  }

  /** Blocks until a slot is ours; null when `signal` aborts or the timeout passes first. */
  async acquire(signal?: AbortSignal): Promise<Held | null> {
    if (this.#held) throw lockErrors.semaphoreHeld()
    const opts = this.#opts
    const spec = {name: opts.sessionName ?? 'Consul API Semaphore', ttl: opts.sessionTtl ?? '15s', behavior: 'delete' as const, lockDelayMs: opts.lockDelayMs}
    let owned = opts.session ? undefined : await createOwnedSession(this.#client, spec)
    let session = opts.session ?? owned!.id
    try {
      const acquired = await waitOut(signal, async (attempt) => {
        if (attempt > 0 && owned) {
          await owned.stop()
          owned = await createOwnedSession(this.#client, spec)
          session = owned.id
        }
        const made = await kvPut(this.#client, `${opts.prefix}/${session}`, opts.value ?? '', {acquire: session, flags: SEMAPHORE_FLAG_VALUE})
        if (!made) throw new Error('failed to make contender entry')
        return this.#acquireLoop(session, signal)
      })
      if (!acquired) {
        await kvDelete(this.#client, `${opts.prefix}/${session}`).catch(() => undefined)
        await owned?.stop()
        return null
      }
      const stopMonitor = new AbortController()
      const lost = new AbortController()
      const ended = this.#monitor(session, acquired.pair.modifyIndex, acquired.at, stopMonitor.signal, owned).then((reason) => {
        lost.abort(reason)
        return reason
      })
      const held: Held = {session, key: this.#lockKey, lost: lost.signal, ended, lockIndex: 0, modifyIndex: acquired.pair.modifyIndex}
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
    let index = 0
    let attempts = 0
    // Bounded by `signal` and the timeout; each pass blocks on the server or loses a CAS race
    // (which means another contender made progress).
    for (;;) {
      if (signal?.aborted) return null
      let wait = waitMs
      if (opts.timeoutMs && opts.timeoutMs > 0 && attempts > 0) {
        const left = opts.timeoutMs - (Date.now() - started)
        if (left <= 0) return null
        wait = Math.min(wait, left)
      }
      attempts += 1
      const read = await kvList(this.#client, opts.prefix, {waitIndex: index, waitMs: wait, signal})
        .catch((error: unknown) => { if (signal?.aborted) return null; throw error })
      if (!read) return null
      const lockPair = this.#findLock(read.pairs)
      const doc = this.#decode(lockPair)
      if (doc.Limit !== opts.limit) throw lockErrors.limitConflict(doc.Limit, opts.limit)
      prune(doc, read.pairs)
      if (Object.keys(doc.Holders).length >= doc.Limit) {
        index = read.meta.lastIndex
        continue
      }
      doc.Holders[session] = true
      const at = Date.now()
      if (await kvPut(this.#client, this.#lockKey, encode(doc), {cas: lockPair?.modifyIndex ?? 0, flags: SEMAPHORE_FLAG_VALUE})) {
        // The token: the document's ModifyIndex read back, at or after our write.
        const {pair} = await kvGet(this.#client, this.#lockKey, {consistent: true})
        if (pair) return {pair, at}
      }
      index = 0
    }
  }

  #findLock(pairs: KVPair[]): KVPair | undefined {
    const pair = pairs.find((p) => p.key === this.#lockKey)
    if (pair && pair.flags !== SEMAPHORE_FLAG_VALUE) throw lockErrors.semaphoreConflict()
    return pair
  }

  #decode(pair: KVPair | undefined): HolderDoc {
    if (!pair || pair.value.length === 0) return {Limit: this.#opts.limit, Holders: {}}
    let doc: Partial<HolderDoc>
    try {
      doc = JSON.parse(pair.value.toString('utf8')) as Partial<HolderDoc>
    } catch (error) {
      throw new Error(`lock decoding failed: ${(error as Error).message}`)
    }
    return {Limit: Number(doc.Limit ?? 0), Holders: {...(doc.Holders ?? {})}}
  }

  async #monitor(session: string, startIndex: number, confirmedAt: number, signal: AbortSignal, owned?: OwnedSession): Promise<LossReason> {
    const check = async (q: {waitIndex: number; waitMs: number; signal: AbortSignal}) => {
      const {pairs, meta} = await kvList(this.#client, this.#opts.prefix, {consistent: true, ...q})
      const doc = this.#decode(pairs.find((p) => p.key === this.#lockKey))
      prune(doc, pairs)
      return {held: doc.Holders[session] === true, index: meta.lastIndex}
    }
    const renewalLost = new AbortController()
    void owned?.ended.then((end) => { if (end !== 'stopped') renewalLost.abort() })
    const both = AbortSignal.any([signal, renewalLost.signal])
    const {reason} = await monitorHold(check, {
      retries: this.#opts.monitorRetries, retryMs: this.#opts.monitorRetryMs, confirmWithinMs: this.#opts.confirmWithinMs,
      startIndex, confirmedAt, signal: both,
    })
    return reason === 'stopped' && renewalLost.signal.aborted && !signal.aborted ? 'error' : reason
  }

  /** Leaves the holder document (CAS, re-read on a race), deletes our contender key, ends our session. */
  async release(): Promise<void> {
    const state = this.#held
    if (!state) throw lockErrors.semaphoreNotHeld()
    this.#held = undefined
    state.stopMonitor.abort()
    try {
      for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
        const {pairs} = await kvList(this.#client, this.#opts.prefix)
        const pair = pairs.find((p) => p.key === this.#lockKey)
        const doc = this.#decode(pair)
        if (!doc.Holders[state.session]) break
        delete doc.Holders[state.session]
        if (await kvPut(this.#client, this.#lockKey, encode(doc), {cas: pair?.modifyIndex ?? 0, flags: SEMAPHORE_FLAG_VALUE})) break
      }
      await kvDelete(this.#client, `${this.#opts.prefix}/${state.session}`)
    } finally {
      await state.owned?.stop()
    }
  }

  /** Deletes the holder document when no live holder remains (Consul's Destroy). */
  async destroy(): Promise<void> {
    if (this.#held) throw lockErrors.semaphoreHeld()
    const {pairs} = await kvList(this.#client, this.#opts.prefix)
    const lockPair = this.#findLock(pairs)
    if (!lockPair) return
    const doc = this.#decode(lockPair)
    prune(doc, pairs)
    if (Object.keys(doc.Holders).length > 0) throw lockErrors.semaphoreInUse()
    if (!(await kvDelete(this.#client, this.#lockKey, {cas: lockPair.modifyIndex}))) throw lockErrors.semaphoreInUse()
  }
}

/** Drops holders that no longer hold any key under the prefix (their session died). */
function prune(doc: HolderDoc, pairs: KVPair[]): void {
  const alive = new Set(pairs.map((p) => p.session).filter((s): s is string => s !== undefined))
  for (const holder of Object.keys(doc.Holders)) if (!alive.has(holder)) delete doc.Holders[holder]
}

/** Go's json.Marshal of the document: map keys sorted. */
function encode(doc: HolderDoc): string {
  const holders: Record<string, boolean> = {}
  for (const key of Object.keys(doc.Holders).sort()) holders[key] = doc.Holders[key]
  return JSON.stringify({Limit: doc.Limit, Holders: holders})
}
