// The read barrier: when may this server's state answer a read? On the leader, from its lease
// (dated from the send time of the heartbeat round a quorum acknowledged, checked against the
// driver's monotonic clock) or a ReadIndex round; on a follower, by asking the leader for a read
// index ('read-index' on the RPC port) and waiting until this server has applied it, then answering
// from its own state, so default and
// ?consistent reads stay linearizable on every server (diss. §6.4) while every server encodes its
// own answers. The leader answers a default read's index from its lease, as for its own default
// reads (Consul's default mode: the leader's word, no quorum check), a ?consistent one after a
// ReadIndex round (Consul's verifyLeader). The reads of one mode in one event-loop turn make that
// trip together (read-index-batch.ts). Asking the leader is held through an election
// (leader-hold.ts); everything else waits on the driver's events.
import {CoordError} from '../errors.js'
import {NoLeaderError, type ReadMode} from '../consensus.js'
import type {NodeId} from '../raft/types.js'
import {AppliedWaiters} from './applied-waiters.js'
import type {PeerTransport} from './driver-ports.js'
import type {LeaderHold} from './leader-hold.js'
import {ShuttingDownError, type RaftDriver} from './raft-driver.js'
import {answeredIndex, PerTurn, READ_INDEX, requestedReadMode, type LeaderReadMode} from './read-index-batch.js'

interface PendingRead {
  resolve: (index: number) => void
  reject: (error: Error) => void
}

export class ReadBarrier {
  readonly #reads = new Map<string, PendingRead>()
  readonly #waiters: AppliedWaiters
  readonly #batches: PerTurn<string, void>
  #nextRead = 0

  constructor(private readonly driver: RaftDriver<unknown, unknown>, private readonly hold: LeaderHold, private readonly transport: PeerTransport) {
    this.#waiters = new AppliedWaiters(driver.clock)
    driver.applied.on((index) => this.#waiters.release(index))
    driver.reads.on(({states, aborted}) => {
      for (const read of states) {
        this.#reads.get(read.requestId)?.resolve(read.index)
        this.#reads.delete(read.requestId)
      }
      for (const id of aborted) {
        this.#reads.get(id)?.reject(new NoLeaderError())
        this.#reads.delete(id)
      }
    })
    this.#batches = new PerTurn(driver.clock)
    transport.onRequest(READ_INDEX, async (_from, body) => this.leaderReadIndex(requestedReadMode(body)))
  }

  /** Consensus.readBarrier: resolves once local state may answer a read in `mode`. */
  async barrier(mode: ReadMode, maxStaleMs: number): Promise<void> {
    const driver = this.driver
    if (mode === 'stale') {
      const lagging = maxStaleMs > 0 && !driver.isLeader() && driver.lastContactMs() > maxStaleMs
      if (!lagging) return
      mode = 'leader' // as Consul: too stale for max_stale → ask the leader
    }
    // A full disk takes this server out of Raft: it cannot know what is current, say so at once.
    if (driver.diskFull !== undefined) throw new CoordError('DISK_FULL', `this server cannot write to its disk (${driver.diskFull}) and is out of the Raft cluster; it answers only stale reads (?stale)`, {httpStatus: 500})
    const timeoutMs = driver.requestTimeoutMs
    // The common case, without the hold's promises and listeners (~15 % more default GETs/s on one
    // server): this server leads and its lease holds, which is all leaderReadIndex would check.
    if (mode === 'leader' && !driver.closed && driver.isLeader() && driver.config.leaseReads) {
      const lease = driver.core.leaseRead(driver.clock.now())
      if (lease.ok) {
        if (driver.appliedIndex < lease.index) await this.waitApplied(lease.index, timeoutMs)
        return
      }
    }
    const leaderMode = mode
    // A client agent's read waits less for a leader (LeaderHold.waitCapped); its reads share a trip
    // apart, since the trip runs in its first joiner's context and would cap everyone's wait.
    const batch = this.hold.waitCapped() ? `${leaderMode} capped` : leaderMode
    await this.#batches.join(batch, () => this.#readIndexTrip(leaderMode))
  }

  /** One trip for a batch of reads: a read index from the leader (held through an election), then until this server has applied it. */
  async #readIndexTrip(mode: LeaderReadMode): Promise<void> {
    const driver = this.driver
    const timeoutMs = driver.requestTimeoutMs
    this.hold.note(driver.leaderView())
    // Asking for a read index changes nothing: any failure is tried again, on a new leader if one
    // takes over meanwhile (the call to the old one is abandoned then), until the hold runs out.
    const index = await this.hold.run((leader, remainingMs) => this.hold.whileLeading(leader, leader.id === driver.id
      ? this.leaderReadIndex(mode, Math.min(timeoutMs, remainingMs))
      : this.#askLeader(this.addressOf(leader.id), mode, Math.min(timeoutMs, remainingMs)),
    ), () => !driver.closed)
    if (driver.closed) throw new ShuttingDownError()
    await this.waitApplied(index, timeoutMs)
  }

  async #askLeader(address: string, mode: LeaderReadMode, timeoutMs: number): Promise<number> {
    return answeredIndex(await this.transport.request(address, READ_INDEX, mode, timeoutMs), address)
  }

  /** On the leader: an index that reflects every write acknowledged before now (lease or ReadIndex). */
  async leaderReadIndex(mode: ReadMode, timeoutMs = this.driver.requestTimeoutMs): Promise<number> {
    const driver = this.driver
    // After close() nothing answers pending reads any more: a round started now (a peer's
    // 'read-index' arriving while the RPC port still drains) would only keep the process alive.
    if (driver.closed) throw new ShuttingDownError()
    if (mode === 'leader' && driver.config.leaseReads) {
      const lease = driver.core.leaseRead(driver.clock.now())
      if (lease.ok) return lease.index
    }
    const id = `r${this.#nextRead++}`
    if (!driver.startReadIndex(id)) throw new NoLeaderError()
    return new Promise((resolve, reject) => {
      const timer = driver.clock.after(timeoutMs, () => {
        this.#reads.delete(id)
        reject(new NoLeaderError())
      })
      this.#reads.set(id, {
        resolve: (index) => { timer.cancel(); resolve(index) },
        reject: (error) => { timer.cancel(); reject(error) },
      })
    })
  }

  /** Resolves once this server has applied `index` (at once if it has), or rejects after `timeoutMs`. */
  waitApplied(index: number, timeoutMs: number): Promise<void> {
    return this.#waiters.wait(index, this.driver.appliedIndex, timeoutMs)
  }

  /** Where `id` is reached; NoLeaderError when unknown (the hold then waits for another leader). */
  addressOf(id: NodeId): string {
    const address = this.driver.addresses.get(id)
    if (!address) throw new NoLeaderError()
    return address
  }

  /** Ends every pending round and wait: a stopped agent (or a refused start) must not linger on their timers. */
  close(): void {
    for (const [id, read] of this.#reads) {
      this.#reads.delete(id)
      read.reject(new ShuttingDownError())
    }
    this.#waiters.rejectAll(new ShuttingDownError())
  }
}
