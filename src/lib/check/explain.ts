// Turns the point where the search got furthest into one sentence a person can act on. At that
// point every operation that could still go next was rejected by the model (see wgl.ts), the
// stuck one included, so the sentence says which value it saw against which value the register
// must hold, and which operation put that value there.

import {describeOp, formatValue, writtenValue, type Operation, type Value} from './history.js'
import type {Stuck} from './wgl.js'

/**
 * @param ops the key's operations, indexed as the search saw them
 * @param values the interned value table the search used
 * @param allOps every operation on the key, to tell "never written" from "stale"
 */
export function explainStuck(ops: readonly Operation[], values: readonly (Value | null)[], stuck: Stuck, allOps: readonly Operation[]): string {
  const op = ops[stuck.opIndex]
  const held = formatValue(values[stuck.state])
  const setter = stuck.setBy < 0 ? undefined : ops[stuck.setBy]
  const source = setter === undefined
    ? 'it was never written'
    : setter.output !== undefined && (setter.completeMs as number) < op.invokeMs
      ? `${describeOp(setter)} was acknowledged before it was invoked`
      : `set by ${describeOp(setter)}`
  const tail = `${stuck.linearized} of ${ops.length} operations could be ordered before it`

  if (op.op === 'read' && op.output !== undefined) {
    const seen = op.output.value
    if (seen !== null && !allOps.some((other) => writtenValue(other) === seen)) {
      return `${describeOp(op)}, a value no operation on this key wrote`
    }
    return `${describeOp(op)}, but the register must hold ${held} by then: ${source} (${tail})`
  }
  if (op.op === 'cas' && op.output !== undefined) {
    if (op.output.ok) return `${describeOp(op)}, but the register must hold ${held}, not ${formatValue(op.input.from)}, by then: ${source} (${tail})`
    return `${describeOp(op)}, but the register must hold the expected ${held} by then: ${source} (${tail})`
  }
  // Unreachable today: the stuck operation was itself rejected by the model, and writes, deletes
  // and unknown outcomes never are. Kept so a richer model cannot leave a report blank.
  return `no order of the operations around ${describeOp(op)} fits a register before it returned (${tail})`
}
