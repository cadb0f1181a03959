// The history a test driver records while clients hammer a real cluster, and the one way an
// operation is named in a report. The checkers (linearizable.ts, stale.ts) only read it.
//
// Recording contract (who writes these, and what they must guarantee):
// - One record per client request, with `invokeMs` taken just before the request is sent and
//   `completeMs` just after its answer arrives, both from one monotonic clock in the driver
//   process (performance.now()). Clocks of the servers are never used.
// - `output` present means the client saw the answer. `output` absent means the outcome is
//   unknown (timeout, connection reset, 5xx while the leader was killed): the operation may have
//   taken effect at any moment after `invokeMs`, or never. Knossos and Porcupine treat such an
//   operation as completing at +infinity, and so do we; `completeMs` is then ignored.
// - A request that definitely did nothing (a 400, say) is left out of the history.
// - Each write puts a value never written before on that key. The model compares values, while
//   Consul's `?cas=` compares ModifyIndex; with unique values the two agree (no ABA), so the driver
//   turns "cas at index i" into "cas from the value it read at index i".

import {CoordError} from '../errors.js'

/** A KV value as the client decoded it; `null` means the key is absent. */
export type Value = string

export type ClientId = string | number

interface OperationBase {
  clientId: ClientId
  /** When the client sent the request (ms, driver's monotonic clock). */
  invokeMs: number
  /** When the client got the answer. Required when `output` is present. */
  completeMs?: number
}

export interface ReadOp extends OperationBase {
  op: 'read'
  input: {key: string}
  output?: {value: Value | null}
}

export interface WriteOp extends OperationBase {
  op: 'write'
  input: {key: string; value: Value}
  output?: {ok: true}
}

/** Value-based compare-and-set: takes effect iff the key holds `from` (`null`: is absent). */
export interface CasOp extends OperationBase {
  op: 'cas'
  input: {key: string; from: Value | null; to: Value | null}
  output?: {ok: boolean}
}

export interface DeleteOp extends OperationBase {
  op: 'delete'
  input: {key: string}
  output?: {ok: true}
}

export type Operation = ReadOp | WriteOp | CasOp | DeleteOp
export type History = readonly Operation[]

/** True when the client never learnt what became of the operation. */
export function isUnknown(op: Operation): boolean {
  return op.output === undefined
}

/** The value an operation leaves on its key if it takes effect, or `undefined` if it writes nothing. */
export function writtenValue(op: Operation): Value | null | undefined {
  switch (op.op) {
    case 'write': return op.input.value
    case 'delete': return null
    case 'cas': return op.output?.ok === false ? undefined : op.input.to
    case 'read': return undefined
  }
}

/** Throws `CoordError` code `HISTORY_INVALID` naming the first malformed record: a recorder bug. */
export function validateHistory(history: History): void {
  history.forEach((op, index) => {
    const problem = problemWith(op)
    if (problem !== undefined) {
      throw new CoordError('HISTORY_INVALID', `history[${index}] (${describeOp(op)}): ${problem}`)
    }
  })
}

function problemWith(op: Operation): string | undefined {
  if (typeof op.input?.key !== 'string') return 'input.key must be a string'
  if (!Number.isFinite(op.invokeMs)) return 'invokeMs must be a finite number'
  if (op.output === undefined) return undefined
  if (op.completeMs === undefined || !Number.isFinite(op.completeMs)) return 'a completed operation needs a finite completeMs'
  if (op.completeMs < op.invokeMs) return 'completeMs is before invokeMs'
  return undefined
}

/** Quotes a value for a report, shortening long ones. */
export function formatValue(value: Value | null): string {
  if (value === null) return 'absent'
  const quoted = JSON.stringify(value)
  return quoted.length > 42 ? `${quoted.slice(0, 40)}…"` : quoted
}

/** "read by client 3 at t=120..130ms returned "5"": how every report names an operation. */
export function describeOp(op: Operation): string {
  const end = op.output === undefined ? '?' : `${op.completeMs}`
  const who = `by client ${op.clientId} at t=${op.invokeMs}..${end}ms`
  switch (op.op) {
    case 'read':
      return op.output === undefined ? `read ${who} (no answer)` : `read ${who} returned ${formatValue(op.output.value)}`
    case 'write':
      return `write ${formatValue(op.input.value)} ${who}${op.output === undefined ? ' (outcome unknown)' : ''}`
    case 'delete':
      return `delete ${who}${op.output === undefined ? ' (outcome unknown)' : ''}`
    case 'cas': {
      const outcome = op.output === undefined ? 'outcome unknown' : op.output.ok ? 'succeeded' : 'failed'
      return `cas ${formatValue(op.input.from)}→${formatValue(op.input.to)} ${who} (${outcome})`
    }
  }
}
