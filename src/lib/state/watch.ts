// Watch sets that wake blocking queries (Consul docs: api-docs/features/blocking). A watcher is one-shot, like a Go channel
// that memdb closes: it fires once on the first change to what it watches, then it is gone. A
// blocking query re-reads, compares the index and parks again if nothing it cares about moved —
// so spurious wake-ups are allowed, missed ones are not.
//
// Who calls what: the HTTP layer parks watchers (watchKey/watchPrefix/watchTable) and cancels them
// on timeout or client disconnect. The StateMachine calls `notify` once per applied command, after
// the command is fully applied, so a woken reader always sees the whole command's effect.
//
// Cost: tens of thousands of parked watchers are normal (every `coord watch`, every lock waiter).
// Firing for a changed key K looks up K itself and only those prefixes of K whose length some
// parked prefix watcher has, so it costs O(len(K) + watchers fired), never O(watchers parked).

/** Tables, plus `service:<name>` for one service's health and catalog answers. */
export type WatchTable = 'sessions' | 'nodes' | 'services' | 'checks' | 'coordinates' | 'prepared-queries' | 'acl-tokens' | 'acl-policies' | 'acl-roles' | `service:${string}`
export type WatchCallback = () => void

/** What one applied command touched; the StateMachine fills it while applying. */
export interface ChangeSet {
  keys: Set<string>
  tables: Set<WatchTable>
}

export function emptyChangeSet(): ChangeSet {
  return {keys: new Set(), tables: new Set()}
}

interface Watcher {
  cb: WatchCallback
  /** Set once fired or cancelled, so a late cancel (or a double fire) is a no-op. */
  done: boolean
  bucket: Map<string, Set<Watcher>>
  slot: string
}

export class WatchHub {
  readonly #byKey = new Map<string, Set<Watcher>>()
  readonly #byPrefix = new Map<string, Set<Watcher>>()
  readonly #byTable = new Map<string, Set<Watcher>>()
  /** Length of each parked prefix → how many distinct parked prefixes have that length. */
  readonly #prefixLengths = new Map<number, number>()
  #size = 0
  readonly #onError: (err: unknown) => void

  /**
   * @param onError receives what a callback threw; the hub is pure so it cannot log. A throwing
   *   callback never stops the others from firing.
   */
  constructor(onError: (err: unknown) => void = () => {}) {
    this.#onError = onError
  }

  /** Number of parked (not yet fired or cancelled) watchers. */
  get size(): number {
    return this.#size
  }

  /** Fires on any write or delete of exactly `key`. Returns a cancel function. */
  watchKey(key: string, cb: WatchCallback): () => void {
    return this.#park(this.#byKey, key, cb)
  }

  /** Fires on any change to a key starting with `prefix` (deletes included); '' = the whole KV. */
  watchPrefix(prefix: string, cb: WatchCallback): () => void {
    return this.#park(this.#byPrefix, prefix, cb)
  }

  /** Fires on any change to the sessions, nodes, services or checks table, or to one service. */
  watchTable(table: WatchTable, cb: WatchCallback): () => void {
    return this.#park(this.#byTable, table, cb)
  }

  /** Fire every watcher that the change set concerns. Called after a command is fully applied. */
  notify(change: ChangeSet): void {
    const due: Watcher[] = []
    for (const key of change.keys) {
      this.#drain(this.#byKey, key, due)
      if (this.#prefixLengths.size === 0) continue
      for (const len of [...this.#prefixLengths.keys()]) {
        if (len <= key.length) this.#drain(this.#byPrefix, key.slice(0, len), due)
      }
    }
    for (const table of change.tables) this.#drain(this.#byTable, table, due)
    this.#fire(due)
  }

  /** Fire everything: after a snapshot restore every read may have changed (and gone backwards). */
  notifyAll(): void {
    const due: Watcher[] = []
    for (const bucket of [this.#byKey, this.#byPrefix, this.#byTable]) {
      for (const slot of [...bucket.keys()]) this.#drain(bucket, slot, due)
    }
    this.#fire(due)
  }

  #park(bucket: Map<string, Set<Watcher>>, slot: string, cb: WatchCallback): () => void {
    const watcher: Watcher = {cb, done: false, bucket, slot}
    let set = bucket.get(slot)
    if (set === undefined) {
      set = new Set()
      bucket.set(slot, set)
      if (bucket === this.#byPrefix) this.#countLength(slot.length, +1)
    }
    set.add(watcher)
    this.#size++
    return () => this.#cancel(watcher)
  }

  #cancel(watcher: Watcher): void {
    if (watcher.done) return
    watcher.done = true
    this.#size--
    const set = watcher.bucket.get(watcher.slot)
    if (set === undefined) return
    set.delete(watcher)
    if (set.size === 0) this.#dropSlot(watcher.bucket, watcher.slot)
  }

  /** Move every watcher of one slot to `due` and forget the slot (one-shot semantics). */
  #drain(bucket: Map<string, Set<Watcher>>, slot: string, due: Watcher[]): void {
    const set = bucket.get(slot)
    if (set === undefined) return
    this.#dropSlot(bucket, slot)
    for (const watcher of set) {
      watcher.done = true
      this.#size--
      due.push(watcher)
    }
  }

  #dropSlot(bucket: Map<string, Set<Watcher>>, slot: string): void {
    bucket.delete(slot)
    if (bucket === this.#byPrefix) this.#countLength(slot.length, -1)
  }

  #countLength(len: number, delta: number): void {
    const n = (this.#prefixLengths.get(len) ?? 0) + delta
    if (n === 0) this.#prefixLengths.delete(len)
    else this.#prefixLengths.set(len, n)
  }

  /** Callbacks run after all bookkeeping, so one that parks a new watcher or throws is harmless. */
  #fire(due: Watcher[]): void {
    for (const watcher of due) {
      try {
        watcher.cb()
      } catch (err) {
        this.#onError(err)
      }
    }
  }
}
