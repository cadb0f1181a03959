// The core's view of its log: what storage holds (durable) plus an "unstable" tail the core has
// accepted but the driver has not yet persisted (handed out in Ready.entries, made stable by
// advance). A received snapshot is unstable too until the driver restored it. Unstable entries
// shadow storage from `#offset` on: a truncation is visible here before it reaches the disk.
import {assert} from './assert.js'
import {entrySize, type RaftStorage} from './storage.js'
import type {Entry, SnapshotMeta} from './types.js'

export class RaftLog {
  #unstable: Entry[] = []
  /** Index of #unstable[0]. */
  #offset: number
  #pendingSnapshot: SnapshotMeta | undefined
  /** Highest index known committed (§5.3). Never decreases. */
  committed: number
  /** Highest index handed to the driver to apply (or covered by a restored snapshot). */
  applied: number

  constructor(readonly storage: RaftStorage, applied?: number) {
    this.#offset = storage.lastIndex() + 1
    const snapIndex = storage.snapshot().index
    // The hard state's commit is not fsynced on its own (Ready.mustSync), so it may lag what the
    // state machine already applied; anything applied was committed.
    this.applied = Math.max(applied ?? snapIndex, snapIndex)
    this.committed = Math.max(storage.hardState().commit, this.applied)
    assert(this.committed <= storage.lastIndex(), `commit ${this.committed} beyond last index ${storage.lastIndex()}`)
    assert(this.applied <= this.committed, `applied ${this.applied} beyond commit ${this.committed}`)
  }

  snapshotMeta(): SnapshotMeta {
    return this.#pendingSnapshot ?? this.storage.snapshot()
  }

  firstIndex(): number {
    return this.#pendingSnapshot ? this.#pendingSnapshot.index + 1 : this.storage.firstIndex()
  }

  lastIndex(): number {
    if (this.#unstable.length > 0) return this.#offset + this.#unstable.length - 1
    return this.#pendingSnapshot ? this.#pendingSnapshot.index : this.storage.lastIndex()
  }

  /** Term at `index`, or undefined if it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index > this.lastIndex() || index < 0) return undefined
    if (this.#unstable.length > 0 && index >= this.#offset) return this.#unstable[index - this.#offset].term
    const snap = this.snapshotMeta()
    if (index === snap.index) return snap.term
    if (index < snap.index || this.#pendingSnapshot) return undefined
    return this.storage.term(index)
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex())
    assert(term !== undefined, 'last entry has no term')
    return term
  }

  /** §5.4.1: is a log ending at (index, term) at least as up to date as ours? */
  isUpToDate(index: number, term: number): boolean {
    const ourTerm = this.lastTerm()
    return term > ourTerm || (term === ourTerm && index >= this.lastIndex())
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** Entries from `lo` to the end, up to maxBytes (at least one); undefined if lo is compacted. */
  entriesFrom(lo: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined
    return this.slice(lo, this.lastIndex() + 1, maxBytes)
  }

  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo >= this.firstIndex() && hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) out of range`)
    let out: Entry[] = []
    const stableHi = Math.min(hi, this.#offset)
    if (lo < stableHi) {
      out = this.storage.entries(lo, stableHi, maxBytes)
      if (out.length < stableHi - lo) return out
    }
    let bytes = out.reduce((sum, e) => sum + entrySize(e), 0)
    for (let i = Math.max(lo, this.#offset); i < hi; i++) {
      const entry = this.#unstable[i - this.#offset]
      bytes += entrySize(entry)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(entry)
    }
    return out
  }

  /** Appends after truncating anything from entries[0].index on. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return
    const first = entries[0].index
    assert(first > this.committed, `append at ${first} would overwrite committed entry ${this.committed} (§5.4 leader completeness)`)
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`)
    if (first === this.#offset + this.#unstable.length) {
      for (const e of entries) this.#unstable.push(e)
    } else if (first <= this.#offset) {
      this.#offset = first
      this.#unstable = entries.slice()
    } else {
      this.#unstable = this.#unstable.slice(0, first - this.#offset).concat(entries)
    }
  }

  /**
   * The follower side of AppendEntries (§5.3): if we hold (prevIndex, prevTerm), append what is new,
   * truncating from the first conflicting entry, and learn the commit index. Returns the index of
   * the last entry the leader sent and the entries actually written, or undefined on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: Entry[]): {lastNew: number; written: Entry[]} | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNew = prevIndex + entries.length
    let written: Entry[] = []
    for (let i = 0; i < entries.length; i++) {
      if (this.term(entries[i].index) !== entries[i].term) {
        written = entries.slice(i)
        this.append(written)
        break
      }
    }
    this.commitTo(Math.min(commit, lastNew))
    return {lastNew, written}
  }

  /** Largest index <= `index` whose term <= `term` (or that is compacted): fast backtracking. */
  findConflictByTerm(index: number, term: number): number {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i)
      if (t === undefined || t <= term) return i
    }
    return 0
  }

  commitTo(index: number): void {
    if (index <= this.committed) return
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`)
    this.committed = index
  }

  /**
   * Adopt a leader's snapshot (§7), or on a leader an operator's restore (RaftCore.installLocalSnapshot):
   * the log restarts after it, everything in it is committed.
   */
  restore(snapshot: SnapshotMeta): void {
    assert(snapshot.index > this.committed, `snapshot ${snapshot.index} is not beyond commit ${this.committed}`)
    this.#pendingSnapshot = snapshot
    this.#unstable = []
    this.#offset = snapshot.index + 1
    this.committed = snapshot.index
  }

  hasUnstable(): boolean {
    return this.#unstable.length > 0
  }

  unstableEntries(): Entry[] {
    return this.#unstable.slice()
  }

  pendingSnapshot(): SnapshotMeta | undefined {
    return this.#pendingSnapshot
  }

  /** The driver persisted entries up to (index, term): drop them from the unstable tail. */
  stableTo(index: number, term: number): void {
    if (index < this.#offset || this.term(index) !== term) return // overwritten since
    this.#unstable = this.#unstable.slice(index + 1 - this.#offset)
    this.#offset = index + 1
  }

  stableSnapshotTo(index: number): void {
    if (this.#pendingSnapshot?.index !== index) return
    this.#pendingSnapshot = undefined
    this.applied = Math.max(this.applied, index)
  }

  /** Last index known durable on this node (the leader counts itself in quorums only up to here). */
  persistedLastIndex(): number {
    if (this.#pendingSnapshot) return 0 // a follower never counts itself; a leader's restore counts once persisted
    return this.#unstable.length > 0 ? this.#offset - 1 : this.lastIndex()
  }

  hasNextCommitted(): boolean {
    return !this.#pendingSnapshot && this.committed > this.applied
  }

  nextCommitted(maxBytes: number): Entry[] {
    if (!this.hasNextCommitted()) return []
    return this.slice(this.applied + 1, this.committed + 1, maxBytes)
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, `applied ${index} beyond commit ${this.committed}`)
    this.applied = Math.max(this.applied, index)
  }
}
