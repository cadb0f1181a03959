// Randomized: histories linearizable by construction must pass; the same histories with one
// injected anomaly must fail, on the right key. A failing seed is printed so it can be replayed.

import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {checkLinearizable} from '../../../src/lib/check/linearizable.js'
import {classifyReads} from '../../../src/lib/check/stale.js'
import {generateHistory, injectPhantomRead, injectStaleRead, Rng} from './gen-history.js'

const seeds = Array.from({length: 60}, (_, i) => i + 1)
// Few keys and many clients, so each key sees real concurrency and unknown outcomes.
const shape = {ops: 300, keys: 3, clients: 10, unknownRate: 0.08}

describe('checkLinearizable on generated histories', () => {
  it('passes every history generated from a sequential register', () => {
    for (const seed of seeds) {
      const result = checkLinearizable(generateHistory({seed, ...shape}))
      assert.equal(result.ok, true, `seed ${seed}: ${JSON.stringify(result.anomalies[0] ?? result.undecidedKeys)}`)
      assert.equal(result.timedOut, undefined, `seed ${seed}`)
    }
  })

  it('fails each history with one injected stale read, on that key', () => {
    let injected = 0
    for (const seed of seeds) {
      const bad = injectStaleRead(generateHistory({seed, ...shape}), new Rng(seed))
      if (bad === undefined) continue
      injected++
      const result = checkLinearizable(bad.history)
      assert.equal(result.ok, false, `seed ${seed}`)
      assert.deepEqual(result.anomalies.map((a) => a.key), [bad.read.input.key], `seed ${seed}`)
      // The stale-mode classifier must see the same read as stale.
      assert.ok(classifyReads(bad.history).staleReads.some((s) => s.read === bad.read), `seed ${seed}`)
    }
    assert.ok(injected >= seeds.length * 0.9, `only ${injected} seeds had a read to make stale`)
  })

  it('fails each history with one injected read of a value never written', () => {
    for (const seed of seeds) {
      const bad = injectPhantomRead(generateHistory({seed, ...shape}), new Rng(seed))
      const result = checkLinearizable(bad.history)
      assert.equal(result.ok, false, `seed ${seed}`)
      assert.deepEqual(result.anomalies.map((a) => a.key), [bad.read.input.key], `seed ${seed}`)
      assert.match(result.anomalies[0].explanation, /"phantom", a value no operation on this key wrote/)
    }
  })

  it('finds no stale reads in linearizable histories', () => {
    for (const seed of seeds.slice(0, 20)) {
      const report = classifyReads(generateHistory({seed, ...shape}))
      assert.deepEqual(report.staleReads, [], `seed ${seed}`)
      assert.deepEqual(report.anomalies, [], `seed ${seed}`)
    }
  })
})
