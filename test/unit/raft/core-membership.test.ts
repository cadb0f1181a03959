import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MemoryRaftStorage} from '../../../src/lib/raft/storage.js'
import {H, TestCluster, cmd} from './harness.js'

describe('raft core: membership (one server at a time)', () => {
  it('add a learner, replicate to it, promote it once caught up', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.core('a').propose([cmd('x'), cmd('y')])
    c.stabilize()
    // A joining server starts from the cluster's bootstrap membership (the conf of snapshot 0),
    // or from a snapshot the leader sends it; the log then brings it up to date.
    c.add('d', new MemoryRaftStorage({voters: ['a', 'b', 'c'], learners: []}))
    const add = c.core('a').proposeConfChange({type: 'addLearner', nodeId: 'd'})
    assert.ok(add.ok)
    assert.deepEqual(c.core('a').status().conf, {voters: ['a', 'b', 'c'], learners: ['d']}, 'effective on append')
    c.tick('a', H)
    c.stabilize()
    const d = c.core('a').status().peers.find((p) => p.id === 'd')
    assert.equal(d?.learner, true)
    assert.equal(d?.match, c.core('a').status().lastIndex, 'the learner caught up')
    assert.equal(c.core('d').campaign(), undefined)
    assert.equal(c.core('d').status().role, 'follower', 'a learner never campaigns')
    assert.ok(c.core('a').proposeConfChange({type: 'promote', nodeId: 'd'}).ok)
    c.stabilize()
    assert.deepEqual(c.core('d').status().conf.voters, ['a', 'b', 'c', 'd'])
  })

  it('a server joining with no membership at all learns the whole configuration from the log', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.core('a').propose([cmd('x')])
    c.stabilize()
    c.add('d', new MemoryRaftStorage()) // knows nobody: not even the founding voters
    assert.ok(c.core('a').proposeConfChange({type: 'addLearner', nodeId: 'd'}).ok)
    c.tick('a', H)
    c.stabilize()
    assert.deepEqual(c.core('d').status().conf, {voters: ['a', 'b', 'c'], learners: ['d']})
    assert.ok(c.core('a').proposeConfChange({type: 'promote', nodeId: 'd'}).ok)
    c.stabilize()
    assert.deepEqual(c.core('d').status().conf, {voters: ['a', 'b', 'c', 'd'], learners: []})
  })

  it('only one change may be pending at a time', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('a') // nothing commits
    assert.ok(c.core('a').proposeConfChange({type: 'addLearner', nodeId: 'd'}).ok)
    assert.deepEqual(c.core('a').proposeConfChange({type: 'addLearner', nodeId: 'e'}), {ok: false, code: 'CONF_CHANGE_PENDING', leader: 'a'})
  })

  it('an invalid change is refused', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.equal(c.core('a').proposeConfChange({type: 'promote', nodeId: 'b'}).ok, false)
    assert.equal(c.core('a').proposeConfChange({type: 'remove', nodeId: 'zz'}).ok, false)
  })

  it('a removed leader steps down once the change commits, and the rest elect a leader', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.ok(c.core('a').proposeConfChange({type: 'remove', nodeId: 'a'}).ok)
    c.stabilize()
    assert.equal(c.core('a').status().role, 'follower')
    c.tick('b', 2000)
    c.tick('c', 1000)
    c.stabilize()
    const leaders = c.leaders()
    assert.equal(leaders.length, 1)
    assert.notEqual(leaders[0], 'a')
    assert.deepEqual(c.core(leaders[0]).status().conf.voters, ['b', 'c'])
  })
})
