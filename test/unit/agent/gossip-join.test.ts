// startRetryJoin / startJoin with a scripted join function: the loop is bounded by retry_max,
// stops on stop(), and reports exhaustion once; -join fails the start with the pool named.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {startJoin, startRetryJoin} from '../../../src/lib/agent/gossip-join.js'
import {LogHub} from '../../../src/lib/logger.js'

const log = new LogHub('error', () => {}, false).logger('test')

describe('retry join', () => {
  it('retries until a join succeeds', async () => {
    let calls = 0
    const r = startRetryJoin({pool: 'LAN', seeds: ['a:8301'], intervalMs: 5, max: 0, log, onExhausted: () => assert.fail('not exhausted'),
      join: async () => { if (++calls < 4) throw new Error('refused'); return 1 }})
    assert.equal(await r.done, true)
    assert.equal(calls, 4)
  })

  it('gives up after retry_max failed attempts and reports it once', async () => {
    let calls = 0
    const errors: Error[] = []
    const r = startRetryJoin({pool: 'WAN', seeds: ['a'], intervalMs: 5, max: 3, log, onExhausted: (e) => errors.push(e),
      join: async () => { calls++; throw new Error('refused') }})
    assert.equal(await r.done, false)
    assert.equal(calls, 3)
    assert.equal(errors.length, 1)
    assert.match(errors[0].message, /^agent: max join -wan retry exhausted after 3 attempt\(s\): refused$/)
  })

  it('stops when asked, even while waiting out the interval', async () => {
    let calls = 0
    const r = startRetryJoin({pool: 'LAN', seeds: ['a'], intervalMs: 60_000, max: 0, log, onExhausted: () => assert.fail('not exhausted'),
      join: async () => { calls++; throw new Error('refused') }})
    await new Promise((resolve) => setTimeout(resolve, 20))
    r.stop()
    assert.equal(await r.done, false)
    assert.equal(calls, 1)
  })

  it('does nothing without seeds', async () => {
    const r = startRetryJoin({pool: 'LAN', seeds: [], intervalMs: 5, max: 1, log, onExhausted: () => assert.fail('no'), join: async () => assert.fail('no')})
    assert.equal(await r.done, false)
  })

  it('-join: start fails naming the pool and seeds when none answers', async () => {
    await assert.rejects(startJoin('LAN', ['10.0.0.9:8301'], async () => { throw new Error('failed to join any of 1 address(es)') }, log),
      /^Error: Error joining the LAN pool at start \(-join: 10\.0\.0\.9:8301\): failed to join any/)
    await startJoin('LAN', [], async () => assert.fail('no seeds, no join'), log)
  })
})
