// The sessions table and session invalidation (Consul docs: api-docs/session).
//
// A session is created against a registered node and, optionally, some of that node's checks;
// it dies by explicit destroy, TTL expiry (the leader proposes the destroy — timers are not
// state), or one of its checks turning critical. Dying, it releases or deletes every key it
// holds (per `behavior`) and starts a lock-delay window on each, so a new holder cannot grab the
// lock while the old one may still believe it holds it. An explicit release starts no lock-delay.

import type {Session, SessionBehavior} from './types.js'
import type {Catalog} from './catalog.js'
import type {KVStore} from './kv-table.js'
import type {ChangeSet} from './watch.js'

export type SessionInput = Omit<Session, 'createIndex' | 'modifyIndex'>

/** Consul's structs.MaxLockDelay: a longer LockDelay is cut to this at invalidation. */
export const MAX_LOCK_DELAY_MS = 60_000

const BEHAVIORS: ReadonlySet<string> = new Set<SessionBehavior>(['release', 'delete'])

export interface SessionsDump {
  sessions: Session[]
  index: number
}

export class SessionTable {
  readonly #sessions = new Map<string, Session>()
  #index = 0

  /** Last index that created or destroyed a session. */
  get index(): number {
    return this.#index
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id)
  }

  has(id: string): boolean {
    return this.#sessions.has(id)
  }

  /** All sessions ordered by ID (as Consul's memdb "id" index lists them). */
  list(): Session[] {
    return [...this.#sessions.values()].sort(byId)
  }

  forNode(node: string): Session[] {
    return this.list().filter((s) => s.node === node)
  }

  /** IDs of sessions bound to the check `checkId` of `node` (as a node check or a service check). */
  boundTo(node: string, checkId: string): string[] {
    return this.list()
      .filter((s) => s.node === node && (s.nodeChecks.includes(checkId) || s.serviceChecks.some((c) => c.id === checkId)))
      .map((s) => s.id)
  }

  /**
   * Create a session at Raft index `index`, or say why not with Consul's error text (the HTTP
   * layer answers 500 with it). The rejected command still consumed its index.
   */
  create(index: number, input: SessionInput, catalog: Catalog, change: ChangeSet): {id: string} | {error: string} {
    if (!BEHAVIORS.has(input.behavior)) return {error: `Invalid Behavior setting '${input.behavior}'`}
    if (input.id === '') return {error: 'Missing session ID'}
    if (this.#sessions.has(input.id)) return {error: `Session ID '${input.id}' already exists`}
    if (catalog.node(input.node) === undefined) return {error: 'Missing node registration'}
    for (const checkId of input.nodeChecks) {
      const check = catalog.check(input.node, checkId)
      if (check === undefined) return {error: `Missing check '${checkId}' registration`}
      if (check.status === 'critical') return {error: `Check '${checkId}' is in critical state`}
    }
    for (const {id: checkId} of input.serviceChecks) {
      const check = catalog.check(input.node, checkId)
      if (check === undefined) return {error: `Missing check '${checkId}' registration`}
      if (check.status === 'critical') return {error: `Check '${checkId}' is in critical state`}
    }
    this.#sessions.set(input.id, {...input, createIndex: index, modifyIndex: index})
    this.#index = index
    change.tables.add('sessions')
    return {id: input.id}
  }

  /**
   * Destroy session `id` at Raft index `index` and let go of its locks: with `release` each held
   * key keeps its value and LockIndex, loses Session, and takes ModifyIndex = `index`; with
   * `delete` each held key is deleted (leaving a tombstone). Either way each key gets a
   * lock-delay window until `nowMs + min(lockDelayMs, 60s)`. Unknown `id` is a no-op (false).
   */
  invalidate(index: number, id: string, nowMs: number, kv: KVStore, change: ChangeSet): boolean {
    const session = this.#sessions.get(id)
    if (session === undefined) return false
    this.#sessions.delete(id)
    this.#index = index
    change.tables.add('sessions')
    const delayMs = Math.min(session.lockDelayMs, MAX_LOCK_DELAY_MS)
    for (const key of kv.heldBy(id).sort()) {
      const entry = kv.get(key)
      if (entry === undefined) continue
      if (session.behavior === 'delete') kv.remove(index, key, change)
      else kv.put(index, {...entry, session: '', modifyIndex: index}, change)
      if (delayMs > 0) kv.startLockDelay(key, nowMs + delayMs)
    }
    return true
  }

  dump(): SessionsDump {
    return {sessions: this.list(), index: this.#index}
  }

  static load(dump: SessionsDump): SessionTable {
    const table = new SessionTable()
    for (const session of dump.sessions) table.#sessions.set(session.id, session)
    table.#index = dump.index
    return table
  }
}

function byId(a: Session, b: Session): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
