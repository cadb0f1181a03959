// The membership reconciler: on the leader, every server heard from (retry-join, gossip) that is
// not in the Raft configuration is added as a learner, then promoted to voter once it has caught
// up (diss. §4.2.1: a new server joins without voting until its log is current, so adding it
// cannot stall commitment). One change at a time; a refused change is tried again next round.
// Servers an operator removed are not added back while this process runs.
import type {Timer} from '../clock.js'
import type {Logger} from '../logger.js'
import type {NodeId} from '../raft/types.js'
import type {RaftDriver} from './raft-driver.js'

/** How often the leader looks for servers to add or promote. */
const ROUND_MS = 500

export class MembershipReconciler {
  /** Servers heard from that are not in the configuration yet; the leader adds them. */
  readonly #candidates = new Set<NodeId>()
  /** Servers an operator removed: not re-added automatically while this process runs. */
  readonly #removed = new Set<NodeId>()
  #timer: Timer | undefined

  /** `mayPromote`: autopilot's gate (a learner promoted only after server_stabilization_time healthy). */
  constructor(private readonly driver: RaftDriver<unknown, unknown>, private readonly logger: Logger, private readonly mayPromote: (id: NodeId) => boolean = () => true) {}

  start(): void {
    this.#timer = this.driver.clock.every(ROUND_MS, () => this.reconcile())
  }

  stop(): void {
    this.#timer?.cancel()
  }

  /** A server announced itself (retry-join, discovery); the leader will add it if it is new. */
  noteServer(id: NodeId): void {
    if (id !== this.driver.id && !this.#removed.has(id)) this.#candidates.add(id)
  }

  /** An operator removed `id`: never added back by this process. */
  forget(id: NodeId): void {
    this.#removed.add(id)
    this.#candidates.delete(id)
  }

  /** Autopilot removed `id` as dead: it may be added again when it comes back. */
  allowBack(id: NodeId): void {
    this.#removed.delete(id)
  }

  /** One round: promote a caught-up learner, else add one new server as a learner. */
  reconcile(): void {
    const status = this.driver.core.status()
    if (status.role !== 'leader') return
    const {voters, learners} = status.conf
    for (const id of this.#candidates) {
      if (voters.includes(id)) this.#candidates.delete(id)
    }
    const learner = status.peers.find((peer) => peer.learner && peer.match >= status.commit && peer.match > 0 && this.mayPromote(peer.id))
    const change = learner
      ? {type: 'promote' as const, nodeId: learner.id}
      : [...this.#candidates].filter((id) => !learners.includes(id) && this.driver.addresses.has(id)).map((id) => ({type: 'addLearner' as const, nodeId: id}))[0]
    if (!change) return
    if (this.driver.proposeConfChange(change).ok) {
      this.logger.info(change.type === 'promote' ? 'promoting a caught-up server to voter' : 'adding a new server as a non-voter', {server: change.nodeId})
    }
  }
}
