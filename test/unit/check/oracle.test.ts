// Cross-checks the search against the definition: a history is linearizable iff some total order
// of its operations respects real time (a before b when a returned before b was invoked) and
// replays on a sequential register with every observed output. Tried exhaustively on many small
// random histories whose outputs are random, so about half are not linearizable. Values repeat
// here on purpose: the search must not rely on the uniqueness the recorders promise.

import {it} from 'node:test'
import assert from 'node:assert/strict'
import {checkLinearizable} from '../../../src/lib/check/linearizable.js'
import type {Operation, Value} from '../../../src/lib/check/history.js'
import {Rng} from './gen-history.js'
import {cas, del, read, write} from './ops.js'

const pool: (Value | null)[] = ['a', 'b', null]

function randomHistory(rng: Rng): Operation[] {
  const ops: Operation[] = []
  const count = 1 + rng.int(7)
  for (let n = 0; n < count; n++) {
    const invokeMs = rng.int(20)
    const lost = rng.next() < 0.2
    const completeMs = lost ? undefined : invokeMs + rng.int(8)
    const value = rng.pick(pool)
    const roll = rng.next()
    if (roll < 0.35) ops.push(read(n, value, invokeMs, completeMs ?? invokeMs + 1))
    else if (roll < 0.6) ops.push(value === null ? del(n, invokeMs, completeMs) : write(n, value, invokeMs, completeMs))
    else ops.push(cas(n, value, rng.pick(pool), lost ? undefined : rng.next() < 0.5, invokeMs, completeMs))
  }
  return ops
}

/** Exhaustive: every order respecting real time, each unknown-outcome operation in or out. */
function bruteForce(ops: readonly Operation[]): boolean {
  const placed = new Array<boolean>(ops.length).fill(false)
  const done = (op: Operation): number => op.output === undefined ? Infinity : op.completeMs as number
  const extend = (state: Value | null): boolean => {
    if (ops.every((op, i) => placed[i] || op.output === undefined)) return true
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue
      // Everything that returned before this one was invoked must already be placed.
      if (ops.some((other, j) => !placed[j] && j !== i && done(other) < ops[i].invokeMs)) continue
      const next = apply(ops[i], state)
      if (next === undefined) continue
      placed[i] = true
      const ok = extend(next)
      placed[i] = false
      if (ok) return true
    }
    return false
  }
  return extend(null)
}

/** The register's answer, or undefined if the recorded output is impossible in `state`. */
function apply(op: Operation, state: Value | null): Value | null | undefined {
  switch (op.op) {
    case 'read': return op.output?.value === state ? state : undefined
    case 'write': return op.input.value
    case 'delete': return null
    case 'cas': {
      const matches = state === op.input.from
      if (op.output === undefined) return matches ? op.input.to : state
      return op.output.ok === matches ? (matches ? op.input.to : state) : undefined
    }
  }
}

it('agrees with exhaustive search on 3,000 small random histories', () => {
  const rng = new Rng(2024)
  let failing = 0
  for (let n = 0; n < 3_000; n++) {
    const history = randomHistory(rng)
    const expected = bruteForce(history)
    const result = checkLinearizable(history, {shrink: n % 10 !== 0})
    assert.equal(result.ok, expected, `history #${n}: ${JSON.stringify(history)}`)
    if (!expected) failing++
    if (!expected) assert.equal(result.anomalies.length, 1)
  }
  assert.ok(failing > 500 && failing < 2_500, `${failing} of 3000 not linearizable: the mix is off`)
})
