// A one-server "cluster": every command is appended to the durable log, fsync'd, then applied to
// the state machine in log order. Proposals that arrive while a write is in flight are batched into
// the next one (group commit), so N concurrent clients cost one fsync per batch, not N.
//
// Startup: restore the latest snapshot, replay the log after it. Every `snapshotThreshold` entries
// the state is snapshotted and the log compacted, bounding restart time and disk use.
import {encodeCommand, decodeCommand} from '../state/codec.js'
import type {StateMachine} from '../state/state-machine.js'
import type {Command} from '../state/types.js'
import type {LogEntry, LogStore} from '../raft/log-store.js'
import type {FileSnapshotStore} from '../raft/snapshot-store.js'
import type {Logger} from '../agent/logger.js'
import {NoLeaderError, OperatorError, type Consensus, type PeerRef, type Proposal, type RaftConfiguration, type ReadMode} from './consensus.js'

const TERM = 1

interface Pending {
  command: Command
  resolve: (proposal: Proposal) => void
  reject: (error: Error) => void
}

export interface SingleServerOptions {
  state: StateMachine
  log: LogStore
  snapshots?: FileSnapshotStore
  logger: Logger
  /** Server RPC address reported as leader and peer. */
  address: string
  /** This server's node ID (its Raft server ID) and node name, for the operator endpoints. */
  serverId: string
  nodeName: string
  /** Without -bootstrap (or -bootstrap-expect=1) a lone server never elects itself, as in Consul. */
  bootstrap: boolean
  snapshotThreshold: number
  /** Largest number of commands written in one batch (bounds one write's size and latency). */
  maxBatch?: number
}

export class SingleServer implements Consensus {
  #queue: Pending[] = []
  #flushing = false
  #closed = false
  #snapshotIndex = 0

  constructor(private readonly opts: SingleServerOptions) {}

  /** Rebuilds state from the snapshot (if any) and the log; call once before serving. */
  static restore(state: StateMachine, log: LogStore, snapshot: {meta: {index: number}; data: Uint8Array} | undefined): number {
    if (snapshot) state.restore(snapshot.data)
    let replayed = 0
    for (const entry of log.entries(log.firstIndex(), log.lastIndex())) {
      if (entry.index <= state.lastIndex) continue
      state.apply(entry.index, decodeCommand(entry.data))
      replayed++
    }
    return replayed
  }

  set snapshotIndex(index: number) {
    this.#snapshotIndex = index
  }

  propose(command: Command): Promise<Proposal> {
    if (this.#closed) return Promise.reject(new Error('agent is shutting down'))
    if (!this.opts.bootstrap) return Promise.reject(new NoLeaderError())
    return new Promise((resolve, reject) => {
      this.#queue.push({command, resolve, reject})
      if (!this.#flushing) void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    this.#flushing = true
    const maxBatch = this.opts.maxBatch ?? 1024
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, maxBatch)
        const first = this.opts.log.lastIndex() + 1
        const entries: LogEntry[] = batch.map((pending, i) => ({index: first + i, term: TERM, data: encodeCommand(pending.command)}))
        try {
          await this.opts.log.append(entries)
        } catch (error) {
          // Nothing of this batch is acknowledged; the clients see the error and may retry.
          this.opts.logger.error('failed to append to the log', {error})
          for (const pending of batch) pending.reject(new Error(`failed to write to the log: ${(error as Error).message}`))
          continue
        }
        batch.forEach((pending, i) => {
          const index = first + i
          pending.resolve({index, result: this.opts.state.apply(index, pending.command)})
        })
        await this.#maybeSnapshot()
      }
    } finally {
      this.#flushing = false
    }
  }

  async #maybeSnapshot(): Promise<void> {
    const {snapshots, log, state} = this.opts
    if (log.lastIndex() - this.#snapshotIndex < this.opts.snapshotThreshold) return
    const index = state.lastIndex
    const started = performance.now()
    // In memory (-dev) the live state is the only copy, so compaction just drops applied entries;
    // without it a long-running dev agent would keep every command it ever applied.
    snapshots?.save({index, term: TERM}, state.snapshot())
    await log.compact(index)
    this.#snapshotIndex = index
    this.opts.logger.info('snapshot complete', {index, duration: `${Math.round(performance.now() - started)}ms`})
  }

  /** One server is its own quorum: every applied write is visible, so only leadership matters. */
  async readBarrier(mode: ReadMode, _maxStaleMs: number): Promise<void> {
    if (mode !== 'stale' && !this.opts.bootstrap) throw new NoLeaderError()
  }

  isLeader(): boolean {
    return this.opts.bootstrap
  }

  knownLeader(): boolean {
    return this.opts.bootstrap
  }

  leaderAddress(): string {
    return this.opts.bootstrap ? this.opts.address : ''
  }

  peers(): string[] {
    return [this.opts.address]
  }

  lastContactMs(): number {
    return 0
  }

  stats(): Record<string, string> {
    const last = String(this.opts.state.lastIndex)
    return {
      state: this.opts.bootstrap ? 'Leader' : 'Follower', term: String(TERM), commit_index: last, applied_index: last,
      last_log_index: String(this.opts.log.lastIndex()), last_log_term: String(TERM), last_snapshot_index: String(this.#snapshotIndex),
      last_contact: '0', num_peers: '0', protocol_version: '3',
    }
  }

  /** One voter, itself; the configuration dates from the bootstrap entry (index 1). */
  configuration(): RaftConfiguration {
    const lastIndex = this.opts.state.lastIndex
    return {
      servers: [{
        id: this.opts.serverId, node: this.opts.nodeName, address: this.opts.address, leader: this.opts.bootstrap, voter: true,
        lastIndex, lastTerm: lastIndex > 0 ? TERM : 0, lastContactMs: 0,
      }],
      index: this.opts.bootstrap ? 1 : 0,
    }
  }

  async removePeer(peer: PeerRef): Promise<void> {
    if (!this.opts.bootstrap) throw new NoLeaderError()
    if ('id' in peer && peer.id !== this.opts.serverId) throw new OperatorError('PEER_NOT_FOUND', `id "${peer.id}" was not found in the Raft configuration`)
    if ('address' in peer && peer.address !== this.opts.address) throw new OperatorError('PEER_NOT_FOUND', `address "${peer.address}" was not found in the Raft configuration`)
    throw new OperatorError('LAST_VOTER', 'cannot remove the only voter')
  }

  async transferLeadership(targetId?: string): Promise<void> {
    if (!this.opts.bootstrap) throw new NoLeaderError()
    if (targetId !== undefined && targetId !== '' && targetId !== this.opts.serverId) {
      throw new OperatorError('PEER_NOT_FOUND', `id "${targetId}" was not found in the Raft configuration`)
    }
    throw new OperatorError('NO_TRANSFER_TARGET', 'no other voter to transfer leadership to')
  }

  async close(): Promise<void> {
    this.#closed = true
    // Let an in-flight batch finish so acknowledged writes are not cut off mid-fsync.
    for (let i = 0; i < 500 && this.#flushing; i++) await new Promise((r) => setTimeout(r, 10))
    for (const pending of this.#queue.splice(0)) pending.reject(new Error('agent is shutting down'))
    await this.opts.log.close()
  }
}
