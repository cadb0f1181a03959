// Anti-entropy: the catalog's entries for this node follow the agent's local state (Consul's
// agent/ae + local.State sync). Every local change marks its entry out of sync and a sync runs
// soon after (a delta); a full sync runs at start and every minute (plus jitter): it reads what
// the catalog holds for this node, compares it with the local state, and pushes only the
// differences, so entries the agent does not know are removed there and entries the catalog lost
// come back. Consul scales the full-sync interval with the cluster size; coord uses a fixed
// 60 s + up to 6 s jitter.
//
// A check whose output moved but whose status did not is not pushed at once (a TTL heartbeat
// with a fresh note would otherwise write to Raft every few seconds); the next full sync carries
// it. Consul defers those by check_update_interval (5 m).
//
// Writes go through `propose` (catalog-register / catalog-deregister commands).
// The serfHealth check and the servers' `consul` service belong to the leader (gossip reconcile)
// and are never touched here, as Consul's local state skips them.
import type {Logger} from '../logger.js'
import {errorCode} from '../errors.js'
import type {LocalChange, LocalState} from './local-state.js'
import type {CatalogCommand, CatalogView, RegisterCheck, RegisterRequest, SyncedCheck, SyncedService} from './catalog-requests.js'

export const FULL_SYNC_INTERVAL_MS = 60_000
const DELTA_DELAY_MS = 50
const MAX_RETRIES = 6
const MAX_BACKOFF_MS = 30_000
const SERF_HEALTH = 'serfHealth'
const CONSUL_SERVICE = 'consul'

export interface NodeIdentity {
  node: string
  id: string
  address: string
  datacenter: string
  /** node_meta: the node's catalog meta besides consul-network-segment (none when absent). */
  meta?: Readonly<Record<string, string>>
  /** The WAN tagged address (advertise_addr_wan); default the address. */
  wanAddress?: string
}

/** The node meta a node's catalog record should carry (Consul adds the network segment, '' without one). */
function wantedMeta(self: NodeIdentity): Record<string, string> {
  return {'consul-network-segment': '', ...self.meta}
}

function sameMeta(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key])
}

export interface AntiEntropyOptions {
  local: LocalState
  self: NodeIdentity
  log: Logger
  propose: (command: CatalogCommand) => Promise<void>
  /** What the catalog holds for this node; undefined when this agent cannot read the catalog (full sync then re-registers all). */
  catalog?: CatalogView
  now?: () => number
  fullSyncIntervalMs?: number
}

export class AntiEntropy {
  /** Entries whose catalog copy may differ from the local one. */
  readonly #dirtyServices = new Set<string>()
  readonly #dirtyChecks = new Set<string>()
  #timer?: NodeJS.Timeout
  #fullTimer?: NodeJS.Timeout
  #running?: Promise<void>
  #again = false
  #failures = 0
  #stopped = false
  /** Whether the catalog already has this node's record (then registrations skip the node update). */
  #nodeKnown = false
  /** The node record itself must be written (its meta differs from node_meta). */
  #nodeDirty = false
  readonly #unsubscribe: () => void

  constructor(private readonly opts: AntiEntropyOptions) {
    this.#unsubscribe = opts.local.onChange((change) => this.#noteChange(change))
  }

  #noteChange(change: LocalChange): void {
    if (change.kind === 'check' && change.statusOnly && !change.statusChanged) return
    if (change.kind === 'service') this.#dirtyServices.add(change.id)
    else this.#dirtyChecks.add(change.id)
    this.#schedule(DELTA_DELAY_MS)
  }

  /** Starts with a full sync, then one every interval (+ jitter). */
  start(): void {
    void this.syncFull()
  }

  #scheduleFull(): void {
    clearTimeout(this.#fullTimer)
    if (this.#stopped) return
    const base = this.opts.fullSyncIntervalMs ?? FULL_SYNC_INTERVAL_MS
    this.#fullTimer = setTimeout(() => void this.syncFull(), base + Math.random() * base / 10)
    this.#fullTimer.unref()
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.syncChanges()
    }, delayMs)
    this.#timer.unref()
  }

  /** Reads the catalog's view of this node, marks every difference dirty, then pushes. */
  async syncFull(): Promise<void> {
    const {local, catalog, self} = this.opts
    try {
      if (!catalog) throw new Error('no catalog reader')
      const remote = await catalog.nodeEntries(self.node)
      this.#nodeKnown = remote.nodeExists
      // As Consul's syncNodeInfo: a node whose catalog meta is not node_meta is written again. A node
      // not in the catalog yet is left to the leader's member reconcile unless it has meta to carry.
      const meta = wantedMeta(self)
      if (remote.nodeExists ? remote.nodeMeta !== undefined && !sameMeta(remote.nodeMeta, meta) : Object.keys(self.meta ?? {}).length > 0) {
        this.#nodeDirty = true
        this.#nodeKnown = false
      }
      const remoteServices = new Map(remote.services.map((s) => [s.ID, s]))
      const remoteChecks = new Map(remote.checks.map((c) => [c.CheckID, c]))
      for (const service of local.services()) {
        const theirs = remoteServices.get(service.def.ID)
        if (!theirs || !same(this.#service(service.def.ID), theirs)) this.#dirtyServices.add(service.def.ID)
      }
      for (const id of remoteServices.keys()) if (id !== CONSUL_SERVICE && !local.service(id)) this.#dirtyServices.add(id)
      for (const check of local.checks()) {
        const theirs = remoteChecks.get(check.def.CheckID)
        const ours = this.#check(check.def.CheckID)
        if (!theirs || !ours || !same(syncedCheck(ours), theirs)) this.#dirtyChecks.add(check.def.CheckID)
      }
      for (const id of remoteChecks.keys()) if (id !== SERF_HEALTH && !local.check(id)) this.#dirtyChecks.add(id)
    } catch (error) {
      if (catalog) this.opts.log.warn('anti-entropy: cannot read the catalog; re-registering every local entry', {error: (error as Error).message})
      for (const service of local.services()) this.#dirtyServices.add(service.def.ID)
      for (const check of local.checks()) this.#dirtyChecks.add(check.def.CheckID)
    }
    await this.syncChanges()
    this.#scheduleFull()
  }

  /** Pushes every dirty entry; overlapping calls coalesce into one more pass. */
  async syncChanges(): Promise<void> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    this.#running = (async () => {
      do {
        this.#again = false
        await this.#pushDirty()
      } while (this.#again && !this.#stopped)
    })().finally(() => { this.#running = undefined })
    return this.#running
  }

  async #pushDirty(): Promise<void> {
    const {local, self} = this.opts
    try {
      if (this.#nodeDirty) {
        this.#nodeDirty = false
        try {
          await this.#propose({type: 'catalog-register', now: this.#now(), request: {...this.#node(), SkipNodeUpdate: false}})
        } catch (error) {
          this.#nodeDirty = true
          throw error
        }
      }
      for (const id of [...this.#dirtyServices]) {
        const service = local.service(id)
        this.#dirtyServices.delete(id)
        try {
          if (service) {
            // A service goes with its checks in one register, as Consul's syncService does.
            const checks = local.checksOf(id)
            for (const check of checks) this.#dirtyChecks.delete(check.def.CheckID)
            await this.#propose({type: 'catalog-register', now: this.#now(), request: {
              ...this.#node(), Service: this.#service(id), Checks: checks.map((c) => this.#check(c.def.CheckID)).filter((c) => c !== undefined),
            }})
          } else {
            await this.#propose({type: 'catalog-deregister', now: this.#now(), request: {Node: self.node, Datacenter: self.datacenter, ServiceID: id}})
          }
        } catch (error) {
          this.#dirtyServices.add(id)
          throw error
        }
      }
      for (const id of [...this.#dirtyChecks]) {
        if (id === SERF_HEALTH) {
          this.#dirtyChecks.delete(id)
          continue
        }
        const check = this.#check(id)
        this.#dirtyChecks.delete(id)
        try {
          if (check) await this.#propose({type: 'catalog-register', now: this.#now(), request: {...this.#node(), Check: check}})
          else await this.#propose({type: 'catalog-deregister', now: this.#now(), request: {Node: self.node, Datacenter: self.datacenter, CheckID: id}})
        } catch (error) {
          this.#dirtyChecks.add(id)
          throw error
        }
      }
      this.#failures = 0
    } catch (error) {
      // Bounded retries with exponential backoff; past them, the next full sync tries again.
      if (errorCode(error) === 'MISSING_NODE') this.#nodeKnown = false
      this.#failures++
      if (this.#failures <= MAX_RETRIES) {
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.#failures - 1))
        this.opts.log.warn('anti-entropy: sync failed; retrying', {error: (error as Error).message, attempt: this.#failures, retry_in_ms: delay})
        this.#schedule(delay)
      } else {
        this.opts.log.error('anti-entropy: sync keeps failing; waiting for the next full sync', {error: (error as Error).message})
        this.#failures = 0
      }
    }
  }

  #now(): number {
    return (this.opts.now ?? Date.now)()
  }

  #node(): Pick<RegisterRequest, 'Node' | 'ID' | 'Address' | 'Datacenter' | 'TaggedAddresses' | 'NodeMeta' | 'SkipNodeUpdate'> {
    const {self} = this.opts
    return {
      Node: self.node, ID: self.id, Address: self.address, Datacenter: self.datacenter,
      TaggedAddresses: {lan: self.address, wan: self.wanAddress ?? self.address}, NodeMeta: wantedMeta(self),
      // Once the node is in the catalog, its record (meta, tagged addresses) belongs to the
      // leader's member reconcile; anti-entropy writes it only when it is missing.
      SkipNodeUpdate: this.#nodeKnown,
    }
  }

  #service(id: string): SyncedService | undefined {
    const service = this.opts.local.service(id)
    if (!service) return undefined
    const d = service.def
    return {
      ID: d.ID, Service: d.Service, Tags: d.Tags, Address: d.Address, TaggedAddresses: d.TaggedAddresses, Meta: d.Meta,
      Port: d.Port, Weights: d.Weights, EnableTagOverride: d.EnableTagOverride, Kind: d.Kind,
    }
  }

  #check(id: string): RegisterCheck | undefined {
    const check = this.opts.local.check(id)
    if (!check) return undefined
    const service = check.def.ServiceID ? this.opts.local.service(check.def.ServiceID) : undefined
    const kind = check.source === 'internal' ? 'maintenance' : check.def.kind
    return {
      Node: this.opts.self.node, CheckID: id, Name: check.def.Name, Status: check.status, Notes: check.def.Notes,
      Output: check.output, ServiceID: check.def.ServiceID, ServiceName: service?.def.Service ?? '',
      ServiceTags: service?.def.Tags ?? [], Type: kind, Interval: check.def.Interval, Timeout: check.def.Timeout,
      Definition: {},
    }
  }

  async #propose(command: CatalogCommand): Promise<void> {
    if (this.#stopped) return
    await this.opts.propose(command)
    if (command.type === 'catalog-register') this.#nodeKnown = true
  }

  stop(): void {
    this.#stopped = true
    this.#unsubscribe()
    clearTimeout(this.#timer)
    clearTimeout(this.#fullTimer)
  }
}

function syncedCheck(check: RegisterCheck): SyncedCheck {
  return {
    CheckID: check.CheckID ?? '', Name: check.Name ?? '', Status: check.Status ?? 'critical', Notes: check.Notes ?? '',
    Output: check.Output ?? '', ServiceID: check.ServiceID ?? '',
  }
}

/** Field-by-field equality of what anti-entropy writes (key order does not matter). */
function same(a: object | undefined, b: object): boolean {
  if (!a) return false
  return canonical(a) === canonical(b)
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}
