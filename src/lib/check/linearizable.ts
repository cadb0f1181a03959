// The entry point: is a recorded KV history linearizable? Keys are independent registers, so the
// history is split by key and each part searched on its own (P-compositionality: a history is
// linearizable iff each key's sub-history is). That turns one search over thousands of
// operations into many searches over dozens, which is what makes real cluster histories tractable.

import {validateHistory, type History, type Operation} from './history.js'
import {compileKey} from './model.js'
import {withoutUnobservedUnknowns} from './prune.js'
import {explainStuck} from './explain.js'
import {shrinkFailure} from './shrink.js'
import {search, type Budget} from './wgl.js'

export interface CheckOptions {
  /** Wall-clock budget for the whole check, ms. Past it, undecided keys are reported, not hung on. Default 30 000. */
  timeBudgetMs?: number
  /** Search steps allowed per key; also caps the memo (≤ one entry per step). Default 2 000 000 (~200 MB worst case). */
  maxStepsPerKey?: number
  /** Shrink each failing key to a few operations for the report. Default true; costs up to `shrinkBudgetMs` per anomaly. */
  shrink?: boolean
  /** Wall-clock cap on shrinking one anomaly, ms. Default 2 000. */
  shrinkBudgetMs?: number
  /** Clock for the budgets, ms. Default `performance.now`; tests inject one. */
  now?: () => number
}

export interface Anomaly {
  key: string
  /** One sentence naming the operation that could not be linearized and why. */
  explanation: string
  /** A small sub-history of this key that is already not linearizable, in invocation order. */
  minimalOps?: Operation[]
}

export interface CheckResult {
  /** True only if every key was proven linearizable. */
  ok: boolean
  /** Operations fed to the search (reads with no answer constrain nothing and are left out). */
  opsChecked: number
  keysChecked: number
  anomalies: Anomaly[]
  /** Set when some key ran out of budget: it is neither proven nor refuted. */
  timedOut?: boolean
  undecidedKeys?: string[]
  /** Search steps taken over all keys, for tuning budgets. */
  steps: number
}

/** Groups operations by key, keeping history order. */
export function partitionByKey(history: History): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>()
  for (const op of history) {
    const list = byKey.get(op.input.key)
    if (list === undefined) byKey.set(op.input.key, [op])
    else list.push(op)
  }
  return byKey
}

/** Throws `CoordError` `HISTORY_INVALID` on a malformed record; otherwise always returns. */
export function checkLinearizable(history: History, options: CheckOptions = {}): CheckResult {
  validateHistory(history)
  const now = options.now ?? (() => performance.now())
  const maxSteps = options.maxStepsPerKey ?? 2_000_000
  const deadline = now() + (options.timeBudgetMs ?? 30_000)
  const result: CheckResult = {ok: true, opsChecked: 0, keysChecked: 0, anomalies: [], steps: 0}
  const undecided: string[] = []

  const byKey = partitionByKey(history)
  for (const key of [...byKey.keys()].sort()) {
    const all = byKey.get(key) as Operation[]
    const ops = all.filter((op) => !(op.op === 'read' && op.output === undefined))
    // `searched` and `compiled` stay paired: the search's indices point into `searched`.
    let searched = withoutUnobservedUnknowns(ops)
    let compiled = compileKey(searched)
    let outcome = search(compiled.ops, {deadline, maxSteps, now})
    result.steps += outcome.steps
    if (outcome.verdict === 'fail' && searched.length < ops.length) {
      // Pruning may only turn a pass into a fail (prune.ts): decide on the full key.
      searched = ops
      compiled = compileKey(ops)
      outcome = search(compiled.ops, {deadline, maxSteps, now})
      result.steps += outcome.steps
    }
    if (outcome.verdict === 'timeout') {
      undecided.push(key)
      continue
    }
    result.keysChecked++
    result.opsChecked += ops.length
    if (outcome.verdict === 'fail') {
      const plain: Anomaly = {key, explanation: explainStuck(searched, compiled.values, outcome.stuck, all)}
      const shrinkBudget = {deadline: Math.min(deadline, now() + (options.shrinkBudgetMs ?? 2_000)), maxSteps, now}
      const anchor = searched[outcome.stuck.opIndex]
      result.anomalies.push(options.shrink === false ? plain : explainShrunk(key, searched, anchor, all, shrinkBudget) ?? plain)
    }
  }
  if (undecided.length > 0) {
    result.timedOut = true
    result.undecidedKeys = undecided
  }
  result.ok = result.anomalies.length === 0 && undecided.length === 0
  return result
}

/**
 * Shrinks a failing key, then explains the small history: its stuck point is far clearer.
 * Undefined when the budget ran out before the small history could be re-checked.
 */
function explainShrunk(key: string, ops: readonly Operation[], anchor: Operation, all: readonly Operation[], budget: Budget): Anomaly | undefined {
  // Each trial gets a slice of the steps; a trial out of budget counts as "passes" (op kept).
  const trialBudget: Budget = {...budget, maxSteps: Math.max(10_000, Math.floor(budget.maxSteps / 20))}
  const stuckOn = (candidate: readonly Operation[]): Anomaly | undefined => {
    const compiled = compileKey(candidate)
    const outcome = search(compiled.ops, trialBudget)
    if (outcome.verdict !== 'fail' || candidate[outcome.stuck.opIndex] !== anchor) return undefined
    return {key, explanation: explainStuck(candidate, compiled.values, outcome.stuck, all), minimalOps: [...candidate]}
  }
  const minimal = shrinkFailure(ops, anchor, (candidate) => budget.now() <= budget.deadline && stuckOn(candidate) !== undefined)
  return stuckOn(minimal)
}
