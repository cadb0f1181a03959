// Drops unknown-outcome writes nobody could have seen. A fault injector makes many of these (every
// request in flight when the leader is killed), and each one doubles the search's state space: it
// may sit anywhere after its invocation. Writes put unique values (history.ts), so a timed-out
// write whose value no read returned and no cas expected left no visible trace.
//
// Sound in one direction only, which is the one the caller relies on: if the history without
// them is linearizable, so is the history with them (each goes last, after every operation, where
// its effect is unobservable; its return is at +infinity so real time allows it). The converse can
// fail when a failed cas needed such a write to explain its failure, so a caller whose pruned
// history fails must re-check the full one before reporting.

import {writtenValue, type Operation, type Value} from './history.js'

export function withoutUnobservedUnknowns(ops: readonly Operation[]): Operation[] {
  const observed = new Set<Value | null>()
  for (const op of ops) {
    if (op.op === 'read' && op.output !== undefined) observed.add(op.output.value)
    if (op.op === 'cas') observed.add(op.input.from)
  }
  return ops.filter((op) => {
    if (op.output !== undefined) return true
    const value = writtenValue(op)
    return value !== undefined && observed.has(value)
  })
}
