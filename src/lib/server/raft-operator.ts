// The operator facade over the Raft driver: what /v1/operator/raft/*, autopilot health, /v1/agent/self
// and `coord info` read (configuration, stats) and the operator's changes (remove a peer, transfer
// leadership). A change asked of a follower runs on the leader: it travels as one 'operator' call
// on the RPC port and comes back as an outcome (never thrown across the wire), so the caller
// rethrows the same error type (400 for an operator mistake, 500 for no leader).
//
// Adding an operation: a member of OperatorCall, its case in #perform, and the public method.
import {NoLeaderError, OperatorError, type PeerRef, type RaftConfiguration} from '../consensus.js'
import type {NodeId} from '../raft/types.js'
import type {PeerTransport} from './driver-ports.js'
import type {LeaderHold} from './leader-hold.js'
import type {MembershipReconciler} from './membership.js'
import type {RaftDriver} from './raft-driver.js'
import type {ReadBarrier} from './read-barrier.js'

/** One operator call as it travels to the leader. */
export type OperatorCall = {op: 'configuration'} | {op: 'remove'; peer: PeerRef} | {op: 'transfer'; target?: string}

/** Its answer: the value, or the error's code and message (rethrown by the caller as the same type). */
type OperatorAnswer = {ok: true; value?: unknown} | {ok: false; code: string; message: string}

export interface RaftOperatorOptions {
  driver: RaftDriver<unknown, unknown>
  barrier: ReadBarrier
  membership: MembershipReconciler
  hold: LeaderHold
  transport: PeerTransport
}

export class RaftOperator {
  /** Node names of servers, learned from discovery (IDs are shown where a name is unknown). */
  readonly names = new Map<NodeId, string>()

  constructor(private readonly opts: RaftOperatorOptions) {
    opts.transport.onRequest('operator', async (_from, body): Promise<OperatorAnswer> => {
      try {
        return {ok: true, value: await this.#perform(body as OperatorCall)}
      } catch (error) {
        return {ok: false, code: (error as {code?: string}).code ?? 'ERROR', message: (error as Error).message}
      }
    })
  }

  async #perform(call: OperatorCall): Promise<unknown> {
    switch (call.op) {
      case 'configuration': return this.configuration()
      case 'remove': return await this.removePeer(call.peer)
      case 'transfer': return await this.transferLeadership(call.target)
    }
  }

  /** Raft-ish statistics for /v1/agent/self and `coord info` (all values strings, Consul's names). */
  stats(): Record<string, string> {
    const {driver} = this.opts
    const status = driver.core.status()
    const snapshot = driver.storage.snapshot()
    return {
      state: {leader: 'Leader', follower: 'Follower', candidate: 'Candidate', preCandidate: 'Candidate'}[status.role as string] ?? status.role,
      term: String(status.term), commit_index: String(status.commit), applied_index: String(driver.appliedIndex),
      last_log_index: String(status.lastIndex), last_log_term: String(driver.core.termAt(status.lastIndex) ?? 0),
      last_snapshot_index: String(snapshot.index), last_snapshot_term: String(snapshot.term),
      last_contact: status.role === 'leader' ? '0' : `${driver.lastContactMs()}ms`,
      num_peers: String(Math.max(0, status.conf.voters.length - 1)), protocol_version: '3',
      // hashicorp/raft's Stats: the versions it speaks, entries committed but not yet applied, and
      // the configuration as Go's fmt %+v prints []raft.Server.
      protocol_version_min: '0', protocol_version_max: '3', snapshot_version_min: '0', snapshot_version_max: '1',
      fsm_pending: String(Math.max(0, status.commit - driver.appliedIndex)),
      latest_configuration_index: String(status.conf.voters.length > 0 ? driver.confIndex : 0),
      latest_configuration: `[${[
        ...status.conf.voters.map((id) => `{Suffrage:Voter ID:${id} Address:${driver.addresses.get(id) ?? ''}}`),
        ...status.conf.learners.map((id) => `{Suffrage:Nonvoter ID:${id} Address:${driver.addresses.get(id) ?? ''}}`),
      ].join(' ')}]`,
    }
  }

  /** The configuration as this server knows it (match indexes and contact are the leader's view). */
  configuration(): RaftConfiguration {
    const {driver} = this.opts
    const status = driver.core.status()
    const progress = new Map(status.peers.map((peer) => [peer.id, peer]))
    const describe = (id: NodeId, voter: boolean) => {
      const match = id === driver.id ? status.lastIndex : progress.get(id)?.match ?? 0
      return {
        id, node: this.names.get(id) ?? id, address: driver.addresses.get(id) ?? '', leader: id === status.leader, voter,
        lastIndex: match, lastTerm: driver.core.termAt(match) ?? 0,
        // The core tracks recent activity, not contact times: a quiet peer reads as one election timeout.
        lastContactMs: id === status.leader ? 0 : id === driver.id ? driver.lastContactMs() : progress.get(id)?.recentActive ? 0 : driver.config.electionTimeoutMs,
      }
    }
    return {
      servers: [...status.conf.voters.map((id) => describe(id, true)), ...status.conf.learners.map((id) => describe(id, false))],
      index: status.conf.voters.length > 0 ? driver.confIndex : 0,
    }
  }

  async leaderConfiguration(): Promise<RaftConfiguration> {
    if (this.opts.driver.isLeader()) return this.configuration()
    return await this.#askLeader({op: 'configuration'}) as RaftConfiguration
  }

  async removePeer(peer: PeerRef): Promise<void> {
    const {driver} = this.opts
    if (!driver.isLeader()) {
      await this.#askLeader({op: 'remove', peer})
      return
    }
    const conf = driver.core.status().conf
    const id = 'id' in peer ? peer.id : [...driver.addresses].find(([, address]) => address === peer.address)?.[0]
    if (!id || (!conf.voters.includes(id) && !conf.learners.includes(id))) {
      throw new OperatorError('UNKNOWN_PEER', `${'id' in peer ? `id "${peer.id}"` : `address "${peer.address}"`} was not found in the Raft configuration`)
    }
    if (conf.voters.length === 1 && conf.voters[0] === id) throw new OperatorError('LAST_VOTER', 'cannot remove the only voter')
    this.opts.membership.forget(id)
    const result = driver.proposeConfChange({type: 'remove', nodeId: id})
    if (!result.ok) throw new OperatorError(result.code, `cannot remove ${id} now: ${result.code}`)
    await this.opts.barrier.waitApplied(result.lastIndex, driver.requestTimeoutMs)
  }

  async transferLeadership(targetId?: string): Promise<void> {
    const {driver} = this.opts
    const status = driver.core.status()
    if (status.role !== 'leader') {
      await this.#askLeader({op: 'transfer', target: targetId})
      return
    }
    const others = status.peers.filter((peer) => peer.id !== driver.id && status.conf.voters.includes(peer.id)).sort((a, b) => b.match - a.match)
    const target = targetId ?? others[0]?.id
    if (!target) throw new OperatorError('NO_TARGET', 'no other voter to transfer leadership to')
    if (!status.conf.voters.includes(target)) throw new OperatorError('UNKNOWN_PEER', `id "${target}" was not found in the Raft configuration`)
    if (target === driver.id) throw new OperatorError('ALREADY_LEADER', `id "${target}" is this server, which already leads`)
    const started = driver.transferLeadership(target)
    if (!started.ok) throw new OperatorError(started.code, `cannot transfer leadership now: ${started.code}`)
    // Done once this server hears of the new leader (its first message in the new term).
    if (!await driver.leaderBecomes(target, 2 * driver.config.electionTimeoutMs + 1000)) {
      throw new OperatorError('TRANSFER_TIMEOUT', `leadership did not move to ${target} in time`)
    }
  }

  /** Runs an operator call on the leader (waiting for one, held) and rethrows its error as the same type. */
  async #askLeader(call: OperatorCall): Promise<unknown> {
    const {driver, hold, barrier, transport} = this.opts
    hold.note(driver.leaderView())
    const leader = await hold.run(async (view) => view.id, () => false)
    const answer = await transport.request(barrier.addressOf(leader), 'operator', call, driver.requestTimeoutMs) as OperatorAnswer
    if (answer.ok) return answer.value
    if (answer.code === NoLeaderError.CODE) throw new NoLeaderError()
    throw new OperatorError(answer.code ?? 'ERROR', answer.message ?? 'operator call failed')
  }
}
