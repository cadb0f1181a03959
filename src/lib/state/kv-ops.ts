// What each KV verb means (Consul docs: api-docs/kv PUT/DELETE and §3's verb table), shared by the single-key
// KV command and transactions so both follow one rule book. Failure texts are Consul's own
// (agent/consul/state/kvs.go and txn.go), because clients show them to users and some match them.

import type {KVEntry, KVOp, KVVerb} from './types.js'
import type {KVStore} from './kv-table.js'
import type {ChangeSet} from './watch.js'

/** Everything one op may look at or touch. */
export interface OpContext {
  kv: KVStore
  /** Raft index of the entry being applied; every write in it takes this ModifyIndex. */
  index: number
  /** Proposer's wall clock (ms), only for lock-delay windows. */
  nowMs: number
  sessionExists: (id: string) => boolean
  change: ChangeSet
}

/**
 * `ok: false` is either a plain "no" (`hard: false`: Consul's KV PUT answers `false`) or an error
 * Consul raises even outside a txn (`hard: true`: missing/invalid session → HTTP 500). In a txn
 * both become a TxnError with `what`.
 */
export type OpOutcome =
  | {ok: true; entries: KVEntry[]}
  | {ok: false; what: string; hard: boolean}

/** Verbs that only read; a txn made of these alone needs no log entry (Consul docs: api-docs/txn). */
export const READ_VERBS: ReadonlySet<KVVerb> = new Set<KVVerb>(['get', 'get-tree', 'check-index', 'check-session', 'check-not-exists'])

/** Go's %q for the keys and sessions in error texts (exact for printable ASCII). */
const q = (s: string): string => JSON.stringify(s)

const done = (...entries: KVEntry[]): OpOutcome => ({ok: true, entries})
const no = (what: string): OpOutcome => ({ok: false, what, hard: false})
const fail = (what: string): OpOutcome => ({ok: false, what, hard: true})

export function applyKVOp(ctx: OpContext, op: KVOp): OpOutcome {
  switch (op.verb) {
    case 'set': return done(write(ctx, op, ctx.kv.get(op.key)))
    case 'cas': return cas(ctx, op)
    case 'lock': return lock(ctx, op)
    case 'unlock': return unlock(ctx, op)
    case 'delete':
      ctx.kv.remove(ctx.index, op.key, ctx.change)
      return done()
    case 'delete-cas': return deleteCas(ctx, op)
    case 'delete-tree':
      for (const entry of ctx.kv.list(op.key)) ctx.kv.remove(ctx.index, entry.key, ctx.change)
      return done()
    case 'get': {
      const entry = ctx.kv.get(op.key)
      return entry === undefined ? no(`key ${q(op.key)} doesn't exist`) : done(entry)
    }
    case 'get-tree': return done(...ctx.kv.list(op.key))
    case 'check-index': {
      const entry = ctx.kv.get(op.key)
      const want = op.index ?? 0
      if (entry === undefined) return no(`failed to check index, key ${q(op.key)} doesn't exist`)
      if (entry.modifyIndex !== want) {
        return no(`failed index check for key ${q(op.key)}, current modify index ${entry.modifyIndex} != ${want}`)
      }
      return done(entry)
    }
    case 'check-session': {
      const entry = ctx.kv.get(op.key)
      const want = op.session ?? ''
      if (entry === undefined) return no(`failed to check session, key ${q(op.key)} doesn't exist`)
      if (entry.session !== want) {
        return no(`failed session check for key ${q(op.key)}, current session ${q(entry.session)} != ${q(want)}`)
      }
      return done(entry)
    }
    case 'check-not-exists':
      return ctx.kv.get(op.key) === undefined ? done() : no(`key ${q(op.key)} exists`)
    default: {
      const verb: never = op.verb
      return fail(`unknown KV verb ${q(String(verb))}`)
    }
  }
}

/**
 * Store the op's value and flags. Session and LockIndex are carried over unless given: a plain
 * `set` never takes or drops a lock (Consul's kvsSetTxn with updateSession=false).
 */
function write(ctx: OpContext, op: KVOp, existing: KVEntry | undefined, lock?: {session: string; lockIndex: number}): KVEntry {
  const entry: KVEntry = {
    key: op.key,
    value: op.value ?? new Uint8Array(0),
    flags: op.flags ?? 0n,
    createIndex: existing?.createIndex ?? ctx.index,
    modifyIndex: ctx.index,
    lockIndex: lock?.lockIndex ?? existing?.lockIndex ?? 0,
    session: lock?.session ?? existing?.session ?? '',
  }
  ctx.kv.put(ctx.index, entry, ctx.change)
  return entry
}

/** Consul docs: api-docs/kv `cas`: index 0 = only if absent; N = only if the current ModifyIndex is N. */
function cas(ctx: OpContext, op: KVOp): OpOutcome {
  const existing = ctx.kv.get(op.key)
  const want = op.index ?? 0
  const matches = want === 0 ? existing === undefined : existing !== undefined && existing.modifyIndex === want
  if (!matches) return no(`failed to set key ${q(op.key)}, index is stale`)
  return done(write(ctx, op, existing))
}

/**
 * Consul docs: api-docs/kv acquire. The lock-delay check uses the proposer's `now` carried in the command, so
 * every replica decides alike (Consul checks it on the leader before the log instead). Unlike
 * Consul, a `lock` inside a txn honours lock-delay too: a txn must not be a way around it.
 */
function lock(ctx: OpContext, op: KVOp): OpOutcome {
  const session = op.session ?? ''
  if (session === '') return fail('missing session')
  if (ctx.kv.lockDelayUntil(op.key) > ctx.nowMs) return no(`failed to lock key ${q(op.key)}, lock-delay in effect`)
  if (!ctx.sessionExists(session)) return fail(`invalid session ${q(session)}`)
  const existing = ctx.kv.get(op.key)
  const holder = existing?.session ?? ''
  if (holder !== '' && holder !== session) return no(`failed to lock key ${q(op.key)}, lock is already held`)
  // Re-acquire by the holder keeps LockIndex; a new holder bumps it (a fresh key starts at 1).
  const lockIndex = existing !== undefined && holder === session ? existing.lockIndex : (existing?.lockIndex ?? 0) + 1
  return done(write(ctx, op, existing, {session, lockIndex}))
}

/** Consul docs: api-docs/kv release: only the holder; clears Session, keeps LockIndex, starts no lock-delay. */
function unlock(ctx: OpContext, op: KVOp): OpOutcome {
  const session = op.session ?? ''
  if (session === '') return fail('missing session')
  const existing = ctx.kv.get(op.key)
  if (existing === undefined || existing.session !== session) {
    return no(`failed to unlock key ${q(op.key)}, lock isn't held, or is held by another session`)
  }
  return done(write(ctx, op, existing, {session: '', lockIndex: existing.lockIndex}))
}

/**
 * Delete only if ModifyIndex matches. Consul quirk (state/kvs.go kvsDeleteCASTxn): a key that does
 * not exist counts as success, so `DELETE ?cas=N` on a missing key answers `true`.
 */
function deleteCas(ctx: OpContext, op: KVOp): OpOutcome {
  const existing = ctx.kv.get(op.key)
  if (existing === undefined) return done()
  if (existing.modifyIndex !== (op.index ?? 0)) return no(`failed to delete key ${q(op.key)}, index is stale`)
  ctx.kv.remove(ctx.index, op.key, ctx.change)
  return done()
}
