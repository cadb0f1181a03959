// One simulated server of the driver simulation: the real RaftDriver, ReadBarrier, LeaderHold and
// MembershipReconciler (src/lib/server) over in-memory storage, a simulated RPC endpoint and a drifting simulated clock,
// with the simulation's KV as the state machine. A kill loses everything volatile (driver, state
// machine, pending timers, writes not yet fsynced) and keeps what the storage holds; a restart
// builds a new driver on it, as a restarted agent does.
import {MemoryDurableStorage} from '../../src/lib/raft/file-storage.js'
import type {SnapshotImageSink} from '../../src/lib/raft/snapshot-store.js'
import type {RaftConfig} from '../../src/lib/raft/config.js'
import type {Entry, HardState, NodeId, SnapshotMeta} from '../../src/lib/raft/types.js'
import type {SeededRng} from '../../src/lib/rng.js'
import {LogHub} from '../../src/lib/logger.js'
import type {ReplicatedState} from '../../src/lib/server/driver-ports.js'
import {LeaderHold} from '../../src/lib/server/leader-hold.js'
import {MembershipReconciler} from '../../src/lib/server/membership.js'
import {RaftDriver} from '../../src/lib/server/raft-driver.js'
import {ReadBarrier} from '../../src/lib/server/read-barrier.js'
import type {CheckedNode} from './checker.js'
import {NodeClock, type SimScheduler} from './driver-clock.js'
import type {SimEndpoint, SimRpc} from './driver-net.js'
import {decodeKv, encodeKv, Kv, type KvCommand} from './kv.js'

/** The simulation's KV behind the driver's state-machine interface. */
class KvState implements ReplicatedState<KvCommand, void> {
  kv = new Kv()

  apply(index: number, command: KvCommand): void {
    this.kv.apply(index, encodeKv(command))
  }

  snapshotChunks(): Iterable<Uint8Array> {
    return [this.kv.serialize()]
  }

  restore(bytes: Uint8Array): void {
    this.kv = Kv.restore(bytes)
  }

  *prepareRestore(bytes: Uint8Array, index?: number): Generator<void, {chunks: () => Iterable<Uint8Array>; install: () => void}> {
    // One step of nothing first, so the simulation runs the driver's step loop with a yield in it.
    yield
    const kv = Kv.restore(bytes)
    if (index !== undefined) kv.applied = index
    return {chunks: () => [kv.serialize()], install: () => { this.kv = kv }}
  }
}

export const kvCodec = {encode: encodeKv, decode: decodeKv}

export interface DriverNodeHooks {
  /** Entries were written to this node's log (log matching is checked on them). */
  persisted(node: DriverNode, entries: Entry[]): void
  /** The driver applied an entry (state machine safety is checked on it). */
  applied(node: DriverNode, entry: Entry): void
  /** Anything that must fail the run: a checker's verdict, an error the driver logged. */
  fail(error: unknown): void
}

/**
 * The storage a node keeps across kills. Each write takes a simulated fsync time first and lands
 * only when that is over: a kill before then loses it, as an unacknowledged write to a disk is lost.
 */
class SimStorage extends MemoryDurableStorage {
  clock: NodeClock | undefined
  installs = 0
  compactions = 0

  constructor(readonly node: DriverNode, readonly rng: SeededRng, readonly fsyncMs: number) {
    super()
  }

  async #fsync(): Promise<void> {
    const clock = this.clock
    if (!clock || this.fsyncMs <= 0) return
    await new Promise<void>((resolve) => clock.after(this.rng.next() * this.fsyncMs, resolve))
  }

  override async append(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return
    await this.#fsync()
    await super.append(entries)
    this.node.hooks.persisted(this.node, entries)
  }

  override async saveHardState(hardState: HardState): Promise<void> {
    await this.#fsync()
    await super.saveHardState(hardState)
  }

  override async installSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    await this.#fsync()
    await super.installSnapshot(meta, state)
    this.installs++
  }

  override async writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<boolean> {
    await this.#fsync()
    return super.writeSnapshot(meta, chunks)
  }

  /** Snapshot files received from a leader: transfers begun, and the chunks written into them. */
  receives = 0
  chunksReceived = 0
  receivedBytes = 0

  override async receiveSnapshotImage(): Promise<SnapshotImageSink> {
    const sink = await super.receiveSnapshotImage()
    this.receives++
    return {
      get received() { return sink.received },
      write: async (bytes) => {
        this.chunksReceived++
        this.receivedBytes += bytes.length
        await sink.write(bytes)
      },
      finish: async () => {
        await this.#fsync()
        return await sink.finish()
      },
      discard: () => sink.discard(),
    }
  }

  override async compact(meta: SnapshotMeta): Promise<void> {
    await this.#fsync()
    await super.compact(meta)
    this.compactions++
  }
}

export interface DriverNodeOptions {
  id: NodeId
  peers: NodeId[]
  config: Partial<RaftConfig>
  scheduler: SimScheduler
  rpc: SimRpc
  rng: SeededRng
  /** Local clock = offset + rate × simulated time. */
  clockRate: number
  clockOffsetMs: number
  fsyncMs: number
  snapshotThreshold: number
  /** Snapshots go to followers in chunks of this many bytes (RaftDriverOptions.snapshotChunkBytes). */
  snapshotChunkBytes?: number
  requestTimeoutMs: number
  holdMs: number
  /** The hold's wait cap for the request being run (LeaderHoldOptions.waitCapMs); none by default. */
  waitCapMs?: () => number | undefined
  hooks: DriverNodeHooks
}

export class DriverNode implements CheckedNode {
  status: 'up' | 'paused' | 'down' = 'down'
  /** When a pause or an outage ends (simulated ms). */
  untilMs = 0
  incarnation = 0
  driver!: RaftDriver<KvCommand, void>
  barrier!: ReadBarrier
  hold!: LeaderHold
  membership!: MembershipReconciler
  clock!: NodeClock
  endpoint!: SimEndpoint
  readonly storage: SimStorage
  #state = new KvState()

  constructor(readonly opts: DriverNodeOptions) {
    this.storage = new SimStorage(this, opts.rng.fork(), opts.fsyncMs)
  }

  get id(): NodeId {
    return this.opts.id
  }

  get hooks(): DriverNodeHooks {
    return this.opts.hooks
  }

  get core() {
    return this.driver.core
  }

  get kv(): Kv {
    return this.#state.kv
  }

  logTerm(index: number): number | undefined {
    return this.storage.term(index)
  }

  /** Boots (or reboots) a driver from what the storage holds. */
  start(): void {
    const {opts} = this
    this.incarnation++
    this.status = 'up'
    this.clock = new NodeClock(opts.scheduler, opts.clockRate, opts.clockOffsetMs)
    this.storage.clock = this.clock
    this.endpoint = opts.rpc.attach(opts.id, this.clock)
    this.#state = new KvState()
    // Errors the driver logs (a failed Ready) fail the run; the rest is not printed.
    const logger = new LogHub('error', (line) => opts.hooks.fail(new Error(`${opts.id} logged: ${line}`))).logger(opts.id)
    this.driver = new RaftDriver({
      id: opts.id, address: opts.id, state: this.#state, codec: kvCodec, storage: this.storage, transport: this.endpoint,
      logger, raft: opts.config, snapshotThreshold: opts.snapshotThreshold, snapshotChunkBytes: opts.snapshotChunkBytes, requestTimeoutMs: opts.requestTimeoutMs,
      seed: opts.rng.int(0, 2 ** 32), clock: this.clock,
    })
    for (const peer of opts.peers) this.driver.addresses.set(peer, peer)
    this.hold = new LeaderHold({holdMs: opts.holdMs, clock: this.clock, waitCapMs: opts.waitCapMs, onEpisode: () => {}})
    this.driver.progress.on(() => { if (!this.driver.closed) this.hold.note(this.driver.leaderView()) })
    this.barrier = new ReadBarrier(this.driver as RaftDriver<unknown, unknown>, this.hold, this.endpoint)
    const incarnation = this.incarnation
    this.driver.entryApplied.on((entry) => {
      if (this.incarnation === incarnation) opts.hooks.applied(this, entry)
    })
    // Every server hears of every other (as retry-join or gossip would tell it); the leader adds
    // those outside the configuration as learners and promotes them once caught up.
    this.membership = new MembershipReconciler(this.driver as RaftDriver<unknown, unknown>, logger)
    for (const peer of opts.peers) this.membership.noteServer(peer)
    this.driver.start(false)
    this.membership.start()
  }

  /** The process dies: timers, memory and unsynced writes are gone; storage stays. */
  kill(): void {
    this.status = 'down'
    this.clock.kill()
    this.opts.rpc.detach(this.id)
  }

  pause(): void {
    this.status = 'paused'
    this.clock.pause()
  }

  resume(): void {
    this.status = 'up'
    this.clock.resume()
  }
}
