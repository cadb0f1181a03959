// A simulated disk for one node: what has been fsynced vs merely written. Writes land in the live
// view at once (a later read sees them, as with the page cache) and are queued; fsync makes the
// queue durable. A crash throws the queue away: the node restarts from exactly what was fsynced.
// The state-machine snapshot is written the way FileSnapshotStore does (temp file, fsync, rename),
// so it is durable as soon as it is saved, independently of the log.
import {MemoryRaftStorage} from '../../src/lib/raft/storage.js'
import type {ConfState, SnapshotMeta} from '../../src/lib/raft/types.js'

type Op = (storage: MemoryRaftStorage) => void

export class SimDisk {
  live: MemoryRaftStorage
  #synced: MemoryRaftStorage
  #pending: Op[] = []
  snapshot: {meta: SnapshotMeta; data: Uint8Array} | undefined
  stats = {fsyncs: 0, lostOps: 0}

  constructor(conf: ConfState) {
    this.#synced = new MemoryRaftStorage(conf)
    this.live = this.#synced.clone()
  }

  write(op: Op): void {
    op(this.live)
    this.#pending.push(op)
  }

  fsync(): void {
    for (const op of this.#pending) op(this.#synced)
    this.#pending = []
    this.stats.fsyncs++
  }

  saveSnapshot(meta: SnapshotMeta, data: Uint8Array): void {
    this.snapshot = {meta, data}
  }

  /** Power loss: unsynced writes vanish. */
  crash(): void {
    this.stats.lostOps += this.#pending.length
    this.#pending = []
    this.live = this.#synced.clone()
  }

  unsynced(): number {
    return this.#pending.length
  }
}
