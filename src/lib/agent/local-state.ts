// The agent's local registry of services and checks: what this node runs, as the agent knows it
// (Consul's agent/local.State). Config files, the /v1/agent API and maintenance mode all write
// here; persistence, the check runners and anti-entropy follow it through `onChange`.
//
// Rules kept here so every writer gets them: a check that names a service needs that service to
// exist; removing a service removes its checks; re-registering a check keeps its current status
// (a reload or an API re-register must not flap a passing check to critical).
import type {CheckDefinition, CheckStatus, ServiceDefinition} from './definitions.js'

/** Where an entry came from: config files (reload owns them), the HTTP API (persisted), the agent itself (maintenance). */
export type Source = 'config' | 'api' | 'internal'

export interface LocalService {
  readonly def: ServiceDefinition
  readonly source: Source
}

export interface LocalCheck {
  readonly def: CheckDefinition
  readonly source: Source
  readonly status: CheckStatus
  readonly output: string
  /** Wall-clock ms since the check has been critical (DeregisterCriticalServiceAfter); undefined otherwise. */
  readonly criticalSince?: number
}

export interface LocalChange {
  kind: 'service' | 'check'
  id: string
  /** True when the entry is gone. */
  removed: boolean
  /** True when only a check's status or output moved (no definition change). */
  statusOnly?: boolean
  /** With statusOnly: whether the status itself moved (false: only the output). */
  statusChanged?: boolean
}

export class LocalStateError extends Error {
  constructor(message: string, readonly code: 'NOT_FOUND' | 'INVALID') {
    super(message)
  }
}

export const unknownServiceMessage = (id: string) =>
  `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`
export const unknownCheckMessage = (id: string) =>
  `Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`

export class LocalState {
  readonly #services = new Map<string, LocalService>()
  readonly #checks = new Map<string, LocalCheck>()
  readonly #listeners = new Set<(change: LocalChange) => void>()

  constructor(private readonly now: () => number = Date.now) {}

  /** Subscribes to every change, in order; returns the unsubscribe function. */
  onChange(listener: (change: LocalChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #emit(change: LocalChange): void {
    for (const listener of this.#listeners) listener(change)
  }

  services(): LocalService[] {
    return [...this.#services.values()].sort((a, b) => compare(a.def.ID, b.def.ID))
  }

  service(id: string): LocalService | undefined {
    return this.#services.get(id)
  }

  checks(): LocalCheck[] {
    return [...this.#checks.values()].sort((a, b) => compare(a.def.CheckID, b.def.CheckID))
  }

  check(id: string): LocalCheck | undefined {
    return this.#checks.get(id)
  }

  checksOf(serviceId: string): LocalCheck[] {
    return this.checks().filter((c) => c.def.ServiceID === serviceId)
  }

  /**
   * Adds or replaces a service and its embedded checks. With `replaceExistingChecks`, the
   * service's other checks go (Consul's ?replace-existing-checks).
   */
  addService(def: ServiceDefinition, checks: readonly CheckDefinition[], source: Source, replaceExistingChecks = false): void {
    for (const check of checks) {
      if (check.ServiceID !== def.ID) throw new LocalStateError(`ServiceID "${check.ServiceID}" of check "${check.CheckID}" does not match service "${def.ID}"`, 'INVALID')
    }
    const prior = this.#services.get(def.ID)
    this.#services.set(def.ID, {def, source})
    if (!prior || JSON.stringify(prior.def) !== JSON.stringify(def)) this.#emit({kind: 'service', id: def.ID, removed: false})
    if (replaceExistingChecks) {
      const keep = new Set(checks.map((c) => c.CheckID))
      for (const check of this.checksOf(def.ID)) {
        if (!keep.has(check.def.CheckID)) this.removeCheck(check.def.CheckID)
      }
    }
    for (const check of checks) this.addCheck(check, source)
  }

  /** Removes a service and its checks; false when unknown. */
  removeService(id: string): boolean {
    if (!this.#services.has(id)) return false
    for (const check of this.checksOf(id)) this.removeCheck(check.def.CheckID)
    this.#services.delete(id)
    this.#emit({kind: 'service', id, removed: true})
    return true
  }

  addCheck(def: CheckDefinition, source: Source): void {
    if (def.ServiceID !== '' && !this.#services.has(def.ServiceID)) {
      throw new LocalStateError(`ServiceID "${def.ServiceID}" does not exist`, 'INVALID')
    }
    const prior = this.#checks.get(def.CheckID)
    if (prior && JSON.stringify(prior.def) === JSON.stringify(def) && prior.source === source) return
    const status = prior?.status ?? def.Status
    this.#checks.set(def.CheckID, {
      def, source, status, output: prior?.output ?? '',
      criticalSince: status === 'critical' ? prior?.criticalSince ?? this.now() : undefined,
    })
    this.#emit({kind: 'check', id: def.CheckID, removed: false})
  }

  removeCheck(id: string): boolean {
    if (!this.#checks.delete(id)) return false
    this.#emit({kind: 'check', id, removed: true})
    return true
  }

  /** Sets a check's status and output; false when unknown. No event when nothing moved. */
  updateCheck(id: string, status: CheckStatus, output: string): boolean {
    const check = this.#checks.get(id)
    if (!check) return false
    if (check.status === status && check.output === output) return true
    const criticalSince = status === 'critical' ? check.criticalSince ?? this.now() : undefined
    this.#checks.set(id, {...check, status, output, criticalSince})
    this.#emit({kind: 'check', id, removed: false, statusOnly: true, statusChanged: status !== check.status})
    return true
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Consul's aggregation for the agent health endpoints: maintenance > critical > warning > passing. */
export function aggregateStatus(checks: readonly LocalCheck[]): CheckStatus | 'maintenance' {
  let worst: CheckStatus = 'passing'
  for (const check of checks) {
    if (isMaintenanceCheck(check.def.CheckID)) return 'maintenance'
    if (check.status === 'critical') worst = 'critical'
    else if (check.status === 'warning' && worst === 'passing') worst = 'warning'
  }
  return worst
}

export const NODE_MAINTENANCE_ID = '_node_maintenance'
export const SERVICE_MAINTENANCE_PREFIX = '_service_maintenance:'

export function isMaintenanceCheck(id: string): boolean {
  return id === NODE_MAINTENANCE_ID || id.startsWith(SERVICE_MAINTENANCE_PREFIX)
}
