// Autopilot on a server: seeds the replicated configuration from the agent's `autopilot` block the
// first time this server leads (Consul's initializeAutopilot), and, while it leads, once a second
// computes server health (autopilot.ts), publishes consul.autopilot.healthy and failure_tolerance,
// removes dead servers one at a time when it is safe, and tells the Raft driver which non-voters
// have been stable long enough to be promoted.
import type {AutopilotSettings} from '../agent/autopilot-config.js'
import type {RaftConfiguration, RaftPeer} from '../consensus.js'
import type {Logger} from '../logger.js'
import {metrics} from '../metrics/metrics.js'
import type {AutopilotConfig} from '../state/autopilot-config.js'
import type {StateMachine} from '../state/state-machine.js'
import type {Command} from '../state/types.js'
import {clusterHealth, deadServerRemovals, mayPromote, renderAutopilotState, trackStability, type ClusterHealth, type NodeStatus, type StableSince} from './autopilot.js'
import type {GossipMember} from './catalog-reconcile.js'

const TICK_MS = 1000

export interface AutopilotRunnerOptions {
  settings: AutopilotSettings
  state: StateMachine
  isLeader(): boolean
  configuration(): RaftConfiguration
  propose(command: Command): Promise<unknown>
  /** Removes a dead server from the Raft configuration (it may rejoin later). */
  removeDeadServer(id: string): Promise<void>
  /** The agent's version (this server's Version in the state). */
  version: string
  log: Logger
  now?: () => number
}

/** The agent's block → the replicated record's shape (Consul's defaults for the Enterprise fields). */
export function autopilotConfigFrom(settings: AutopilotSettings): AutopilotConfig {
  return {...settings, redundancyZoneTag: '', disableUpgradeMigration: false, upgradeVersionTag: ''}
}

export class AutopilotRunner {
  #timer: NodeJS.Timeout | undefined
  #stable: StableSince = new Map()
  #members: (() => GossipMember[]) | undefined
  #busy = false
  #seeding = false
  readonly #now: () => number

  constructor(private readonly o: AutopilotRunnerOptions) {
    this.#now = o.now ?? (() => Date.now())
  }

  /** Gossip's view of the servers; without it (ports.serf_lan = -1) every server counts as alive. */
  attachMembers(members: () => GossipMember[]): void {
    this.#members = members
  }

  start(): void {
    this.#timer = setInterval(() => { void this.#tick() }, TICK_MS)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** The configuration in force: the replicated one, or the agent's block until a leader stored it. */
  config(): AutopilotConfig {
    return this.o.state.autopilotConfig() ?? autopilotConfigFrom(this.o.settings)
  }

  /** The Raft driver asks before promoting a caught-up non-voter. */
  mayPromote(id: string): boolean {
    return mayPromote(id, this.#stable, this.config(), this.#now())
  }

  status(): (server: RaftPeer) => NodeStatus {
    const members = this.#members?.()
    if (!members) return () => 'alive'
    const byName = new Map(members.map((m) => [m.name, m.state]))
    return (server) => {
      const state = byName.get(server.node)
      return state === undefined ? 'unknown' : state === 'alive' || state === 'suspect' ? 'alive' : state === 'left' ? 'left' : 'failed'
    }
  }

  health(config: RaftConfiguration, status = this.status()): ClusterHealth {
    return clusterHealth(config, this.config(), status)
  }

  /** /v1/operator/autopilot/state from this server's view (the tracked stability on the leader). */
  state(config: RaftConfiguration) {
    const status = this.status()
    const health = this.health(config, status)
    const stable = this.o.isLeader() ? this.#stable : trackStability(health, this.#stable, this.#now())
    return renderAutopilotState(health, status, stable, () => this.o.version)
  }

  async #tick(): Promise<void> {
    if (this.#busy || !this.o.isLeader()) return
    this.#busy = true
    try {
      if (this.o.state.autopilotConfig() === undefined && !this.#seeding) {
        this.#seeding = true
        // ?cas=0: only if no configuration was stored meanwhile.
        await this.o.propose({type: 'autopilot-set', now: this.#now(), op: {config: autopilotConfigFrom(this.o.settings), cas: 0}})
          .catch((error: Error) => this.o.log.warn('could not store the autopilot configuration', {error: error.message}))
          .finally(() => { this.#seeding = false })
      }
      const status = this.status()
      const health = this.health(this.o.configuration(), status)
      const now = this.#now()
      this.#stable = trackStability(health, this.#stable, now)
      metrics.setGauge(['autopilot', 'healthy'], health.healthy ? 1 : 0)
      metrics.setGauge(['autopilot', 'failure_tolerance'], health.failureTolerance)
      const [remove] = deadServerRemovals(health, status, this.#stable, this.config(), now)
      if (remove !== undefined) {
        const server = health.servers.find((s) => s.id === remove)
        this.o.log.info('Attempting removal of failed server node', {id: remove, name: server?.node, address: server?.address})
        await this.o.removeDeadServer(remove).then(
          () => this.o.log.info('removed server', {id: remove, name: server?.node}),
          (error: Error) => this.o.log.error('failed to remove raft server', {id: remove, error: error.message}),
        )
      }
    } finally {
      this.#busy = false
    }
  }
}
