import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MemoryRaftStorage} from '../../../src/lib/raft/storage.js'
import type {AppendRequest} from '../../../src/lib/raft/types.js'
import {H, TestCluster, cmd, text} from './harness.js'

describe('raft core: replication', () => {
  it('batches many proposals into one AppendEntries per follower and commits them', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    const r = c.core('a').propose([cmd('x'), cmd('y'), cmd('z')])
    assert.ok(r.ok)
    const appends = c.take().filter((m): m is AppendRequest => m.type === 'append')
    assert.deepEqual(appends.map((m) => [m.to, m.entries.length]), [['b', 3], ['c', 3]])
    c.deliver(appends)
    c.stabilize()
    assert.equal(c.core('a').status().commit, r.lastIndex)
    assert.deepEqual(c.node('a').applied.filter((e) => e.type === 'command').map(text), ['x', 'y', 'z'])
  })

  it('pipelines up to maxInflightMsgs appends before any ack', () => {
    const c = new TestCluster(['a', 'b', 'c'], {config: {maxSizePerMsgBytes: 1, maxInflightMsgs: 3}})
    c.elect('a')
    for (const x of ['1', '2', '3', '4', '5']) c.core('a').propose([cmd(x)])
    const toB = c.take().filter((m) => m.type === 'append' && m.to === 'b')
    assert.equal(toB.length, 3, 'three in flight, the rest wait for acks')
  })

  it('leader commits only current-term entries (§5.4.2)', () => {
    // a and b hold an uncommitted entry of term 1; c does not.
    const storages: Record<string, MemoryRaftStorage> = {}
    for (const id of ['a', 'b', 'c']) {
      const s = new MemoryRaftStorage({voters: ['a', 'b', 'c'], learners: []})
      s.setHardState({term: 1, vote: null, commit: 0})
      if (id !== 'c') s.append([{index: 1, term: 1, type: 'command', data: cmd('old')}])
      storages[id] = s
    }
    const c = new TestCluster(['a', 'b', 'c'], {storages})
    c.tickAll(1000)
    c.core('a').campaign()
    // Deliver the election but hold a's appends: then let b acknowledge only index 1.
    c.stabilize((m) => m.type !== 'append')
    assert.deepEqual(c.leaders(), ['a'])
    c.queue = []
    c.deliver([{type: 'append', from: 'a', to: 'b', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [{index: 1, term: 1, type: 'command', data: cmd('old')}], commit: 0, seq: 1, sentAtMs: 0}])
    c.stabilize((m) => m.type !== 'append')
    assert.equal(c.core('a').status().commit, 0, 'a majority holds index 1, but it is from term 1')
    c.tick('a', H)
    c.stabilize()
    assert.equal(c.core('a').status().commit, 2, 'committing the term-2 no-op commits index 1 with it')
  })

  it('a follower with a long divergent tail is repaired by fast backtracking', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('a')
    for (let i = 0; i < 50; i++) c.core('a').propose([cmd(`lost-${i}`)]) // never replicated
    c.stabilize()
    c.tick('c', 1000) // c has not heard from a for an election timeout: no longer sticky
    c.tick('b', 2000) // b times out first and wins with c's vote
    c.stabilize()
    c.tick('a', 2000) // a, cut off, steps down (check-quorum)
    const leader = c.leaders().find((id) => id !== 'a')
    assert.ok(leader, 'b or c leads without a')
    for (let i = 0; i < 5; i++) c.core(leader).propose([cmd(`kept-${i}`)])
    c.stabilize()
    c.heal()
    let rejects = 0
    c.tick(leader, 100)
    c.stabilize((m) => {
      if (m.type === 'appendResponse' && m.reject) rejects++
      return true
    })
    assert.ok(rejects <= 3, `converged after ${rejects} rejects, not one per divergent entry`)
    assert.equal(c.core('a').status().lastIndex, c.core(leader).status().lastIndex)
    assert.equal(c.core('a').status().commit, c.core(leader).status().commit)
  })

  it('a follower behind the compaction point receives InstallSnapshot and its Ready names it', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('c')
    for (let i = 0; i < 10; i++) c.core('a').propose([cmd(`v${i}`)])
    c.stabilize()
    const a = c.node('a')
    const meta = a.core.snapshotMeta(a.core.status().applied)
    assert.ok(meta)
    a.storage.compact(meta)
    a.core.compact(meta.index)
    c.heal()
    c.tick('a', H)
    const snapshotMsgs: string[] = []
    c.stabilize((m) => {
      if (m.type === 'installSnapshot') snapshotMsgs.push(`${m.to}@${m.snapshot.index}`)
      return true
    })
    assert.deepEqual(snapshotMsgs, [`c@${meta.index}`])
    assert.equal(c.node('c').storage.snapshot().index, meta.index, 'the Ready told c to restore the snapshot')
    c.core('a').propose([cmd('after')])
    c.stabilize()
    assert.equal(c.core('c').status().lastIndex, c.core('a').status().lastIndex)
  })
})
