import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {E, H, TestCluster, cmd} from './harness.js'

const DRIFT = 0.1 // defaultRaftConfig's leaseDriftRatio
const LEASE = E * (1 - DRIFT)

describe('raft core: reads, lease and transfer', () => {
  it('lease holds right after a quorum acknowledged a heartbeat', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    const lease = c.core('a').leaseRead(c.node('a').nowMs)
    assert.deepEqual(lease, {ok: true, index: 1})
  })

  it('lease expires after a pause (the clock jumped, no tick needed)', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    // SIGSTOP for 5 s, then the first thing the process does is answer a read.
    assert.equal(c.core('a').leaseRead(c.node('a').nowMs + 5 * E).ok, false)
  })

  it('lease is dated from when the acknowledged heartbeat was sent, not when acks arrived', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.tick('a', LEASE - 10) // past the election's lease... except a heartbeat is sent now
    const sentAt = c.node('a').nowMs
    c.deliver(c.take())
    for (const ack of c.take()) c.core('a').step(ack, sentAt + 500) // acks arrive 500 ms later
    assert.equal(c.core('a').leaseRead(sentAt + LEASE - 1).ok, true)
    assert.deepEqual(c.core('a').leaseRead(sentAt + LEASE + 1), {ok: false, code: 'LEASE_NOT_HELD', leader: 'a'})
  })

  it('a follower never serves lease reads', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.deepEqual(c.core('b').leaseRead(0), {ok: false, code: 'NOT_LEADER', leader: 'a'})
  })

  it('readIndex confirms leadership with a heartbeat round before answering', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    const r = c.core('a').propose([cmd('x')])
    c.stabilize()
    assert.ok(r.ok)
    assert.ok(c.core('a').readIndex('r1').ok)
    c.flush()
    assert.deepEqual(c.node('a').readStates, [], 'no answer before the quorum confirmed')
    c.stabilize()
    assert.deepEqual(c.node('a').readStates, [{requestId: 'r1', index: r.lastIndex}])
  })

  it('readIndex waits for a current-term commit', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.core('a').campaign()
    c.stabilize((m) => m.type !== 'appendResponse') // a leads, its no-op is not yet committed
    assert.deepEqual(c.leaders(), ['a'])
    assert.equal(c.core('a').status().commit, 0)
    c.core('a').readIndex('r1')
    c.stabilize((m) => m.type !== 'appendResponse')
    assert.deepEqual(c.node('a').readStates, [])
    c.tick('a', H)
    c.stabilize()
    assert.deepEqual(c.node('a').readStates, [{requestId: 'r1', index: 1}])
  })

  it('pending reads are aborted when leadership is lost', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('a')
    c.core('a').readIndex('r1')
    c.tick('a', E)
    c.tick('a', E)
    c.flush()
    assert.deepEqual(c.node('a').aborted, ['r1'])
  })

  it('transfer to an up-to-date follower: it wins the next term, proposals are refused meanwhile', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.ok(c.core('a').transferLeadership('b').ok)
    assert.deepEqual(c.core('a').propose([cmd('x')]), {ok: false, code: 'TRANSFER_IN_PROGRESS', leader: 'a'})
    assert.equal(c.core('a').leaseRead(c.node('a').nowMs).ok, false, 'TimeoutNow voids the lease')
    c.stabilize()
    assert.deepEqual(c.leaders(), ['b'])
    assert.equal(c.core('b').status().term, 2)
  })

  it('transfer to a lagging follower first catches it up', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('b')
    c.core('a').propose([cmd('x')])
    c.stabilize()
    c.heal()
    c.core('a').transferLeadership('b')
    c.stabilize()
    assert.deepEqual(c.leaders(), ['b'])
    assert.equal(c.core('b').status().lastIndex >= 2, true)
  })

  it('transfer is abandoned after an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('b')
    c.core('a').transferLeadership('b')
    c.stabilize()
    c.tick('a', E)
    assert.equal(c.core('a').propose([cmd('x')]).ok, true)
  })
})
