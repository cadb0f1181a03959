// The leader's mirror of LAN gossip into the catalog (Consul's leader.go reconcile: handleAliveMember,
// handleFailedMember, handleLeftMember, reconcileReaped):
// - alive (or suspect: still alive to serf) → the node is registered with a passing `serfHealth`
//   check ("Agent alive and reachable"); a server also gets the `consul` service on its RPC port;
// - failed → `serfHealth` critical ("Agent not live or unreachable"): sessions bound to it die;
// - left, or gone from the member list (reaped) → the node is deregistered with its services and
//   checks. Only nodes that carry a `serfHealth` check are reaped, so nodes registered straight
//   into the catalog (external services) stay; the leader never deregisters itself.
// Only members of this datacenter are mirrored.
//
// On taking leadership the leader does a full pass, then follows member events; a periodic full
// pass (every `fullEveryMs`) catches anything a failed write missed. Events are coalesced: a set
// of dirty node names drained by one loop, so a flapping member costs one write per pass, and
// writes that already match the catalog are skipped. Each write goes through `propose` with a
// bounded number of retries while this server is still the leader.

import type {Logger} from '../logger.js'
import {systemClock, waitFor} from '../clock.js'
import {Signal} from '../signal.js'
import type {Member} from '../gossip/types.js'
import type {StateMachine} from '../state/state-machine.js'
import type {Command, RegisterRequest} from '../state/types.js'

export const SERF_CHECK_ID = 'serfHealth'
export const SERF_CHECK_NAME = 'Serf Health Status'
export const SERF_ALIVE_OUTPUT = 'Agent alive and reachable'
export const SERF_FAILED_OUTPUT = 'Agent not live or unreachable'

type CatalogCommand = Extract<Command, {type: 'catalog-register' | 'catalog-deregister'}>

export type GossipMember = Pick<Member, 'name' | 'address' | 'tags' | 'state'>

export interface MemberSource {
  members(): GossipMember[]
  /** Calls back with a member's name whenever its state or tags change; returns an unsubscribe. */
  onChange(cb: (name: string) => void): () => void
}

export interface ReconcileOptions {
  state: StateMachine
  datacenter: string
  /** This server's node name: never deregistered by the reaper. */
  selfName: string
  propose(cmd: Command): Promise<unknown>
  isLeader(): boolean
  now(): number
  log: Logger
  fullEveryMs?: number
  retries?: number
  retryDelayMs?: number
}

/** Consul's node tagged addresses for one address: lan/wan plus the _ipv4 or _ipv6 variants. */
export function taggedAddresses(address: string): Record<string, string> {
  const family = address.includes(':') ? 'ipv6' : 'ipv4'
  return {lan: address, [`lan_${family}`]: address, wan: address, [`wan_${family}`]: address}
}

/**
 * What the catalog should get for member `name` given what it holds now (pure). `member`
 * undefined means gossip no longer knows the node (reaped).
 */
export function planMember(state: StateMachine, name: string, member: GossipMember | undefined, datacenter: string, selfName: string, now: number): CatalogCommand | undefined {
  const catalog = state.catalog
  const node = catalog.node(name)
  const serf = catalog.check(name, SERF_CHECK_ID)
  if (member !== undefined && member.tags.dc !== undefined && member.tags.dc !== datacenter) return undefined
  if (member === undefined || member.state === 'left') {
    if (name === selfName || node === undefined || serf === undefined) return undefined
    return {type: 'catalog-deregister', now, request: {Node: name}}
  }
  const alive = member.state !== 'failed'
  const status = alive ? 'passing' : 'critical'
  const output = alive ? SERF_ALIVE_OUTPUT : SERF_FAILED_OUTPUT
  const id = member.tags.id ?? ''
  const isServer = member.tags.role === 'consul' && member.tags.port !== undefined
  const nodeCurrent = node !== undefined && node.address === member.address && (id === '' || node.id === id)
  const serfCurrent = serf !== undefined && serf.status === status && serf.output === output && serf.name === SERF_CHECK_NAME
  const consul = catalog.service(name, 'consul')
  const serviceCurrent = !isServer || !alive || (consul !== undefined && consul.port === Number(member.tags.port))
  if (nodeCurrent && serfCurrent && serviceCurrent) return undefined
  const request: RegisterRequest = {
    Node: name,
    ID: id,
    Address: member.address,
    Datacenter: datacenter,
    // A node already here keeps its record (anti-entropy may have written meta and tagged addresses).
    SkipNodeUpdate: nodeCurrent,
    Checks: [{CheckID: SERF_CHECK_ID, Name: SERF_CHECK_NAME, Status: status, Output: output}],
  }
  if (!nodeCurrent) {
    request.TaggedAddresses = taggedAddresses(member.address)
    request.NodeMeta = {'consul-network-segment': member.tags.segment ?? ''}
  }
  if (isServer && alive && !serviceCurrent) {
    request.Service = {
      ID: 'consul', Service: 'consul', Port: Number(member.tags.port),
      Meta: {raft_version: member.tags.raft_vsn ?? '3', serf_protocol_current: '2', serf_protocol_max: '5', serf_protocol_min: '1', version: (member.tags.build ?? '').replace(/:.*$/, '')},
    }
  }
  return {type: 'catalog-register', now, request}
}

export class CatalogReconciler {
  readonly #opts: Required<ReconcileOptions>
  #source: MemberSource | undefined
  #unsubscribe: (() => void) | undefined
  #leading = false
  /** Leadership changed: a retry waiting out its backoff gives up at once when it is lost. */
  readonly #leadership = new Signal()
  readonly #dirty = new Set<string>()
  #draining: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(opts: ReconcileOptions) {
    this.#opts = {fullEveryMs: 30_000, retries: 3, retryDelayMs: 500, ...opts}
  }

  /** Gossip starts after the server role: attach it once it runs. */
  attach(source: MemberSource): void {
    this.#source = source
    this.#unsubscribe?.()
    this.#unsubscribe = source.onChange((name) => {
      if (!this.#leading) return
      this.#dirty.add(name)
      this.#kick()
    })
    if (this.#leading) this.full()
  }

  /** Leadership changed: a new leader reconciles everything, a follower stops. */
  setLeader(leading: boolean): void {
    this.#leading = leading
    this.#leadership.emit()
    clearInterval(this.#timer)
    this.#timer = undefined
    if (!leading) {
      this.#dirty.clear()
      return
    }
    this.#timer = setInterval(() => this.full(), this.#opts.fullEveryMs)
    this.#timer.unref()
    this.full()
  }

  /** Queue every gossip member and every catalog node carrying serfHealth (the reap pass). */
  full(): void {
    if (!this.#leading || this.#source === undefined) return
    for (const m of this.#source.members()) this.#dirty.add(m.name)
    for (const node of this.#opts.state.catalog.nodesWithCheck(SERF_CHECK_ID)) this.#dirty.add(node)
    this.#kick()
  }

  /** Resolves when the queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining
  }

  stop(): void {
    this.setLeader(false)
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  #kick(): void {
    if (this.#draining !== undefined) return
    this.#draining = this.#drain().finally(() => { this.#draining = undefined })
  }

  async #drain(): Promise<void> {
    // Each name is planned against the catalog as it is when its turn comes, so a burst of
    // events for one member ends in one write.
    while (this.#leading && this.#dirty.size > 0) {
      const [name] = this.#dirty
      this.#dirty.delete(name)
      await this.#reconcileOne(name)
    }
  }

  async #reconcileOne(name: string): Promise<void> {
    const {state, datacenter, selfName, log} = this.#opts
    for (let attempt = 1; attempt <= this.#opts.retries && this.#leading; attempt++) {
      const member = this.#source?.members().find((m) => m.name === name)
      const cmd = planMember(state, name, member, datacenter, selfName, this.#opts.now())
      if (cmd === undefined) return
      try {
        await this.#opts.propose(cmd)
        if (cmd.type === 'catalog-deregister') log.info('reconcile: deregistered a member that left', {node: name})
        else if (cmd.request.Checks?.[0]?.Status === 'critical') log.info('reconcile: member failed, serfHealth critical', {node: name})
        else log.debug('reconcile: member registered', {node: name})
        return
      } catch (error) {
        log.warn('reconcile: catalog write failed', {node: name, attempt, error: (error as Error).message})
        // The backoff ends early when leadership is lost (the loop then stops).
        if (attempt < this.#opts.retries) await waitFor(systemClock, () => !this.#leading, (wake) => this.#leadership.on(wake), this.#opts.retryDelayMs * attempt)
      }
    }
  }
}
