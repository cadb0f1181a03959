// Services and checks registered through the HTTP API survive a restart, as in Consul: one JSON
// file each under <data-dir>/services/ and <data-dir>/checks/, named by a hash of the ID (IDs may
// hold any character). Writes go to a temp file, fsync, rename, so a crash leaves the old file or
// the new one. A file that cannot be read back is reported and skipped: one bad file must not
// keep the agent from starting.
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import type {Logger} from '../logger.js'
import {writeFileAtomicallySync} from '../atomic-file.js'
import {parseCheckDefinition, parseServiceDefinition, type CheckDefinition, type CheckStatus, type ParsedService} from './definitions.js'
import {isMaintenanceCheck, type LocalChange, type LocalState} from './local-state.js'

export const SERVICES_DIR = 'services'
export const CHECKS_DIR = 'checks'
/** TTL checks' last status, so a restart within the TTL does not flap them to critical (Consul's checks/state). */
export const CHECK_STATE_DIR = join(CHECKS_DIR, 'state')

export function persistedFileName(id: string): string {
  return createHash('md5').update(id).digest('hex')
}

const writeAtomically = (path: string, text: string) => writeFileAtomicallySync(path, text, 0o600)

export interface Persisted {
  services: ParsedService[]
  checks: CheckDefinition[]
  /** Maintenance mode survives a restart, as in Consul: '' is the node, else a service ID. */
  maintenance: Array<{serviceId: string; reason: string}>
}

/** Reads what a previous run persisted; every unreadable file is reported through `warn` and skipped. */
export function loadPersisted(dataDir: string, warn: (message: string, fields: Record<string, unknown>) => void): Persisted {
  const read = <T>(dir: string, key: 'Service' | 'Check', parse: (raw: unknown) => T): T[] => {
    const path = join(dataDir, dir)
    let names: string[]
    try {
      names = readdirSync(path, {withFileTypes: true}).filter((e) => e.isFile() && !e.name.endsWith('.tmp')).map((e) => e.name).sort()
    } catch {
      return []
    }
    const out: T[] = []
    for (const name of names) {
      const file = join(path, name)
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
        out.push(parse(parsed[key]))
      } catch (error) {
        warn(`skipping a persisted ${key.toLowerCase()} file that cannot be read; fix or remove it`, {file, error: (error as Error).message})
      }
    }
    return out
  }
  const maintenance: Persisted['maintenance'] = []
  const checks = read(CHECKS_DIR, 'Check', (raw) => {
    const def = raw as Partial<CheckDefinition> | undefined
    if (def && typeof def.CheckID === 'string' && isMaintenanceCheck(def.CheckID)) {
      maintenance.push({serviceId: typeof def.ServiceID === 'string' ? def.ServiceID : '', reason: typeof def.Notes === 'string' ? def.Notes : ''})
      return undefined
    }
    return parseCheckDefinition(raw)
  }).filter((c) => c !== undefined)
  return {services: read(SERVICES_DIR, 'Service', (raw) => parseServiceDefinition(raw)), checks, maintenance}
}

/**
 * Keeps <data-dir>/services and /checks in step with the API-registered entries of `local`.
 * `onFailure` hears of each registration that could not be saved (a full disk: the old file, if
 * any, is kept). Returns the unsubscribe function.
 */
export function persistLocalState(local: LocalState, dataDir: string, log: Logger, onFailure?: (kind: 'service' | 'check', id: string, error: Error) => void): () => void {
  mkdirSync(join(dataDir, SERVICES_DIR), {recursive: true})
  mkdirSync(join(dataDir, CHECKS_DIR), {recursive: true})
  return local.onChange((change: LocalChange) => {
    if (change.statusOnly) return
    try {
      saveRegistration(local, dataDir, change.kind, change.id)
    } catch (error) {
      log.error('failed to persist a local registration', {kind: change.kind, id: change.id, error: (error as Error).message})
      onFailure?.(change.kind, change.id, error as Error)
    }
  })
}

/** Writes (or removes) the file of one API registration as `local` holds it now; throws when the disk refuses. */
export function saveRegistration(local: LocalState, dataDir: string, kind: 'service' | 'check', id: string): void {
  const path = join(dataDir, kind === 'service' ? SERVICES_DIR : CHECKS_DIR, persistedFileName(id))
  const entry = kind === 'service' ? local.service(id) : local.check(id)
  if (!entry || entry.source === 'config') {
    rmSync(path, {force: true})
    return
  }
  writeAtomically(path, JSON.stringify(kind === 'service' ? {Service: entry.def} : {Check: entry.def}))
}

export interface TtlState {
  CheckID: string
  Status: CheckStatus
  Output: string
  /** Wall-clock ms after which the saved status no longer holds. */
  Expires: number
}

/** Saves TTL checks' status as it changes (with the time it stops being valid); returns the unsubscribe. */
export function persistTtlState(local: LocalState, dataDir: string, log: Logger, now: () => number = Date.now): () => void {
  const dir = join(dataDir, CHECK_STATE_DIR)
  mkdirSync(dir, {recursive: true})
  return local.onChange((change) => {
    if (change.kind !== 'check') return
    const path = join(dir, persistedFileName(change.id))
    try {
      const check = local.check(change.id)
      if (change.removed || !check || check.def.kind !== 'ttl' || check.source === 'internal') {
        if (change.removed) rmSync(path, {force: true})
        return
      }
      if (!change.statusOnly) return
      const state: TtlState = {CheckID: change.id, Status: check.status, Output: check.output, Expires: now() + check.def.ttlMs}
      writeAtomically(path, JSON.stringify(state))
    } catch (error) {
      log.error('failed to persist a TTL check state', {check: change.id, error: (error as Error).message})
    }
  })
}

/** The saved state of a TTL check, if any and still valid at `nowMs`; an unreadable or expired file is removed. */
export function loadTtlState(dataDir: string, checkId: string, nowMs: number): TtlState | undefined {
  const path = join(dataDir, CHECK_STATE_DIR, persistedFileName(checkId))
  let state: TtlState
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as TtlState
  } catch {
    rmSync(path, {force: true})
    return undefined
  }
  const valid = state.CheckID === checkId && ['passing', 'warning', 'critical'].includes(state.Status) &&
    typeof state.Output === 'string' && typeof state.Expires === 'number' && state.Expires > nowMs
  if (!valid) {
    rmSync(path, {force: true})
    return undefined
  }
  return state
}
