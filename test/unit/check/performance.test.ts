// The size the cluster tests produce: 5,000 operations over 50 keys from 20 clients must check in
// well under the ~5 s the Raft issue allows, so the checker never dominates a test run.

import {it} from 'node:test'
import assert from 'node:assert/strict'
import {checkLinearizable} from '../../../src/lib/check/linearizable.js'
import {generateHistory} from './gen-history.js'

it('checks 5,000 operations over 50 keys from 20 clients in under 5 s', (t) => {
  const history = generateHistory({seed: 7, ops: 5_000, keys: 50, clients: 20})
  const started = performance.now()
  const result = checkLinearizable(history)
  const elapsedMs = performance.now() - started
  t.diagnostic(`50 keys: ${result.opsChecked} ops, ${result.steps} steps, ${elapsedMs.toFixed(0)} ms`)
  assert.equal(result.ok, true)
  assert.equal(result.keysChecked, 50)
  assert.ok(elapsedMs < 5_000, `took ${elapsedMs} ms`)
})

it('checks 5,000 operations on 5 hot keys from 20 clients in under 5 s', (t) => {
  // Ten times the per-key concurrency: the search's memo, not luck, keeps this fast.
  const history = generateHistory({seed: 8, ops: 5_000, keys: 5, clients: 20})
  const started = performance.now()
  const result = checkLinearizable(history)
  const elapsedMs = performance.now() - started
  t.diagnostic(`5 keys: ${result.opsChecked} ops, ${result.steps} steps, ${elapsedMs.toFixed(0)} ms`)
  assert.equal(result.ok, true)
  assert.ok(elapsedMs < 5_000, `took ${elapsedMs} ms`)
})
