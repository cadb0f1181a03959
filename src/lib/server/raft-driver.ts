// The Raft driver: runs the pure RaftCore against a clock, storage and a transport, and applies
// committed commands to the state machine. It alone awaits; the core only decides (ARCHITECTURE.md,
// house rule 1). Everything it touches comes in through interfaces (driver-ports.ts, clock.ts), so
// the agent runs it on the system clock, files and the RPC port, and the driver simulation
// (test/sim/driver-*.ts) runs the very same code on simulated time, memory and an in-memory network.
//
// The Ready loop follows the order written on `Ready` (raft/types.ts): restore a received
// snapshot → append entries and save the hard state (fsync'd) → send messages → apply committed
// entries and hand out read states → advance. One loop runs at a time; inputs that arrive while it
// awaits the disk pile up in the core and leave in the next Ready, which is the group commit: many
// client writes share one append and one fsync.
//
// What the driver tells the pieces around it, as events (signal.ts): `progress` after every tick,
// message and Ready (the leader, role or commit may have moved), `applied` when the applied index
// moved, `reads` with the read states a Ready carried, `idle` when the loop stops running.
import {RaftCore} from '../raft/core.js'
import {defaultRaftConfig, type RaftConfig} from '../raft/config.js'
import {SeededRng} from '../rng.js'
import type {DurableRaftStorage} from '../raft/file-storage.js'
import type {ConfChange, ConfState, Entry, Message, NodeId, ProposeResult, Ready, ReadState, SnapshotMeta} from '../raft/types.js'
import type {Logger} from '../logger.js'
import {systemClock, waitFor, type Clock, type Timer} from '../clock.js'
import {Signal} from '../signal.js'
import {CoordError} from '../errors.js'
import type {CommandCodec, PeerTransport, RaftMetricsSink, ReplicatedState} from './driver-ports.js'
import {diskFullReason, errnoOf, MAX_STORAGE_RETRIES, storageRetryDelayMs} from './storage-fault.js'
import type {HandedBytes, StepWait} from '../handed-bytes.js'
import {DEFAULT_SNAPSHOT_CHUNK_BYTES, MIN_SNAPSHOT_CHUNK_BYTES, SNAPSHOT_CHUNK_METHOD, SnapshotReceiver, SnapshotSender, type ReceivedSnapshot} from './snapshot-transfer.js'

export interface RaftDriverOptions<C, R> {
  id: NodeId
  /** This server's address as peers reach it (host:port on the RPC port). */
  address: string
  state: ReplicatedState<C, R>
  codec: CommandCodec<C>
  storage: DurableRaftStorage
  transport: PeerTransport
  logger: Logger
  raft?: Partial<RaftConfig>
  /** Take a state snapshot and compact the log every this many applied entries. */
  snapshotThreshold: number
  /** ...or once the entries applied since the last snapshot hold this many bytes (default SNAPSHOT_MAX_BYTES). */
  snapshotMaxBytes?: number
  /** Give up on a write that has not committed in this long (its outcome is then unknown). */
  requestTimeoutMs?: number
  /** Seeds the core's election jitter (the agent derives one from its ID and start time). */
  seed: number
  clock?: Clock
  /** Called when this server gains or loses leadership (session timers, tombstone GC). */
  onLeadershipChange?: (leader: boolean) => void
  /** Raft metrics (consul.raft.*); none by default. */
  metrics?: RaftMetricsSink
  /**
   * A snapshot goes to a follower in chunks of this many bytes (snapshot-transfer.ts; default
   * DEFAULT_SNAPSHOT_CHUNK_BYTES, at least MIN_SNAPSHOT_CHUNK_BYTES): well under the transport's
   * frame bound, so a snapshot of any size reaches a follower.
   */
  snapshotChunkBytes?: number
  /**
   * Storage failed in a way this server cannot carry on from in place (a failed fsync, a snapshot
   * restored but not stored): the agent stops, as hashicorp/raft panics. Without it the driver
   * only stops serving.
   */
  onFatal?: (error: Error) => void
}

const NO_METRICS: RaftMetricsSink = {counter: () => {}, sample: () => {}, gauge: () => {}}
/**
 * The keys reported per write or per message, as constants: a sink may resolve each one's series
 * once by the key's identity (server-role.ts) instead of joining the name on every value.
 */
const KEYS = {
  apply: ['raft', 'apply'], commitTime: ['raft', 'commitTime'], dispatchLog: ['raft', 'leader', 'dispatchLog'],
  fsmApply: ['raft', 'fsm', 'apply'], appendEntries: ['raft', 'rpc', 'appendEntries'], requestVote: ['raft', 'rpc', 'requestVote'],
  lastContact: ['raft', 'leader', 'lastContact'], lastIndex: ['raft', 'last_index'], commitIndex: ['raft', 'commit_index'],
} as const satisfies Record<string, readonly string[]>
/** Default byte bound on the log between snapshots, whatever the entry count: 64 MiB. */
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024
/** How long close() waits for a snapshot being written in the background. */
const CLOSE_SNAPSHOT_WAIT_MS = 5_000

/** A restore's decode and a round's applies run in slices of about this long (then the event loop runs); a decode at most this many steps each. */
const STEP_SLICE_MS = 10
const STEPS_PER_SLICE_MAX = 64
/** Committed entries are applied in slices of about STEP_SLICE_MS, at most this many entries each. */
const APPLY_ENTRIES_PER_SLICE_MAX = 1024
/** How long an installed restore waits for a quorum of servers to hold it before its answer says so. */
const RESTORE_QUORUM_WAIT_MS = 60_000
/** A received snapshot's state is staged on disk in writes of this size (each lets the event loop run). */
const STAGE_WRITE_BYTES = 1 << 20

/** How often the leader samples each follower's last contact and the index gauges are set. */
const METRICS_SAMPLE_MS = 1000

/** Every error a write gets when it provably did not and will not take effect ends with this. */
export const NOT_APPLIED = 'the write was not applied'

/** A write the leader refused before appending it, or whose entry another leader's replaced. */
export class WriteNotAppliedError extends CoordError {
  static readonly CODE = 'WRITE_NOT_APPLIED'
  constructor(why: string) {
    super(WriteNotAppliedError.CODE, `${why}: ${NOT_APPLIED}`, {httpStatus: 500})
  }
}

/** The state machine could not use a restore's bytes (ReplicatedState.prepareRestore threw): nothing changed. */
export class RestoreStateError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'RestoreStateError'
  }
}

/** Rejects what the driver still owes when it stops. */
export class ShuttingDownError extends Error {
  constructor(message = 'agent is shutting down') {
    super(message)
  }
}

/** A write accepted by propose() and not yet handed to the core (it goes with the next Ready round). */
interface QueuedProposal<C, R> {
  data: Uint8Array
  /** The command `data` decodes to, when the proposer had it decoded already (applied as it is). */
  command?: C
  resolve: (proposal: {index: number; result: R}) => void
  reject: (error: Error) => void
}

/** The proposals handed to the core together: one log append, one AppendEntries per follower, one timer. */
interface ProposalBatch {
  term: number
  /** When the leader appended them (driver clock): consul.raft.commitTime, as hashicorp/raft dates a dispatched batch. */
  at: number
  /** Proposals of the batch still waiting for their entry. */
  waiting: number
  timer: Timer
}

interface PendingProposal<C, R> {
  batch: ProposalBatch
  command?: C
  resolve: (proposal: {index: number; result: R}) => void
  reject: (error: Error) => void
}

interface PendingRestore {
  meta: SnapshotMeta
  install: () => void
  /** The core took it (installLocalSnapshot): the next Ready names it. */
  started: boolean
  resolve: () => void
  reject: (error: Error) => void
}

/** A snapshot received from the leader (RaftDriver #prepareIncoming). */
interface IncomingSnapshot {
  meta: SnapshotMeta
  /** Swaps the prepared state in; set once it is decoded and staged. */
  install?: () => void
  /** Its InstallSnapshot was stepped into the core: the next Ready restores it, or it is dropped. */
  stepped: boolean
}

/** `bytes` as views of at most `size` bytes each. */
function* sliced(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

/** What travels on the wire for Raft: the message plus the sender's address (an address book). */
export interface RaftEnvelope {
  raft: Message
  fromAddress: string
}

/** How long bootstrap() and close() wait for a running Ready loop to finish its round. */
const BOOTSTRAP_IDLE_WAIT_MS = 2_500
const CLOSE_IDLE_WAIT_MS = 5_000
/** How long a fatal storage failure waits before stopping the agent (answers to refused writes leave). */
const FATAL_ANSWER_GRACE_MS = 200

export class RaftDriver<C, R> {
  #core: RaftCore
  readonly config: RaftConfig
  readonly clock: Clock
  /** Where each server ID is reached; learned from discovery and from every message received. */
  readonly addresses = new Map<NodeId, string>()
  /** After every tick, message and Ready: the leader, role or commit may have moved. */
  readonly progress = new Signal()
  /** The applied index moved (its new value). */
  readonly applied = new Signal<number>()
  /** Each committed entry as it is applied (after the state machine saw it). */
  readonly entryApplied = new Signal<Entry>()
  /** Read states and aborted read requests of one Ready, in that order. */
  readonly reads = new Signal<{states: ReadState[]; aborted: string[]}>()
  /** The Ready loop stopped running. */
  readonly idle = new Signal()
  #applied: number
  #driving = false
  #again = false
  #closed = false
  #ticker: Timer | undefined
  #metricsTimer: Timer | undefined
  readonly #metrics: RaftMetricsSink
  /** The role last reported (consul.raft.state.<role> counts transitions). */
  #lastRole = 'follower'
  /** When a message from each peer last arrived (driver clock): the leader's lastContact. */
  readonly #heardAt = new Map<NodeId, number>()
  #wasLeader = false
  #proposals = new Map<number, PendingProposal<C, R>>()
  /** Reads asked for since the last Ready round began; the next round starts one ReadIndex round for them. */
  #queuedReads: string[] = []
  /** ReadIndex rounds in flight → the reads each carries. */
  readonly #readBatches = new Map<string, string[]>()
  #readRounds = 0
  /** Writes proposed since the last Ready round began; the next round proposes them as one batch. */
  #queued: QueuedProposal<C, R>[] = []
  /** A snapshot received from the leader, being prepared (decoded, staged) or waiting for its Ready. */
  #incoming: IncomingSnapshot | undefined
  #sinceSnapshot = 0
  /** Bytes of the entries applied since the last snapshot began. */
  #bytesSinceSnapshot = 0
  /** The snapshot being written in the background, if any. */
  #snapshotting: Promise<void> | undefined
  /** A snapshot written and durable, for the Ready loop to compact the log to. */
  #snapshotWritten: {meta: SnapshotMeta; started: number} | undefined
  readonly #timeoutMs: number
  readonly #rng: SeededRng
  /** Log index of the configuration in force (1 for the bootstrap membership, as in Consul). */
  #confIndex: number
  /** Set while the disk refuses writes for want of space (storage-fault.ts): why, e.g. "ENOSPC, ...". */
  #diskFull: string | undefined
  /** Failed attempts in a row, and since when (driver clock), until an append succeeds again. */
  #diskFullAttempts = 0
  #diskFullSince = 0
  #diskRetry: Timer | undefined
  /** A received snapshot was restored into the state machine but is not on disk yet. */
  #stateAheadOfDisk = false
  /** Snapshots streamed to followers in chunks (on the leader), and the one being received (on a follower). */
  readonly #sender: SnapshotSender
  readonly #receiver: SnapshotReceiver
  /** An operator's restore runs: writes are held (queued) until it is in or abandoned. */
  #restoring = false
  /** The restore staged on disk, for the Ready loop to hand to the core and install. */
  #localRestore: PendingRestore | undefined

  constructor(private readonly opts: RaftDriverOptions<C, R>) {
    this.config = {...defaultRaftConfig(opts.id), ...opts.raft, id: opts.id}
    this.clock = opts.clock ?? systemClock
    this.#metrics = opts.metrics ?? NO_METRICS
    this.#timeoutMs = opts.requestTimeoutMs ?? 10_000
    this.#rng = new SeededRng(opts.seed)
    this.addresses.set(opts.id, opts.address)
    const snapshotState = opts.storage.snapshotState()
    if (snapshotState) opts.state.restore(snapshotState)
    const applied = opts.storage.snapshot().index
    this.#applied = applied
    this.#confIndex = Math.max(1, applied)
    this.#core = this.#newCore(applied)
    this.#sender = new SnapshotSender({
      self: opts.id, selfAddress: opts.address, transport: opts.transport, clock: this.clock, logger: opts.logger,
      openImage: () => opts.storage.openSnapshotImage(),
      chunkBytes: Math.max(MIN_SNAPSHOT_CHUNK_BYTES, opts.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES), timeoutMs: this.#timeoutMs,
      sendPlain: (message, address) => opts.transport.send(address, {raft: message, fromAddress: opts.address} satisfies RaftEnvelope),
    })
    this.#receiver = new SnapshotReceiver({
      self: opts.id, logger: opts.logger,
      receive: () => opts.storage.receiveSnapshotImage(),
      currentTerm: () => this.#core.term,
      appliedIndex: () => this.#applied,
      busy: () => this.#incoming !== undefined || this.#restoring || this.#localRestore !== undefined || this.isLeader(),
      learnAddress: (id, address) => this.addresses.set(id, address),
      onComplete: (received) => void this.#prepareReceived(received),
    })
    opts.transport.onMessage((_from, body) => this.#receive(body as RaftEnvelope))
    opts.transport.onRequest(SNAPSHOT_CHUNK_METHOD, async (_from, body) => {
      if (this.#closed || this.#diskFull !== undefined) throw new Error('this server takes no snapshot now (shutting down or its disk is full)')
      return await this.#receiver.handle(body)
    })
  }

  get id(): NodeId {
    return this.opts.id
  }

  get core(): RaftCore {
    return this.#core
  }

  /** True once close() began (or storage failed): this server answers nothing more. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Why this server's disk refuses writes (e.g. "ENOSPC, no space left on the device"), while it
   * does: the server then takes no part in Raft, refuses writes and answers stale reads from what
   * it has applied, and tries its disk again every few seconds.
   */
  get diskFull(): string | undefined {
    return this.#diskFull
  }

  get appliedIndex(): number {
    return this.#applied
  }

  get confIndex(): number {
    return this.#confIndex
  }

  get storage(): DurableRaftStorage {
    return this.opts.storage
  }

  get requestTimeoutMs(): number {
    return this.#timeoutMs
  }

  isLeader(): boolean {
    return this.#core.role === 'leader'
  }

  /** The leader known now, if this server can reach it (itself, or a peer with an address). */
  leaderView(): {id: NodeId; term: number} | undefined {
    const leader = this.#core.leader
    return leader && (leader === this.opts.id || this.addresses.has(leader)) ? {id: leader, term: this.#core.term} : undefined
  }

  /** Milliseconds since this server last heard from the leader; 0 on the leader. */
  lastContactMs(): number {
    const status = this.#core.status()
    if (status.role === 'leader') return 0
    return Math.max(0, Math.round(this.clock.now() - status.lastLeaderContactMs))
  }

  #newCore(applied: number): RaftCore {
    return new RaftCore({config: this.config, storage: this.opts.storage, nowMs: this.clock.now(), applied, rng: this.#rng.fork()})
  }

  /**
   * First bootstrap: records the initial membership and rebuilds the core on it. Whatever the
   * core already persisted (a vote cast for an early candidate, entries from an early leader) is
   * read back from storage, so nothing it promised is forgotten.
   */
  async bootstrap(conf: ConfState): Promise<void> {
    await this.opts.storage.bootstrap(conf)
    await this.#untilIdle(BOOTSTRAP_IDLE_WAIT_MS)
    this.#core = this.#newCore(this.#applied)
    this.opts.logger.info('bootstrapped the cluster', {voters: conf.voters.join(',')})
    this.#kick()
  }

  /** Starts ticking. `campaignNow` skips the first election timeout (a lone -bootstrap/-dev server). */
  start(campaignNow: boolean): void {
    const interval = Math.max(5, Math.min(50, Math.floor(this.config.heartbeatIntervalMs / 4)))
    this.#ticker = this.clock.every(interval, () => {
      if (this.#diskFull !== undefined || this.#closed) return
      if (this.#coreCall(() => this.#core.tick(this.clock.now()))) this.#kick()
    })
    if (campaignNow) this.#core.campaign()
    this.#metricsTimer = this.clock.every(METRICS_SAMPLE_MS, () => this.#sampleMetrics())
    this.#kick()
  }

  /** Once a second: the index gauges and, on the leader, each follower's time since it was last heard. */
  #sampleMetrics(): void {
    if (this.#closed) return
    const status = this.#core.status()
    this.#metrics.gauge(KEYS.lastIndex, status.lastIndex)
    this.#metrics.gauge(KEYS.commitIndex, status.commit)
    if (status.role !== 'leader') return
    const now = this.clock.now()
    for (const peer of status.peers) {
      const heard = this.#heardAt.get(peer.id)
      if (heard !== undefined) this.#metrics.sample(KEYS.lastContact, now - heard)
    }
  }

  /**
   * On the leader: append, replicate, and resolve once committed and applied. Writes proposed
   * while the Ready loop runs wait for its next round and go to the core together (one append,
   * one fsync, one AppendEntries per follower for all of them: the group commit), instead of one
   * core proposal, and one message per follower, each.
   */
  async propose(command: C): Promise<{index: number; result: R}> {
    return this.#enqueue(() => ({data: this.opts.codec.encode(command)}))
  }

  /**
   * propose() for a command that arrived encoded (a follower's forwarded write): `data` goes into
   * the log as it is, and `command`, which the caller decoded from these very bytes (so it is what
   * every follower will decode), is applied here without decoding it again. Saves an encode and a
   * decode per forwarded write.
   */
  async proposeEncoded(data: Uint8Array, command: C): Promise<{index: number; result: R}> {
    return this.#enqueue(() => ({data, command}))
  }

  #enqueue(entry: () => {data: Uint8Array; command?: C}): Promise<{index: number; result: R}> {
    if (this.#closed) return Promise.reject(new ShuttingDownError())
    if (this.#diskFull !== undefined) return Promise.reject(this.diskFullError())
    const refusal = this.#refusal()
    if (refusal) return Promise.reject(refusal)
    const {data, command} = entry()
    this.#metrics.counter(KEYS.apply)
    return new Promise((resolve, reject) => {
      this.#queued.push({data, command, resolve, reject})
      // The first write of a batch starts the loop; the rest join it.
      if (this.#queued.length === 1) this.#kick()
    })
  }

  /** Why a write would be refused here now (not the leader, or handing leadership over); undefined when it would not. */
  #refusal(): WriteNotAppliedError | undefined {
    if (this.#core.role !== 'leader') return new WriteNotAppliedError('this server is not the leader')
    if (this.#core.transferring()) return new WriteNotAppliedError('leadership is being transferred')
    return undefined
  }

  /** Hands the queued writes to the core as one proposal; refuses them all when it cannot take them. */
  #proposeQueued(): void {
    if (this.#queued.length === 0 || this.#restoring) return
    const queued = this.#queued
    this.#queued = []
    const result = this.#core.propose(queued.map((q) => q.data))
    if (!result.ok) {
      const error = new WriteNotAppliedError(result.code === 'TRANSFER_IN_PROGRESS' ? 'leadership is being transferred' : 'this server is not the leader')
      for (const q of queued) q.reject(error)
      return
    }
    const first = result.firstIndex
    const batch: ProposalBatch = {term: result.term, at: this.clock.now(), waiting: queued.length, timer: undefined as unknown as Timer}
    batch.timer = this.clock.after(this.#timeoutMs, () => {
      const error = new Error(`timed out after ${this.#timeoutMs} ms waiting for the write to commit; it may or may not have been applied`)
      for (let i = 0; i < queued.length; i++) {
        const pending = this.#proposals.get(first + i)
        if (pending?.batch !== batch) continue
        this.#proposals.delete(first + i)
        pending.reject(error)
      }
    })
    for (let i = 0; i < queued.length; i++) this.#proposals.set(first + i, {batch, command: queued[i].command, resolve: queued[i].resolve, reject: queued[i].reject})
  }

  /** A pending proposal's entry came (applied or replaced): its batch's timer goes when the last one has. */
  #settled(pending: PendingProposal<C, R>): void {
    if (--pending.batch.waiting === 0) pending.batch.timer.cancel()
  }

  /**
   * On the leader: replaces the replicated state with an operator's snapshot, as hashicorp/raft's
   * Restore does (and Consul's snapshot endpoint with it). New writes are held; once every entry
   * already proposed has committed and been applied, the core names the restore's index (a hole
   * past the log), the restored state is staged on disk under it (streamed, fsync'd; the Ready
   * loop goes on meanwhile, so heartbeats keep flowing), and then, at the start of a Ready round,
   * the core takes it as its snapshot: that Ready swaps the state machine, adopts the staged file
   * and restarts the log after it. Followers are behind the new first index, so each receives the
   * snapshot by InstallSnapshot; nothing of it enters the log. `minIndex`: the restored state's own
   * highest index (the restore's index goes past it). Resolves with the restore's meta.
   */
  async restore(bytes: HandedBytes, minIndex: number): Promise<SnapshotMeta> {
    if (this.#closed) throw new ShuttingDownError()
    if (this.#diskFull !== undefined) throw this.diskFullError()
    if (this.#restoring) throw new CoordError('RESTORE_IN_PROGRESS', 'a snapshot restore is already in progress', {httpStatus: 500})
    if (this.#incoming || this.#receiver.active) throw new CoordError('RESTORE_IN_PROGRESS', 'a snapshot from the previous leader is still being installed here; try again', {httpStatus: 500})
    const refusal = this.#refusal()
    if (refusal) throw refusal
    this.#restoring = true
    let meta: SnapshotMeta
    try {
      const settled = await waitFor(this.clock, () => {
        const st = this.#core.status()
        return st.role !== 'leader' || (st.commit === st.lastIndex && st.applied === st.commit)
      }, (wake) => this.progress.on(wake), this.#timeoutMs)
      if (!settled) throw new Error(`timed out after ${this.#timeoutMs} ms waiting for the writes in flight to commit before the restore; nothing was restored`)
      const named = this.#core.restoreMeta(minIndex)
      if (!named.ok) throw new WriteNotAppliedError(named.code === 'NOT_LEADER' ? 'this server is not the leader' : `the log moved (${named.code})`)
      meta = named.meta
      let prepared: {chunks: () => Iterable<Uint8Array>; install: () => void}
      try {
        // Taken: the steps drop them once decoded, so they are not held beside both states.
        prepared = await this.#runSteps(this.opts.state.prepareRestore(bytes.take(), meta.index))
      } catch (error) {
        if (this.#closed) throw new ShuttingDownError()
        // The bytes' own source failed (a streamed archive whose checksum did not match): its words.
        if (error instanceof CoordError) throw error
        throw new RestoreStateError((error as Error).message)
      }
      await this.opts.storage.stageSnapshot(meta, prepared.chunks())
      if (this.#closed) {
        this.opts.storage.dropStaged()
        throw new ShuttingDownError()
      }
      await new Promise<void>((resolve, reject) => {
        this.#localRestore = {meta, install: prepared.install, started: false, resolve, reject}
        this.#kick()
      })
    } finally {
      this.#restoring = false
      this.#kick()
    }
    await this.#untilQuorumHas(meta)
    return meta
  }

  /**
   * After a restore is installed here: resolves once a quorum of voters holds it (their match
   * index reached it), so an acknowledged restore survives this leader's failure. hashicorp/raft's
   * Restore (api.go) does the same by applying a no-op after it and waiting for that to commit.
   */
  async #untilQuorumHas(meta: SnapshotMeta): Promise<void> {
    const held = (): boolean => {
      const st = this.#core.status()
      const voters = new Set(st.conf.voters)
      const have = st.peers.filter((peer) => voters.has(peer.id) && peer.match >= meta.index).length
      return have * 2 > voters.size
    }
    const lost = (): boolean => this.#closed || this.#core.role !== 'leader' || this.#core.term !== meta.term
    const done = await waitFor(this.clock, () => lost() || held(), (wake) => this.progress.on(wake), RESTORE_QUORUM_WAIT_MS)
    if (done && !lost()) return
    const why = done ? (this.#closed ? 'this server is shutting down' : 'leadership was lost') : `timed out after ${RESTORE_QUORUM_WAIT_MS} ms`
    throw new Error(`${why} before a quorum of servers installed the restore (index ${meta.index}); it may or may not have been applied`)
  }

  /**
   * Runs a state machine's steps (ReplicatedState.prepareRestore) a slice at a time, letting the
   * event loop run between slices, so heartbeats, reads and writes are served while a large state
   * is decoded. Stops with ShuttingDownError when the driver closes meanwhile.
   */
  async #runSteps<T>(steps: Generator<StepWait, T>): Promise<T> {
    let sliceStart = this.clock.now()
    for (let n = 1; ; n++) {
      const step = steps.next()
      if (step.done) return step.value
      // A streamed restore waits for its next bytes (the event loop runs meanwhile).
      const waited = step.value !== undefined
      if (waited) {
        try {
          await step.value
        } catch (error) {
          steps.return(undefined as T) // the steps release what they hold (the source)
          throw error
        }
      }
      if (waited || n % STEPS_PER_SLICE_MAX === 0 || this.clock.now() - sliceStart >= STEP_SLICE_MS) {
        await new Promise<void>((resolve) => this.clock.defer(resolve))
        if (this.#closed) {
          steps.return(undefined as T)
          throw new ShuttingDownError()
        }
        sliceStart = this.clock.now()
      }
    }
  }

  /** Round start: hands a staged restore to the core; a core that refuses it (leadership lost, the log moved) drops it. */
  #startLocalRestore(): void {
    const pending = this.#localRestore
    if (!pending || pending.started) return
    const taken = this.#core.installLocalSnapshot(pending.meta)
    if (taken.ok) {
      pending.started = true
      return
    }
    this.#localRestore = undefined
    this.opts.storage.dropStaged()
    pending.reject(new WriteNotAppliedError(taken.code === 'NOT_LEADER' ? 'leadership was lost during the restore' : `the log moved during the restore (${taken.code})`))
  }

  /** A pending restore that will not happen (shutdown, storage failure). */
  #abandonRestore(error: Error): void {
    const pending = this.#localRestore
    this.#localRestore = undefined
    pending?.reject(error)
  }

  /** On the leader: a membership change (the reconciler's and the operator's); the core refuses when it cannot. */
  proposeConfChange(change: ConfChange): ProposeResult {
    if (this.#restoring) return {ok: false, code: 'LOG_NOT_SETTLED', leader: this.#core.leader}
    const result = this.#core.proposeConfChange(change)
    if (result.ok) this.#kick()
    return result
  }

  /**
   * On the leader: starts a ReadIndex round whose answer comes with a later Ready's `reads`. The
   * reads asked for while the Ready loop runs share one round, started at its next turn (one
   * heartbeat per follower for all of them, as etcd batches ReadIndex requests): the index it
   * returns is the commit index when the round starts, never older than when any of them asked.
   */
  startReadIndex(requestId: string): boolean {
    if (this.#closed || this.#core.role !== 'leader') return false
    this.#queuedReads.push(requestId)
    if (this.#queuedReads.length === 1) this.#kick()
    return true
  }

  /** Starts one ReadIndex round for the queued reads; refused (no longer leading): they are aborted. */
  #startQueuedReads(): void {
    if (this.#queuedReads.length === 0) return
    const ids = this.#queuedReads
    this.#queuedReads = []
    const round = `batch-${this.#readRounds++}`
    if (this.#core.readIndex(round).ok) this.#readBatches.set(round, ids)
    else this.reads.emit({states: [], aborted: ids})
  }

  /** A Ready's read states and aborted reads with each batched round expanded to the reads it carries. */
  #expandReads(states: ReadState[], aborted: string[]): {states: ReadState[]; aborted: string[]} {
    const outStates: ReadState[] = []
    const outAborted: string[] = []
    for (const state of states) {
      const ids = this.#readBatches.get(state.requestId)
      this.#readBatches.delete(state.requestId)
      for (const requestId of ids ?? [state.requestId]) outStates.push({...state, requestId})
    }
    for (const id of aborted) {
      const ids = this.#readBatches.get(id)
      this.#readBatches.delete(id)
      outAborted.push(...(ids ?? [id]))
    }
    return {states: outStates, aborted: outAborted}
  }

  /** On the leader: starts handing leadership to `target`; false when the core refuses (code given). */
  transferLeadership(target: NodeId): {ok: true} | {ok: false; code: string} {
    const started = this.#core.transferLeadership(target)
    if (started.ok) this.#kick()
    return started
  }

  /** Resolves true once `target` is the leader this server knows, false after `timeoutMs`. */
  leaderBecomes(target: NodeId, timeoutMs: number): Promise<boolean> {
    return waitFor(this.clock, () => this.#core.leader === target, (wake) => this.progress.on(wake), timeoutMs)
  }

  /** What a write gets while the disk refuses writes (it provably was not appended anywhere). */
  diskFullError(): WriteNotAppliedError {
    return new WriteNotAppliedError(`this server cannot write to its disk (${this.#diskFull})`)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#sender.stopAll()
    this.#receiver.abort()
    this.#ticker?.cancel()
    this.#diskRetry?.cancel()
    this.#metricsTimer?.cancel()
    await this.#untilIdle(CLOSE_IDLE_WAIT_MS)
    const writing = this.#snapshotting
    if (writing) await waitFor(this.clock, () => this.#snapshotting !== writing, (wake) => this.idle.on(wake), CLOSE_SNAPSHOT_WAIT_MS)
    for (const [index, pending] of this.#proposals) {
      pending.batch.timer.cancel()
      pending.reject(new ShuttingDownError('agent is shutting down before the write committed; it may or may not have been applied'))
      this.#proposals.delete(index)
    }
    // Queued writes never reached the core: nothing of them was applied.
    for (const q of this.#queued.splice(0)) q.reject(new ShuttingDownError())
    this.#abandonRestore(new ShuttingDownError('agent is shutting down before the restore was installed; nothing was restored'))
    await this.opts.storage.close()
  }

  /** Waits (bounded) for a running Ready loop to finish its round. */
  async #untilIdle(timeoutMs: number): Promise<void> {
    await waitFor(this.clock, () => !this.#driving, (wake) => this.idle.on(wake), timeoutMs)
  }

  #receive(envelope: RaftEnvelope): void {
    if (this.#closed || this.#diskFull !== undefined || !envelope?.raft) return
    const message = envelope.raft
    if (envelope.fromAddress) this.addresses.set(message.from, envelope.fromAddress)
    if (message.type === 'installSnapshot' && message.data) {
      const data = message.data
      message.data = undefined
      // A snapshot to restore is decoded and staged before the core hears of it (#prepareIncoming);
      // one at a time: the leader sends it again after an election timeout.
      if (message.snapshot.index > this.#applied) {
        if (!this.#incoming && !this.#restoring && !this.#receiver.active && message.term >= this.#core.term) void this.#prepareIncoming(message, data)
        return
      }
    }
    const now = this.clock.now()
    this.#heardAt.set(message.from, now)
    if (!this.#coreCall(() => this.#core.step(message, now))) return
    // hashicorp/raft's rpc.appendEntries and rpc.requestVote (here: the core's handling, before the disk).
    if (message.type === 'append') this.#metrics.sample(KEYS.appendEntries, this.clock.now() - now)
    else if (message.type === 'vote' || message.type === 'preVote') this.#metrics.sample(KEYS.requestVote, this.clock.now() - now)
    this.#kick()
  }

  /**
   * A snapshot from the leader, decoded (ReplicatedState.prepareRestore, a slice at a time) and
   * staged on disk (streamed, fsync'd) while the Ready loop keeps answering the leader's heartbeats;
   * only then is its InstallSnapshot stepped into the core. If the core restores from it, the next
   * Ready swaps the prepared state in and adopts the staged file (#persist); if not (a newer term,
   * or it caught up meanwhile), both are dropped.
   */
  async #prepareIncoming(message: Extract<Message, {type: 'installSnapshot'}>, data: Uint8Array): Promise<void> {
    const incoming: IncomingSnapshot = {meta: message.snapshot, stepped: false}
    this.#incoming = incoming
    const started = this.clock.now()
    try {
      const prepared = await this.#runSteps(this.opts.state.prepareRestore(data))
      await this.opts.storage.stageSnapshot(message.snapshot, sliced(data, STAGE_WRITE_BYTES))
      if (this.#closed || this.#incoming !== incoming) {
        this.opts.storage.dropStaged()
        return
      }
      incoming.install = prepared.install
      incoming.stepped = true
      this.opts.logger.debug('prepared a snapshot from the leader', {index: message.snapshot.index, bytes: data.length, duration: `${Math.round(this.clock.now() - started)}ms`})
      const now = this.clock.now()
      this.#core.step(message, now)
      this.#kick()
    } catch (error) {
      if (this.#incoming === incoming) this.#incoming = undefined
      if (this.#closed) return
      this.opts.storage.dropStaged()
      this.opts.logger.error('failed to install a snapshot from the leader; it will be sent again', {index: message.snapshot.index, error})
    }
  }

  /** The first Ready after a prepared snapshot was stepped in: if it does not restore it, it is dropped. */
  #settleIncoming(ready: Ready): void {
    const incoming = this.#incoming
    if (!incoming?.stepped || ready.snapshot?.index === incoming.meta.index) return
    this.#incoming = undefined
    this.#receiver.release()
    this.opts.storage.dropStaged()
  }

  /**
   * A snapshot received whole in chunks (snapshot-transfer.ts), already staged on disk and checked:
   * decoded a slice at a time as #prepareIncoming does, then its InstallSnapshot (the leader's term,
   * ID and stamp) is stepped into the core, which restores it or not as for any InstallSnapshot.
   */
  async #prepareReceived(received: ReceivedSnapshot): Promise<void> {
    const {meta, state, stateBytes, message} = received
    const incoming: IncomingSnapshot = {meta, stepped: false}
    this.#incoming = incoming
    const started = this.clock.now()
    const drop = (): void => {
      if (this.#incoming === incoming) this.#incoming = undefined
      this.#receiver.release()
      this.opts.storage.dropStaged()
    }
    try {
      const prepared = await this.#runSteps(this.opts.state.prepareRestore(state))
      // The core would ignore a deposed leader's message without a word: dropped here.
      if (this.#closed || this.#incoming !== incoming || message.term < this.#core.term || this.isLeader()) {
        drop()
        return
      }
      incoming.install = prepared.install
      incoming.stepped = true
      this.opts.logger.info('received a snapshot from the leader in chunks', {index: meta.index, bytes: stateBytes, decoded: `${Math.round(this.clock.now() - started)}ms`})
      const now = this.clock.now()
      this.#heardAt.set(message.from, now)
      this.#core.step(message, now)
      this.#kick()
    } catch (error) {
      if (this.#closed) return
      drop()
      this.opts.logger.warn('failed to install a snapshot from the leader; it will be sent again', {index: meta.index, error})
    }
  }

  #send(message: Message): void {
    const address = this.addresses.get(message.to)
    if (!address) {
      this.opts.logger.debug('no address for peer; message dropped', {peer: message.to, type: message.type})
      return
    }
    if (message.type === 'installSnapshot') {
      // The core names a snapshot; the file the store holds now (possibly newer) goes in chunks.
      this.#sender.offer(message, address)
      return
    }
    this.opts.transport.send(address, {raft: message, fromAddress: this.opts.address} satisfies RaftEnvelope)
  }

  /** Schedules the Ready loop (calls while it runs make it go round once more) and reports progress. */
  #kick(): void {
    if (!this.#closed) this.progress.emit()
    if (this.#driving) {
      this.#again = true
      return
    }
    this.#driving = true
    this.clock.defer(() => {
      this.#drive().catch((error: Error) => this.#storageFailed(error)).finally(() => {
        this.#driving = false
        this.idle.emit()
        if (this.#again && !this.#closed) {
          this.#again = false
          this.#kick()
        }
      })
    })
  }

  async #drive(): Promise<void> {
    for (let round = 0; round < 1000 && !this.#closed && this.#diskFull === undefined; round++) {
      this.#again = false
      this.#startLocalRestore()
      this.#proposeQueued()
      this.#startQueuedReads()
      if (!this.#core.hasReady()) break
      const ready = this.#core.ready()
      this.#settleIncoming(ready)
      // A leader may send its AppendEntries before its own write is durable (diss. §10.2.1): the
      // core counts the leader towards a commit only after advance(), so followers' fsyncs overlap
      // the leader's. Only when nothing vote- or term-related is pending in this Ready.
      const early = new Set<Message>(this.#canSendEarly(ready) ? ready.messages.filter((m) => m.type === 'append' || m.type === 'heartbeat') : [])
      for (const message of early) this.#send(message)
      // Committed entries already on our disk are applied before this Ready's new entries are
      // written (etcd's raftNode hands them to its apply loop before saving the WAL): their
      // writers, and reads waiting for them (a leader's read index is its commit index), need not
      // wait for the fsync of later proposals too. Not across a snapshot this Ready installs.
      const stable = ready.snapshot ? 0 : stableCount(ready.committedEntries, ready.entries[0]?.index)
      if (stable > 0) await this.#apply(ready, 0, stable, false)
      // A snapshot that became durable is compacted to here, once what is on disk was applied:
      // rewriting the log's tail then holds up only this Ready's new entries, not answers.
      if (!ready.snapshot) await this.#compactToWritten()
      await this.#persist(ready)
      if (this.#diskFullAttempts > 0 && ready.entries.length > 0) this.#diskWritesAgain()
      for (const message of ready.messages) if (!early.has(message)) this.#send(message)
      await this.#apply(ready, stable, ready.committedEntries.length, true)
      this.#core.advance(ready)
      const local = this.#localRestore
      if (ready.snapshot && local?.started && local.meta.index === ready.snapshot.index) {
        this.#localRestore = undefined
        local.resolve()
        // The leader's duties start over on the new state (Consul's Snapshot.Restore revokes and
        // re-establishes leadership): session TTL timers, tombstone GC, servers in the catalog.
        if (this.isLeader()) {
          this.opts.onLeadershipChange?.(false)
          this.opts.onLeadershipChange?.(true)
        }
      }
      this.#noticeLeadership()
      await this.#maybeSnapshot()
      this.progress.emit()
    }
    // A background snapshot became durable while nothing else was to do: compact to it now.
    if (this.#snapshotWritten && !this.#closed) await this.#compactToWritten()
  }

  #canSendEarly(ready: Ready): boolean {
    if (ready.snapshot || this.#core.role !== 'leader') return false
    if (!ready.hardState) return true
    const stored = this.opts.storage.hardState()
    return ready.hardState.term === stored.term && ready.hardState.vote === stored.vote
  }

  async #persist(ready: Ready): Promise<void> {
    const {storage} = this.opts
    const local = this.#localRestore
    if (ready.snapshot && local?.started && local.meta.index === ready.snapshot.index) {
      this.#stateAheadOfDisk = true
      local.install()
      await storage.adoptStaged(ready.snapshot)
      this.#stateAheadOfDisk = false
      this.#applied = ready.snapshot.index
      this.#sinceSnapshot = 0
      this.#bytesSinceSnapshot = 0
      this.opts.logger.info('installed a restored snapshot; followers receive it by InstallSnapshot', {index: ready.snapshot.index, term: ready.snapshot.term})
    } else if (ready.snapshot) {
      const incoming = this.#incoming
      if (!incoming?.install || incoming.meta.index !== ready.snapshot.index) throw new Error(`snapshot ${ready.snapshot.index} to restore was not received`)
      this.#incoming = undefined
      this.#stateAheadOfDisk = true
      incoming.install()
      await storage.adoptStaged(ready.snapshot)
      this.#stateAheadOfDisk = false
      this.#applied = ready.snapshot.index
      this.#receiver.release()
      this.opts.logger.info('installed snapshot from the leader', {index: ready.snapshot.index, term: ready.snapshot.term})
    }
    const started = this.clock.now()
    await storage.append(ready.entries)
    if (ready.hardState) await storage.saveHardState(ready.hardState)
    if (ready.entries.length > 0 && this.#core.role === 'leader') this.#metrics.sample(KEYS.dispatchLog, this.clock.now() - started)
  }

  /**
   * A write to our own disk failed, leaving the core ahead of what is durable; nothing more may be
   * acknowledged from it (ARCHITECTURE.md, house rule 9). A full disk (storage-fault.ts): the core
   * is dropped, the files re-read and, after a pause, a new core starts on them as at a restart:
   * meanwhile the server takes no part in Raft and refuses writes. Any other failure: stop.
   */
  /**
   * Runs a core call outside the Ready loop (a tick, a message). The core may read entry data the
   * log keeps only in its file (sending a follower older entries); a read that fails there stops
   * this server as a failed append does, with the file's words, instead of escaping into the
   * caller (the timer, the RPC transport). False when it failed.
   */
  #coreCall(call: () => void): boolean {
    try {
      call()
      return true
    } catch (error) {
      if ((error as {code?: unknown}).code !== 'LOG_CORRUPT') throw error
      void this.#storageFailed(error as Error)
      return false
    }
  }

  async #storageFailed(error: Error): Promise<void> {
    const reason = diskFullReason(error)
    if (reason === undefined || this.#stateAheadOfDisk || this.#diskFullAttempts >= MAX_STORAGE_RETRIES) {
      this.#failStop(error)
      return
    }
    const alone = this.#core.status().conf.voters.every((id) => id === this.opts.id)
    this.#diskFull = reason
    if (this.#diskFullAttempts++ === 0) this.#diskFullSince = this.clock.now()
    const delayMs = storageRetryDelayMs(this.#diskFullAttempts)
    if (this.#diskFullAttempts === 1) {
      this.opts.logger.error('raft storage is full: this server refuses writes and takes no part in Raft until its disk takes writes again (stale reads are served)', {error, retry: `${delayMs}ms`})
    } else {
      this.opts.logger.debug('raft storage still refuses writes', {error: error.message, attempts: this.#diskFullAttempts, retry: `${delayMs}ms`})
    }
    // A write in flight: on a lone server its entry is gone with the core; with peers, an entry
    // sent before it reached our disk may still commit under another leader.
    for (const [index, pending] of this.#proposals) {
      pending.batch.timer.cancel()
      pending.reject(alone ? this.diskFullError() : new Error(`this server could not write to its disk (${reason}) before the write committed; it may or may not have been applied`))
      this.#proposals.delete(index)
    }
    for (const q of this.#queued.splice(0)) q.reject(this.diskFullError())
    this.#sender.stopAll()
    this.#receiver.abort()
    if (this.#incoming) {
      this.#incoming = undefined
      this.opts.storage.dropStaged()
    }
    if (this.#localRestore) {
      this.opts.storage.dropStaged()
      this.#abandonRestore(this.diskFullError())
    }
    try {
      await this.opts.storage.reload()
    } catch (reloadError) {
      this.#failStop(reloadError as Error)
      return
    }
    this.#core = this.#newCore(this.#applied)
    this.#noticeLeadership()
    this.#diskRetry = this.clock.after(delayMs, () => {
      this.#diskRetry = undefined
      this.#diskFull = undefined
      this.#kick()
    })
  }

  /** An append went through after the disk had refused some: say so once. */
  #diskWritesAgain(): void {
    this.opts.logger.info('raft storage takes writes again; this server serves writes', {
      after: `${Math.round(this.clock.now() - this.#diskFullSince)}ms`, attempts: this.#diskFullAttempts,
    })
    this.#diskFullAttempts = 0
  }

  #failStop(error: Error): void {
    this.opts.logger.error('raft storage failed; this server stops serving', {error})
    const errno = errnoOf(error)
    const why = errno === undefined ? error.message.split('\n')[0] : /fsync/.test(error.message) ? `fsync failed, ${errno}` : errno
    for (const [index, pending] of this.#proposals) {
      pending.batch.timer.cancel()
      pending.reject(new Error(`this server's storage failed (${why}) before the write committed; it may or may not have been applied`))
      this.#proposals.delete(index)
    }
    for (const q of this.#queued.splice(0)) q.reject(new WriteNotAppliedError(`this server's storage failed (${why})`))
    this.#abandonRestore(new Error(`this server's storage failed (${why}) during the restore`))
    this.#closed = true
    this.#ticker?.cancel()
    this.#diskRetry?.cancel()
    // A moment first, so the writes just refused get their answer out before the listeners close.
    const fatal = new Error(`raft storage failed: ${error.message}; the agent stops (a restart re-reads what the disk holds)`)
    this.clock.after(FATAL_ANSWER_GRACE_MS, () => this.opts.onFatal?.(fatal))
  }

  /**
   * Applies `ready`'s committed entries [from, to); the call that ends the Ready (`last`) also
   * answers its reads. In slices of about STEP_SLICE_MS: a Ready can commit thousands of entries
   * (a follower catching up, a leader under many writers), and applying them at one go held the
   * event loop for as long. Between slices the writers and reads of what is applied are answered
   * and the loop runs (timers, heartbeats, requests); the core is stepped meanwhile as it is while
   * this Ready is persisted. A close waits for the round as before (close #untilIdle), so every
   * entry of it is applied and its writer answered, as when the apply was one call.
   */
  async #apply(ready: Ready, from: number, to: number, last: boolean): Promise<void> {
    const entries = ready.committedEntries
    let emitted = false
    for (let i = from; i < to;) {
      const started = this.clock.now()
      const before = this.#applied
      const sliceEnd = Math.min(to, i + APPLY_ENTRIES_PER_SLICE_MAX)
      do this.#applyEntry(entries[i++])
      while (i < sliceEnd && this.clock.now() - started < STEP_SLICE_MS)
      this.#metrics.sample(KEYS.fsmApply, this.clock.now() - started)
      if (this.#applied !== before) {
        this.applied.emit(this.#applied)
        emitted = true
      }
      if (i < to) await new Promise<void>((resolve) => this.clock.defer(resolve))
    }
    if (last && (ready.readStates.length > 0 || ready.abortedReads.length > 0)) this.reads.emit(this.#expandReads(ready.readStates, ready.abortedReads))
    if (!emitted && last && ready.snapshot) this.applied.emit(this.#applied)
  }

  #applyEntry(entry: Entry): void {
    if (entry.index <= this.#applied) return
    const pending = this.#proposals.get(entry.index)
    if (pending) {
      this.#proposals.delete(entry.index)
      this.#settled(pending)
      if (pending.batch.term === entry.term) this.#metrics.sample(KEYS.commitTime, this.clock.now() - pending.batch.at)
    }
    if (entry.type === 'command') {
      // A different term at our index means another leader's entry replaced our proposal.
      const ours = pending !== undefined && pending.batch.term === entry.term
      const result = this.opts.state.apply(entry.index, ours && pending.command !== undefined ? pending.command : this.opts.codec.decode(entry.data), !ours)
      if (ours) pending.resolve({index: entry.index, result})
      else pending?.reject(new WriteNotAppliedError('another leader\'s entry replaced it before it committed'))
    } else {
      if (entry.type === 'conf') this.#confIndex = entry.index
      pending?.reject(new WriteNotAppliedError('another leader\'s entry replaced it before it committed'))
    }
    this.#applied = entry.index
    this.#sinceSnapshot++
    this.#bytesSinceSnapshot += entry.data.length
    this.entryApplied.emit(entry)
  }

  #noticeLeadership(): void {
    const role = this.#core.role
    if (role !== this.#lastRole) {
      this.#lastRole = role
      // consul.raft.state.candidate / leader / follower (a pre-vote round counts as a candidacy).
      this.#metrics.counter(['raft', 'state', role === 'preCandidate' ? 'candidate' : role])
    }
    const leader = this.isLeader()
    if (leader === this.#wasLeader) return
    this.#wasLeader = leader
    // A leader sends snapshots and receives none; a deposed one stops sending.
    if (leader) this.#receiver.abort()
    else this.#sender.stopAll()
    if (!leader && this.#readBatches.size > 0) {
      // Rounds this server can no longer answer (the core aborts its own; these are what is left).
      const aborted = [...this.#readBatches.values()].flat()
      this.#readBatches.clear()
      this.reads.emit({states: [], aborted})
    }
    if (leader) this.opts.logger.info('cluster leadership acquired', {term: this.#core.term})
    else this.opts.logger.info('cluster leadership lost', {term: this.#core.term, reason: this.#core.stepDownReason || (this.#closed ? 'shutting down' : 'unknown')})
    this.opts.onLeadershipChange?.(leader)
  }

  /**
   * Snapshots run beside the Ready loop, as hashicorp/raft's snapshot goroutine does: the state
   * is captured here at the applied index (a copy-on-write view, ReplicatedState.snapshotChunks)
   * and written to disk in the background while entries keep being appended and applied, so a
   * large state never holds up heartbeats. Once it is durable the next round compacts the log
   * to it (log writes stay in this loop, one at a time). Due every `snapshotThreshold` entries
   * or `snapshotMaxBytes` of entries, whichever comes first.
   */
  async #maybeSnapshot(): Promise<void> {
    // With another round to go, that round compacts once it applied the entries committed by this
    // one (#drive): a read waiting for them does not wait for the log's rewrite.
    if (!this.#core.hasReady()) await this.#compactToWritten()
    if (this.#snapshotting || this.#closed) return
    if (this.#sinceSnapshot < this.opts.snapshotThreshold && this.#bytesSinceSnapshot < (this.opts.snapshotMaxBytes ?? SNAPSHOT_MAX_BYTES)) return
    const index = this.#applied
    const meta = this.#core.snapshotMeta(index)
    if (!meta) return
    const started = this.clock.now()
    const chunks = this.opts.state.snapshotChunks()
    this.#metrics.sample(['raft', 'snapshot', 'create'], this.clock.now() - started)
    this.#sinceSnapshot = 0
    this.#bytesSinceSnapshot = 0
    const writing = this.#writeSnapshot(meta, chunks, started).finally(() => {
      if (this.#snapshotting === writing) this.#snapshotting = undefined
      this.idle.emit()
    })
    this.#snapshotting = writing
  }

  /** The log compacted to the snapshot the background writer made durable, if one is waiting. */
  async #compactToWritten(): Promise<void> {
    const written = this.#snapshotWritten
    if (!written) return
    this.#snapshotWritten = undefined
    await this.opts.storage.compact(written.meta)
    if (this.opts.storage.snapshot().index >= written.meta.index) this.#core.compact(written.meta.index)
    this.#metrics.sample(['raft', 'snapshot', 'takeSnapshot'], this.clock.now() - written.started)
    this.opts.logger.info('snapshot complete', {index: written.meta.index, duration: `${Math.round(this.clock.now() - written.started)}ms`})
  }

  async #writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>, started: number): Promise<void> {
    try {
      const persisting = this.clock.now()
      const durable = await this.opts.storage.writeSnapshot(meta, chunks)
      this.#metrics.sample(['raft', 'snapshot', 'persist'], this.clock.now() - persisting)
      if (!durable || this.#closed) return
      this.#snapshotWritten = {meta, started}
      this.#kick()
    } catch (error) {
      // The log is kept whole; the next threshold tries again (hashicorp/raft logs and retries too).
      this.opts.logger.error('failed to write a snapshot; the log is kept', {index: meta.index, error})
    }
  }
}

/** FNV-1a: a seed for the election-jitter Rng from a string. */
export function hashSeed(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** How many of `committed` (in index order) lie before `firstUnstable`, the first index this Ready writes: those are on disk already. */
export function stableCount(committed: readonly Entry[], firstUnstable: number | undefined): number {
  if (firstUnstable === undefined) return committed.length
  let n = 0
  while (n < committed.length && committed[n].index < firstUnstable) n++
  return n
}
