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
import {kvDelete, kvGet, kvPut} from './kv.js'
import {lockErrors} from './lock-errors.js'
import {abortableSleep} from './abortable-sleep.js'
import {acquireHold, readPacer, releaseHold, unlessAborted, type Acquired, type Held, type HoldOptions, type HoldState} from './session-hold.js'

export type {Held, HoldOptions} from './session-hold.js'

/** Consul's api.LockFlagValue: marks a key as a lock. */
export const LOCK_FLAG_VALUE = 0x2ddccbc058a50c18n

export interface LockOptions extends HoldOptions {
  key: string
  value?: Uint8Array | string
}

export class Lock {
  readonly #client: ApiClient
  readonly #opts: LockOptions
  #held?: HoldState

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
    const state = await acquireHold(this.#client, opts, {name: 'Consul API Lock', behavior: 'release'}, {
      key: opts.key,
      attempt: (session) => this.#acquireLoop(session, signal),
      check: (session) => async (q) => {
        const {pair, meta} = await kvGet(this.#client, opts.key, {consistent: true, ...q})
        return {held: pair?.session === session, index: meta.lastIndex}
      },
      lockIndex: (acquired) => acquired.pair.lockIndex,
    }, signal)
    this.#held = state ?? undefined
    return state?.held ?? null
  }

  async #acquireLoop(session: string, signal?: AbortSignal): Promise<Acquired | null> {
    const opts = this.#opts
    const pacer = readPacer(opts)
    const retryMs = opts.retryMs ?? 5000
    let index = 0
    // Bounded by `signal` and the timeout; each pass blocks on the server or sleeps retryMs.
    for (;;) {
      if (signal?.aborted) return null
      const wait = pacer.next()
      if (wait === null) return null
      const read = await unlessAborted(kvGet(this.#client, opts.key, {waitIndex: index, waitMs: wait, signal}), signal)
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

  /** Gives the lock up (Consul's Unlock): stops the monitor and renewal, releases the key, destroys our session. */
  async release(): Promise<void> {
    const state = this.#held
    if (!state) throw lockErrors.notHeld()
    this.#held = undefined
    await releaseHold(state, async () => {
      await kvPut(this.#client, this.#opts.key, this.#opts.value ?? '', {release: state.session, flags: LOCK_FLAG_VALUE})
    })
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
