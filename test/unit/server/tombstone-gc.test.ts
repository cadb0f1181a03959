import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {TombstoneGc} from '../../../src/lib/server/tombstone-gc.js'

describe('TombstoneGc', () => {
  it('reaps up to the index noted one TTL ago, never earlier, never twice', async () => {
    let index = 10
    const reaps: number[] = []
    const gc = new TombstoneGc({ttlMs: 100, granularityMs: 10, lastIndex: () => index, reap: async (n) => { reaps.push(n) }, onError: () => {}})
    gc.tick(0) // note index 10 at t=0
    index = 20
    gc.tick(50)
    assert.deepEqual(reaps, [], 'nothing is old enough yet')
    index = 30
    gc.tick(100) // the t=0 note (index 10) is now a TTL old
    await Promise.resolve()
    assert.deepEqual(reaps, [10])
    gc.tick(120)
    assert.deepEqual(reaps, [10], 'the t=50 note is not a TTL old yet')
    gc.tick(150)
    await Promise.resolve()
    assert.deepEqual(reaps, [10, 20])
  })
})
