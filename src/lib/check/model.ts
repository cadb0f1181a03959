// The sequential specification every key is checked against: one register that starts absent.
// Values are interned to small integers (0 = absent) so a model state is a number, which keeps
// the search's memo keys short and its step a few comparisons.

import type {Operation, Value} from './history.js'

export const ABSENT = 0

export const enum Kind { Read, Write, Cas, Delete }

export const enum Outcome { Ok, Failed, Unknown }

/** One operation of one key, compiled for the search. */
export interface StepOp {
  kind: Kind
  outcome: Outcome
  /** Read: the value returned. Write: the value written. Cas: the expected value. */
  a: number
  /** Cas: the value put when the compare holds. */
  b: number
  invokeMs: number
  /** +Infinity when the outcome is unknown. */
  completeMs: number
}

/** A key's operations compiled against one value table, so ids are comparable. */
export interface CompiledKey {
  ops: StepOp[]
  /** Interned id → value; index 0 is absent. */
  values: (Value | null)[]
}

/**
 * Compiles one key's operations. Reads with no answer are dropped by the caller: they constrain
 * nothing (a read that may have happened at any time and returned anything).
 */
export function compileKey(ops: readonly Operation[]): CompiledKey {
  const values: (Value | null)[] = [null]
  const ids = new Map<Value, number>()
  const intern = (value: Value | null): number => {
    if (value === null) return ABSENT
    let id = ids.get(value)
    if (id === undefined) {
      id = values.length
      ids.set(value, id)
      values.push(value)
    }
    return id
  }
  const compiled = ops.map((op): StepOp => {
    const outcome = op.output === undefined ? Outcome.Unknown : op.op === 'cas' && !op.output.ok ? Outcome.Failed : Outcome.Ok
    const times = {invokeMs: op.invokeMs, completeMs: outcome === Outcome.Unknown ? Infinity : op.completeMs as number}
    switch (op.op) {
      case 'read': return {kind: Kind.Read, outcome, a: intern(op.output?.value ?? null), b: 0, ...times}
      case 'write': return {kind: Kind.Write, outcome, a: intern(op.input.value), b: 0, ...times}
      case 'delete': return {kind: Kind.Delete, outcome, a: 0, b: 0, ...times}
      case 'cas': return {kind: Kind.Cas, outcome, a: intern(op.input.from), b: intern(op.input.to), ...times}
    }
  })
  return {ops: compiled, values}
}

/**
 * The state after `op` takes effect in `state`, or -1 if its observed output is impossible there.
 * An unknown-outcome cas is taken to apply whenever it can: the branch where it did nothing is
 * covered by linearizing it last, after every known operation, which the search always allows.
 */
export function step(op: StepOp, state: number): number {
  switch (op.kind) {
    case Kind.Read: return state === op.a ? state : -1
    case Kind.Write: return op.a
    case Kind.Delete: return ABSENT
    case Kind.Cas:
      if (op.outcome === Outcome.Failed) return state !== op.a ? state : -1
      if (op.outcome === Outcome.Ok) return state === op.a ? op.b : -1
      return state === op.a ? op.b : state
  }
}

/** Whether `op`, taking effect in `state`, is the operation that set the register's value. */
export function sets(op: StepOp, state: number): boolean {
  return op.kind === Kind.Write || op.kind === Kind.Delete || (op.kind === Kind.Cas && op.outcome !== Outcome.Failed && state === op.a)
}
