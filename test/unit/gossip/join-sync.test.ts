// Push-pull right after a join (GossipConfig.joinSyncs): when every datagram announcing a joiner is
// lost, the pool still learns of it within about a second through the follow-up full-state
// exchanges, instead of waiting for the periodic push-pull (30 s).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {PORT, Pool, testConfig} from './harness.js'

const names = (n: number): string[] => Array.from({length: n}, (_, i) => `n${i}`)

/** n0..n3 form a pool; n5 joins through n0 while every datagram announcing n5 alive is dropped for 400 ms. */
function lateJoiner(joinSyncs: number): Pool {
  const p = new Pool(names(6), testConfig({joinSyncs}))
  const joiner = 'n5'
  const rest = names(5)
  for (const name of rest.slice(1)) {
    p.core(name).join([{address: 'n0', port: PORT}])
    p.flush()
  }
  p.advance(2000)
  const lossUntilMs = p.nowMs + 400
  p.drop = (_from, _to, messages) => p.nowMs < lossUntilMs && messages.some((m) => m.type === 'alive' && m.node === joiner)
  p.core(joiner).join([{address: 'n0', port: PORT}])
  p.flush()
  p.advance(1600)
  return p
}

describe('gossip core: push-pull after join', () => {
  it('with joinSyncs, every member learns a joiner whose announcements were all lost', () => {
    const p = lateJoiner(2)
    for (const a of names(5)) assert.equal(p.stateOf(a, 'n5'), 'alive', `${a} sees n5`)
    for (const b of names(5)) assert.equal(p.stateOf('n5', b), 'alive', `n5 sees ${b}`)
  })

  it('without them (memberlist behaviour), some member still does not know the joiner', () => {
    const p = lateJoiner(0)
    const unaware = names(5).filter((a) => p.stateOf(a, 'n5') === undefined)
    assert.ok(unaware.length > 0, 'the loss should have hidden the joiner from someone')
  })

  it('the seed exchanges state with a member other than the joiner', () => {
    const p = new Pool(names(3), testConfig({joinSyncs: 1}))
    p.core('n1').join([{address: 'n0', port: PORT}])
    p.flush()
    p.advance(50)
    const streamsBefore = p.sent.length
    p.core('n2').join([{address: 'n0', port: PORT}])
    p.flush()
    p.advance(1000)
    assert.ok(p.sent.length > streamsBefore)
    for (const a of names(3)) for (const b of names(3)) assert.equal(p.stateOf(a, b), 'alive', `${a} sees ${b}`)
  })
})
