// The sessions table and session invalidation (Consul docs: api-docs/session).
//
// A session is created against a registered node and, optionally, some of that node's checks;
// it dies by explicit destroy, TTL expiry (the leader proposes the destroy — timers are not
// state), or one of its checks turning critical. Dying, it releases or deletes every key it
// holds (per `behavior`) and starts a lock-delay window on each, so a new holder cannot grab the
// lock while the old one may still believe it holds it. An explicit release starts no lock-delay.
//
// coord's addition (ARCHITECTURE.md, "Lock safety across failover"): each session's last sign of
// life is replicated (its creation, then every renewal, as a `session-renew` command), and a
// lock-delay window never ends before that sign of life + lock-delay + FAILOVER_ALLOWANCE_MS. A
// holder can therefore trust its lock for that long after sending a renewal that succeeded, which
// covers a leader election, instead of only lock-delay after its last read.

import type {Session, SessionBehavior} from './types.js'
import type {Catalog} from './catalog.js'
import type {KVStore} from './kv-table.js'
import type {ChangeSet} from './watch.js'

export type SessionInput = Omit<Session, 'createIndex' | 'modifyIndex'>

/** Consul's structs.MaxLockDelay: a longer LockDelay is cut to this at invalidation. */
export const MAX_LOCK_DELAY_MS = 60_000

/**
 * How much longer than lock-delay a key stays blocked after the last renewal of the session that
 * held it: room for a leader election (coord's Raft elects in ~1–1.5 s) plus one renewal period, so
 * a holder keeps its lock through a failover, plus HOLDER_LATENESS_MARGIN_MS that the holder does not
 * count (lock-runner.ts confirmWindowMs). Sessions without lock-delay get none.
 */
export const FAILOVER_ALLOWANCE_MS = 2500

/**
 * The part of the allowance a holder leaves unused: on a busy machine its timers, its signal to the
 * child and the child's exit all come late (a loaded CI box showed a holder's job outliving its
 * window by more than the kill grace), so it gives up this much before the servers free the key.
 */
export const HOLDER_LATENESS_MARGIN_MS = 500

/** The earliest wall-clock ms at which others may take a key held by a session last seen alive at `seenMs`. */
export function lockFreeAfterSeen(seenMs: number, lockDelayMs: number): number {
  const delayMs = Math.min(lockDelayMs, MAX_LOCK_DELAY_MS)
  return delayMs > 0 ? seenMs + delayMs + FAILOVER_ALLOWANCE_MS : 0
}

const BEHAVIORS: ReadonlySet<string> = new Set<SessionBehavior>(['release', 'delete'])

export interface SessionsDump {
  sessions: Session[]
  index: number
  /** Each session's last sign of life (creation or renewal): the command's `now`. Absent in older snapshots. */
  seen?: Array<[string, number]>
}

export class SessionTable {
  readonly #sessions = new Map<string, Session>()
  /** id → proposer's wall clock of the session's creation or latest renewal. */
  readonly #seen = new Map<string, number>()
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
  create(index: number, input: SessionInput, catalog: Catalog, change: ChangeSet, nowMs = 0): {id: string} | {error: string} {
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
    this.#seen.set(input.id, nowMs)
    this.#index = index
    change.tables.add('sessions')
    return {id: input.id}
  }

  /**
   * Record a renewal of `id` (its holder is alive at `nowMs`); false when the session is gone,
   * so a renewal ordered after the invalidation in the log is refused, never counted. Changes
   * no table index: nothing a client reads moves.
   */
  renew(id: string, nowMs: number): boolean {
    if (!this.#sessions.has(id)) return false
    this.#seen.set(id, Math.max(this.#seen.get(id) ?? 0, nowMs))
    return true
  }

  /** The session's last sign of life (creation or renewal), in the proposers' wall-clock ms. */
  seen(id: string): number | undefined {
    return this.#seen.get(id)
  }

  /**
   * Destroy session `id` at Raft index `index` and let go of its locks: with `release` each held
   * key keeps its value and LockIndex, loses Session, and takes ModifyIndex = `index`; with
   * `delete` each held key is deleted (leaving a tombstone). Either way each key gets a
   * lock-delay window until the later of `nowMs + min(lockDelayMs, 60s)` (Consul) and
   * lockFreeAfterSeen(last sign of life) (coord). Unknown `id` is a no-op (false).
   */
  invalidate(index: number, id: string, nowMs: number, kv: KVStore, change: ChangeSet): boolean {
    const session = this.#sessions.get(id)
    if (session === undefined) return false
    const seenMs = this.#seen.get(id) ?? 0
    this.#sessions.delete(id)
    this.#seen.delete(id)
    this.#index = index
    change.tables.add('sessions')
    const delayMs = Math.min(session.lockDelayMs, MAX_LOCK_DELAY_MS)
    const until = Math.max(nowMs + delayMs, lockFreeAfterSeen(seenMs, delayMs))
    for (const key of kv.heldBy(id).sort()) {
      const entry = kv.get(key)
      if (entry === undefined) continue
      if (session.behavior === 'delete') kv.remove(index, key, change)
      else kv.put(index, {...entry, session: '', modifyIndex: index}, change)
      if (delayMs > 0) kv.startLockDelay(key, until)
    }
    return true
  }

  dump(): SessionsDump {
    return {sessions: this.list(), index: this.#index, seen: [...this.#seen].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))}
  }

  static load(dump: SessionsDump): SessionTable {
    const table = new SessionTable()
    for (const session of dump.sessions) table.#sessions.set(session.id, session)
    for (const [id, ms] of dump.seen ?? []) if (table.#sessions.has(id)) table.#seen.set(id, ms)
    table.#index = dump.index
    return table
  }
}

function byId(a: Session, b: Session): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
