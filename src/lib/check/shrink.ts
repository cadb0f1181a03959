// Cuts a key's non-linearizable history down to a few operations that are still not
// linearizable, so a report shows the anomaly rather than a hundred bystanders. In the spirit of
// delta debugging (Zeller): try dropping runs of operations in time order, large runs first
// (bystanders go in bulk, so later trials search small histories), halving the run length down
// to single operations, and repeat a length until nothing more goes.
//
// Two rules keep the result about the same anomaly:
// - the caller's `stillFails` should demand the search gets stuck on the same operation (the
//   anchor, never dropped), not on some new artifact the drops created;
// - the last remaining writer of a value that a kept read or cas observed is never dropped.
//   Without it a stale read (saw 1 after 2 was acknowledged) shrinks to the true but misleading
//   "read a value nobody wrote", and a read of "absent" after a delete loses its delete.

import {writtenValue, type Operation, type Value} from './history.js'

/**
 * @param anchor the operation the anomaly is about; always kept
 * @param stillFails runs the checker on a candidate; must return false when it cannot decide
 *   (out of budget), so undecided drops are not kept
 */
export function shrinkFailure(ops: readonly Operation[], anchor: Operation, stillFails: (candidate: readonly Operation[]) => boolean): Operation[] {
  let kept = [...ops].sort((x, y) => x.invokeMs - y.invokeMs)
  for (let run = Math.max(1, 2 ** Math.floor(Math.log2(kept.length / 2))); run >= 1; run = Math.floor(run / 2)) {
    // Each repeat either drops at least one operation or stops, so at most ops.length repeats.
    for (let repeat = 0; repeat < ops.length; repeat++) {
      let dropped = false
      // Latest runs first: later operations rarely matter, and dropping them keeps indices below valid.
      for (let end = kept.length; end > 0; end -= run) {
        const drop = droppable(kept, Math.max(0, end - run), end, anchor)
        if (drop.size === 0) continue
        const candidate = kept.filter((op) => !drop.has(op))
        if (stillFails(candidate)) {
          kept = candidate
          dropped = true
        }
      }
      if (!dropped) break
    }
  }
  return kept
}

/** The operations of kept[begin, end) that may go together: not the anchor, not a needed writer. */
function droppable(kept: readonly Operation[], begin: number, end: number, anchor: Operation): Set<Operation> {
  const run = new Set(kept.slice(begin, end))
  run.delete(anchor)
  const remaining = kept.filter((op) => !run.has(op))
  const observed = new Set<Value | null>()
  const written = new Set<Value | null>()
  for (const op of remaining) {
    const seen = observedValue(op)
    if (seen !== undefined) observed.add(seen)
    const value = writtenValue(op)
    if (value !== undefined) written.add(value)
  }
  for (const op of [...run]) {
    const value = writtenValue(op)
    if (value === undefined || !observed.has(value) || written.has(value)) continue
    // Keep this one as the value's writer; the rest of the run can still go.
    run.delete(op)
    written.add(value)
  }
  return run
}

function observedValue(op: Operation): Value | null | undefined {
  if (op.op === 'read') return op.output?.value
  if (op.op === 'cas' && op.output?.ok === true) return op.input.from
  return undefined
}
