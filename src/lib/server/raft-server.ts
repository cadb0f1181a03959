// The Raft driver: runs the pure RaftCore against real time, disk and sockets, and offers the
// agent the Consensus seam. It alone awaits; the core only decides (ARCHITECTURE.md, house rule 1).
//
// The Ready loop follows the order written on `Ready` (raft/types.ts): restore a received
// snapshot → append entries and save the hard state (fsync'd) → send messages → apply committed
// entries and answer reads → advance. One loop runs at a time; inputs that arrive while it awaits
// the disk pile up in the core and leave in the next Ready, which is the group commit: many client
// writes share one append and one fsync.
//
// Writes sent to a follower are forwarded to the leader over the server RPC port
// ('propose-on-leader'); reads on a follower ask the leader for a read index ('read-index') and
// wait until this server has applied it, so default and ?consistent reads stay linearizable on
// every server. Both are held through a leader election (leader-hold.ts, Consul's
// rpc_hold_timeout): a read is tried again on the new leader whatever went wrong, a write only
// when it provably was not applied (refused before it was appended, replaced by another leader's
// entry, or never sent); a write whose outcome is unknown is answered with an error.
import {randomUUID} from 'node:crypto'
import {RaftCore} from '../raft/core.js'
import {defaultRaftConfig, type RaftConfig} from '../raft/config.js'
import {SeededRng} from '../rng.js'
import type {DurableRaftStorage} from '../raft/file-storage.js'
import type {ConfState, Entry, Message, NodeId, Ready} from '../raft/types.js'
import {RpcRequestError, type RpcTransport} from '../rpc/transport.js'
import {decodeCommand, encodeCommand} from '../state/codec.js'
import type {StateMachine} from '../state/state-machine.js'
import type {Command} from '../state/types.js'
import type {Logger} from '../logger.js'
import {DEFAULT_RPC_HOLD_TIMEOUT_MS, NoLeaderError, OperatorError, type Consensus, type PeerRef, type Proposal, type RaftConfiguration, type ReadMode} from '../consensus.js'
import {AppliedWaiters} from './applied-waiters.js'
import {LeaderChangedError, LeaderHold, type LeaderView} from './leader-hold.js'

export interface RaftServerOptions {
  id: NodeId
  name: string
  /** This server's RPC address as peers reach it (host:port). */
  address: string
  state: StateMachine
  storage: DurableRaftStorage
  transport: RpcTransport
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
  /** Autopilot's word on promoting a caught-up non-voter (server_stabilization_time); default yes. */
  mayPromote?: (id: NodeId) => boolean
}

/** Every error a write gets when it provably did not and will not take effect ends with this. */
const NOT_APPLIED = 'the write was not applied'

/** A write the leader refused before appending it, or whose entry another leader's replaced. */
export class WriteNotAppliedError extends Error {
  constructor(why: string) {
    super(`${why}: ${NOT_APPLIED}`)
  }
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
  return error.message === new NoLeaderError().message || error.message.endsWith(NOT_APPLIED)
}

interface PendingProposal {
  term: number
  resolve: (proposal: Proposal) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

/** What travels on the wire for Raft: the message plus the sender's address (an address book). */
interface RaftEnvelope {
  raft: Message
  fromAddress: string
}

export class RaftServer implements Consensus {
  #core: RaftCore
  readonly config: RaftConfig
  /** Where each server ID is reached; learned from discovery and from every message received. */
  readonly addresses = new Map<NodeId, string>()
  /** Node names of servers, learned from discovery (IDs are shown where a name is unknown). */
  readonly names = new Map<NodeId, string>()
  #applied: number
  #driving = false
  #again = false
  #closed = false
  #ticker: NodeJS.Timeout | undefined
  #wasLeader = false
  #proposals = new Map<number, PendingProposal>()
  #reads = new Map<string, {resolve: (index: number) => void; reject: (error: Error) => void}>()
  #appliedWaiters = new AppliedWaiters()
  /** Snapshot data received with an InstallSnapshot, keyed by index, until its Ready restores it. */
  #incomingSnapshots = new Map<number, Uint8Array>()
  #sinceSnapshot = 0
  readonly #timeoutMs: number
  /** Servers heard from that are not in the configuration yet; the leader adds them. */
  #candidates = new Set<NodeId>()
  /** Servers an operator removed: not re-added automatically while this process runs. */
  #removed = new Set<NodeId>()
  #membershipTimer: NodeJS.Timeout | undefined
  /** Log index of the configuration in force (1 for the bootstrap membership, as in Consul). */
  #confIndex: number
  readonly #hold: LeaderHold

  constructor(private readonly opts: RaftServerOptions) {
    this.config = {...defaultRaftConfig(opts.id), ...opts.raft, id: opts.id}
    this.#timeoutMs = opts.requestTimeoutMs ?? 10_000
    this.#hold = new LeaderHold({
      holdMs: opts.rpcHoldTimeoutMs ?? DEFAULT_RPC_HOLD_TIMEOUT_MS,
      onEpisode: (episode) => opts.logger.info('requests held for a leader', {
        held: episode.held, failed: episode.failed, duration: `${episode.durationMs}ms`, longest: `${episode.longestMs}ms`,
      }),
    })
    this.addresses.set(opts.id, opts.address)
    this.names.set(opts.id, opts.name)
    const snapshotState = opts.storage.snapshotState()
    if (snapshotState) opts.state.restore(snapshotState)
    const applied = opts.storage.snapshot().index
    this.#applied = applied
    this.#confIndex = Math.max(1, applied)
    this.#core = this.#newCore(applied)
    opts.transport.onMessage((_from, body) => this.#receive(body as RaftEnvelope))
    // A client agent's write: held and forwarded here like one from this server's own HTTP API.
    opts.transport.onRequest('propose', async (_from, body) => this.propose(decodeCommand(body as Uint8Array)), 'any')
    // A follower's write for the leader (server to server): never forwarded again, so its refusals are its own.
    opts.transport.onRequest('propose-on-leader', async (_from, body) => this.#proposeHere(decodeCommand(body as Uint8Array)))
    opts.transport.onRequest('read-index', async () => this.#leaderReadIndex('consistent'))
    // Operator calls from a follower: answer with the outcome rather than throwing, so the caller
    // can rethrow the same error type (400 for an operator mistake, 500 for no leader).
    opts.transport.onRequest('operator', async (_from, body) => {
      const call = body as {op: 'configuration'} | {op: 'remove'; peer: PeerRef} | {op: 'transfer'; target?: string}
      try {
        if (call.op === 'configuration') return {ok: true, value: this.configuration()}
        if (call.op === 'remove') await this.removePeer(call.peer)
        else await this.transferLeadership(call.target)
        return {ok: true}
      } catch (error) {
        return {ok: false, code: (error as {code?: string}).code ?? 'ERROR', message: (error as Error).message}
      }
    })
  }

  /** True once close() began (or storage failed): this server answers nothing more. */
  get closed(): boolean {
    return this.#closed
  }

  get core(): RaftCore {
    return this.#core
  }

  #newCore(applied: number): RaftCore {
    return new RaftCore({
      config: this.config, storage: this.opts.storage, nowMs: performance.now(), applied,
      rng: new SeededRng(hashSeed(`${this.opts.id}:${Date.now()}`)),
    })
  }

  /**
   * First bootstrap: records the initial membership and rebuilds the core on it. Whatever the
   * core already persisted (a vote cast for an early candidate, entries from an early leader) is
   * read back from storage, so nothing it promised is forgotten.
   */
  async bootstrap(conf: ConfState): Promise<void> {
    await this.opts.storage.bootstrap(conf)
    for (let i = 0; i < 500 && this.#driving; i++) await new Promise((r) => setTimeout(r, 5))
    this.#core = this.#newCore(this.#applied)
    this.opts.logger.info('bootstrapped the cluster', {voters: conf.voters.join(',')})
    this.#kick()
  }

  /** Starts ticking. `campaignNow` skips the first election timeout (a lone -bootstrap/-dev server). */
  start(campaignNow: boolean): void {
    const interval = Math.max(5, Math.min(50, Math.floor(this.config.heartbeatIntervalMs / 4)))
    this.#ticker = setInterval(() => {
      this.core.tick(performance.now())
      this.#kick()
    }, interval)
    if (campaignNow) this.core.campaign()
    this.#membershipTimer = setInterval(() => this.#reconcileMembership(), 500)
    this.#kick()
  }

  /** A server announced itself (retry-join, discovery); the leader will add it if it is new. */
  noteServer(id: NodeId): void {
    if (id !== this.opts.id && !this.#removed.has(id)) this.#candidates.add(id)
  }

  /**
   * On the leader: add each new server as a learner, then promote it once it has caught up
   * (diss. §4.2.1: a new server joins without voting until its log is current, so adding it cannot
   * stall commitment). One change at a time; a refused change is retried next round.
   */
  #reconcileMembership(): void {
    const status = this.core.status()
    if (status.role !== 'leader') return
    const {voters, learners} = status.conf
    for (const id of this.#candidates) {
      if (voters.includes(id)) this.#candidates.delete(id)
    }
    const learner = status.peers.find((peer) => peer.learner && peer.match >= status.commit && peer.match > 0 && (this.opts.mayPromote?.(peer.id) ?? true))
    const change = learner
      ? {type: 'promote' as const, nodeId: learner.id}
      : [...this.#candidates].filter((id) => !learners.includes(id) && this.addresses.has(id)).map((id) => ({type: 'addLearner' as const, nodeId: id}))[0]
    if (!change) return
    const result = this.core.proposeConfChange(change)
    if (result.ok) {
      this.opts.logger.info(change.type === 'promote' ? 'promoting a caught-up server to voter' : 'adding a new server as a non-voter', {server: change.nodeId})
      this.#kick()
    }
  }

  // ---- Consensus ----

  async propose(command: Command): Promise<Proposal> {
    if (this.#closed) throw new Error('agent is shutting down')
    this.#noteLeader()
    return await this.#hold.run(
      (leader) => leader.id === this.opts.id ? this.#proposeHere(command) : this.#forward(leader.id, command),
      writeNeverApplied,
    )
  }

  /** On the leader: append, replicate, and resolve once committed and applied. */
  async #proposeHere(command: Command): Promise<Proposal> {
    if (this.#closed) throw new Error('agent is shutting down')
    const result = this.core.propose([encodeCommand(command)])
    if (!result.ok) throw new WriteNotAppliedError(result.code === 'TRANSFER_IN_PROGRESS' ? 'leadership is being transferred' : 'this server is not the leader')
    this.#kick()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#proposals.delete(result.firstIndex)
        reject(new Error(`timed out after ${this.#timeoutMs} ms waiting for the write to commit; it may or may not have been applied`))
      }, this.#timeoutMs)
      this.#proposals.set(result.firstIndex, {term: result.term, resolve, reject, timer})
    })
  }

  async readBarrier(mode: ReadMode, maxStaleMs: number): Promise<void> {
    if (mode === 'stale') {
      const lagging = maxStaleMs > 0 && this.core.role !== 'leader' && this.lastContactMs() > maxStaleMs
      if (!lagging) return
      mode = 'leader' // as Consul: too stale for max_stale → ask the leader
    }
    this.#noteLeader()
    // Asking for a read index changes nothing: any failure is tried again, on a new leader if one
    // takes over meanwhile (the call to the old one is abandoned then), until the hold runs out.
    const index = await this.#hold.run((leader, remainingMs) => this.#whileLeading(leader, leader.id === this.opts.id
      ? this.#leaderReadIndex(mode, Math.min(this.#timeoutMs, remainingMs))
      : this.opts.transport.request(this.#addressOf(leader.id), 'read-index', null, Math.min(this.#timeoutMs, remainingMs)) as Promise<number>,
    ), () => !this.#closed)
    if (this.#closed) throw new Error('agent is shutting down')
    await this.#appliedWaiters.wait(index, this.#applied, this.#timeoutMs)
  }

  /**
   * Runs an idempotent call on the leader (a session renew): held through an election and tried
   * again on the new leader like a read. `remote` gets the leader's address and the time left.
   */
  async onLeader<T>(local: () => Promise<T>, remote: (address: string, timeoutMs: number) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('agent is shutting down')
    this.#noteLeader()
    return await this.#hold.run((leader, remainingMs) => this.#whileLeading(leader, leader.id === this.opts.id
      ? local()
      : remote(this.#addressOf(leader.id), Math.min(this.#timeoutMs, remainingMs)),
    ), () => !this.#closed)
  }

  /** `call` to `leader`, abandoned (LeaderChangedError) if another leader takes over first. */
  async #whileLeading<T>(leader: LeaderView, call: Promise<T>): Promise<T> {
    const watch = this.#hold.changedFrom(leader)
    try {
      return await Promise.race([call, watch.changed.then((changed): never => { throw changed ? new LeaderChangedError() : new Error('agent is shutting down') })])
    } finally {
      watch.cancel()
      call.catch(() => {}) // an abandoned call's late failure is nobody's to report
    }
  }

  isLeader(): boolean {
    return this.core.role === 'leader'
  }

  knownLeader(): boolean {
    return this.core.leader !== null
  }

  leaderAddress(): string {
    const leader = this.core.leader
    return leader ? this.addresses.get(leader) ?? '' : ''
  }

  peers(): string[] {
    return this.core.status().conf.voters.map((id) => this.addresses.get(id) ?? id)
  }

  lastContactMs(): number {
    const status = this.core.status()
    if (status.role === 'leader') return 0
    return Math.max(0, Math.round(performance.now() - status.lastLeaderContactMs))
  }

  stats(): Record<string, string> {
    const status = this.core.status()
    const snapshot = this.opts.storage.snapshot()
    return {
      state: {leader: 'Leader', follower: 'Follower', candidate: 'Candidate', preCandidate: 'Candidate'}[status.role as string] ?? status.role,
      term: String(status.term), commit_index: String(status.commit), applied_index: String(this.#applied),
      last_log_index: String(status.lastIndex), last_log_term: String(this.core.termAt(status.lastIndex) ?? 0),
      last_snapshot_index: String(snapshot.index), last_snapshot_term: String(snapshot.term),
      last_contact: status.role === 'leader' ? '0' : `${this.lastContactMs()}ms`,
      num_peers: String(Math.max(0, status.conf.voters.length - 1)), protocol_version: '3',
      latest_configuration: JSON.stringify(status.conf.voters.map((id) => ({ID: id, Address: this.addresses.get(id) ?? ''}))),
    }
  }

  configuration(): RaftConfiguration {
    const status = this.core.status()
    const progress = new Map(status.peers.map((peer) => [peer.id, peer]))
    const describe = (id: NodeId, voter: boolean) => {
      const match = id === this.opts.id ? status.lastIndex : progress.get(id)?.match ?? 0
      return {
        id, node: this.names.get(id) ?? id, address: this.addresses.get(id) ?? '', leader: id === status.leader, voter,
        lastIndex: match, lastTerm: this.core.termAt(match) ?? 0,
        // The core tracks recent activity, not contact times: a quiet peer reads as one election timeout.
        lastContactMs: id === status.leader ? 0 : id === this.opts.id ? this.lastContactMs() : progress.get(id)?.recentActive ? 0 : this.config.electionTimeoutMs,
      }
    }
    return {
      servers: [...status.conf.voters.map((id) => describe(id, true)), ...status.conf.learners.map((id) => describe(id, false))],
      index: status.conf.voters.length > 0 ? this.#confIndex : 0,
    }
  }

  async leaderConfiguration(): Promise<RaftConfiguration> {
    if (this.isLeader()) return this.configuration()
    return await this.#askLeader({op: 'configuration'}) as RaftConfiguration
  }

  /** Runs an operator call on the leader and rethrows its error as the same type. */
  async #askLeader(call: unknown): Promise<unknown> {
    const leader = await this.#leaderOrWait()
    const answer = await this.opts.transport.request(this.#addressOf(leader), 'operator', call, this.#timeoutMs) as {ok: boolean; value?: unknown; code?: string; message?: string}
    if (answer.ok) return answer.value
    if (answer.code === NoLeaderError.CODE) throw new NoLeaderError()
    throw new OperatorError(answer.code ?? 'ERROR', answer.message ?? 'operator call failed')
  }

  async removePeer(peer: PeerRef): Promise<void> {
    if (!this.isLeader()) {
      await this.#askLeader({op: 'remove', peer})
      return
    }
    const conf = this.core.status().conf
    const id = 'id' in peer ? peer.id : [...this.addresses].find(([, address]) => address === peer.address)?.[0]
    if (!id || (!conf.voters.includes(id) && !conf.learners.includes(id))) {
      throw new OperatorError('UNKNOWN_PEER', `${'id' in peer ? `id "${peer.id}"` : `address "${peer.address}"`} was not found in the Raft configuration`)
    }
    if (conf.voters.length === 1 && conf.voters[0] === id) throw new OperatorError('LAST_VOTER', 'cannot remove the only voter')
    this.#removed.add(id)
    this.#candidates.delete(id)
    const result = this.core.proposeConfChange({type: 'remove', nodeId: id})
    if (!result.ok) throw new OperatorError(result.code, `cannot remove ${id} now: ${result.code}`)
    this.#kick()
    await this.#appliedWaiters.wait(result.lastIndex, this.#applied, this.#timeoutMs)
  }

  /** Autopilot (on the leader): removes a dead server, which, unlike one an operator removed, may rejoin later. */
  async removeDeadServer(id: NodeId): Promise<void> {
    await this.removePeer({id})
    this.#removed.delete(id)
  }

  async transferLeadership(targetId?: string): Promise<void> {
    const status = this.core.status()
    if (status.role !== 'leader') {
      await this.#askLeader({op: 'transfer', target: targetId})
      return
    }
    const others = status.peers.filter((peer) => peer.id !== this.opts.id && status.conf.voters.includes(peer.id)).sort((a, b) => b.match - a.match)
    const target = targetId ?? others[0]?.id
    if (!target) throw new OperatorError('NO_TARGET', 'no other voter to transfer leadership to')
    if (!status.conf.voters.includes(target)) throw new OperatorError('UNKNOWN_PEER', `id "${target}" was not found in the Raft configuration`)
    if (target === this.opts.id) throw new OperatorError('ALREADY_LEADER', `id "${target}" is this server, which already leads`)
    const started = this.core.transferLeadership(target)
    if (!started.ok) throw new OperatorError(started.code, `cannot transfer leadership now: ${started.code}`)
    this.#kick()
    const deadline = performance.now() + 2 * this.config.electionTimeoutMs + 1000
    while (performance.now() < deadline) {
      const leader = this.core.leader
      if (leader === target) return
      await new Promise((r) => setTimeout(r, 20))
    }
    throw new OperatorError('TRANSFER_TIMEOUT', `leadership did not move to ${target} in time`)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#hold.close()
    clearInterval(this.#ticker)
    clearInterval(this.#membershipTimer)
    for (let i = 0; i < 500 && this.#driving; i++) await new Promise((r) => setTimeout(r, 10))
    for (const [index, pending] of this.#proposals) {
      clearTimeout(pending.timer)
      pending.reject(new Error('agent is shutting down'))
      this.#proposals.delete(index)
    }
    // Pending read-index rounds hold a timer each (up to the request timeout): end them now, or a
    // stopped agent (or a refused start) lingers until they expire.
    for (const [id, read] of this.#reads) {
      this.#reads.delete(id)
      read.reject(new Error('agent is shutting down'))
    }
    this.#appliedWaiters.rejectAll(new Error('agent is shutting down'))
    await this.opts.storage.close()
  }

  // ---- internals ----

  #addressOf(id: NodeId): string {
    const address = this.addresses.get(id)
    if (!address) throw new NoLeaderError()
    return address
  }

  /** The leader's ID; waits (held, up to rpc_hold_timeout) for one to emerge. */
  async #leaderOrWait(): Promise<NodeId> {
    this.#noteLeader()
    return await this.#hold.run(async (leader) => leader.id, () => false)
  }

  /** Tells the hold which leader is known now (an addressable one), waking requests held for one. */
  #noteLeader(): void {
    const leader = this.core.leader
    this.#hold.note(leader && (leader === this.opts.id || this.addresses.has(leader)) ? {id: leader, term: this.core.term} : undefined)
  }

  async #forward(leader: NodeId, command: Command): Promise<Proposal> {
    return await this.opts.transport.request(this.#addressOf(leader), 'propose-on-leader', encodeCommand(command), this.#timeoutMs) as Proposal
  }

  /** On the leader: an index that reflects every write acknowledged before now (lease or ReadIndex). */
  async #leaderReadIndex(mode: ReadMode, timeoutMs = this.#timeoutMs): Promise<number> {
    // After close() nothing answers pending reads any more: a round started now (a peer's
    // 'read-index' arriving while the RPC port still drains) would only keep the process alive.
    if (this.#closed) throw new Error('agent is shutting down')
    if (mode === 'leader' && this.config.leaseReads) {
      const lease = this.core.leaseRead(performance.now())
      if (lease.ok) return lease.index
    }
    const id = randomUUID()
    const started = this.core.readIndex(id)
    if (!started.ok) throw new NoLeaderError()
    this.#kick()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#reads.delete(id)
        reject(new NoLeaderError())
      }, timeoutMs)
      this.#reads.set(id, {
        resolve: (index) => { clearTimeout(timer); resolve(index) },
        reject: (error) => { clearTimeout(timer); reject(error) },
      })
    })
  }

  #receive(envelope: RaftEnvelope): void {
    if (this.#closed || !envelope?.raft) return
    const message = envelope.raft
    if (envelope.fromAddress) this.addresses.set(message.from, envelope.fromAddress)
    if (message.type === 'installSnapshot' && message.data) {
      this.#incomingSnapshots.set(message.snapshot.index, message.data)
      message.data = undefined
    }
    this.core.step(message, performance.now())
    this.#kick()
  }

  #send(message: Message): void {
    const address = this.addresses.get(message.to)
    if (!address) {
      this.opts.logger.debug('no address for peer; message dropped', {peer: message.to, type: message.type})
      return
    }
    if (message.type === 'installSnapshot') {
      // The core names a snapshot; send whatever the store holds now (possibly newer) with its meta.
      const state = this.opts.storage.snapshotState()
      if (!state) return
      message.snapshot = this.opts.storage.snapshot()
      message.data = state
    }
    this.opts.transport.send(address, {raft: message, fromAddress: this.opts.address} satisfies RaftEnvelope)
  }

  /** Schedules the Ready loop; calls while it runs make it go round once more. */
  #kick(): void {
    if (!this.#closed) this.#noteLeader()
    if (this.#driving) {
      this.#again = true
      return
    }
    this.#driving = true
    setImmediate(() => {
      this.#drive().catch((error: Error) => {
        // A failed write to our own disk leaves the core ahead of what is durable: stop rather
        // than acknowledge anything that might not survive (ARCHITECTURE.md, house rule 9).
        this.opts.logger.error('raft storage failed; this server stops serving', {error})
        this.#closed = true
        clearInterval(this.#ticker)
      }).finally(() => {
        this.#driving = false
        if (this.#again && !this.#closed) {
          this.#again = false
          this.#kick()
        }
      })
    })
  }

  async #drive(): Promise<void> {
    for (let round = 0; round < 1000 && !this.#closed && this.core.hasReady(); round++) {
      this.#again = false
      const ready = this.core.ready()
      // A leader may send its AppendEntries before its own write is durable (diss. §10.2.1): the
      // core counts the leader towards a commit only after advance(), so followers' fsyncs overlap
      // the leader's. Only when nothing vote- or term-related is pending in this Ready.
      const early = new Set<Message>(this.#canSendEarly(ready) ? ready.messages.filter((m) => m.type === 'append' || m.type === 'heartbeat') : [])
      for (const message of early) this.#send(message)
      await this.#persist(ready)
      for (const message of ready.messages) if (!early.has(message)) this.#send(message)
      this.#apply(ready)
      this.core.advance(ready)
      this.#noticeLeadership()
      await this.#maybeSnapshot()
    }
  }

  #canSendEarly(ready: Ready): boolean {
    if (ready.snapshot || this.core.role !== 'leader') return false
    if (!ready.hardState) return true
    const stored = this.opts.storage.hardState()
    return ready.hardState.term === stored.term && ready.hardState.vote === stored.vote
  }

  async #persist(ready: Ready): Promise<void> {
    const {storage, state} = this.opts
    if (ready.snapshot) {
      const data = this.#incomingSnapshots.get(ready.snapshot.index)
      if (!data) throw new Error(`snapshot ${ready.snapshot.index} to restore was not received`)
      this.#incomingSnapshots.clear()
      state.restore(data)
      await storage.installSnapshot(ready.snapshot, data)
      this.#applied = ready.snapshot.index
      this.opts.logger.info('installed snapshot from the leader', {index: ready.snapshot.index, term: ready.snapshot.term})
    }
    await storage.append(ready.entries)
    if (ready.hardState) await storage.saveHardState(ready.hardState)
  }

  #apply(ready: Ready): void {
    for (const entry of ready.committedEntries) this.#applyEntry(entry)
    for (const read of ready.readStates) {
      this.#reads.get(read.requestId)?.resolve(read.index)
      this.#reads.delete(read.requestId)
    }
    for (const id of ready.abortedReads) {
      this.#reads.get(id)?.reject(new NoLeaderError())
      this.#reads.delete(id)
    }
    this.#appliedWaiters.release(this.#applied)
  }

  #applyEntry(entry: Entry): void {
    if (entry.index <= this.#applied) return
    const pending = this.#proposals.get(entry.index)
    if (entry.type === 'command') {
      const result = this.opts.state.apply(entry.index, decodeCommand(entry.data))
      if (pending) {
        this.#proposals.delete(entry.index)
        clearTimeout(pending.timer)
        // A different term at our index means another leader's entry replaced our proposal.
        if (pending.term === entry.term) pending.resolve({index: entry.index, result})
        else pending.reject(new WriteNotAppliedError('another leader\'s entry replaced it before it committed'))
      }
    } else if (entry.type === 'conf') {
      this.#confIndex = entry.index
      this.#rejectReplaced(pending, entry.index)
    } else if (pending) {
      this.#proposals.delete(entry.index)
      clearTimeout(pending.timer)
      pending.reject(new WriteNotAppliedError('another leader\'s entry replaced it before it committed'))
    }
    this.#applied = entry.index
    this.#sinceSnapshot++
  }

  #rejectReplaced(pending: PendingProposal | undefined, index: number): void {
    if (!pending) return
    this.#proposals.delete(index)
    clearTimeout(pending.timer)
    pending.reject(new WriteNotAppliedError('another leader\'s entry replaced it before it committed'))
  }

  #noticeLeadership(): void {
    const leader = this.isLeader()
    if (leader === this.#wasLeader) return
    this.#wasLeader = leader
    this.opts.logger.info(leader ? 'cluster leadership acquired' : 'cluster leadership lost', {term: this.core.status().term})
    this.opts.onLeadershipChange?.(leader)
  }

  async #maybeSnapshot(): Promise<void> {
    if (this.#sinceSnapshot < this.opts.snapshotThreshold) return
    const index = this.#applied
    const meta = this.core.snapshotMeta(index)
    if (!meta) return
    const started = performance.now()
    await this.opts.storage.compact(meta, this.opts.state.snapshot())
    this.core.compact(index)
    this.#sinceSnapshot = 0
    this.opts.logger.info('snapshot complete', {index, duration: `${Math.round(performance.now() - started)}ms`})
  }
}

/** FNV-1a: a seed for the election-jitter Rng from a string. */
function hashSeed(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export {type Message}
