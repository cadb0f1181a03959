// Transactions (Consul docs: api-docs/txn): up to 64 KV ops applied atomically at one Raft index.
//
// Like Consul's txnDispatch, every op runs even after one fails, so the client gets every error
// (each op sees the effects of the earlier ops that succeeded); then, if any failed, the KV store
// is rolled back to its state before the txn and no watcher fires. All keys written by a
// committed txn share the entry's index as ModifyIndex.
//
// Result shape (what the HTTP layer renders as `Results[].KV`): one KVEntry per op that yields
// one, in op order; `get-tree` yields one per key; delete, delete-tree, delete-cas and
// check-not-exists yield none. Only `get` and `get-tree` carry the stored value: for every other
// verb the entry comes back with an empty `value`, which renders as `"Value": null` exactly as
// Consul blanks it (state/txn.go). The HTTP layer therefore needs no per-verb logic.

import type {KVEntry, KVOp, KVVerb, TxnError, TxnResult} from './types.js'
import {applyKVOp, READ_VERBS, type OpContext} from './kv-ops.js'
import {emptyChangeSet} from './watch.js'

/** Consul's limit; the HTTP layer answers 413 above it (Consul docs: api-docs/txn). */
export const MAX_TXN_OPS = 64

/** True when no op writes: such a txn is answered by `StateMachine.kvTxnRead`, not the log. */
export function isReadOnlyTxn(ops: readonly KVOp[]): boolean {
  return ops.every((op) => READ_VERBS.has(op.verb))
}

/** Apply a write txn. On any failure nothing changes and `ctx.change` is left untouched. */
export function applyTxn(ctx: OpContext, ops: readonly KVOp[]): TxnResult {
  const staged = emptyChangeSet()
  ctx.kv.begin()
  const {results, errors} = run({...ctx, change: staged}, ops)
  if (errors.length > 0) {
    ctx.kv.rollback()
    return {results: null, errors}
  }
  ctx.kv.commit()
  for (const key of staged.keys) ctx.change.keys.add(key)
  for (const table of staged.tables) ctx.change.tables.add(table)
  return {results, errors: null}
}

/** Answer a read-only txn from current state; a write verb in it is reported as that op's error. */
export function readTxn(ctx: OpContext, ops: readonly KVOp[]): TxnResult {
  const writes: TxnError[] = []
  ops.forEach((op, opIndex) => {
    if (!READ_VERBS.has(op.verb)) writes.push({opIndex, what: `verb ${JSON.stringify(op.verb)} is not allowed in a read-only transaction`})
  })
  if (writes.length > 0) return {results: null, errors: writes}
  const {results, errors} = run(ctx, ops)
  return errors.length > 0 ? {results: null, errors} : {results, errors: null}
}

function run(ctx: OpContext, ops: readonly KVOp[]): {results: KVEntry[]; errors: TxnError[]} {
  const results: KVEntry[] = []
  const errors: TxnError[] = []
  ops.forEach((op, opIndex) => {
    const outcome = applyKVOp(ctx, op)
    if (!outcome.ok) errors.push({opIndex, what: outcome.what})
    else for (const entry of outcome.entries) results.push(shapeResult(op.verb, entry))
  })
  return {results, errors}
}

function shapeResult(verb: KVVerb, entry: KVEntry): KVEntry {
  if (verb === 'get' || verb === 'get-tree') return entry
  return {...entry, value: new Uint8Array(0)}
}
