// The Raft server: the Consensus seam (consensus.ts) over one Raft node, composed of
//   raft-driver.ts    the driver (ticks the core, persists, sends, applies);
//   read-barrier.ts   lease + ReadIndex reads and the applied-index waits;
//   membership.ts     adds new servers as learners and promotes them once caught up;
//   raft-operator.ts  the operator facade (configuration, stats, remove peer, transfer leadership);
//   leader-hold.ts    holding a request through an election (Consul's rpc_hold_timeout).
// What is left here is writes: on the leader they go to the driver; on a follower they are
// forwarded to the leader over the server RPC port (those of one event-loop turn in one
// 'propose-batch-on-leader' request: forward-batch.ts), tried again on a new
// leader only when they provably were not applied (refused before they were appended, replaced by
// another leader's entry, or never sent); a write whose outcome is unknown is answered with an error.
import {DEFAULT_MAX_FRAME_BYTES, RpcRequestError} from '../rpc/transport.js'
import {randomUUID} from 'node:crypto'
import {CoordError} from '../errors.js'
import type {RaftConfig} from '../raft/config.js'
import type {ConfState, NodeId} from '../raft/types.js'
import type {ApplyResult, Command} from '../state/types.js'
import type {Logger} from '../logger.js'
import type {Clock} from '../clock.js'
import {DEFAULT_RPC_HOLD_TIMEOUT_MS, NoLeaderError, type Consensus, type PeerRef, type Proposal, type ProposeOptions, type RaftConfiguration, type ReadMode} from '../consensus.js'
import type {DurableRaftStorage} from '../raft/file-storage.js'
import type {CommandCodec, PeerTransport, RaftMetricsSink, ReplicatedState} from './driver-ports.js'
import {LeaderHold} from './leader-hold.js'
import {clientAgentWaitCapMs, holdForClientAgent} from './client-agent-hold.js'
import {MembershipReconciler} from './membership.js'
import {hashSeed, RaftDriver, RestoreStateError, ShuttingDownError, WriteNotAppliedError} from './raft-driver.js'
import {RaftOperator} from './raft-operator.js'
import {ReadBarrier} from './read-barrier.js'
import {ForwardBatcher, PROPOSE_BATCH, proposeBatch} from './forward-batch.js'
import {HandedBytes} from '../handed-bytes.js'
import {RESTORE_UPLOAD_ABORT, RESTORE_UPLOAD_CHUNK, RestoreUploads} from './restore-upload.js'
import {DEFAULT_SNAPSHOT_CHUNK_BYTES} from './snapshot-transfer.js'

export {WriteNotAppliedError}

export interface RaftServerOptions {
  id: NodeId
  name: string
  /** This server's RPC address as peers reach it (host:port). */
  address: string
  state: ReplicatedState<Command, ApplyResult>
  codec: CommandCodec<Command>
  storage: DurableRaftStorage
  transport: PeerTransport
  logger: Logger
  raft?: Partial<RaftConfig>
  /** Take a state snapshot and compact the log every this many applied entries. */
  snapshotThreshold: number
  /** Give up on a write or read that has not completed in this long (its outcome is then unknown). */
  requestTimeoutMs?: number
  /** Called when this server gains or loses leadership (session timers, tombstone GC). */
  onLeadershipChange?: (leader: boolean) => void
  /** How long a request that needs the leader waits for one (Consul's performance.rpc_hold_timeout). */
  rpcHoldTimeoutMs?: number
  /** Seeds the election jitter (default: from the ID and the start time). */
  seed?: number
  clock?: Clock
  /** Autopilot's word on promoting a caught-up non-voter (server_stabilization_time); default yes. */
  mayPromote?: (id: NodeId) => boolean
  /** Raft metrics (consul.raft.*), as the agent's metrics take them. */
  metrics?: RaftMetricsSink
  /** Raft storage failed beyond repair in place (raft-driver.ts onFatal). */
  onFatal?: (error: Error) => void
  /** A snapshot goes to a follower in chunks of this many bytes (RaftDriverOptions.snapshotChunkBytes). */
  snapshotChunkBytes?: number
  /** The transport's frame bound (default DEFAULT_MAX_FRAME_BYTES): a restore state larger than a frame goes to the leader in chunks. */
  maxFrameBytes?: number
  /** Where a leader stages a restore uploaded by a follower (the Raft storage dir); absent: in memory. */
  uploadDir?: string
  /** A follower's restore upload with no chunk for this long is dropped on the leader (restore-upload.ts). */
  uploadIdleMs?: number
}

/**
 * May a failed write be sent again? Only when it cannot have taken effect: refused for want of a
 * leader, refused or replaced on the leader (its handler never forwards, so its NOT_APPLIED answers
 * are its own), or never sent at all. A write that reached a leader and then lost its answer
 * (connection closed, timeout, shutdown) may have been committed: never repeated.
 */
function writeNeverApplied(error: unknown): boolean {
  if (error instanceof NoLeaderError || error instanceof WriteNotAppliedError) return true
  if (!(error instanceof RpcRequestError)) return false
  if (!error.remote) return !error.sent
  return error.code === NoLeaderError.CODE || error.code === WriteNotAppliedError.CODE
}

/**
 * May an idempotent write be sent again? Whenever the failure was the way to the leader or the
 * leader itself (no leader, a lost connection, a timeout), not when a leader judged the write
 * (a 4xx from its handler would answer the same the second time).
 */
function worthRetrying(error: unknown): boolean {
  if (writeNeverApplied(error)) return true
  if (error instanceof RpcRequestError) return !error.remote || error.httpStatus >= 500
  return !(error instanceof CoordError) || error.httpStatus >= 500
}

/** The RPC a follower forwards a snapshot restore with, and how long it waits for the leader. */
const RESTORE_ON_LEADER = 'restore-on-leader'
const RESTORE_TIMEOUT_MS = 120_000
/** Room in a frame for what wraps a forwarded restore's state bytes. */
const FRAME_ENVELOPE_BYTES = 1 << 20
/** How long a follower waits for the leader to store one chunk of a restore upload. */
const UPLOAD_CHUNK_TIMEOUT_MS = 30_000

export class RaftServer implements Consensus {
  readonly driver: RaftDriver<Command, ApplyResult>
  readonly barrier: ReadBarrier
  readonly membership: MembershipReconciler
  readonly operator: RaftOperator
  readonly #hold: LeaderHold
  readonly #forwarder: ForwardBatcher
  readonly #uploads: RestoreUploads

  constructor(private readonly opts: RaftServerOptions) {
    this.driver = new RaftDriver({
      id: opts.id, address: opts.address, state: opts.state, codec: opts.codec, storage: opts.storage, transport: opts.transport,
      logger: opts.logger, raft: opts.raft, snapshotThreshold: opts.snapshotThreshold, requestTimeoutMs: opts.requestTimeoutMs,
      seed: opts.seed ?? hashSeed(`${opts.id}:${Date.now()}`), clock: opts.clock, onLeadershipChange: opts.onLeadershipChange,
      metrics: opts.metrics, onFatal: opts.onFatal, snapshotChunkBytes: opts.snapshotChunkBytes,
    })
    const driver = this.driver as RaftDriver<unknown, unknown>
    this.#hold = new LeaderHold({
      holdMs: opts.rpcHoldTimeoutMs ?? DEFAULT_RPC_HOLD_TIMEOUT_MS, clock: this.driver.clock, waitCapMs: clientAgentWaitCapMs,
      onEpisode: (episode) => opts.logger.info('requests held for a leader', {
        held: episode.held, failed: episode.failed, duration: `${episode.durationMs}ms`, longest: `${episode.longestMs}ms`,
      }),
    })
    // Requests held for a leader wake on the driver's progress (every tick, message and Ready).
    this.driver.progress.on(() => this.#noteLeader())
    this.barrier = new ReadBarrier(driver, this.#hold, opts.transport)
    this.membership = new MembershipReconciler(driver, opts.logger, opts.mayPromote)
    this.operator = new RaftOperator({driver, barrier: this.barrier, membership: this.membership, hold: this.#hold, transport: opts.transport})
    this.operator.names.set(opts.id, opts.name)
    // A client agent's write: held and forwarded here like one from this server's own HTTP API.
    opts.transport.onRequest('propose', async (_from, body) => holdForClientAgent(() => this.propose(opts.codec.decode(body as Uint8Array))), 'any')
    // A follower's write for the leader (server to server): never forwarded again, so its refusals are its own.
    // Its bytes go into the log as they came (copied out of the frame), decoded once: to check
    // them (bytes no command decodes from are refused, never appended) and to apply them here.
    const proposeForwarded = (bytes: Uint8Array) => this.driver.proposeEncoded(Buffer.from(bytes), opts.codec.decode(bytes))
    opts.transport.onRequest('propose-on-leader', async (_from, body) => proposeForwarded(body as Uint8Array))
    // Followers' writes of one turn, together (forward-batch.ts): each gets its own outcome.
    opts.transport.onRequest(PROPOSE_BATCH, (_from, body) => proposeBatch(body, proposeForwarded))
    this.#forwarder = new ForwardBatcher(opts.transport, this.driver.clock, this.driver.requestTimeoutMs)
    // A follower's snapshot restore for the leader (Consul forwards Snapshot.Restore to the leader):
    // the state in the request, or (larger than a frame) named by an upload staged here in chunks.
    this.#uploads = new RestoreUploads({
      dir: opts.uploadDir, clock: this.driver.clock, logger: opts.logger, isLeader: () => this.driver.isLeader(), idleMs: opts.uploadIdleMs,
    })
    // An upload does not outlive this server's leadership: the restore it was for goes to the next leader.
    this.driver.progress.on(() => {
      if (this.#uploads.size > 0 && (this.driver.closed || !this.driver.isLeader())) void this.#uploads.dropAll('this server no longer leads')
    })
    opts.transport.onRequest(RESTORE_UPLOAD_CHUNK, (from, body) => this.#uploads.chunk(from, body))
    opts.transport.onRequest(RESTORE_UPLOAD_ABORT, async (_from, body) => {
      const upload = (body as {upload?: unknown} | null)?.upload
      if (typeof upload === 'string') await this.#uploads.drop(upload, 'the follower gave it up')
      return true
    })
    opts.transport.onRequest(RESTORE_ON_LEADER, async (from, body) => {
      const request = body as {state?: Uint8Array; upload?: string; size?: number; minIndex: number}
      const {minIndex} = request
      if (!Number.isSafeInteger(minIndex)) throw new Error('restore request without an index')
      if (request.upload !== undefined) {
        if (!this.driver.isLeader()) {
          await this.#uploads.drop(request.upload, 'this server no longer leads')
          throw new NoLeaderError()
        }
        const staged = await this.#uploads.take(from, request.upload, request.size)
        const bytes = staged instanceof Uint8Array ? new HandedBytes(staged) : new HandedBytes(staged, request.size as number)
        try {
          return await this.#restoreHere(bytes, minIndex)
        } finally {
          bytes.drop(new Error('the restore ended without reading the upload'))
        }
      }
      const {state} = request
      if (!(state instanceof Uint8Array)) throw new Error('restore request without state bytes or upload')
      request.state = undefined // held from here by the HandedBytes alone (freed once decoded)
      return await this.#restoreHere(new HandedBytes(state), minIndex)
    })
  }

  /** True once close() began (or storage failed): this server answers nothing more. */
  get closed(): boolean {
    return this.driver.closed
  }

  get core() {
    return this.driver.core
  }

  /** Where each server ID is reached; learned from discovery and from every message received. */
  get addresses(): Map<NodeId, string> {
    return this.driver.addresses
  }

  /** Node names of servers, learned from discovery. */
  get names(): Map<NodeId, string> {
    return this.operator.names
  }

  bootstrap(conf: ConfState): Promise<void> {
    return this.driver.bootstrap(conf)
  }

  /** Starts ticking and reconciling membership. `campaignNow` skips the first election timeout. */
  start(campaignNow: boolean): void {
    this.driver.start(campaignNow)
    this.membership.start()
  }

  /** A server announced itself (retry-join, discovery); the leader will add it if it is new. */
  noteServer(id: NodeId): void {
    this.membership.noteServer(id)
  }

  // ---- Consensus ----

  async propose(command: Command, opts: ProposeOptions = {}): Promise<Proposal> {
    if (this.closed) throw new ShuttingDownError()
    // A full disk: refused at once (not held for a leader), so a client agent tries another server.
    if (this.driver.diskFull !== undefined) throw this.driver.diskFullError()
    this.#noteLeader()
    return await this.#hold.run(
      (leader) => leader.id === this.opts.id ? this.driver.propose(command) : this.#forward(leader.id, command),
      // Not while this server's own disk is full: no leader will appear here to try again on.
      (error) => !this.closed && this.driver.diskFull === undefined && (opts.idempotent ? worthRetrying(error) : writeNeverApplied(error)),
    )
  }

  readBarrier(mode: ReadMode, maxStaleMs: number): Promise<void> {
    return this.barrier.barrier(mode, maxStaleMs)
  }

  /**
   * Runs an idempotent call on the leader (a session renew): held through an election and tried
   * again on the new leader like a read. `remote` gets the leader's address and the time left.
   */
  async onLeader<T>(local: () => Promise<T>, remote: (address: string, timeoutMs: number) => Promise<T>): Promise<T> {
    if (this.closed) throw new ShuttingDownError()
    if (this.driver.diskFull !== undefined) throw this.driver.diskFullError()
    this.#noteLeader()
    return await this.#hold.run((leader, remainingMs) => this.#hold.whileLeading(leader, leader.id === this.opts.id
      ? local()
      : remote(this.barrier.addressOf(leader.id), Math.min(this.driver.requestTimeoutMs, remainingMs)),
    ), () => !this.closed && this.driver.diskFull === undefined)
  }

  isLeader(): boolean {
    return this.driver.isLeader()
  }

  knownLeader(): boolean {
    return this.driver.core.leader !== null
  }

  leaderAddress(): string {
    const leader = this.driver.core.leader
    return leader ? this.addresses.get(leader) ?? '' : ''
  }

  peers(): string[] {
    return this.driver.core.status().conf.voters.map((id) => this.addresses.get(id) ?? id)
  }

  /** As the driver's lastContactMs, from the core's accessors: every read's X-Consul-LastContact asks, and a whole status() allocates its peer list. */
  lastContactMs(): number {
    const core = this.driver.core
    if (core.role === 'leader') return 0
    return Math.max(0, Math.round(this.driver.clock.now() - core.lastLeaderContactMs))
  }

  stats(): Record<string, string> {
    return this.operator.stats()
  }

  configuration(): RaftConfiguration {
    return this.operator.configuration()
  }

  leaderConfiguration(): Promise<RaftConfiguration> {
    return this.operator.leaderConfiguration()
  }

  removePeer(peer: PeerRef): Promise<void> {
    return this.operator.removePeer(peer)
  }

  /** Autopilot (on the leader): removes a dead server, which, unlike one an operator removed, may rejoin later. */
  async removeDeadServer(id: NodeId): Promise<void> {
    await this.operator.removePeer({id})
    this.membership.allowBack(id)
  }

  transferLeadership(targetId?: string): Promise<void> {
    return this.operator.transferLeadership(targetId)
  }

  /** On the leader the driver installs it; a follower hands it to the leader (never retried: it is not idempotent). */
  async restore(state: HandedBytes, minIndex: number): Promise<number> {
    if (this.closed) throw new ShuttingDownError()
    if (this.driver.diskFull !== undefined) throw this.driver.diskFullError()
    this.#noteLeader()
    // Retried on another leader only while the bytes are here: once this server, leading, took
    // them (decoded them, freeing them) a failure after that is answered as it is.
    return await this.#hold.run(async (leader) => {
      if (leader.id === this.opts.id) return await this.#restoreHere(state, minIndex)
      const address = this.barrier.addressOf(leader.id)
      // Sent whole (a streamed archive's state is read, and verified, here first).
      const bytes = await state.whole()
      // A state that fits a frame travels in the request itself; a larger one is uploaded first.
      const maxState = (this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) - FRAME_ENVELOPE_BYTES
      if (state.length <= maxState) return await this.opts.transport.request(address, RESTORE_ON_LEADER, {state: bytes, minIndex}, RESTORE_TIMEOUT_MS) as number
      const upload = await this.#upload(address, bytes, Math.min(maxState, this.opts.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES))
      return await this.opts.transport.request(address, RESTORE_ON_LEADER, {upload, size: state.length, minIndex}, RESTORE_TIMEOUT_MS) as number
    }, (error) => !this.closed && !state.taken && writeNeverApplied(error))
  }

  /**
   * Stages `bytes` on the leader in chunks of at most `chunkBytes` (one at a time, each answered
   * with the offset the leader expects next); answers the upload's ID. On a failure the leader is
   * asked to drop what it staged (it also does so by itself after a quiet spell or a leader change).
   */
  async #upload(address: string, bytes: Uint8Array, chunkBytes: number): Promise<string> {
    const upload = randomUUID()
    let offset = 0
    try {
      for (; offset < bytes.length;) {
        if (this.closed) throw new ShuttingDownError()
        const data = bytes.subarray(offset, Math.min(bytes.length, offset + chunkBytes))
        const {next} = await this.opts.transport.request(address, RESTORE_UPLOAD_CHUNK, {upload, offset, size: bytes.length, data}, UPLOAD_CHUNK_TIMEOUT_MS) as {next: number}
        if (next !== offset + data.length) throw new CoordError('RESTORE_UPLOAD_FAILED', `the leader at ${address} expected offset ${next} of the restore upload, not ${offset + data.length}; nothing was restored`, {httpStatus: 500})
        offset = next
      }
      return upload
    } catch (error) {
      this.opts.transport.request(address, RESTORE_UPLOAD_ABORT, {upload}, UPLOAD_CHUNK_TIMEOUT_MS).catch(() => undefined)
      // A chunk restores nothing: a lost one (the leader gone, a timeout) is a failure the hold may
      // take to the next leader (a new upload), and says so if it gives up.
      if (error instanceof RpcRequestError && !error.remote) {
        throw new RpcRequestError(`uploading the snapshot to the leader at ${address} failed at byte ${offset} of ${bytes.length} (${error.message}); nothing was restored`, {sent: false})
      }
      throw error
    }
  }

  async close(): Promise<void> {
    this.#hold.close()
    this.membership.stop()
    await this.driver.close()
    await this.#uploads.dropAll('the server is stopping')
    // Pending read-index rounds hold a timer each (up to the request timeout): end them now, or a
    // stopped agent (or a refused start) lingers until they expire.
    this.barrier.close()
  }

  /** The leader's part of restore(): state bytes the state machine cannot decode answer 400 (here or to the follower that forwarded them). */
  async #restoreHere(state: HandedBytes, minIndex: number): Promise<number> {
    try {
      return (await this.driver.restore(state, minIndex)).index
    } catch (error) {
      if (error instanceof RestoreStateError) throw new CoordError('SNAPSHOT_STATE_INVALID', `failed to restore snapshot: state.bin is not a coord state snapshot (${error.reason})`, {httpStatus: 400})
      throw error
    }
  }

  /** Tells the hold which leader is known now (an addressable one), waking requests held for one. */
  #noteLeader(): void {
    if (!this.driver.closed) this.#hold.note(this.driver.leaderView())
  }

  async #forward(leader: NodeId, command: Command): Promise<Proposal> {
    const address = this.barrier.addressOf(leader)
    try {
      return await this.#forwarder.forward(address, this.opts.codec.encode(command)) as Proposal
    } catch (error) {
      // The leader went away with the write in hand: say so, and what it means for the write.
      if (error instanceof RpcRequestError && error.sent && !error.remote) {
        throw new RpcRequestError(`the leader at ${address} failed while the write was in flight (${error.message}); it may or may not have been applied`, {sent: true})
      }
      throw error
    }
  }
}
