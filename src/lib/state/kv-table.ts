// The KV table: live entries in key order, tombstones of deleted keys, and lock-delay windows.
// Only storage and indexes live here; what each KV verb means is in kv-ops.ts.
//
// Indexes (Consul docs: api-docs/features/blocking, Consul state/kvs.go): the table index is the last Raft index that
// changed either entries or tombstones (Consul's kvsMaxIndex over "kvs" and "tombstones"). A
// deleted key leaves a tombstone holding the delete's index, so the index of a prefix — the max
// over live entries and tombstones under it — never goes backwards when keys vanish. Tombstones
// go when a `tombstone-reap` command (proposed by the leader ~15 min later) says so.
//
// Entries are immutable once stored: every write stores a fresh object, so a KVEntry handed to a
// reader is never changed under it. Callers must not mutate the entries (or their values) either.

import btree from 'sorted-btree'
import {bulkLoadSteps} from './btree-bulk.js'
import type {KVEntry} from './types.js'
import type {ChangeSet} from './watch.js'

const BTree = btree.default
type BTree<K, V> = InstanceType<typeof btree.default<K, V>>

/** Before-image of one key, recorded the first time a staged transaction touches it. */
interface UndoRecord {
  entry: KVEntry | undefined
  tombstone: number | undefined
}

export interface KVDump {
  entries: KVEntry[]
  tombstones: Array<[string, number]>
  lockDelays: Array<[string, number]>
  index: number
}

/**
 * A frozen copy of the table for a snapshot: the trees are copy-on-write clones (O(1) to take;
 * later writes copy the nodes they touch), so the snapshot is serialized while writes go on.
 */
export interface KVView {
  entries: BTree<string, KVEntry>
  tombstones: BTree<string, number>
  lockDelays: Array<[string, number]>
  index: number
}

export class KVStore {
  #entries: BTree<string, KVEntry> = new BTree()
  #tombstones: BTree<string, number> = new BTree()
  /** key → wall-clock ms until which `lock` on it is refused (Consul docs: api-docs/session lock-delay). */
  #lockDelays = new Map<string, number>()
  /** session ID → keys it holds; Consul's "session" index on kvs, used by invalidation. */
  #heldBy = new Map<string, Set<string>>()
  #index = 0
  #undo: Map<string, UndoRecord> | null = null
  #undoIndex = 0
  #undoLockDelays = new Map<string, number>()

  /** Last index that changed entries or tombstones (0 on an empty, never-written table). */
  get index(): number {
    return this.#index
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): KVEntry | undefined {
    return this.#entries.get(key)
  }

  /** Live entries whose key starts with `prefix`, in key order ('' = all). */
  list(prefix: string): KVEntry[] {
    const out: KVEntry[] = []
    for (const [key, entry] of this.#entries.entries(prefix)) {
      if (!key.startsWith(prefix)) break
      out.push(entry)
    }
    return out
  }

  /** Highest index among tombstones under `prefix` (0 if none). */
  maxTombstoneIndex(prefix: string): number {
    let max = 0
    for (const [key, index] of this.#tombstones.entries(prefix)) {
      if (!key.startsWith(prefix)) break
      if (index > max) max = index
    }
    return max
  }

  /** Keys currently locked by `session`, in no particular order. */
  heldBy(session: string): string[] {
    return [...(this.#heldBy.get(session) ?? [])]
  }

  /** Store `entry` (a fresh object) at Raft index `index`; clears any tombstone for the key. */
  put(index: number, entry: KVEntry, change: ChangeSet): void {
    this.#write(entry.key, entry, undefined)
    this.#index = Math.max(this.#index, index)
    change.keys.add(entry.key)
  }

  /** Delete `key` at Raft index `index`, leaving a tombstone. Returns false if it was absent. */
  remove(index: number, key: string, change: ChangeSet): boolean {
    if (!this.#entries.has(key)) return false
    this.#write(key, undefined, index)
    this.#index = Math.max(this.#index, index)
    change.keys.add(key)
    return true
  }

  lockDelayUntil(key: string): number {
    return this.#lockDelays.get(key) ?? 0
  }

  /** Start (or extend) the lock-delay window on `key`. Only session invalidation calls this. */
  startLockDelay(key: string, untilMs: number): void {
    if (untilMs > this.lockDelayUntil(key)) this.#lockDelays.set(key, untilMs)
  }

  /**
   * Drop tombstones with index <= upToIndex and lock-delay windows that ended by `nowMs`.
   * A reap that drops something moves the table index to `index` (as Consul's graveyard does),
   * so a prefix whose last tombstone went reports a fresh index instead of an older one.
   */
  reap(index: number, upToIndex: number, nowMs: number): number {
    const doomed: string[] = []
    this.#tombstones.forEach((tombIndex, key) => {
      if (tombIndex <= upToIndex) doomed.push(key)
    })
    for (const key of doomed) this.#tombstones.delete(key)
    for (const [key, until] of this.#lockDelays) if (until <= nowMs) this.#lockDelays.delete(key)
    if (doomed.length > 0) this.#index = Math.max(this.#index, index)
    return doomed.length
  }

  // --- staged transactions: writes between begin() and commit()/rollback() can be undone ---

  begin(): void {
    this.#undo = new Map()
    this.#undoIndex = this.#index
    // Lock-delay windows start when a txn destroys a session (directly or by deleting its node).
    this.#undoLockDelays = new Map(this.#lockDelays)
  }

  commit(): void {
    this.#undo = null
  }

  rollback(): void {
    const undo = this.#undo
    if (undo === null) return
    this.#undo = null
    for (const [key, before] of undo) this.#write(key, before.entry, before.tombstone)
    this.#index = this.#undoIndex
    this.#lockDelays = this.#undoLockDelays
  }

  // --- snapshot ---

  dump(): KVDump {
    return {
      entries: this.#entries.valuesArray(),
      tombstones: this.#tombstones.toArray(),
      lockDelays: [...this.#lockDelays],
      index: this.#index,
    }
  }

  /** The table as it is now, unaffected by later writes (see KVView). */
  view(): KVView {
    return {entries: this.#entries.clone(), tombstones: this.#tombstones.clone(), lockDelays: [...this.#lockDelays], index: this.#index}
  }

  static load(dump: KVDump): KVStore {
    const steps = KVStore.loadSteps(dump, Infinity)
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
    }
  }

  /**
   * KVStore.load a step at a time (a restore builds the table while the event loop runs): each
   * `next()` handles about `stepRecords` records; the table is the one `load` builds. The dump
   * must not change meanwhile.
   */
  static *loadSteps(dump: KVDump, stepRecords: number): Generator<void, KVStore> {
    const store = new KVStore()
    const per = Math.max(1, Math.min(Math.floor(stepRecords), 2 ** 30))
    // A snapshot lists keys in order (it walks the trees): built bottom-up in O(n), not one insert
    // per key (a million inserts were most of a restart). Any other order is inserted key by key.
    const keys = new Array<string>(dump.entries.length)
    for (let i = 0; i < keys.length; i++) {
      keys[i] = dump.entries[i].key
      if ((i + 1) % per === 0) yield
    }
    const entries = yield* bulkLoadSteps(keys, dump.entries, per)
    keys.length = 0
    if (entries) store.#entries = entries
    for (let i = 0; i < dump.entries.length; i++) {
      const entry = dump.entries[i]
      if (entries) {
        if (entry.session !== '') store.#indexHolder(entry.session, entry.key)
      } else store.#write(entry.key, entry, undefined)
      if ((i + 1) % per === 0) yield
    }
    const tombKeys = new Array<string>(dump.tombstones.length)
    const tombIndexes = new Array<number>(dump.tombstones.length)
    for (let i = 0; i < tombKeys.length; i++) {
      const [key, index] = dump.tombstones[i]
      tombKeys[i] = key
      tombIndexes[i] = index
      if ((i + 1) % per === 0) yield
    }
    const tombstones = yield* bulkLoadSteps(tombKeys, tombIndexes, per)
    if (tombstones) store.#tombstones = tombstones
    else {
      for (let i = 0; i < tombKeys.length; i++) {
        store.#tombstones.set(tombKeys[i], tombIndexes[i])
        if ((i + 1) % per === 0) yield
      }
    }
    for (const [key, until] of dump.lockDelays) store.#lockDelays.set(key, until)
    store.#index = dump.index
    return store
  }

  /** The one place entries, tombstones and the session index change together. */
  #write(key: string, entry: KVEntry | undefined, tombstone: number | undefined): void {
    const before = this.#entries.get(key)
    if (this.#undo !== null && !this.#undo.has(key)) {
      this.#undo.set(key, {entry: before, tombstone: this.#tombstones.get(key)})
    }
    if (before !== undefined && before.session !== '') this.#unindexHolder(before.session, key)
    if (entry === undefined) this.#entries.delete(key)
    else {
      this.#entries.set(key, entry)
      if (entry.session !== '') this.#indexHolder(entry.session, key)
    }
    if (tombstone === undefined) this.#tombstones.delete(key)
    else this.#tombstones.set(key, tombstone)
  }

  #indexHolder(session: string, key: string): void {
    let keys = this.#heldBy.get(session)
    if (keys === undefined) this.#heldBy.set(session, (keys = new Set()))
    keys.add(key)
  }

  #unindexHolder(session: string, key: string): void {
    const keys = this.#heldBy.get(session)
    if (keys === undefined) return
    keys.delete(key)
    if (keys.size === 0) this.#heldBy.delete(session)
  }
}
