// RaftStorage on disk: the core reads the log through it; the driver writes through it while
// handling a Ready (types.ts, Ready's order contract). Three files in <data-dir>/raft:
//   log.dat        entries (FileLogStore; the entry type rides in the first byte of each record)
//   hardstate.dat  term, vote, commit (FileStableStore; fsync'd before any message relies on it)
//   snapshot.dat   the latest state-machine snapshot with its meta and membership
// `MemoryDurableStorage` is the in-memory twin for -dev agents: the same writer contract, no disk.
import {existsSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {FileLogStore, LOG_FILE, LogCorruptError, type LogEntry} from './log-store.js'
import {FileSnapshotStore, parseSnapshotFile, snapshotFileBytes, type SnapshotImage, type SnapshotImageSink} from './snapshot-store.js'
import {FileStableStore} from './stable-store.js'
import {entrySize, MemoryRaftStorage, type RaftStorage} from './storage.js'
import type {ConfState, Entry, EntryType, HardState, SnapshotMeta} from './types.js'

function copyConf(conf: ConfState): ConfState {
  return {voters: [...conf.voters], learners: [...conf.learners]}
}

const entryTypes: EntryType[] = ['command', 'noop', 'conf']

function toRecord(entry: Entry): LogEntry {
  // From Node's buffer pool: a fresh ArrayBuffer per entry cost about as much as the rest of this
  // function (entries live until the log is compacted, in order, so pooled slabs are freed together).
  const data = Buffer.allocUnsafe(entry.data.length + 1)
  data[0] = entryTypes.indexOf(entry.type)
  data.set(entry.data, 1)
  return {index: entry.index, term: entry.term, data}
}

function fromRecord(record: LogEntry): Entry {
  const type = entryTypes[record.data[0]]
  if (!type) throw new Error(`log entry ${record.index} has unknown type ${record.data[0]}`)
  return {index: record.index, term: record.term, type, data: record.data.subarray(1)}
}

/** The writer side the Raft driver uses; reads come through RaftStorage. */
export interface DurableRaftStorage extends RaftStorage {
  /** Truncates any conflicting suffix from entries[0].index on, appends, and fsyncs. */
  append(entries: Entry[]): Promise<void>
  saveHardState(hardState: HardState): Promise<void>
  /** Replaces the log with a snapshot received from the leader (state bytes included). */
  installSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void>
  /**
   * Writes a local state snapshot taken at meta.index, consuming `chunks` as it goes, and makes it
   * durable; it does not yet count as the snapshot (compact does that). Runs beside append and the
   * other writers (the driver does not wait for it in its Ready loop). False when a snapshot at or
   * past meta.index was installed meanwhile (this one is then dropped).
   */
  writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<boolean>
  /** After writeSnapshot(meta) returned true: it becomes the snapshot, and the entries it covers go. */
  compact(meta: SnapshotMeta): Promise<void>
  /**
   * An operator's restore (RaftCore.restoreMeta): writes the restored state under `meta` as
   * writeSnapshot does, durably, but aside: it is not the snapshot until adoptStaged.
   */
  stageSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void>
  /** The staged restore becomes the snapshot and the log restarts after it (Ready step 1 on the leader). */
  adoptStaged(meta: SnapshotMeta): Promise<void>
  /** A staged restore the core refused: removed. */
  dropStaged(): void
  /** The state bytes of the latest snapshot (null when the cluster started empty). */
  snapshotState(): Uint8Array | null
  /**
   * The newest durable snapshot as its file's bytes, read by offset, for a follower behind the log
   * (streamed to it in chunks: server/snapshot-transfer.ts); undefined when none holds a state.
   */
  openSnapshotImage(): Promise<SnapshotImage | undefined>
  /**
   * Receives a snapshot file streamed from the leader, in order; its `finish` checks it is whole and
   * makes it the staged snapshot (adoptStaged / dropStaged), returning what it holds.
   */
  receiveSnapshotImage(): Promise<SnapshotImageSink>
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
  /** The snapshot's state as read at open, handed out once (the driver's restore at start), then dropped. */
  #openedState: Uint8Array | null | undefined
  /** Index of the snapshot on disk (written, maybe not yet compacted to): a streamed one older than it is dropped. */
  #durableIndex: number
  private log: FileLogStore
  private stable: FileStableStore
  private snapshots: FileSnapshotStore

  private constructor(private readonly dir: string, files: {log: FileLogStore; stable: FileStableStore; snapshots: FileSnapshotStore}, loaded: {hard: HardState; snap: SnapshotMeta; state: Uint8Array | null}) {
    this.log = files.log
    this.stable = files.stable
    this.snapshots = files.snapshots
    this.#hard = loaded.hard
    this.#snap = loaded.snap
    this.#openedState = loaded.state
    this.#durableIndex = loaded.snap.index
  }

  static async open(dir: string, onTornTail?: (bytes: number) => void): Promise<FileRaftStorage> {
    const stable = new FileStableStore(dir)
    const snapshots = new FileSnapshotStore(dir)
    // A restore staged but never adopted (a crash in between) did not happen; a snapshot being
    // received from the leader starts over.
    snapshots.dropStaged()
    rmSync(snapshots.receivingPath, {force: true})
    const stored = stable.load()
    const hard: HardState = {term: stored.term, vote: stored.vote === '' ? null : stored.vote, commit: stored.commit}
    const file = snapshots.load()
    let snap: SnapshotMeta = {index: 0, term: 0, conf: {voters: [], learners: []}}
    let state: Uint8Array | null = null
    if (file) {
      snap = {index: file.meta.index, term: file.meta.term, conf: file.conf}
      state = file.state
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
    this.#openedState = fresh.#openedState
    this.#durableIndex = fresh.#durableIndex
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
    return this.log.termAt(index)
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (const record of this.log.entries(lo, hi - 1, maxBytes)) {
      const entry = fromRecord(record)
      bytes += entrySize(entry)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(entry)
    }
    return out
  }

  /**
   * Read from the file when asked rather than kept in memory (followers are sent the file itself):
   * at a million keys the state is hundreds of MB.
   */
  snapshotState(): Uint8Array | null {
    if (this.#openedState !== undefined) {
      const state = this.#openedState
      this.#openedState = undefined
      return state
    }
    return this.snapshots.load()?.state ?? null
  }

  isEmpty(): boolean {
    return this.#hard.term === 0 && this.lastIndex() === 0 && this.#snap.conf.voters.length === 0
  }

  openSnapshotImage(): Promise<SnapshotImage | undefined> {
    return this.snapshots.openImage()
  }

  receiveSnapshotImage(): Promise<SnapshotImageSink> {
    return this.snapshots.receiveImage()
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
    // First: a background snapshot finishing meanwhile must not rename its older file over this one.
    this.#durableIndex = Math.max(this.#durableIndex, meta.index)
    await this.snapshots.install({index: meta.index, term: meta.term}, meta.conf, state)
    this.#snap = {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}
    this.#openedState = undefined
    await this.log.reset(meta.index)
    if (this.#hard.commit < meta.index) await this.saveHardState({...this.#hard, commit: meta.index})
  }

  async writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<boolean> {
    if (meta.index <= this.#durableIndex) return false
    const written = await this.snapshots.write(meta, meta.conf, chunks, () => meta.index > this.#durableIndex)
    if (written) this.#durableIndex = meta.index
    return written
  }

  async compact(meta: SnapshotMeta): Promise<void> {
    if (meta.index <= this.#snap.index || meta.index !== this.#durableIndex) return
    this.#snap = {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}
    this.#openedState = undefined
    await this.log.compact(meta.index)
  }

  async stageSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void> {
    await this.snapshots.stage(meta, meta.conf, chunks)
  }

  async adoptStaged(meta: SnapshotMeta): Promise<void> {
    this.#durableIndex = Math.max(this.#durableIndex, meta.index)
    this.snapshots.adoptStaged()
    this.#snap = {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}
    this.#durableIndex = meta.index
    this.#openedState = undefined
    await this.log.reset(meta.index)
    if (this.#hard.commit < meta.index) await this.saveHardState({...this.#hard, commit: meta.index})
  }

  dropStaged(): void {
    this.snapshots.dropStaged()
  }

  async bootstrap(conf: ConfState): Promise<void> {
    this.#writeSnapshot({index: 0, term: 0, conf}, null)
  }

  #writeSnapshot(meta: SnapshotMeta, state: Uint8Array | null): void {
    this.snapshots.save({index: meta.index, term: meta.term}, meta.conf, state)
    this.#snap = {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}
    this.#durableIndex = meta.index
    this.#openedState = undefined
  }

  close(): Promise<void> {
    return this.log.close()
  }
}

/** -dev: the same contract in memory, around the core's own MemoryRaftStorage. */
export class MemoryDurableStorage implements DurableRaftStorage {
  readonly #mem = new MemoryRaftStorage()
  #state: Uint8Array | null = null
  /** The snapshot writeSnapshot made, until compact adopts it. */
  #written: {index: number; state: Uint8Array} | undefined
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
    this.#written = undefined
  }

  async writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<boolean> {
    if (meta.index <= this.#mem.snapshot().index) return false
    this.#written = {index: meta.index, state: concatChunks(chunks)}
    return true
  }

  async compact(meta: SnapshotMeta): Promise<void> {
    const written = this.#written
    if (!written || written.index !== meta.index || meta.index <= this.#mem.snapshot().index) return
    this.#mem.compact(meta)
    this.#state = written.state
    this.#written = undefined
  }

  /** The restore staged by stageSnapshot, until adoptStaged or dropStaged. */
  #staged: {index: number; state: Uint8Array} | undefined

  async stageSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void> {
    this.#staged = {index: meta.index, state: concatChunks(chunks)}
  }

  async adoptStaged(meta: SnapshotMeta): Promise<void> {
    const staged = this.#staged
    if (staged?.index !== meta.index) throw new Error(`no restore staged at index ${meta.index}`)
    this.#staged = undefined
    await this.installSnapshot(meta, staged.state)
  }

  dropStaged(): void {
    this.#staged = undefined
  }

  async openSnapshotImage(): Promise<SnapshotImage | undefined> {
    if (!this.#state) return undefined
    const meta = this.#mem.snapshot()
    const bytes = snapshotFileBytes(meta, meta.conf, this.#state)
    return {meta: {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}, size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length), close: async () => {}}
  }

  async receiveSnapshotImage(): Promise<SnapshotImageSink> {
    const parts: Uint8Array[] = []
    let received = 0
    return {
      // eslint-disable-next-line no-restricted-syntax -- one object per snapshot transfer, not per request
      get received() { return received },
      write: async (bytes) => {
        parts.push(Uint8Array.from(bytes))
        received += bytes.length
      },
      finish: async () => {
        const stored = parseSnapshotFile('received snapshot', Buffer.from(concatChunks(parts)))
        this.#staged = {index: stored.meta.index, state: stored.state ?? new Uint8Array(0)}
        return {...stored, stateBytes: stored.state?.length ?? 0}
      },
      discard: async () => { parts.length = 0 },
    }
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

function concatChunks(chunks: Iterable<Uint8Array>): Uint8Array {
  const parts = [...chunks]
  const state = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let at = 0
  for (const part of parts) {
    state.set(part, at)
    at += part.length
  }
  return state
}
