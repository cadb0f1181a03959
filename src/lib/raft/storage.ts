// How the core reads the durable log (etcd's Storage idea). The core only READS through
// `RaftStorage`; the driver WRITES (append, hard state, snapshots) while handling a Ready, and tells
// the core through `advance`. `MemoryRaftStorage` is the in-memory twin used by tests and the
// simulation, and a model for the driver's file-backed adapter.
//
// Contract: the log is the snapshot (index, term) followed by contiguous entries
// firstIndex()..lastIndex(), where firstIndex() === snapshot().index + 1. Reads never block.
import {assert} from './assert.js'
import type {ConfState, Entry, HardState, SnapshotMeta} from './types.js'

export interface RaftStorage {
  /** Last saved hard state ({term: 0, vote: null, commit: 0} for a new node). */
  hardState(): HardState
  /** The latest snapshot's meta; {index: 0, term: 0, conf: <bootstrap membership>} for a new cluster. */
  snapshot(): SnapshotMeta
  firstIndex(): number
  lastIndex(): number
  /** Term of entry `index` for snapshot().index <= index <= lastIndex(); undefined outside that. */
  term(index: number): number | undefined
  /** Entries [lo, hi), at least one if lo < hi, then up to `maxBytes` in total (see entrySize). */
  entries(lo: number, hi: number, maxBytes: number): Entry[]
}

/** Bytes an entry counts for against maxSizePerMsgBytes (data plus a fixed header estimate). */
export function entrySize(entry: Entry): number {
  return entry.data.length + 24
}

export function emptyHardState(): HardState {
  return {term: 0, vote: null, commit: 0}
}

export class MemoryRaftStorage implements RaftStorage {
  #hard: HardState
  #snap: SnapshotMeta
  /** #entries[i] has index #snap.index + 1 + i. */
  #entries: Entry[] = []

  /** A fresh node of a cluster whose initial membership is `conf` (bootstrap), or empty. */
  constructor(conf: ConfState = {voters: [], learners: []}) {
    this.#hard = emptyHardState()
    this.#snap = {index: 0, term: 0, conf: copyConf(conf)}
  }

  hardState(): HardState {
    return {...this.#hard}
  }

  snapshot(): SnapshotMeta {
    return this.#snap
  }

  firstIndex(): number {
    return this.#snap.index + 1
  }

  lastIndex(): number {
    return this.#snap.index + this.#entries.length
  }

  term(index: number): number | undefined {
    if (index === this.#snap.index) return this.#snap.term
    return this.#entries[index - this.#snap.index - 1]?.term
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo >= this.firstIndex() && hi <= this.lastIndex() + 1, `entries [${lo}, ${hi}) outside [${this.firstIndex()}, ${this.lastIndex() + 1})`)
    const out: Entry[] = []
    let bytes = 0
    for (let i = lo; i < hi; i++) {
      const entry = this.#entries[i - this.#snap.index - 1]
      bytes += entrySize(entry)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(entry)
    }
    return out
  }

  // ---- writer side: called by the driver while handling a Ready (never by the core) ----

  setHardState(hardState: HardState): void {
    this.#hard = {...hardState}
  }

  /** Truncates any entries from entries[0].index on, then appends (Ready step 2). */
  append(entries: Entry[]): void {
    if (entries.length === 0) return
    const first = entries[0].index
    assert(first > this.#snap.index && first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()} or rewrites the snapshot at ${this.#snap.index}`)
    this.#entries.length = first - this.#snap.index - 1
    for (const entry of entries) this.#entries.push(entry)
  }

  /** Replaces the whole log with a received snapshot (Ready step 1). */
  applySnapshot(meta: SnapshotMeta): void {
    this.#snap = {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}
    this.#entries = []
    if (this.#hard.commit < meta.index) this.#hard = {...this.#hard, commit: meta.index}
  }

  /** Drops entries up to meta.index after the driver persisted a state snapshot with this meta. */
  compact(meta: SnapshotMeta): void {
    if (meta.index <= this.#snap.index) return
    assert(meta.index <= this.lastIndex() && this.term(meta.index) === meta.term, `compact to ${meta.index}@${meta.term} does not match the log`)
    this.#entries = this.#entries.slice(meta.index - this.#snap.index)
    this.#snap = {index: meta.index, term: meta.term, conf: copyConf(meta.conf)}
  }

  /** A deep-enough copy (entries are immutable) for simulating what survives a crash. */
  clone(): MemoryRaftStorage {
    const copy = new MemoryRaftStorage()
    copy.#hard = {...this.#hard}
    copy.#snap = this.#snap
    copy.#entries = this.#entries.slice()
    return copy
  }
}

export function copyConf(conf: ConfState): ConfState {
  return {voters: conf.voters.slice(), learners: conf.learners.slice()}
}
