// Checking histories taken with `?stale` reads. Consul serves those from any server's local state,
// so they may lag arbitrarily (even going backwards between servers) and are not linearizable by
// design. What must still hold: writes and CAS, which always go through the leader, are
// linearizable; and a read returns a value that some operation really wrote, and not one written
// only after the read completed. Reads that are provably behind are counted, not failed: the
// report shows how often and by how much `?stale` lags, which is what the mode trades away.

import {describeOp, writtenValue, type History, type Operation, type ReadOp, type Value} from './history.js'
import {checkLinearizable, partitionByKey, type Anomaly, type CheckOptions, type CheckResult} from './linearizable.js'

export interface StaleRead {
  key: string
  read: ReadOp
  /** An acknowledged write that had already replaced the returned value when the read was sent. */
  supersededBy: Operation
  /** The read was sent at least this long after that replacement was acknowledged, ms. */
  staleByMs: number
}

export interface ReadClassification {
  /** Reads with an answer (the ones classified). */
  readsChecked: number
  staleReads: StaleRead[]
  /** Reads of values never written, or written only after the read completed. */
  anomalies: Anomaly[]
}

export interface StaleCheckResult extends CheckResult {
  readsChecked: number
  staleReads: StaleRead[]
}

/** Checks a `?stale` history: writes linearizable, reads real; stale reads counted, not failed. */
export function checkStaleHistory(history: History, options: CheckOptions = {}): StaleCheckResult {
  const writes = checkLinearizable(history.filter((op) => op.op !== 'read'), options)
  const reads = classifyReads(history)
  const anomalies = [...writes.anomalies, ...reads.anomalies]
  return {
    ...writes,
    ok: anomalies.length === 0 && writes.timedOut !== true,
    opsChecked: writes.opsChecked + reads.readsChecked,
    keysChecked: partitionByKey(history).size - (writes.undecidedKeys?.length ?? 0),
    anomalies,
    readsChecked: reads.readsChecked,
    staleReads: reads.staleReads,
  }
}

/**
 * A read is stale when every operation that could have written the value it returned had been
 * overwritten by an acknowledged write that started after it finished and was acknowledged before
 * the read was sent: no order consistent with real time lets that read see that value. It needs
 * no search, so it runs in O(reads × writes per key).
 */
export function classifyReads(history: History): ReadClassification {
  const result: ReadClassification = {readsChecked: 0, staleReads: [], anomalies: []}
  for (const [key, ops] of partitionByKey(history)) {
    const acknowledged = ops.filter((op) => op.output !== undefined && writtenValue(op) !== undefined)
    for (const read of ops) {
      if (read.op !== 'read' || read.output === undefined) continue
      result.readsChecked++
      const verdict = classifyRead(read, read.output.value, ops, acknowledged)
      if (verdict === undefined) continue
      if ('explanation' in verdict) result.anomalies.push({key, explanation: verdict.explanation, minimalOps: verdict.ops})
      else result.staleReads.push({key, read, ...verdict})
    }
  }
  return result
}

type ReadVerdict = {supersededBy: Operation; staleByMs: number} | {explanation: string; ops: Operation[]} | undefined

function classifyRead(read: ReadOp, value: Value | null, ops: readonly Operation[], acknowledged: readonly Operation[]): ReadVerdict {
  const completeMs = read.completeMs as number
  const writers = ops.filter((op) => writtenValue(op) === value)
  if (writers.length === 0 && value !== null) {
    return {explanation: `${describeOp(read)}, a value no operation on this key wrote`, ops: [read]}
  }
  if (value !== null && writers.every((op) => op.invokeMs > completeMs)) {
    return {explanation: `${describeOp(read)}, a value first written after the read completed (${describeOp(writers[0])})`, ops: [read, ...writers]}
  }
  // When each candidate writer was done (+infinity if unknown). The register starts absent, as if
  // written before anything began.
  const writersDoneMs = writers.map((op) => op.output === undefined ? Infinity : op.completeMs as number)
  if (value === null) writersDoneMs.push(-Infinity)
  let best: {supersededBy: Operation; staleByMs: number} | undefined
  for (const writerDoneMs of writersDoneMs) {
    let first: Operation | undefined
    for (const later of acknowledged) {
      if (writtenValue(later) === value || later.invokeMs <= writerDoneMs || (later.completeMs as number) >= read.invokeMs) continue
      if (first === undefined || (later.completeMs as number) < (first.completeMs as number)) first = later
    }
    // One writer the read may still have seen is enough to make it fresh.
    if (first === undefined) return undefined
    const staleByMs = read.invokeMs - (first.completeMs as number)
    if (best === undefined || staleByMs < best.staleByMs) best = {supersededBy: first, staleByMs}
  }
  return best
}
