// Shorthand for hand-written histories: one call per operation, times in ms, key 'k' unless
// given. Leaving out `completeMs` records an unknown outcome (the client never heard back).

import type {CasOp, ClientId, DeleteOp, ReadOp, Value, WriteOp} from '../../../src/lib/check/history.js'

export const read = (clientId: ClientId, value: Value | null, invokeMs: number, completeMs: number, key = 'k'): ReadOp =>
  ({clientId, op: 'read', input: {key}, output: {value}, invokeMs, completeMs})

export const write = (clientId: ClientId, value: Value, invokeMs: number, completeMs?: number, key = 'k'): WriteOp =>
  completeMs === undefined
    ? {clientId, op: 'write', input: {key, value}, invokeMs}
    : {clientId, op: 'write', input: {key, value}, output: {ok: true}, invokeMs, completeMs}

/** `ok` undefined: outcome unknown. */
export const cas = (clientId: ClientId, from: Value | null, to: Value | null, ok: boolean | undefined, invokeMs: number, completeMs?: number, key = 'k'): CasOp =>
  ok === undefined
    ? {clientId, op: 'cas', input: {key, from, to}, invokeMs}
    : {clientId, op: 'cas', input: {key, from, to}, output: {ok}, invokeMs, completeMs}

export const del = (clientId: ClientId, invokeMs: number, completeMs?: number, key = 'k'): DeleteOp =>
  completeMs === undefined
    ? {clientId, op: 'delete', input: {key}, invokeMs}
    : {clientId, op: 'delete', input: {key}, output: {ok: true}, invokeMs, completeMs}
