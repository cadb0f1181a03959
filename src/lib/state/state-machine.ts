// The replicated state machine (ARCHITECTURE.md, house rule 5): every change is a Command in
// the Raft log, applied here in log order; the index a Consul client sees (X-Consul-Index,
// CreateIndex, ModifyIndex) is the Raft index of the entry that made the change.
//
// Contract, as hashicorp/raft's fsm.go:
// - `apply` is deterministic: it reads only the command (whose `now` the proposer stamped) and the
//   entry's index. Indexes must strictly increase; anything else is a bug and throws.
// - Watchers fire after a command is fully applied, never in the middle of one.
// - `snapshot` captures everything `apply` depends on; `restore` discards prior state, replaces
//   it, and fires every watcher (indexes may go backwards; clients reset, Consul docs: api-docs/features/blocking). That is
//   for boot, where the snapshot *is* the log prefix. A `restore` command (PUT /v1/snapshot) is
//   different: it lands at a fresh log index I on every server, so indexes must not go backwards
//   past I. Applying it clamps every record's indexes to at most I (a snapshot from another
//   cluster may carry larger ones), sets every table index to I, and makes I a floor for every
//   read's index until later writes pass it, so each parked blocking query wakes and sees I.
// - Single-threaded: the driver calls apply/snapshot/restore and reads from one event loop.
//
// Reads return `Indexed<T>`; the index may be 0 on a never-written table — the HTTP layer renders
// 0 as 1 (Consul docs: api-docs/api-structure). Returned records are shared with the store: do not mutate them.

import type {ApplyResult, CatalogNode, Command, Indexed, KVEntry, NodeCheck, Session, TxnOp, TxnResult} from './types.js'
import {assert} from './assert.js'
import {Catalog, type CatalogDump} from './catalog.js'
import type {DeregisterRequest} from './catalog-request.js'
import {CoordinateTable, type CoordinatesDump} from './coordinates.js'
import {CodecError, decodeValue} from './codec.js'
import {applyKVOp, type OpContext} from './kv-ops.js'
import {KVStore, type KVDump} from './kv-table.js'
import {SessionTable, type SessionsDump} from './sessions.js'
import {PreparedQueryTable, type PreparedQueriesDump, type Resolved} from './prepared-queries.js'
import type {PreparedQuery} from './prepared-query.js'
import {deletesNode, isKVOnlyTxn, readTxn, runTxn, touchesSessions, type TxnContext} from './txn.js'
import {AclTables, type AclDump} from './acl.js'
import {AutopilotConfigTable, type StoredAutopilotConfig} from './autopilot-config.js'
import {emptyChangeSet, WatchHub, type ChangeSet} from './watch.js'
import {concat, snapshotChunks, type SnapshotChunks, type SnapshotDocument} from './snapshot-stream.js'
import {decodeSnapshotSteps, SNAPSHOT_DECODE_RECORDS, type StepWait} from './snapshot-decode.js'
import type {ByteSource} from '../handed-bytes.js'
import {decodeSnapshotDocument} from './kv-records.js'

const SNAPSHOT_FORMAT = 'coord-state'
const SNAPSHOT_VERSION = 1

interface SnapshotBody {
  format: string
  version: number
  lastIndex: number
  kv: KVDump
  sessions: SessionsDump
  catalog: CatalogDump
  /** Network coordinates; absent in snapshots written before they existed. */
  coordinates?: CoordinatesDump
  /** Prepared queries; absent in snapshots written before they existed. */
  preparedQueries?: PreparedQueriesDump
  /** ACL tokens, policies and roles; absent in snapshots written before them (restores as a fresh ACL state). */
  acl?: AclDump
  /** Index of the last `restore` command applied (the read-index floor); absent = 0. */
  restoredAt?: number
  /** The autopilot configuration; absent before it was first set. */
  autopilot?: StoredAutopilotConfig
}

/** Decoded, validated tables of a snapshot, not yet installed. */
interface LoadedSnapshot {
  lastIndex: number
  restoredAt: number
  kv: KVStore
  sessions: SessionTable
  catalog: Catalog
  coordinates: CoordinateTable
  queries: PreparedQueryTable
  acl: AclTables
  autopilot: AutopilotConfigTable
}

/** A restore decoded and ready to swap in (StateMachine.prepareRestore). */
export interface PreparedRestore {
  /** The prepared state encoded as snapshot chunks (produced lazily, as snapshotChunks). */
  chunks: () => SnapshotChunks
  install: () => void
}

export interface StateMachineOptions {
  /** Receives whatever a watch callback throws (the core cannot log). */
  onWatchError?: (err: unknown) => void
}

export class StateMachine {
  readonly watches: WatchHub
  #kv = new KVStore()
  #sessions = new SessionTable()
  #catalog = new Catalog()
  #coordinates = new CoordinateTable()
  #queries = new PreparedQueryTable()
  #acl = new AclTables()
  #autopilot = new AutopilotConfigTable()
  #lastIndex = 0
  #restoredAt = 0

  constructor(options: StateMachineOptions = {}) {
    this.watches = new WatchHub(options.onWatchError)
  }

  /** Index of the last applied (or restored) entry; 0 before any. */
  get lastIndex(): number {
    return this.#lastIndex
  }

  /** `unread`: the caller drops the answer (ReplicatedState.apply), so a txn's result entries are not built. */
  apply(index: number, cmd: Command, unread = false): ApplyResult {
    assert(Number.isSafeInteger(index) && index > this.#lastIndex, `apply index ${index} must exceed last applied ${this.#lastIndex}`)
    const change = emptyChangeSet()
    const result = this.#dispatch(index, cmd, change, unread)
    // A query bound to a session goes with it, however the session died (Consul's session delete).
    if (change.tables.has('sessions')) this.#queries.dropOrphans(index, (id) => this.#sessions.has(id), change)
    this.#lastIndex = index
    if (cmd.type === 'restore' && result.type === 'restore' && result.error === undefined) this.watches.notifyAll()
    else this.watches.notify(change)
    return result
  }

  #dispatch(index: number, cmd: Command, change: ChangeSet, unread: boolean): ApplyResult {
    switch (cmd.type) {
      case 'kv': {
        const outcome = applyKVOp(this.#opContext(index, cmd.now, change), cmd.op)
        if (outcome.ok) return {type: 'kv', ok: true}
        return outcome.hard ? {type: 'kv', ok: false, error: outcome.what} : {type: 'kv', ok: false}
      }
      case 'txn':
        return {type: 'txn', txn: this.#applyTxn(index, cmd.now, cmd.ops, change, unread)}
      case 'session-create': {
        const created = this.#sessions.create(index, cmd.session, this.#catalog, change, cmd.now)
        return 'id' in created ? {type: 'session-create', id: created.id} : {type: 'session-create', error: created.error}
      }
      case 'session-destroy':
        this.#sessions.invalidate(index, cmd.id, cmd.now, this.#kv, change)
        return {type: 'session-destroy'}
      case 'session-renew':
        return {type: 'session-renew', found: this.#sessions.renew(cmd.id, cmd.now)}
      case 'node-register': {
        // A check registered critical kills the sessions bound to it, as Consul's ensureCheckTxn.
        const critical = this.#catalog.register(index, cmd.node, cmd.checks, change)
        this.#invalidateBound(index, cmd.now, critical, change)
        return {type: 'node-register'}
      }
      case 'catalog-register': {
        const outcome = this.#catalog.registerRequest(index, cmd.request, change)
        if ('error' in outcome) return {type: 'catalog-register', error: outcome.error, code: outcome.code}
        this.#invalidateBound(index, cmd.now, outcome.critical, change)
        return {type: 'catalog-register'}
      }
      case 'catalog-deregister':
        this.#deregister(index, cmd.now, cmd.request, change)
        return {type: 'catalog-deregister'}
      case 'tombstone-reap':
        // No watcher fires: no data changed, and a prefix index that drops after a reap is a
        // reset clients already handle (Consul docs: api-docs/features/blocking).
        this.#kv.reap(index, cmd.upToIndex, cmd.now)
        return {type: 'tombstone-reap'}
      case 'coordinate-batch-update': {
        const stored = this.#coordinates.batchUpdate(index, Array.isArray(cmd.updates) ? cmd.updates : [], (node) => this.#catalog.node(node) !== undefined, change)
        return {type: 'coordinate-batch-update', stored}
      }
      case 'prepared-query-set': {
        const error = this.#queries.set(index, cmd.query, (id) => this.#sessions.has(id), change)
        return error === undefined ? {type: 'prepared-query-set'} : {type: 'prepared-query-set', error}
      }
      case 'prepared-query-delete':
        this.#queries.delete(index, cmd.id, change)
        return {type: 'prepared-query-delete'}
      case 'acl':
        return {type: 'acl', result: this.#acl.apply(index, cmd.op, change)}
      case 'autopilot-set':
        return {type: 'autopilot-set', ok: this.#autopilot.set(index, cmd.op)}
      case 'restore': {
        // The proposer verified the bytes; a server that still cannot decode them keeps its state
        // (every server decodes the same bytes the same way, so they all agree).
        let loaded: LoadedSnapshot
        try {
          loaded = decodeSnapshot(cmd.data, index)
        } catch (err) {
          if (err instanceof CodecError) return {type: 'restore', error: err.message}
          throw err
        }
        this.#install({...loaded, restoredAt: index})
        return {type: 'restore'}
      }
      default: {
        const unknown: never = cmd
        throw new CodecError(`unknown command type ${JSON.stringify((unknown as {type?: unknown}).type)}`)
      }
    }
  }

  /**
   * As Consul's deleteCheckTxn / deleteNodeTxn: sessions bound to a removed check, or on a removed
   * node, are invalidated, and a removed node's coordinate goes with it.
   */
  #deregister(index: number, nowMs: number, request: DeregisterRequest, change: ChangeSet): void {
    const removed = this.#catalog.deregister(index, request, change)
    this.#invalidateBound(index, nowMs, removed.checks, change)
    if (removed.node !== undefined) {
      for (const session of this.#sessions.forNode(removed.node)) this.#sessions.invalidate(index, session.id, nowMs, this.#kv, change)
      this.#coordinates.removeNode(index, removed.node, change)
    }
  }

  /**
   * A write txn, all or nothing: KV and the catalog roll back through their undo logs; a txn that
   * may touch sessions (a session op, a delete, a check that may turn critical) first saves that
   * table, and one that deletes a node the coordinates it drops, and puts the saved copies back if
   * any op failed. Nothing here costs O(catalog) per txn: registering a large catalog by txns was
   * quadratic when every catalog txn copied the catalog.
   */
  #applyTxn(index: number, nowMs: number, ops: readonly TxnOp[], change: ChangeSet, unread = false): TxnResult {
    const staged = emptyChangeSet()
    const catalogTxn = !isKVOnlyTxn(ops)
    const sessions = ops.some(touchesSessions) ? this.#sessions.dump() : undefined
    const coordinates = ops.some(deletesNode) ? this.#coordinates.dump() : undefined
    this.#kv.begin()
    if (catalogTxn) this.#catalog.begin()
    const result = runTxn(this.#txnContext(index, nowMs, staged), ops, unread)
    if (result.errors !== null) {
      this.#kv.rollback()
      if (catalogTxn) this.#catalog.rollback()
      if (sessions !== undefined) this.#sessions = SessionTable.load(sessions)
      if (coordinates !== undefined) this.#coordinates = CoordinateTable.load(coordinates)
      return result
    }
    this.#kv.commit()
    if (catalogTxn) this.#catalog.commit()
    for (const key of staged.keys) change.keys.add(key)
    for (const table of staged.tables) change.tables.add(table)
    return result
  }

  #txnContext(index: number, nowMs: number, change: ChangeSet): TxnContext {
    return {
      ...this.#opContext(index, nowMs, change),
      catalog: this.#catalog,
      deregister: (request) => this.#deregister(index, nowMs, request, change),
      invalidateBound: (checks) => this.#invalidateBound(index, nowMs, checks, change),
      destroySession: (id) => this.#sessions.invalidate(index, id, nowMs, this.#kv, change),
    }
  }

  #invalidateBound(index: number, nowMs: number, checks: ReadonlyArray<{node: string; checkId: string}>, change: ChangeSet): void {
    for (const check of checks) {
      for (const id of this.#sessions.boundTo(check.node, check.checkId)) this.#sessions.invalidate(index, id, nowMs, this.#kv, change)
    }
  }

  #opContext(index: number, nowMs: number, change: ChangeSet): OpContext {
    return {kv: this.#kv, index, nowMs, sessionExists: (id) => this.#sessions.has(id), change}
  }

  // --- KV reads (Consul docs: api-docs/kv GET) ---

  /** A present key's index is its ModifyIndex; a missing key's is the KV table's, so it can block. */
  kvGet(key: string): Indexed<KVEntry | undefined> {
    const entry = this.#kv.get(key)
    return {index: Math.max(entry?.modifyIndex ?? this.#kv.index, this.#restoredAt), value: entry}
  }

  /** Entries under `prefix` in key order, indexed as Consul's kvsListTxn. */
  kvList(prefix: string): Indexed<KVEntry[]> {
    const entries = this.#kv.list(prefix)
    return {index: this.#prefixIndex(prefix, entries), value: entries}
  }

  /**
   * Keys under `prefix`. With a separator, a key whose remainder after the prefix contains it is
   * rolled up to the part up to and including its first occurrence ("folders", Consul's
   * KVSListKeys); '' lists every key. Keys sharing a folder are adjacent in key order, so one
   * look back de-duplicates.
   */
  kvKeys(prefix: string, separator: string): Indexed<string[]> {
    const entries = this.#kv.list(prefix)
    const keys: string[] = []
    for (const {key} of entries) {
      const at = separator === '' ? -1 : key.indexOf(separator, prefix.length)
      const shown = at === -1 ? key : key.slice(0, at + separator.length)
      if (keys.length === 0 || keys[keys.length - 1] !== shown) keys.push(shown)
    }
    return {index: this.#prefixIndex(prefix, entries), value: keys}
  }

  /** Answer a read-only txn (Consul docs: api-docs/txn) without a log entry; index = the KV table's. */
  txnRead(ops: readonly TxnOp[]): Indexed<TxnResult> {
    const ctx = this.#txnContext(0, 0, emptyChangeSet())
    return {index: this.#kv.index, value: readTxn(ctx, ops)}
  }

  /**
   * Max ModifyIndex over the prefix's entries and tombstones, else the table index. The empty
   * prefix always uses the table index, which also covers reaped tombstones.
   */
  #prefixIndex(prefix: string, entries: readonly KVEntry[]): number {
    if (prefix === '') return this.#kv.index
    let max = this.#kv.maxTombstoneIndex(prefix)
    for (const entry of entries) if (entry.modifyIndex > max) max = entry.modifyIndex
    return Math.max(max !== 0 ? max : this.#kv.index, this.#restoredAt)
  }

  // --- sessions and catalog (Consul docs: api-docs/session); all indexed by their table's index ---

  sessionGet(id: string): Indexed<Session | undefined> {
    return {index: this.#sessions.index, value: this.#sessions.get(id)}
  }

  sessionList(): Indexed<Session[]> {
    return {index: this.#sessions.index, value: this.#sessions.list()}
  }

  sessionsForNode(node: string): Indexed<Session[]> {
    return {index: this.#sessions.index, value: this.#sessions.forNode(node)}
  }

  node(name: string): Indexed<CatalogNode | undefined> {
    return {index: this.#floor(this.#catalog.nodesIndex), value: this.#catalog.node(name)}
  }

  nodeChecks(node: string): Indexed<NodeCheck[]> {
    return {index: this.#floor(this.#catalog.checksIndex), value: this.#catalog.checks(node)}
  }

  // --- catalog and health reads (Consul docs: api-docs/catalog, api-docs/health), indexed as Consul's state store ---

  /** The catalog itself, for reads that combine tables (records are shared: do not mutate). */
  get catalog(): Catalog {
    return this.#catalog
  }

  /** Max of the named catalog indexes, floored by the last snapshot restore. */
  catalogIndex(...tables: Array<'nodes' | 'services' | 'checks'>): number {
    const c = this.#catalog
    const of = {nodes: c.nodesIndex, services: c.servicesIndex, checks: c.checksIndex}
    return this.#floor(Math.max(0, ...tables.map((t) => of[t])))
  }

  /** One service's index (see catalog.ts), floored by the last snapshot restore. */
  serviceIndex(name: string): number {
    return this.#floor(this.#catalog.serviceIndex(name))
  }

  // --- network coordinates (/v1/coordinate/*, ?near=) ---

  /** The coordinates table (records are shared: do not mutate). */
  get coordinates(): CoordinateTable {
    return this.#coordinates
  }

  coordinatesIndex(): number {
    return this.#floor(this.#coordinates.index)
  }

  // --- ACL tokens, policies and roles (api-docs/acl) ---

  /** The ACL tables (records are shared: do not mutate). */
  get acl(): AclTables {
    return this.#acl
  }

  aclIndex(table: 'tokens' | 'policies' | 'roles'): number {
    const a = this.#acl
    return this.#floor(table === 'tokens' ? a.tokensIndex : table === 'policies' ? a.policiesIndex : a.rolesIndex)
  }

  #floor(index: number): number {
    return Math.max(index, this.#restoredAt)
  }

  // --- prepared queries (/v1/query, <name>.query.consul) ---

  preparedQuery(id: string): Indexed<PreparedQuery | undefined> {
    return {index: this.#floor(this.#queries.index), value: this.#queries.get(id)}
  }

  preparedQueries(): Indexed<PreparedQuery[]> {
    return {index: this.#floor(this.#queries.index), value: this.#queries.list()}
  }

  /** By ID, exact name, or the longest-prefix template (rendered for `idOrName`). */
  resolvePreparedQuery(idOrName: string): Indexed<Resolved> {
    return {index: this.#floor(this.#queries.index), value: this.#queries.resolve(idOrName)}
  }

  /** The stored autopilot configuration (undefined until a leader seeded it). */
  autopilotConfig(): StoredAutopilotConfig | undefined {
    return this.#autopilot.get()
  }

  // --- snapshot / restore ---

  /** All replicated state as msgpack: KV (with tombstones and lock-delays), sessions, catalog, coordinates. */
  snapshot(): Uint8Array {
    return concat([...this.snapshotChunks()])
  }

  /**
   * The same document as snapshot(), as chunks produced while they are consumed: the state is
   * captured now (the KV table as copy-on-write clones, the small tables encoded), so later
   * applies do not change what the chunks say (snapshot-stream.ts).
   */
  snapshotChunks(): SnapshotDocument {
    return snapshotChunks({
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      lastIndex: this.#lastIndex,
      sessions: this.#sessions.dump(),
      catalog: this.#catalog.dump(),
      coordinates: this.#coordinates.dump(),
      preparedQueries: this.#queries.dump(),
      acl: this.#acl.dump(),
      autopilot: this.#autopilot.dump(),
      restoredAt: this.#restoredAt === 0 ? undefined : this.#restoredAt,
    }, this.#kv.view())
  }

  /** Replace all state with a snapshot's (boot); throws CodecError (state untouched) if it is not one. */
  restore(bytes: Uint8Array): void {
    this.#install(decodeSnapshot(bytes))
    this.watches.notifyAll()
  }

  /**
   * A restore prepared a step at a time (the driver lets the event loop run between steps, so a
   * large state never holds it): decodes `bytes` without touching live state (throws CodecError,
   * state untouched). With `index` (an operator's restore taking that log index,
   * RaftDriver.restore) records keep their indexes, clamped to `index`, and every table stands at
   * `index`, so no read's index goes backwards and every blocking query wakes; without it (a
   * snapshot received from the leader) the state is exactly the snapshot's. The result's `chunks`
   * encode the prepared state (what the driver stages for an operator's restore); `install` swaps
   * it in. The steps hold `bytes` only until they are decoded: a caller that drops them too lets
   * them go before the tables are built.
   */
  *prepareRestore(bytes: ByteSource, index?: number): Generator<StepWait, PreparedRestore> {
    const held = {bytes: bytes as ByteSource | undefined}
    bytes = NO_BYTES
    // Records equal to the live ones share them (ownValues): read at each batch, as the table is then.
    const loaded = yield* decodeSnapshotInSteps(held, index, (key) => this.#kv.get(key))
    return {
      chunks: () => {
        const staged = new StateMachine()
        staged.#install(loaded)
        return staged.snapshotChunks()
      },
      install: () => {
        this.#install(loaded)
        this.watches.notifyAll()
      },
    }
  }

  /** Throws CodecError unless `bytes` is a snapshot `restore` (and a `restore` command) accepts. */
  static checkSnapshot(bytes: Uint8Array): void {
    decodeSnapshot(bytes)
  }

  #install(loaded: LoadedSnapshot): void {
    this.#kv = loaded.kv
    this.#sessions = loaded.sessions
    this.#catalog = loaded.catalog
    this.#coordinates = loaded.coordinates
    this.#queries = loaded.queries
    this.#acl = loaded.acl
    this.#autopilot = loaded.autopilot
    this.#lastIndex = loaded.lastIndex
    this.#restoredAt = loaded.restoredAt
  }
}

const NO_BYTES = new Uint8Array(0)

/**
 * The decoded KV records with their values copied out of the snapshot buffer (which the caller
 * may reuse) into one slab, each value a view of its own stretch: one copy per restore instead of
 * an ArrayBuffer per key (a million small buffers were most of a restart's time and GC). The
 * records are fresh objects from the decoder, so they are completed in place. With `live` (the
 * table being replaced), a record equal to the live entry of its key (every field, value bytes
 * included, after clamping) is replaced by that entry: entries are immutable (kv-table.ts), so
 * both tables may hold it, and what a restore leaves unchanged is not held twice meanwhile.
 * `alreadyOwned`: the values are in their own buffer already (only clamped and shared here).
 */
function ownValues(entries: KVEntry[], at: (n: number) => number, live?: (key: string) => KVEntry | undefined, alreadyOwned = false): KVEntry[] {
  let total = 0
  const copied: number[] = []
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]
    e.createIndex = at(e.createIndex)
    e.modifyIndex = at(e.modifyIndex)
    const same = live?.(e.key)
    if (same !== undefined && sameEntry(same, e)) entries[i] = same
    else if (!alreadyOwned) {
      copied.push(i)
      total += e.value.length
    }
  }
  const slab = new ArrayBuffer(total)
  const bytes = new Uint8Array(slab)
  let offset = 0
  for (const i of copied) {
    const e = entries[i]
    const length = e.value.length
    bytes.set(e.value, offset)
    e.value = new Uint8Array(slab, offset, length)
    offset += length
  }
  return entries
}

/** True when two entries of one key are the same record (every field of KVEntry, value bytes compared). */
function sameEntry(a: KVEntry, b: KVEntry): boolean {
  if (a.key !== b.key || a.flags !== b.flags || a.session !== b.session || a.createIndex !== b.createIndex ||
    a.modifyIndex !== b.modifyIndex || a.lockIndex !== b.lockIndex || a.value.length !== b.value.length) return false
  const x = a.value
  const y = b.value
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

/** Entries whose values are already owned, their indexes clamped by `at` (in place). */
function clampIndexes(entries: KVEntry[], at: (n: number) => number): KVEntry[] {
  for (const e of entries) {
    e.createIndex = at(e.createIndex)
    e.modifyIndex = at(e.modifyIndex)
  }
  return entries
}

/**
 * Decodes and loads a snapshot without touching live state. With `atIndex` (a `restore` command's
 * entry index), every record's indexes are clamped to it and every table index is set to it.
 */
function decodeSnapshot(bytes: Uint8Array, atIndex?: number): LoadedSnapshot {
  // The KV records read straight from the bytes, their values already in one buffer
  // (kv-records.ts); a document of any other layout by the generic decoder.
  const direct = decodeSnapshotDocument(bytes)
  const steps = loadSnapshotSteps((direct ?? decodeValue(bytes)) as Partial<SnapshotBody> | null, atIndex, direct !== undefined ? 'copied' : 'borrowed', Infinity)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

/**
 * decodeSnapshot a step at a time (snapshot-decode.ts): the KV records are decoded a batch per
 * step and their values copied out (one buffer per batch) as they come; then the KV table's trees
 * are built the same number of records per step (KVStore.loadSteps), the other tables a step each.
 */
function* decodeSnapshotInSteps(held: {bytes: ByteSource | undefined}, atIndex: number | undefined, live: (key: string) => KVEntry | undefined): Generator<StepWait, LoadedSnapshot> {
  const at = (n: number): number => (atIndex === undefined ? n : Math.min(n, atIndex))
  let bytes: ByteSource = held.bytes ?? NO_BYTES
  held.bytes = undefined
  const body = yield* decodeSnapshotSteps(bytes, (field, batch, valuesOwned) => {
    try {
      if (field === 'entries') ownValues(batch as KVEntry[], at, live, valuesOwned)
      else for (const tombstone of batch as Array<[string, number]>) tombstone[1] = at(tombstone[1])
    } catch (err) {
      throw new CodecError(`malformed state snapshot: ${err instanceof Error ? err.message : String(err)}`)
    }
  })
  // The KV values were copied out of the bytes: let them go before the tables are built.
  bytes = NO_BYTES
  yield
  return yield* loadSnapshotSteps(body as Partial<SnapshotBody>, atIndex, 'owned', SNAPSHOT_DECODE_RECORDS)
}

/**
 * The tables of a decoded snapshot document, built a step at a time (the KV table about
 * `stepRecords` records per step, each other table in one). Its KV values are `borrowed` (views
 * of the snapshot bytes: copied out and clamped here), `copied` (already in their own buffer:
 * clamped here) or `owned` (copied, and tombstones clamped, while decoding: decodeSnapshotInSteps).
 */
function* loadSnapshotSteps(body: Partial<SnapshotBody> | null, atIndex: number | undefined, values: 'borrowed' | 'copied' | 'owned', stepRecords: number): Generator<void, LoadedSnapshot> {
  if (body === null || typeof body !== 'object' || body.format !== SNAPSHOT_FORMAT) throw new CodecError('not a coord state snapshot')
  if (body.version !== SNAPSHOT_VERSION) throw new CodecError(`unsupported snapshot version ${String(body.version)}`)
  if (typeof body.lastIndex !== 'number' || !body.kv || !body.sessions || !body.catalog) throw new CodecError('truncated state snapshot')
  const at = (n: number): number => (atIndex === undefined ? n : Math.min(n, atIndex))
  const table = (n: number): number => atIndex ?? n
  try {
    // Values are copied out of the snapshot buffer, which the caller may reuse.
    const kv: KVDump = {
      entries: values === 'owned' ? body.kv.entries : values === 'copied' ? clampIndexes(body.kv.entries, at) : ownValues(body.kv.entries, at),
      tombstones: values === 'owned' ? body.kv.tombstones : body.kv.tombstones.map(([key, index]) => [key, at(index)]),
      lockDelays: body.kv.lockDelays,
      index: table(body.kv.index),
    }
    const kvTable = yield* KVStore.loadSteps(kv, stepRecords)
    if (values === 'owned') {
      // The document is this restore's own: its record lists are not kept beside the trees.
      kv.entries.length = 0
      kv.tombstones.length = 0
    }
    const sessions: SessionsDump = {
      sessions: body.sessions.sessions.map((s) => ({...s, createIndex: at(s.createIndex), modifyIndex: at(s.modifyIndex)})),
      index: table(body.sessions.index),
      seen: body.sessions.seen,
    }
    const catalog: CatalogDump = {
      nodes: body.catalog.nodes.map((n) => ({...n, createIndex: at(n.createIndex), modifyIndex: at(n.modifyIndex)})),
      services: (body.catalog.services ?? []).map((s) => ({...s, createIndex: at(s.createIndex), modifyIndex: at(s.modifyIndex)})),
      checks: body.catalog.checks.map((c) => ({...c, createIndex: at(c.createIndex), modifyIndex: at(c.modifyIndex)})),
      nodesIndex: table(body.catalog.nodesIndex),
      servicesIndex: table(body.catalog.servicesIndex ?? 0),
      checksIndex: table(body.catalog.checksIndex),
      serviceIndexes: (body.catalog.serviceIndexes ?? []).map(([name, index]) => [name, table(index)]),
    }
    return {
      lastIndex: table(body.lastIndex),
      restoredAt: atIndex ?? (typeof body.restoredAt === 'number' ? body.restoredAt : 0),
      kv: kvTable,
      sessions: SessionTable.load(sessions),
      catalog: Catalog.load(catalog),
      coordinates: CoordinateTable.load(body.coordinates, table),
      queries: PreparedQueryTable.load(body.preparedQueries && {
        queries: body.preparedQueries.queries.map((q) => ({...q, CreateIndex: at(q.CreateIndex), ModifyIndex: at(q.ModifyIndex)})),
        index: body.preparedQueries.index,
      }, table),
      acl: AclTables.load(body.acl, at, table),
      autopilot: AutopilotConfigTable.load(body.autopilot, at),
    }
  } catch (err) {
    if (err instanceof CodecError) throw err
    throw new CodecError(`malformed state snapshot: ${err instanceof Error ? err.message : String(err)}`)
  }
}
