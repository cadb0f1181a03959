// Transactions (/v1/txn): up to 64 KV, Node, Service, Check and Session operations applied
// atomically at one Raft index (Consul's state/txn.go).
//
// Like Consul's txnDispatch, every op runs even after one fails, so the client gets every error
// (each op sees the effects of the earlier ops that succeeded); then, if any failed, the caller
// rolls every table back to its state before the txn and no watcher fires. All records written
// by a committed txn share the entry's index as ModifyIndex.
//
// Result shape: one entry per op that yields one, in op order; `get-tree` yields one per key;
// delete, delete-tree, delete-cas, check-not-exists and Session ops yield none. Only KV `get`
// and `get-tree` carry the stored value: for every other KV verb the entry comes back with an
// empty `value`, which renders as `"Value": null` exactly as Consul blanks it. Node, Service and
// Check `get`/`set`/`cas` yield the stored record after the op.

import type {Catalog} from './catalog.js'
import type {DeregisterRequest} from './catalog-request.js'
import type {KVEntry, KVVerb, NodeCheck, TxnError, TxnOp, TxnResult, TxnResultEntry} from './types.js'
import {applyKVOp, READ_VERBS, type OpContext} from './kv-ops.js'

/** Consul's limit; the HTTP layer answers 413 above it. */
export const MAX_TXN_OPS = 64

/** Everything a txn may touch beyond KV: the catalog and the session fallout of its changes. */
export interface TxnContext extends OpContext {
  catalog: Catalog
  /** A catalog deregistration with Consul's session fallout (as the catalog-deregister command). */
  deregister: (request: DeregisterRequest) => void
  /** Sessions bound to these (critical) checks die, as Consul's ensureCheckTxn. */
  invalidateBound: (checks: readonly NodeCheck[]) => void
  /** Destroy a session (its locks released or deleted); false when there is none. */
  destroySession: (id: string) => boolean
}

/** True when no op writes: such a txn is answered by `StateMachine.txnRead`, not the log. */
export function isReadOnlyTxn(ops: readonly TxnOp[]): boolean {
  return ops.every((op) => (op.kind === undefined ? READ_VERBS.has(op.verb) : op.kind !== 'session' && op.verb === 'get'))
}

/** True when every op is a KV op: KVStore's own undo log is then enough to roll back. */
export function isKVOnlyTxn(ops: readonly TxnOp[]): boolean {
  return ops.every((op) => op.kind === undefined)
}

/**
 * True when the op may change sessions: a session op, any delete (a deregistration invalidates the
 * sessions bound to what it removes) or a check write (a critical check invalidates its sessions).
 */
export function touchesSessions(op: TxnOp): boolean {
  return op.kind === 'session' || op.kind === 'check' || (op.kind !== undefined && op.verb.startsWith('delete'))
}

/** True when the op deletes a node (which drops the node's coordinates). */
export function deletesNode(op: TxnOp): boolean {
  return op.kind === 'node' && op.verb.startsWith('delete')
}

/**
 * Run every op of a write txn; the caller commits or rolls back by whether `errors` is empty.
 * `unread`: nobody reads the result entries (a replayed entry), so KV ops' are not built (the
 * errors are, as they decide the rollback).
 */
export function runTxn(ctx: TxnContext, ops: readonly TxnOp[], unread = false): TxnResult {
  const results: TxnResultEntry[] = []
  const errors: TxnError[] = []
  ops.forEach((op, opIndex) => {
    const outcome = applyTxnOp(ctx, op, unread)
    if (typeof outcome === 'string') errors.push({opIndex, what: outcome})
    else results.push(...outcome)
  })
  return errors.length > 0 ? {results: null, errors} : {results, errors: null}
}

/** Answer a read-only txn from current state; a write op in it is reported as that op's error. */
export function readTxn(ctx: TxnContext, ops: readonly TxnOp[]): TxnResult {
  const writes: TxnError[] = []
  ops.forEach((op, opIndex) => {
    if (!isReadOnlyTxn([op])) writes.push({opIndex, what: `verb ${JSON.stringify(op.verb)} is not allowed in a read-only transaction`})
  })
  if (writes.length > 0) return {results: null, errors: writes}
  return runTxn(ctx, ops)
}

/** Go's %q for names in error texts (exact for printable ASCII). */
const q = (s: string): string => JSON.stringify(s)

const NO_RESULTS: TxnResultEntry[] = []

function applyTxnOp(ctx: TxnContext, op: TxnOp, unread: boolean): TxnResultEntry[] | string {
  switch (op.kind) {
    case undefined: {
      const outcome = applyKVOp(ctx, op)
      if (!outcome.ok) return outcome.what
      return unread ? NO_RESULTS : outcome.entries.map((entry) => ({kv: shapeKV(op.verb, entry)}))
    }
    case 'node': return nodeOp(ctx, op)
    case 'service': return serviceOp(ctx, op)
    case 'check': return checkOp(ctx, op)
    case 'session':
      if (op.verb !== 'delete') return `failed to delete session: unknown Session verb ${q(op.verb)}`
      // Consul's sessionDeleteWithSession answers nothing for a session that is already gone.
      ctx.destroySession(op.id)
      return []
    default: {
      const unknown: never = op
      return `no operation specified ${q(String((unknown as {kind?: unknown}).kind))}`
    }
  }
}

/** Shared by every blanked result: it has no bytes, so nobody can change it under another. */
const NO_VALUE = new Uint8Array(0)

function shapeKV(verb: KVVerb, entry: KVEntry): KVEntry {
  if (verb === 'get' || verb === 'get-tree') return entry
  return {...entry, value: NO_VALUE}
}

/** Consul's CAS rule for catalog records: 0 = only if absent, N = only if ModifyIndex is N. */
function casMatches(existing: {modifyIndex: number} | undefined, want: number): boolean {
  if (want === 0) return existing === undefined
  return existing !== undefined && existing.modifyIndex === want
}

function nodeOp(ctx: TxnContext, op: Extract<TxnOp, {kind: 'node'}>): TxnResultEntry[] | string {
  const name = op.node.node
  const existing = ctx.catalog.node(name)
  const set = (): TxnResultEntry[] => {
    ctx.catalog.ensureNode(ctx.index, op.node, ctx.change)
    return [{node: ctx.catalog.node(name)!}]
  }
  const remove = (): TxnResultEntry[] => {
    ctx.deregister({Node: name})
    return []
  }
  switch (op.verb) {
    case 'get':
      return existing === undefined ? `node ${q(name)} doesn't exist` : [{node: existing}]
    case 'cas':
      if (!casMatches(existing, op.index)) return `failed to set node ${q(name)}, index is stale`
      return set()
    case 'set': return set()
    case 'delete-cas':
      if (existing === undefined || existing.modifyIndex !== op.index) return `failed to delete node ${q(name)}, index is stale`
      return remove()
    case 'delete': return remove()
    default:
      return `unknown Node verb ${q(op.verb)}`
  }
}

function serviceOp(ctx: TxnContext, op: Extract<TxnOp, {kind: 'service'}>): TxnResultEntry[] | string {
  const {node, id} = op.service
  const existing = ctx.catalog.service(node, id)
  const set = (): TxnResultEntry[] | string => {
    const error = ctx.catalog.ensureService(ctx.index, op.service, ctx.change)
    return error ?? [{service: ctx.catalog.service(node, id)!}]
  }
  const remove = (): TxnResultEntry[] => {
    ctx.deregister({Node: node, ServiceID: id})
    return []
  }
  switch (op.verb) {
    case 'get':
      return existing === undefined ? `service ${q(id)} on node ${q(node)} doesn't exist` : [{service: existing}]
    case 'cas':
      if (!casMatches(existing, op.index)) return `failed to set service ${q(id)} on node ${q(node)}, index is stale`
      return set()
    case 'set': return set()
    case 'delete-cas':
      if (existing === undefined || existing.modifyIndex !== op.index) return `failed to delete service ${q(id)} on node ${q(node)}, index is stale`
      return remove()
    case 'delete': return remove()
    default:
      return `unknown Service verb ${q(op.verb)}`
  }
}

function checkOp(ctx: TxnContext, op: Extract<TxnOp, {kind: 'check'}>): TxnResultEntry[] | string {
  const {node, checkId} = op.check
  const existing = ctx.catalog.check(node, checkId)
  const set = (): TxnResultEntry[] | string => {
    const outcome = ctx.catalog.ensureCheck(ctx.index, op.check, ctx.change)
    if ('error' in outcome) return outcome.error
    if (outcome.stored !== undefined && outcome.stored.status === 'critical') ctx.invalidateBound([outcome.stored])
    return [{check: ctx.catalog.check(node, checkId)!}]
  }
  const remove = (): TxnResultEntry[] => {
    ctx.deregister({Node: node, CheckID: checkId})
    return []
  }
  switch (op.verb) {
    case 'get':
      return existing === undefined ? `check ${q(checkId)} on node ${q(node)} doesn't exist` : [{check: existing}]
    case 'cas':
      if (!casMatches(existing, op.index)) return `failed to set check ${q(checkId)} on node ${q(node)}, index is stale`
      return set()
    case 'set': return set()
    case 'delete-cas':
      if (existing === undefined || existing.modifyIndex !== op.index) return `failed to delete check ${q(checkId)} on node ${q(node)}, index is stale`
      return remove()
    case 'delete': return remove()
    default:
      return `unknown Check verb ${q(op.verb)}`
  }
}
