// RaftStorage on disk: the core reads the log through it; the driver writes through it while
// handling a Ready (types.ts, Ready's order contract). Three files in <data-dir>/raft:
//   log.dat        entries (FileLogStore; the entry type rides in the first byte of each record)
//   hardstate.dat  term, vote, commit (FileStableStore; fsync'd before any message relies on it)
//   snapshot.dat   the latest state-machine snapshot with its meta and membership
// `MemoryDurableStorage` is the in-memory twin for -dev agents: the same writer contract, no disk.
import {decode, encode} from '@msgpack/msgpack'
import {existsSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {FileLogStore, LOG_FILE, LogCorruptError, type LogEntry} from './log-store.js'
import {FileSnapshotStore} from './snapshot-store.js'
import {FileStableStore} from './stable-store.js'
import {entrySize, MemoryRaftStorage, type RaftStorage} from './storage.js'
import type {ConfState, Entry, EntryType, HardState, SnapshotMeta} from './types.js'

const entryTypes: EntryType[] = ['command', 'noop', 'conf']

function toRecord(entry: Entry): LogEntry {
  const data = new Uint8Array(entry.data.length + 1)
  data[0] = entryTypes.indexOf(entry.type)
  data.set(entry.data, 1)
  return {index: entry.index, term: entry.term, data}
}

function fromRecord(record: LogEntry): Entry {
  const type = entryTypes[record.data[0]]
  if (!type) throw new Error(`log entry ${record.index} has unknown type ${record.data[0]}`)
  return {index: record.index, term: record.term, type, data: record.data.subarray(1)}
}

/** What a snapshot file holds besides the state bytes. */
interface SnapshotPayload {
  conf: ConfState
  /** null: the empty state of a freshly bootstrapped cluster. */
  state: Uint8Array | null
}

/** The writer side the Raft driver uses; reads come through RaftStorage. */
export interface DurableRaftStorage extends RaftStorage {
  /** Truncates any conflicting suffix from entries[0].index on, appends, and fsyncs. */
  append(entries: Entry[]): Promise<void>
  saveHardState(hardState: HardState): Promise<void>
  /** Replaces the log with a snapshot received from the leader (state bytes included). */
  installSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void>
  /** Persists a local state snapshot taken at meta.index and drops the entries it covers. */
  compact(meta: SnapshotMeta, state: Uint8Array): Promise<void>
  /** The state bytes of the latest snapshot (null when the cluster started empty). */
  snapshotState(): Uint8Array | null
  /** First start of a new cluster: record the initial membership as the index-0 snapshot. */
  bootstrap(conf: ConfState): Promise<void>
  /** True when this server has never held any Raft state (safe to bootstrap). */
  isEmpty(): boolean
  /**
   * Re-reads what the disk holds after a write failed part-way (a full disk), replacing whatever
   * the failed truncation, compaction or hard-state write left in memory; the driver rebuilds its
   * core on it, as a restart would.
   */
  reload(): Promise<void>
  close(): Promise<void>
}

export class FileRaftStorage implements DurableRaftStorage {
  #hard: HardState
  #snap: SnapshotMeta
  #state: Uint8Array | null
  private log: FileLogStore
  private stable: FileStableStore
  private snapshots: FileSnapshotStore

  private constructor(private readonly dir: string, files: {log: FileLogStore; stable: FileStableStore; snapshots: FileSnapshotStore}, loaded: {hard: HardState; snap: SnapshotMeta; state: Uint8Array | null}) {
    this.log = files.log
    this.stable = files.stable
    this.snapshots = files.snapshots
    this.#hard = loaded.hard
    this.#snap = loaded.snap
    this.#state = loaded.state
  }

  static async open(dir: string, onTornTail?: (bytes: number) => void): Promise<FileRaftStorage> {
    const stable = new FileStableStore(dir)
    const snapshots = new FileSnapshotStore(dir)
    const stored = stable.load()
    const hard: HardState = {term: stored.term, vote: stored.vote === '' ? null : stored.vote, commit: stored.commit}
    const file = snapshots.load()
    let snap: SnapshotMeta = {index: 0, term: 0, conf: {voters: [], learners: []}}
    let state: Uint8Array | null = null
    if (file) {
      const payload = decode(file.data) as SnapshotPayload
      snap = {index: file.meta.index, term: file.meta.term, conf: payload.conf}
      state = payload.state
    }
    // The log file is created before any hard state is written, so a server that has voted or
    // led (term > 0) without a log lost it: starting on an empty log would drop committed writes.
    const logPath = join(dir, LOG_FILE)
    if (stored.term > 0 && (!existsSync(logPath) || statSync(logPath).size === 0)) {
      throw new LogCorruptError(`${logPath}: ${existsSync(logPath) ? 'empty' : 'missing'}, but ${stable.path} shows this server in term ${stored.term}; its entries are gone (restore from a snapshot or another server)`)
    }
    const log = await FileLogStore.open(dir, snap.index, onTornTail)
    if (stored.commit > log.lastIndex()) {
      await log.close()
      throw new LogCorruptError(`${logPath}: ends at index ${log.lastIndex()}, but ${stable.path} records index ${stored.commit} as committed; committed entries are missing (restore from a snapshot or another server)`)
    }
    return new FileRaftStorage(dir, {log, stable, snapshots}, {hard, snap, state})
  }

  async reload(): Promise<void> {
    await this.log.close().catch(() => undefined)
    const fresh = await FileRaftStorage.open(this.dir)
    this.log = fresh.log
    this.stable = fresh.stable
    this.snapshots = fresh.snapshots
    this.#hard = fresh.#hard
    this.#snap = fresh.#snap
    this.#state = fresh.#state
  }

  hardState(): HardState {
    // Everything a snapshot covers is committed, even if the commit index on disk is older.
    return {...this.#hard, commit: Math.max(this.#hard.commit, this.#snap.index)}
  }

  snapshot(): SnapshotMeta {
    return this.#snap
  }

  firstIndex(): number {
    return this.#snap.index + 1
  }

  lastIndex(): number {
    return Math.max(this.#snap.index, this.log.lastIndex())
  }

  term(index: number): number | undefined {
    if (index === this.#snap.index) return this.#snap.term
    if (index < this.firstIndex() || index > this.lastIndex()) return undefined
    return this.log.entries(index, index)[0]?.term
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (const record of this.log.entries(lo, hi - 1)) {
      const entry = fromRecord(record)
      bytes += entrySize(entry)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(entry)
    }
    return out
  }

  snapshotState(): Uint8Array | null {
    return this.#state
  }

  isEmpty(): boolean {
    return this.#hard.term === 0 && this.lastIndex() === 0 && this.#snap.conf.voters.length === 0
  }

  async append(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return
    if (entries[0].index <= this.log.lastIndex()) await this.log.truncateFrom(entries[0].index)
    await this.log.append(entries.map(toRecord))
  }

  /**
   * Term and vote are written and fsync'd before the Ready's messages leave (a vote must never be
   * forgotten). A change of commit index alone is kept in memory: it is not needed for safety (a
   * restarted server re-learns it from the leader, Figure 2 marks it volatile), and writing it on
   * every batch would add an fsync to every write.
   */
  async saveHardState(hardState: HardState): Promise<void> {
    const durable = hardState.term !== this.#hard.term || hardState.vote !== this.#hard.vote
    if (durable) this.stable.save({term: hardState.term, vote: hardState.vote ?? '', commit: hardState.commit})
    this.#hard = {...hardState}
  }

  async installSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    this.#writeSnapshot(meta, state)
    await this.log.reset(meta.index)
    if (this.#hard.commit < meta.index) await this.saveHardState({...this.#hard, commit: meta.index})
  }

  async compact(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    if (meta.index <= this.#snap.index) return
    this.#writeSnapshot(meta, state)
    await this.log.compact(meta.index)
  }

  async bootstrap(conf: ConfState): Promise<void> {
    this.#writeSnapshot({index: 0, term: 0, conf}, null)
  }

  #writeSnapshot(meta: SnapshotMeta, state: Uint8Array | null): void {
    this.snapshots.save({index: meta.index, term: meta.term}, encode({conf: meta.conf, state} satisfies SnapshotPayload))
    this.#snap = {index: meta.index, term: meta.term, conf: {voters: [...meta.conf.voters], learners: [...meta.conf.learners]}}
    this.#state = state
  }

  close(): Promise<void> {
    return this.log.close()
  }
}

/** -dev: the same contract in memory, around the core's own MemoryRaftStorage. */
export class MemoryDurableStorage implements DurableRaftStorage {
  readonly #mem = new MemoryRaftStorage()
  #state: Uint8Array | null = null
  #bootstrapped = false

  hardState(): HardState { return this.#mem.hardState() }
  snapshot(): SnapshotMeta { return this.#mem.snapshot() }
  firstIndex(): number { return this.#mem.firstIndex() }
  lastIndex(): number { return this.#mem.lastIndex() }
  term(index: number): number | undefined { return this.#mem.term(index) }
  entries(lo: number, hi: number, maxBytes: number): Entry[] { return this.#mem.entries(lo, hi, maxBytes) }
  snapshotState(): Uint8Array | null { return this.#state }

  async append(entries: Entry[]): Promise<void> {
    this.#mem.append(entries)
  }

  async saveHardState(hardState: HardState): Promise<void> {
    this.#mem.setHardState(hardState)
  }

  async installSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    this.#mem.applySnapshot(meta)
    this.#state = state
  }

  async compact(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    this.#mem.compact(meta)
    this.#state = state
  }

  async bootstrap(conf: ConfState): Promise<void> {
    this.#mem.applySnapshot({index: 0, term: 0, conf})
    this.#bootstrapped = true
  }

  isEmpty(): boolean {
    return !this.#bootstrapped && this.#mem.hardState().term === 0 && this.#mem.lastIndex() === 0
  }

  async reload(): Promise<void> {}

  async close(): Promise<void> {}
}
