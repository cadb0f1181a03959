// A counting semaphore under a KV prefix, compatible with Consul's api.Semaphore (and `consul lock
// -n=N`): each contender holds `<prefix>/<session>` with its own session (behaviour delete, so a
// dead contender's key vanishes), and `<prefix>/.lock` holds {"Limit":N,"Holders":{"<session>":true}},
// changed only by check-and-set. A holder whose contender key is gone is pruned by whoever next
// reads the document. Both kinds of key carry Flags = SEMAPHORE_FLAG_VALUE.
import {type ApiClient} from './client.js'
import {kvDelete, kvGet, kvList, kvPut, type KVPair} from './kv.js'
import {lockErrors} from './lock-errors.js'
import {acquireHold, readPacer, releaseHold, unlessAborted, type Acquired, type Held, type HoldOptions, type HoldState} from './session-hold.js'

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
  #held?: HoldState

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
    const state = await acquireHold(this.#client, opts, {name: 'Consul API Semaphore', behavior: 'delete'}, {
      key: this.#lockKey,
      attempt: async (session) => {
        const made = await kvPut(this.#client, `${opts.prefix}/${session}`, opts.value ?? '', {acquire: session, flags: SEMAPHORE_FLAG_VALUE})
        if (!made) throw new Error('failed to make contender entry')
        return this.#acquireLoop(session, signal)
      },
      abandon: async (session) => {
        await kvDelete(this.#client, `${opts.prefix}/${session}`).catch(() => undefined)
      },
      check: (session) => async (q) => {
        const {pairs, meta} = await kvList(this.#client, opts.prefix, {consistent: true, ...q})
        const doc = this.#decode(pairs.find((p) => p.key === this.#lockKey))
        prune(doc, pairs)
        return {held: doc.Holders[session] === true, index: meta.lastIndex}
      },
      lockIndex: () => 0,
    }, signal)
    this.#held = state ?? undefined
    return state?.held ?? null
  }

  async #acquireLoop(session: string, signal?: AbortSignal): Promise<Acquired | null> {
    const opts = this.#opts
    const pacer = readPacer(opts)
    let index = 0
    // Bounded by `signal` and the timeout; each pass blocks on the server or loses a CAS race
    // (which means another contender made progress).
    for (;;) {
      if (signal?.aborted) return null
      const wait = pacer.next()
      if (wait === null) return null
      const read = await unlessAborted(kvList(this.#client, opts.prefix, {waitIndex: index, waitMs: wait, signal}), signal)
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

  /** Leaves the holder document (CAS, re-read on a race), deletes our contender key, ends our session. */
  async release(): Promise<void> {
    const state = this.#held
    if (!state) throw lockErrors.semaphoreNotHeld()
    this.#held = undefined
    await releaseHold(state, async () => {
      for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
        const {pairs} = await kvList(this.#client, this.#opts.prefix)
        const pair = pairs.find((p) => p.key === this.#lockKey)
        const doc = this.#decode(pair)
        if (!doc.Holders[state.session]) break
        delete doc.Holders[state.session]
        if (await kvPut(this.#client, this.#lockKey, encode(doc), {cas: pair?.modifyIndex ?? 0, flags: SEMAPHORE_FLAG_VALUE})) break
      }
      await kvDelete(this.#client, `${this.#opts.prefix}/${state.session}`)
    })
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
