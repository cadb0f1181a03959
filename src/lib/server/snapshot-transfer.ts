// A snapshot sent to a follower in chunks (Raft §7: offset and done). The core only names the
// snapshot a follower needs (an InstallSnapshot message without data); the leader's driver hands it
// to `SnapshotSender`, which streams the bytes of its snapshot file (snapshot.dat, read by offset
// from an open descriptor: nothing is decoded or re-encoded) as `raft-snapshot-chunk` requests, a
// few in flight per follower (the window), so heartbeats and AppendEntries keep flowing beside it
// on every connection. The follower's `SnapshotReceiver` appends them in order to a file beside its
// snapshot, answering each with the offset it expects next: a lost chunk makes a gap the next
// answer names (the leader goes back to it), a duplicate or a late one is answered and dropped.
// Once the last byte is in, the file is fsync'd and checked against its header's crc32, and it
// becomes the staged snapshot; the driver then decodes it in steps and only then steps an
// InstallSnapshot carrying the leader's term into the core (RaftDriver #prepareReceived), so the
// core decides as for any InstallSnapshot (§7: a stale term is ignored, a log that holds the
// snapshot's last entry is kept). hashicorp/raft streams the snapshot after the InstallSnapshot
// request on one connection (net_transport.go); here the chunks are requests of their own, so a
// connection carries no frame larger than a chunk and the transfer survives a reconnect.
//
// A transfer is named by the leader's term and the snapshot's index and term: chunks of an older
// transfer (a deposed leader, a snapshot since replaced) are answered `stale`, a newer one
// discards what was received of the old. The leader re-offers the snapshot every election timeout
// while the follower has not installed it; an offer of the transfer already running only refreshes
// its stamp, and once the follower holds the whole file it is asked (one small request) whether it
// still does, so a follower that restarted gets it again from the start and one that is still
// decoding is not sent it again.
import type {Clock, Timer} from '../clock.js'
import type {Logger} from '../logger.js'
import type {SnapshotImage, SnapshotImageSink} from '../raft/snapshot-store.js'
import type {InstallSnapshot, NodeId, SnapshotMeta} from '../raft/types.js'
import type {PeerTransport} from './driver-ports.js'
import type {ByteSource} from '../handed-bytes.js'

/** The request each chunk travels as. */
export const SNAPSHOT_CHUNK_METHOD = 'raft-snapshot-chunk'
/**
 * Default chunk size: small against the 64 MiB frame bound, large enough that round trips do not
 * dominate, and with its envelope under the 1 MiB the transport's shared encoder keeps (rpc/transport.ts
 * ENCODER_KEEP_BYTES), so a chunk does not make it allocate a new one.
 */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = (1 << 20) - (64 << 10)
/** The smallest chunk allowed (a chunk must hold the file's header). */
export const MIN_SNAPSHOT_CHUNK_BYTES = 4096
/** Chunks in flight per follower. */
const WINDOW = 2
/** Failed requests in a row after which a transfer stops (the core's next offer resumes it where the follower is). */
const MAX_FAILURES = 8
/** A failed or refused request is retried after this long times the failures in a row. */
const RETRY_STEP_MS = 100

export interface ChunkRequest {
  /** The leader's term and ID, and where it is reached. */
  term: number
  leader: NodeId
  fromAddress: string
  /** The snapshot: its index and term, and its file's size in bytes. */
  index: number
  snapTerm: number
  size: number
  offset: number
  /** Absent: a probe (where are you?). */
  data?: Uint8Array
  /** The leader's stamp of its latest InstallSnapshot for this follower (echoed to the core at the end). */
  seq: number
  sentAtMs: number
}

export type ChunkAnswer =
  | {next: number; complete?: boolean}
  | {stale: true; term: number}
  | {have: true}
  | {busy: true}

// ---------------------------------------------------------------- leader

interface Outgoing {
  peer: NodeId
  address: string
  /** The leader's term and the snapshot the core named when this transfer began. */
  term: number
  namedIndex: number
  /** The core's latest InstallSnapshot for the peer (its stamp rides on every chunk). */
  message: InstallSnapshot
  image?: SnapshotImage
  /** The follower holds everything before this offset. */
  acked: number
  /** The next offset to send. */
  next: number
  inflight: number
  failures: number
  complete: boolean
  ended: boolean
  retry?: Timer
  /** Requests of an earlier generation were given up for lost: their answers are ignored. */
  generation: number
  /** An answer came since the core's last offer. */
  heard: boolean
}

export interface SenderOptions {
  self: NodeId
  selfAddress: string
  transport: PeerTransport
  clock: Clock
  logger: Logger
  openImage: () => Promise<SnapshotImage | undefined>
  chunkBytes: number
  /** A chunk unanswered for this long is taken as lost (the core's next offer also gives up on a silent one). */
  timeoutMs: number
  /** The follower has the snapshot already (or caught up): the core's message goes as it is, without data. */
  sendPlain: (message: InstallSnapshot, address: string) => void
}

export class SnapshotSender {
  readonly #transfers = new Map<NodeId, Outgoing>()

  constructor(private readonly opts: SenderOptions) {}

  /** The core asked for `message.snapshot` to be installed on `message.to`. */
  offer(message: InstallSnapshot, address: string): void {
    const running = this.#transfers.get(message.to)
    if (running && !running.ended && running.term === message.term && running.namedIndex === message.snapshot.index && running.address === address) {
      running.message = message
      const heard = running.heard
      running.heard = false
      if (!running.image) return
      if (running.complete) {
        // Whole on the follower (it is decoding it, or restarted and lost it): ask where it is.
        if (running.inflight === 0) this.#request(running, running.image.size, false)
      } else if (!heard) {
        // Nothing answered for an election timeout: what is in flight is taken as lost; ask again.
        running.generation++
        running.inflight = 0
        running.retry?.cancel()
        running.retry = undefined
        running.next = running.acked
        this.#request(running, 0, false)
      }
      return
    }
    if (running) this.#end(running)
    const transfer: Outgoing = {peer: message.to, address, term: message.term, namedIndex: message.snapshot.index, message, acked: 0, next: 0, inflight: 0, failures: 0, complete: false, ended: false, generation: 0, heard: true}
    this.#transfers.set(message.to, transfer)
    this.opts.openImage().then((image) => {
      if (transfer.ended || !image) {
        void image?.close()
        if (!image) this.#end(transfer)
        return
      }
      transfer.image = image
      this.opts.logger.debug('sending a snapshot in chunks', {peer: transfer.peer, index: image.meta.index, bytes: image.size})
      // Where is the follower? It may hold part of this very transfer already (a resumed one).
      this.#request(transfer, 0, false)
    }, (error: Error) => {
      this.opts.logger.warn('cannot read the snapshot to send a follower', {peer: transfer.peer, error: error.message})
      this.#end(transfer)
    })
  }

  /** Leadership lost, or the driver closes: every transfer stops. */
  stopAll(): void {
    for (const transfer of this.#transfers.values()) this.#end(transfer)
    this.#transfers.clear()
  }

  #end(transfer: Outgoing): void {
    if (transfer.ended) return
    transfer.ended = true
    transfer.retry?.cancel()
    void transfer.image?.close()
    if (this.#transfers.get(transfer.peer) === transfer) this.#transfers.delete(transfer.peer)
  }

  /** Fills the window from `next`. */
  #pump(transfer: Outgoing): void {
    const image = transfer.image
    if (!image || transfer.ended || transfer.complete || transfer.retry) return
    while (transfer.inflight < WINDOW && transfer.next < image.size) {
      const offset = transfer.next
      transfer.next = Math.min(image.size, offset + this.opts.chunkBytes)
      this.#request(transfer, offset, true)
    }
    // Everything sent and answered, yet the follower did not say it is whole: ask.
    if (transfer.inflight === 0 && transfer.next >= image.size) this.#request(transfer, image.size, false)
  }

  #request(transfer: Outgoing, offset: number, withData: boolean): void {
    const image = transfer.image
    if (!image) return
    transfer.inflight++
    const generation = transfer.generation
    const length = withData ? Math.min(this.opts.chunkBytes, image.size - offset) : 0
    const send = async (): Promise<ChunkAnswer> => {
      const data = length > 0 ? await image.read(offset, length) : undefined
      if (transfer.ended) throw new Error('transfer ended')
      const {message} = transfer
      const body: ChunkRequest = {
        term: transfer.term, leader: this.opts.self, fromAddress: this.opts.selfAddress,
        index: image.meta.index, snapTerm: image.meta.term, size: image.size, offset, data, seq: message.seq, sentAtMs: message.sentAtMs,
      }
      return await this.opts.transport.request(transfer.address, SNAPSHOT_CHUNK_METHOD, body, this.opts.timeoutMs) as ChunkAnswer
    }
    send().then((answer) => {
      if (generation === transfer.generation) this.#answered(transfer, offset, length, answer)
    }, (error: Error) => {
      if (generation === transfer.generation) this.#failed(transfer, error)
    })
  }

  #answered(transfer: Outgoing, offset: number, length: number, answer: ChunkAnswer): void {
    transfer.inflight--
    transfer.heard = true
    if (transfer.ended || !answer || typeof answer !== 'object') return
    if ('stale' in answer) {
      this.opts.logger.debug('follower refused a stale snapshot transfer', {peer: transfer.peer, term: answer.term})
      this.#end(transfer)
      return
    }
    if ('have' in answer) {
      // It holds the snapshot's index already: the core's message, without data, lets it say so.
      this.#end(transfer)
      this.opts.sendPlain(transfer.message, transfer.address)
      return
    }
    if ('busy' in answer) {
      this.#retryLater(transfer)
      return
    }
    transfer.failures = 0
    if (answer.complete) {
      transfer.complete = true
      transfer.acked = transfer.next = transfer.image?.size ?? 0
      this.opts.logger.debug('follower holds the whole snapshot', {peer: transfer.peer, index: transfer.image?.meta.index})
      return
    }
    transfer.acked = Math.max(transfer.acked, answer.next)
    // A gap before this chunk (an earlier one lost), or a follower that started over: go back.
    if (answer.next < offset + length || length === 0) transfer.next = Math.min(transfer.next, answer.next)
    if (length === 0) transfer.next = answer.next
    this.#pump(transfer)
  }

  #failed(transfer: Outgoing, error: Error): void {
    transfer.inflight--
    if (transfer.ended) return
    transfer.next = Math.min(transfer.next, transfer.acked)
    this.opts.logger.debug('snapshot chunk failed', {peer: transfer.peer, error: error.message, failures: transfer.failures + 1})
    this.#retryLater(transfer)
  }

  /** Waits a little and asks the follower where it is; after MAX_FAILURES in a row the transfer stops. */
  #retryLater(transfer: Outgoing): void {
    if (++transfer.failures > MAX_FAILURES) {
      this.opts.logger.debug('snapshot transfer stopped after failures; the next offer resumes it', {peer: transfer.peer})
      this.#end(transfer)
      return
    }
    if (transfer.retry || transfer.inflight > 0) return
    transfer.retry = this.opts.clock.after(RETRY_STEP_MS * transfer.failures, () => {
      transfer.retry = undefined
      if (!transfer.ended) this.#request(transfer, 0, false)
    })
  }
}

// ---------------------------------------------------------------- follower

/** A snapshot received whole: staged, for the driver to decode and hand to the core. */
export interface ReceivedSnapshot {
  meta: SnapshotMeta
  /** The state's bytes, or a reader of the staged file's (decoded a chunk at a time). */
  state: ByteSource
  stateBytes: number
  /** The InstallSnapshot the core is to hear: the leader's term, ID and stamp. */
  message: InstallSnapshot
}

interface Incoming {
  term: number
  leader: NodeId
  index: number
  snapTerm: number
  size: number
  sink: Promise<SnapshotImageSink>
  /** Chunks are written one after the other (answers may arrive while a write awaits the disk). */
  queue: Promise<unknown>
  complete: boolean
}

export interface ReceiverOptions {
  self: NodeId
  logger: Logger
  receive: () => Promise<SnapshotImageSink>
  currentTerm: () => number
  appliedIndex: () => number
  /** Another snapshot is being installed here (a leader's in one frame, an operator's restore). */
  busy: () => boolean
  /** The address the leader is reached at (learned from the chunks). */
  learnAddress: (id: NodeId, address: string) => void
  /** The last chunk is in and the file staged. */
  onComplete: (received: ReceivedSnapshot) => void
}

export class SnapshotReceiver {
  #current: Incoming | undefined

  constructor(private readonly opts: ReceiverOptions) {}

  /** A transfer is under way or its snapshot not yet installed. */
  get active(): boolean {
    return this.#current !== undefined
  }

  /** The transfer delivered by onComplete was installed or dropped: the next may begin. */
  release(): void {
    this.#current = undefined
  }

  /** Drops a transfer under way (close, leadership gained, storage failure); its file goes. */
  abort(): void {
    const current = this.#current
    this.#current = undefined
    if (current && !current.complete) void current.sink.then((sink) => sink.discard(), () => undefined)
  }

  async handle(raw: unknown): Promise<ChunkAnswer> {
    const body = checked(raw)
    this.opts.learnAddress(body.leader, body.fromAddress)
    const term = this.opts.currentTerm()
    if (body.term < term) return {stale: true, term}
    let current = this.#current
    const same = current && current.term === body.term && current.index === body.index && current.snapTerm === body.snapTerm && current.size === body.size && current.leader === body.leader
    if (!same) {
      if (body.index <= this.opts.appliedIndex()) return {have: true}
      if (current?.complete) return {busy: true}
      if (current && (body.term < current.term || (body.term === current.term && body.index < current.index))) return {stale: true, term: current.term}
      if (!current && this.opts.busy()) return {busy: true}
      this.abort()
      current = {term: body.term, leader: body.leader, index: body.index, snapTerm: body.snapTerm, size: body.size, sink: this.opts.receive(), queue: Promise.resolve(), complete: false}
      this.#current = current
    }
    const incoming = current!
    const step = incoming.queue.then(() => this.#take(incoming, body))
    incoming.queue = step.catch(() => undefined)
    return await step
  }

  async #take(incoming: Incoming, body: ChunkRequest): Promise<ChunkAnswer> {
    if (incoming.complete) return {next: incoming.size, complete: true}
    const sink = await incoming.sink
    if (this.#current !== incoming) return {stale: true, term: this.opts.currentTerm()}
    if (!body.data || body.data.length === 0 || body.offset !== sink.received) return {next: sink.received}
    try {
      await sink.write(body.data)
      if (sink.received < incoming.size) return {next: sink.received}
      incoming.complete = true
      const stored = await sink.finish()
      if (stored.meta.index !== incoming.index || stored.meta.term !== incoming.snapTerm || !stored.state) {
        throw new Error(`the received file holds snapshot ${stored.meta.index} (term ${stored.meta.term}), not ${incoming.index} (term ${incoming.snapTerm})`)
      }
      const meta: SnapshotMeta = {index: stored.meta.index, term: stored.meta.term, conf: stored.conf}
      const message: InstallSnapshot = {type: 'installSnapshot', from: incoming.leader, to: this.opts.self, term: incoming.term, snapshot: meta, seq: body.seq, sentAtMs: body.sentAtMs}
      if (this.#current !== incoming) throw new Error('transfer replaced while it was finished')
      this.opts.onComplete({meta, state: stored.state, stateBytes: stored.stateBytes, message})
      return {next: incoming.size, complete: true}
    } catch (error) {
      // Start over: the leader's next request finds nothing here and begins at 0.
      if (this.#current === incoming) this.#current = undefined
      void sink.discard()
      this.opts.logger.warn('failed to receive a snapshot from the leader; it will be sent again', {index: incoming.index, error: (error as Error).message})
      throw error
    }
  }
}

/** A chunk request as sent (ChunkRequest), or an error naming what is wrong with it. */
function checked(raw: unknown): ChunkRequest {
  const body = raw as ChunkRequest
  const whole = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
  if (!body || typeof body !== 'object' || !whole(body.term) || !whole(body.index) || !whole(body.snapTerm) || !whole(body.size) || !whole(body.offset) ||
    typeof body.leader !== 'string' || typeof body.fromAddress !== 'string' || !whole(body.seq) || typeof body.sentAtMs !== 'number' ||
    (body.data !== undefined && body.data !== null && !(body.data instanceof Uint8Array))) {
    throw new Error('malformed snapshot chunk')
  }
  if (body.data && body.offset + body.data.length > body.size) throw new Error(`snapshot chunk at ${body.offset} runs past the file's ${body.size} bytes`)
  return {...body, data: body.data ?? undefined}
}
