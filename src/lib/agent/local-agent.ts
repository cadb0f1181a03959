// The agent's local services and checks, assembled: the registry (LocalState) filled from config
// files and from what the API persisted, the check runners, persistence, anti-entropy, and the
// rules that depend on the agent's config (script checks). The HTTP endpoints and reload call
// the methods here; nothing else writes to the registry.
import type {AgentConfig} from './config.js'
import type {Logger} from '../logger.js'
import {parseCheckDefinition, parseServiceDefinition, DefinitionError, SCRIPTS_DISABLED, SCRIPTS_DISABLED_REMOTE, type CheckDefinition, type CheckStatus, type ParsedService} from './definitions.js'
import {LocalState, LocalStateError, unknownCheckMessage, unknownServiceMessage, type Source} from './local-state.js'
import {CheckSupervisor, type StartCheck} from './check-supervisor.js'
import {loadPersisted, loadTtlState, persistLocalState, persistTtlState, saveRegistration} from './local-persistence.js'
import {AntiEntropy, type NodeIdentity} from './anti-entropy.js'
import type {CatalogCommand, CatalogView} from './catalog-requests.js'
import * as maintenance from './maintenance.js'
import {errnoOf, HttpError} from '../errors.js'

export interface LocalAgentOptions {
  config: AgentConfig
  log: Logger
  self: NodeIdentity
  /** Check runners: the agent passes src/lib/agent/checks' startCheck. */
  startCheck?: StartCheck
  /** Catalog writes; undefined disables anti-entropy (until the catalog commands exist). */
  propose?: (command: CatalogCommand) => Promise<void>
  catalog?: CatalogView
}

export {SCRIPTS_DISABLED, SCRIPTS_DISABLED_REMOTE}

export class LocalAgent {
  readonly state = new LocalState()
  readonly #supervisor: CheckSupervisor
  readonly #antiEntropy?: AntiEntropy
  readonly #unpersist: () => void
  /** Registrations the data dir refused while a register call ran ("service:<id>"), for its answer. */
  readonly #notPersisted = new Map<string, Error>()
  /** Registrations held in memory whose file is missing or older (a refused save): saved at the next register call. */
  readonly #unsaved = new Set<string>()
  #config: AgentConfig

  constructor(private readonly opts: LocalAgentOptions) {
    this.#config = opts.config
    const {config, log} = opts
    // Config first, then what the API registered before a restart (it wins over a config entry
    // with the same ID, as Consul's persisted services do).
    this.#applyConfigDefinitions(config, undefined)
    if (config.dataDir) {
      const persisted = loadPersisted(config.dataDir, (message, fields) => log.warn(message, fields))
      // Scripts registered before script checks were turned off stay off (skipped with a warning).
      for (const service of persisted.services) {
        this.#restore(() => {
          for (const check of service.checks) this.#allowScript(check, 'api')
          this.state.addService(service.service, service.checks, 'api')
        }, service.service.ID)
      }
      for (const check of persisted.checks) {
        this.#restore(() => {
          this.#allowScript(check, 'api')
          this.state.addCheck(check, 'api')
        }, check.CheckID)
      }
      for (const {serviceId, reason} of persisted.maintenance) {
        this.#restore(() => serviceId ? maintenance.enableServiceMaintenance(this.state, serviceId, reason) : maintenance.enableNodeMaintenance(this.state, reason), serviceId || 'node')
      }
    }
    if (config.dataDir) {
      // A TTL check reported shortly before a restart keeps that status until its TTL runs out.
      for (const check of this.state.checks()) {
        if (check.def.kind !== 'ttl' || check.source === 'internal') continue
        const saved = loadTtlState(config.dataDir, check.def.CheckID, Date.now())
        if (saved) this.state.updateCheck(check.def.CheckID, saved.Status, saved.Output)
      }
      const unpersist = [
        persistLocalState(this.state, config.dataDir, log, (kind, id, error) => this.#notPersisted.set(`${kind}:${id}`, error)),
        persistTtlState(this.state, config.dataDir, log),
      ]
      this.#unpersist = () => unpersist.forEach((stop) => stop())
    } else {
      this.#unpersist = () => {}
    }
    this.#supervisor = new CheckSupervisor(this.state, {
      log: log.named('checks'), enableScriptChecks: () => this.#config.enableScriptChecks || this.#config.enableLocalScriptChecks,
      nodeName: config.nodeName, startCheck: opts.startCheck, outputMaxSize: config.checkOutputMaxSize,
    })
    if (opts.propose) {
      this.#antiEntropy = new AntiEntropy({local: this.state, self: opts.self, log: log.named('anti_entropy'), propose: opts.propose, catalog: opts.catalog})
      this.#antiEntropy.start()
    }
  }

  #restore(add: () => void, id: string): void {
    try {
      add()
    } catch (error) {
      this.opts.log.warn('skipping a persisted registration', {id, error: (error as Error).message})
    }
  }

  /** Refuses script checks the config does not allow (Consul's messages; `api` = a remote call). */
  #allowScript(check: CheckDefinition, source: Source): void {
    if (check.kind !== 'script') return
    const {enableScriptChecks, enableLocalScriptChecks} = this.#config
    if (enableScriptChecks) return
    if (source === 'config' && enableLocalScriptChecks) return
    throw new DefinitionError(source === 'api' && enableLocalScriptChecks ? SCRIPTS_DISABLED_REMOTE : SCRIPTS_DISABLED)
  }

  /** PUT /v1/agent/service/register. Throws DefinitionError / LocalStateError (both 400). */
  registerService(body: unknown, replaceExistingChecks: boolean): ParsedService {
    const parsed = parseServiceDefinition(body)
    for (const check of parsed.checks) this.#allowScript(check, 'api')
    this.#whilePersisting('service', parsed.service.ID, () => this.state.addService(parsed.service, parsed.checks, 'api', replaceExistingChecks))
    return parsed
  }

  /**
   * Runs a registration and fails it (500) when the data dir could not save it (a full disk), as
   * Consul's agent answers a failed persistService: it runs now, but a restart would forget it.
   */
  #whilePersisting(kind: 'service' | 'check', id: string, register: () => void): void {
    const key = `${kind}:${id}`
    this.#notPersisted.clear()
    register()
    let error = this.#notPersisted.get(key)
    this.#notPersisted.clear()
    // The same definition again changes nothing in memory, so nothing is saved by itself: save it here.
    if (!error && this.#unsaved.has(key) && this.#config.dataDir) {
      try {
        saveRegistration(this.state, this.#config.dataDir, kind, id)
      } catch (saveError) {
        error = saveError as Error
      }
    }
    if (!error) {
      this.#unsaved.delete(key)
      return
    }
    this.#unsaved.add(key)
    throw new HttpError(500, `failed to persist ${kind} ${JSON.stringify(id)} to the data dir (${errnoOf(error) ?? error.message}): it is registered but a restart would forget it`, 'PERSIST_FAILED')
  }

  deregisterService(id: string): void {
    if (!this.state.removeService(id)) throw new LocalStateError(unknownServiceMessage(id), 'NOT_FOUND')
  }

  registerCheck(body: unknown): CheckDefinition {
    const check = parseCheckDefinition(body)
    this.#allowScript(check, 'api')
    this.#whilePersisting('check', check.CheckID, () => this.state.addCheck(check, 'api'))
    return check
  }

  deregisterCheck(id: string): void {
    if (!this.state.removeCheck(id)) throw new LocalStateError(unknownCheckMessage(id), 'NOT_FOUND')
  }

  updateTtl(id: string, status: CheckStatus, output: string): void {
    this.#supervisor.updateTtl(id, status, output)
  }

  setNodeMaintenance(enable: boolean, reason: string): void {
    if (enable) maintenance.enableNodeMaintenance(this.state, reason)
    else maintenance.disableNodeMaintenance(this.state)
  }

  setServiceMaintenance(serviceId: string, enable: boolean, reason: string): void {
    if (enable) maintenance.enableServiceMaintenance(this.state, serviceId, reason)
    else maintenance.disableServiceMaintenance(this.state, serviceId)
  }

  /**
   * Reload: config-sourced services and checks become exactly the new config's. Validates the
   * whole new set first (script rules), so a refused config changes nothing.
   */
  reload(next: AgentConfig): void {
    const previous = this.#config
    this.#config = next
    try {
      for (const service of next.services) for (const check of service.checks) this.#allowScript(check, 'config')
      for (const check of next.checks) this.#allowScript(check, 'config')
    } catch (error) {
      this.#config = previous
      throw error
    }
    this.#applyConfigDefinitions(next, previous)
  }

  #applyConfigDefinitions(next: AgentConfig, previous: AgentConfig | undefined): void {
    for (const service of next.services) for (const check of service.checks) this.#allowScript(check, 'config')
    for (const check of next.checks) this.#allowScript(check, 'config')
    const wantedServices = new Set(next.services.map((s) => s.service.ID))
    const wantedChecks = new Set([...next.checks.map((c) => c.CheckID), ...next.services.flatMap((s) => s.checks.map((c) => c.CheckID))])
    if (previous) {
      for (const check of this.state.checks()) {
        if (check.source === 'config' && !wantedChecks.has(check.def.CheckID)) this.state.removeCheck(check.def.CheckID)
      }
      for (const service of this.state.services()) {
        if (service.source === 'config' && !wantedServices.has(service.def.ID)) this.state.removeService(service.def.ID)
      }
    }
    for (const service of next.services) this.state.addService(service.service, service.checks, 'config', true)
    for (const check of next.checks) {
      try {
        this.state.addCheck(check, 'config')
      } catch (error) {
        this.opts.log.warn('skipping a config check', {check: check.CheckID, error: (error as Error).message})
      }
    }
  }

  /** Contract 4: the local services for event/exec filters. */
  localServices(): Array<{ID: string; Service: string; Tags: string[]}> {
    return this.state.services().map((s) => ({ID: s.def.ID, Service: s.def.Service, Tags: [...s.def.Tags]}))
  }

  stop(): void {
    this.#antiEntropy?.stop()
    this.#supervisor.stop()
    this.#unpersist()
  }
}
