import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Suspicion, expectedConfirmations, suspicionMinTimeoutMs, suspicionTimeoutMs} from '../../../src/lib/gossip/suspicion.js'
import {Awareness} from '../../../src/lib/gossip/awareness.js'
import {BroadcastQueue} from '../../../src/lib/gossip/broadcast-queue.js'
import {LamportClock} from '../../../src/lib/gossip/lamport.js'
import {gossipProfiles, validateGossipConfig} from '../../../src/lib/gossip/config.js'
import {GossipCore, pushPullScaleMs} from '../../../src/lib/gossip/core.js'
import {GossipConfigError} from '../../../src/lib/gossip/errors.js'
import {SeededRng} from '../../../src/lib/rng.js'

describe('gossip: suspicion timeout (Lifeguard)', () => {
  it('minimum is suspicionMult × max(1, log10 N) × probe interval', () => {
    assert.equal(suspicionMinTimeoutMs(4, 100, 1000), 8000) // memberlist LAN at 100 members
    assert.equal(suspicionMinTimeoutMs(4, 5, 1000), 4000) // floored scale for small pools
    assert.equal(suspicionMinTimeoutMs(4, 1000, 200), 2400)
  })

  it('timeout shrinks from max to min as independent confirmations arrive', () => {
    const k = expectedConfirmations(4, 100)
    assert.equal(k, 2)
    const t = [0, 1, 2, 3].map((c) => suspicionTimeoutMs(c, k, 1000, 6000))
    assert.equal(t[0], 6000)
    assert.ok(t[1] < t[0] && t[1] > 1000, `one confirmation: ${t[1]}`)
    assert.equal(t[2], 1000)
    assert.equal(t[3], 1000) // never below min
  })

  it('small pools expect no confirmations and use the minimum at once', () => {
    assert.equal(expectedConfirmations(4, 3), 0)
    assert.equal(suspicionTimeoutMs(0, 0, 1000, 6000), 1000)
  })

  it('the accuser and repeated confirmers do not count; each new one moves the deadline closer', () => {
    const s = new Suspicion('a', 100, 2, 1000, 6000)
    assert.equal(s.deadlineMs, 6100)
    assert.equal(s.confirm('a'), false)
    assert.equal(s.confirm('b'), true)
    const afterOne = s.deadlineMs
    assert.ok(afterOne < 6100)
    assert.equal(s.confirm('b'), false)
    assert.equal(s.deadlineMs, afterOne)
    assert.equal(s.confirm('c'), true)
    assert.equal(s.deadlineMs, 1100)
    assert.equal(s.confirm('d'), false) // past the expected count: nothing left to shorten
  })
})

describe('gossip: local health awareness', () => {
  it('awareness stretches timeouts by (score + 1) and stays within [0, max − 1]', () => {
    const a = new Awareness(8)
    assert.equal(a.scale(500), 500)
    a.apply(3)
    assert.equal(a.scale(500), 2000)
    a.apply(100)
    assert.equal(a.score, 7)
    a.apply(-100)
    assert.equal(a.score, 0)
  })
})

describe('gossip: broadcast queue', () => {
  const alive = (node: string, incarnation: number) => ({type: 'alive' as const, node, incarnation, address: node, port: 1, tags: {}})

  it('a broadcast is sent retransmit-limit times, then dropped', () => {
    const q = new BroadcastQueue()
    q.enqueue('a', alive('a', 1))
    const limit = BroadcastQueue.retransmitLimit(4, 9) // 4 × ceil(log10 10) = 4
    assert.equal(limit, 4)
    for (let i = 0; i < limit; i++) assert.equal(q.take(1400, limit).length, 1)
    assert.equal(q.take(1400, limit).length, 0)
    assert.equal(q.size, 0)
  })

  it('newer news about a member replaces the older, and the least-sent goes first', () => {
    const q = new BroadcastQueue()
    q.enqueue('a', alive('a', 1))
    q.enqueue('b', alive('b', 1))
    q.take(1400, 10)
    q.enqueue('a', alive('a', 2))
    q.enqueue('c', alive('c', 1))
    const out = q.take(1400, 10)
    assert.deepEqual(out.map((m) => `${m.type === 'alive' ? m.node : ''}${m.type === 'alive' ? m.incarnation : ''}`), ['c1', 'a2', 'b1'])
  })

  it('takes only what fits the byte budget', () => {
    const q = new BroadcastQueue()
    for (let i = 0; i < 100; i++) q.enqueue(`n${i}`, alive(`n${i}`, 1))
    const out = q.take(200, 10)
    assert.ok(out.length > 0 && out.length < 20, `${out.length} fit`)
    assert.equal(q.size, 100)
  })

  it('peek returns what take would, within the budget and the limit, and counts no transmit', () => {
    const q = new BroadcastQueue()
    for (let i = 0; i < 100; i++) q.enqueue(`n${i}`, alive(`n${i}`, 1))
    const peeked = q.peek(200, 4)
    assert.ok(peeked.length > 0 && peeked.length < 20, `${peeked.length} fit`)
    assert.ok(q.takenBytes <= 200)
    assert.deepEqual(q.peek(200, 4), peeked, 'a second peek sees the same, nothing was counted')
    assert.deepEqual(q.take(200, 4), peeked)
    const once = new BroadcastQueue()
    once.enqueue('a', alive('a', 1))
    for (let i = 0; i < 10; i++) assert.equal(once.peek(1400, 1).length, 1)
    assert.equal(once.take(1400, 1).length, 1, 'still owed its one counted send')
    assert.equal(once.peek(1400, 1).length, 0)
  })
})

describe('gossip: config and clocks', () => {
  it('every profile is valid; coord probes faster than memberlist LAN', () => {
    for (const [name, make] of Object.entries(gossipProfiles)) assert.deepEqual(validateGossipConfig(make()), [], name)
    assert.ok(gossipProfiles.coord().probeIntervalMs < gossipProfiles.lan().probeIntervalMs)
  })

  it('validation names each bad field and the core refuses an invalid config', () => {
    const bad = {...gossipProfiles.lan(), probeTimeoutMs: 2000, gossipNodes: 0}
    const problems = validateGossipConfig(bad)
    assert.ok(problems.some((p) => p.startsWith('probeTimeoutMs')))
    assert.ok(problems.some((p) => p.startsWith('gossipNodes')))
    assert.throws(() => new GossipCore({config: bad, name: 'a', address: 'a', port: 1, rng: new SeededRng(1), nowMs: 0}), (e: unknown) => e instanceof GossipConfigError && e.code === 'GOSSIP_CONFIG_INVALID')
  })

  it('push-pull runs less often beyond 32 members', () => {
    assert.equal(pushPullScaleMs(30_000, 32), 30_000)
    assert.equal(pushPullScaleMs(30_000, 100), 90_000)
  })

  it('a Lamport clock orders after what it witnessed', () => {
    const c = new LamportClock()
    assert.equal(c.increment(), 1)
    c.witness(10)
    assert.equal(c.increment(), 12)
    c.witness(3)
    assert.equal(c.time, 12)
  })
})
