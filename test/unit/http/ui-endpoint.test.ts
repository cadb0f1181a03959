// The pure parts of /v1/internal/ui/*: an instance's aggregated health (the worst of its checks,
// passing with none) and the semaphore holder document as `coord lock -n` writes it.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseSemaphoreDoc, worstStatus} from '../../../src/lib/http/ui-endpoint.js'

describe('ui endpoint helpers', () => {
  it('worstStatus: critical > warning > passing, passing when there are no checks', () => {
    assert.equal(worstStatus([]), 'passing')
    assert.equal(worstStatus([{status: 'passing'}, {status: 'warning'}]), 'warning')
    assert.equal(worstStatus([{status: 'warning'}, {status: 'critical'}, {status: 'passing'}]), 'critical')
  })

  it('parseSemaphoreDoc: limit and holders (true only, sorted); a broken document names why', () => {
    const doc = new TextEncoder().encode(JSON.stringify({Limit: 3, Holders: {b: true, a: true, c: false}}))
    assert.deepEqual(parseSemaphoreDoc(doc), {Limit: 3, Holders: ['a', 'b']})
    assert.deepEqual(parseSemaphoreDoc(new TextEncoder().encode('{"Limit": 2}')), {Limit: 2, Holders: []})
    const broken = parseSemaphoreDoc(new TextEncoder().encode('{"Limit":'))
    assert.ok('Error' in broken && /not a semaphore document/.test(broken.Error))
    const binary = parseSemaphoreDoc(new Uint8Array([0xff, 0xfe]))
    assert.ok('Error' in binary)
  })
})
