// One simulated server: a RaftCore driven the way the real driver must drive it (the Ready order
// contract in src/lib/raft/types.ts), over a SimDisk, with a drifting clock and a KV state machine.
// Handling a Ready is split in two halves (write; then fsync, send, apply, advance) that may fall in
// different steps, so a crash can land after a write and before its fsync.
import {RaftCore} from '../../src/lib/raft/core.js'
import type {SeededRng} from '../../src/lib/rng.js'
import type {ConfState, Entry, Message, NodeId, ReadState, Ready} from '../../src/lib/raft/types.js'
import type {RaftConfig} from '../../src/lib/raft/config.js'
import {SimDisk} from './disk.js'
import {Kv} from './kv.js'

export interface NodeHooks {
  send(message: Message): void
  /** After entries were written (not yet fsynced) to this node's log. */
  persisted(node: SimNode, entries: Entry[]): void
  applied(node: SimNode, entry: Entry): void
  readState(node: SimNode, state: ReadState): void
  abortedRead(node: SimNode, requestId: string): void
}

export class SimNode {
  status: 'up' | 'paused' | 'down' = 'up'
  /** When a pause or an outage ends (real ms). */
  untilMs = 0
  core!: RaftCore
  kv = new Kv()
  readonly disk: SimDisk
  /** Messages that arrived while paused (the kernel buffers them for a SIGSTOPped process). */
  inbox: Message[] = []
  incarnation = 0
  #pending: Ready | undefined
  #snapshotsIn = new Map<string, Uint8Array>()

  constructor(
    readonly id: NodeId,
    conf: ConfState,
    readonly config: RaftConfig,
    /** Local clock = clockOffsetMs + clockRate × real time: a monotonic clock that drifts. */
    readonly clockRate: number,
    readonly clockOffsetMs: number,
    readonly rng: SeededRng,
    readonly hooks: NodeHooks,
    readonly snapshotEvery: number,
  ) {
    this.disk = new SimDisk(conf)
  }

  logTerm(index: number): number | undefined {
    return this.disk.live.term(index)
  }

  localNow(realMs: number): number {
    return this.clockOffsetMs + this.clockRate * realMs
  }

  /** Boot (or reboot) from what is on disk, the way the driver must recover. */
  start(realMs: number): void {
    this.incarnation++
    this.status = 'up'
    const storage = this.disk.live
    const snap = this.disk.snapshot
    // The snapshot file is written (and fsynced) before the log is compacted to it, so after a
    // crash the log may still hold what the snapshot covers, or a log older than a received snapshot.
    if (snap && snap.meta.index > storage.snapshot().index) {
      const meta = snap.meta
      if (storage.term(meta.index) === meta.term) this.disk.write((s) => s.compact(meta))
      else this.disk.write((s) => s.applySnapshot(meta))
      this.disk.fsync()
    }
    this.kv = snap ? Kv.restore(snap.data) : new Kv()
    this.core = new RaftCore({config: this.config, storage: this.disk.live, rng: this.rng.fork(), nowMs: this.localNow(realMs), applied: this.kv.applied})
  }

  crash(): void {
    this.status = 'down'
    this.disk.crash()
    this.#pending = undefined
    this.#snapshotsIn.clear()
    this.inbox = []
  }

  receive(message: Message, realMs: number): void {
    if (message.type === 'installSnapshot' && message.data) {
      this.#snapshotsIn.set(`${message.snapshot.index}@${message.snapshot.term}`, message.data)
    }
    this.core.step(message, this.localNow(realMs))
  }

  /** One Ready half per call: finish a written Ready, or take and write a new one. */
  processReady(split: boolean): void {
    if (this.#pending) {
      this.#finish(this.#pending)
      return
    }
    if (!this.core.hasReady()) return
    const rd = this.core.ready()
    this.#write(rd)
    if (split) this.#pending = rd
    else this.#finish(rd)
  }

  #write(rd: Ready): void {
    if (rd.snapshot) {
      const meta = rd.snapshot
      const data = this.#snapshotsIn.get(`${meta.index}@${meta.term}`)
      if (!data) throw new Error(`${this.id}: Ready names snapshot ${meta.index}@${meta.term} that never arrived`)
      this.kv = Kv.restore(data)
      if (this.kv.applied !== meta.index) throw new Error(`${this.id}: snapshot data at ${this.kv.applied} does not match meta ${meta.index}`)
      this.disk.saveSnapshot(meta, data)
      this.disk.write((s) => s.applySnapshot(meta))
    }
    if (rd.entries.length > 0) {
      const entries = rd.entries
      this.disk.write((s) => s.append(entries))
      this.hooks.persisted(this, entries)
    }
    if (rd.hardState) {
      const hs = rd.hardState
      this.disk.write((s) => s.setHardState(hs))
    }
  }

  #finish(rd: Ready): void {
    this.#pending = undefined
    if (rd.mustSync) this.disk.fsync()
    for (const m of rd.messages) {
      if (m.type === 'installSnapshot') {
        // The store keeps only the latest snapshot, which may be newer than the one named when
        // the message was built: sending the newer one (with its meta) is just as good.
        const snap = this.disk.snapshot
        if (!snap || snap.meta.index < m.snapshot.index) {
          throw new Error(`${this.id}: core names snapshot ${m.snapshot.index}@${m.snapshot.term} but the disk holds ${snap?.meta.index}`)
        }
        this.hooks.send({...m, snapshot: snap.meta, data: snap.data})
      } else {
        this.hooks.send(m)
      }
    }
    for (const entry of rd.committedEntries) {
      this.kv.apply(entry.index, entry.type === 'command' ? entry.data : undefined)
      this.hooks.applied(this, entry)
    }
    for (const rs of rd.readStates) this.hooks.readState(this, rs)
    for (const id of rd.abortedReads) this.hooks.abortedRead(this, id)
    this.core.advance(rd)
    this.#maybeSnapshot()
  }

  #maybeSnapshot(): void {
    const last = this.disk.snapshot?.meta.index ?? 0
    if (this.kv.applied - last < this.snapshotEvery) return
    const meta = this.core.snapshotMeta(this.kv.applied)
    if (!meta) return
    this.disk.saveSnapshot(meta, this.kv.serialize())
    this.disk.write((s) => s.compact(meta))
    this.core.compact(meta.index)
  }
}
