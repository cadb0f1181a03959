// Wing & Gong's linearizability search with Lowe's memoization ("Testing for linearizability",
// Lowe 2017, §3–4), laid out the way Porcupine does it (Horn & Kroening, "Faster linearizability
// checking via P-compositionality", 2015): the history is a doubly linked list of call and return
// entries in time order. Walking it, a call may be linearized now if the model accepts its output
// in the current state; it is then lifted out of the list with its return. Reaching a return means
// that operation was not linearized before it returned, so the last choice is undone. A
// (linearized set, model state) pair already explored is never explored again: whatever lies below
// it failed before and would fail again.
//
// One key at a time (the caller partitions by key: a register per key is P-compositional).

import {sets, step, type StepOp} from './model.js'

export interface Budget {
  /** Give up (verdict 'timeout') once `now()` passes this. */
  deadline: number
  /** Give up after this many list steps. Bounds both time and the memo's memory. */
  maxSteps: number
  now: () => number
}

/** Where the search got furthest before failing: the evidence an explanation is built from. */
export interface Stuck {
  /** The operation whose return was reached while it could not be linearized. */
  opIndex: number
  /** How many operations were linearized at that point. */
  linearized: number
  /** The model state (interned value) at that point. */
  state: number
  /** The operation that set that state, or -1 for the initial state. */
  setBy: number
}

export type SearchResult =
  | {verdict: 'ok'; steps: number}
  | {verdict: 'timeout'; steps: number}
  | {verdict: 'fail'; steps: number; stuck: Stuck}

const NIL = -1
const HEAD = 0
// Entry ids: 0 is the list head; operation i has its call at 1 + 2i and its return at 2 + 2i.
const callOf = (i: number): number => 1 + 2 * i
const opOf = (entry: number): number => (entry - 1) >> 1
const isCall = (entry: number): boolean => (entry & 1) === 1

export function search(ops: readonly StepOp[], budget: Budget): SearchResult {
  const n = ops.length
  const size = 1 + 2 * n
  const time = new Float64Array(size)
  for (let i = 0; i < n; i++) {
    time[callOf(i)] = ops[i].invokeMs
    time[callOf(i) + 1] = ops[i].completeMs
  }
  // Time order; at equal times calls go first, so touching operations count as concurrent:
  // millisecond clocks cannot order them, and assuming an order would invent anomalies.
  const order = Array.from({length: size - 1}, (_, k) => k + 1)
    .sort((x, y) => time[x] - time[y] || (isCall(x) ? 0 : 1) - (isCall(y) ? 0 : 1) || x - y)
  const next = new Int32Array(size).fill(NIL)
  const prev = new Int32Array(size).fill(NIL)
  let last = HEAD
  for (const entry of order) {
    next[last] = entry
    prev[entry] = last
    last = entry
  }

  const lift = (call: number): void => {
    const ret = call + 1
    next[prev[call]] = next[call]
    if (next[call] !== NIL) prev[next[call]] = prev[call]
    next[prev[ret]] = next[ret]
    if (next[ret] !== NIL) prev[next[ret]] = prev[ret]
  }
  // Exact inverse of lift, so the entries' own prev/next pointers are still valid.
  const unlift = (call: number): void => {
    const ret = call + 1
    next[prev[ret]] = ret
    if (next[ret] !== NIL) prev[next[ret]] = ret
    next[prev[call]] = call
    if (next[call] !== NIL) prev[next[call]] = call
  }

  const linearized = new Uint32Array((n + 31) >>> 5)
  const memoKey = (state: number): string => {
    let key = `${state}`
    for (let w = 0; w < linearized.length; w++) key += `,${linearized[w]}`
    return key
  }
  const memo = new Set<string>()
  const stackCall = new Int32Array(n)
  const stackState = new Int32Array(n)
  const stackSetBy = new Int32Array(n)
  let depth = 0
  let state = 0
  let setBy = NIL
  let stuck: Stuck | undefined
  let steps = 0

  let entry = next[HEAD]
  while (entry !== NIL) {
    steps++
    if (steps > budget.maxSteps || ((steps & 1023) === 0 && budget.now() > budget.deadline)) return {verdict: 'timeout', steps}
    const i = opOf(entry)
    if (isCall(entry)) {
      const after = step(ops[i], state)
      if (after >= 0) {
        linearized[i >>> 5] |= 1 << (i & 31)
        const key = memoKey(after)
        if (!memo.has(key)) {
          memo.add(key)
          stackCall[depth] = entry
          stackState[depth] = state
          stackSetBy[depth] = setBy
          depth++
          if (sets(ops[i], state)) setBy = i
          state = after
          lift(entry)
          entry = next[HEAD]
          continue
        }
        linearized[i >>> 5] &= ~(1 << (i & 31))
      }
      entry = next[entry]
      continue
    }
    // A return. Returns at +infinity sort last, so from here on every operation left has an
    // unknown outcome, and each can be linearized (as taking effect, or as never happening).
    if (time[entry] === Infinity) return {verdict: 'ok', steps}
    // The deepest such point is the best evidence: every pending call failed the model there
    // (had one passed, the memo would hold a deeper configuration that was already explored).
    if (stuck === undefined || depth > stuck.linearized) stuck = {opIndex: i, linearized: depth, state, setBy}
    if (depth === 0) return {verdict: 'fail', steps, stuck}
    depth--
    const call = stackCall[depth]
    state = stackState[depth]
    setBy = stackSetBy[depth]
    const j = opOf(call)
    linearized[j >>> 5] &= ~(1 << (j & 31))
    unlift(call)
    entry = next[call]
  }
  return {verdict: 'ok', steps}
}
