import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MemoryRaftStorage} from '../../../src/lib/raft/storage.js'
import {defaultRaftConfig, validateRaftConfig} from '../../../src/lib/raft/config.js'
import {quorumValue, voteOutcome} from '../../../src/lib/raft/quorum.js'
import {RaftCore, RaftConfigError} from '../../../src/lib/raft/core.js'
import {SeededRng} from '../../../src/lib/rng.js'
import {E, TestCluster, cmd} from './harness.js'

describe('raft core: election', () => {
  it('a campaigning node wins with PreVote, becomes leader and commits a no-op everywhere', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.deepEqual(c.leaders(), ['a'])
    assert.equal(c.core('a').status().term, 1)
    c.tick('a', 100) // followers learn the commit index with the next heartbeat
    c.stabilize()
    for (const id of ['a', 'b', 'c']) {
      assert.equal(c.core(id).status().commit, 1)
      assert.equal(c.node(id).applied[0].type, 'noop')
    }
  })

  it('a follower times out within [E, 2E) and elects itself', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.tick('a', E - 1)
    c.stabilize()
    assert.deepEqual(c.leaders(), [])
    c.tick('a', E + 1)
    c.stabilize()
    assert.deepEqual(c.leaders(), ['a'])
  })

  it('follower with stale log rejects vote', () => {
    // b and c hold an entry of term 1 that a lacks.
    const storages: Record<string, MemoryRaftStorage> = {}
    for (const id of ['a', 'b', 'c']) {
      const s = new MemoryRaftStorage({voters: ['a', 'b', 'c'], learners: []})
      s.setHardState({term: 1, vote: null, commit: 0})
      if (id !== 'a') s.append([{index: 1, term: 1, type: 'noop', data: new Uint8Array(0)}])
      storages[id] = s
    }
    const c = new TestCluster(['a', 'b', 'c'], {storages, config: {preVote: false}})
    c.tickAll(E) // past the restart grace (stickiness after boot)
    c.core('a').campaign()
    c.stabilize()
    assert.equal(c.core('a').status().role, 'follower')
    assert.equal(c.core('b').status().role === 'leader' || c.core('c').status().role === 'leader', false)
  })

  it('prevote does not disrupt a stable leader', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('c')
    // c hears nothing for a long time and keeps pre-campaigning; a and b keep heartbeating.
    for (let t = 0; t < 10; t++) {
      c.tick('a', E / 2)
      c.tick('b', E / 2)
      c.tick('c', E)
      c.stabilize()
    }
    assert.equal(c.core('c').status().term, 1, 'PreVote never bumped the isolated node\'s term')
    c.heal()
    c.tick('c', 2 * E)
    c.stabilize()
    assert.deepEqual(c.leaders(), ['a'])
    assert.equal(c.core('a').status().term, 1)
  })

  it('a follower that heard from the leader recently ignores vote requests (stickiness)', () => {
    const c = new TestCluster(['a', 'b', 'c'], {config: {preVote: false}})
    c.elect('a')
    c.cut.add('a>c') // c stops hearing the leader, b still does
    c.tick('c', 2 * E)
    c.stabilize()
    assert.equal(c.core('c').status().role, 'candidate')
    assert.equal(c.core('b').status().term, 1, 'b ignored the higher-term vote request')
    assert.deepEqual(c.leaders(), ['a'])
  })

  it('check-quorum: a leader cut off from a quorum steps down after an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    c.isolate('a')
    c.tick('a', E)
    c.tick('a', E)
    assert.equal(c.core('a').status().role, 'follower')
    assert.match(c.core('a').stepDownReason, /no answer from a quorum .*silent b, c$/)
  })

  it('a leader that hears a higher term, or a transfer vote, says so in its step-down reason', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.equal(c.core('a').stepDownReason, '', 'no reason before it ever stepped down')
    c.isolate('a')
    for (const id of ['b', 'c']) c.tick(id, E) // their lease on a runs out (without an election timeout of their own yet)
    c.elect('b')
    assert.deepEqual(c.leaders().sort(), ['a', 'b'])
    c.heal()
    c.tick('b', 100)
    c.stabilize()
    assert.equal(c.core('a').status().role, 'follower')
    assert.match(c.core('a').stepDownReason, /from b at the higher term/)
    assert.ok(c.core('b').transferLeadership('c').ok)
    c.stabilize()
    assert.match(c.core('b').stepDownReason, /^leadership transfer: vote request from c/)
  })

  it('a proposal on a follower is refused with the known leader', () => {
    const c = new TestCluster(['a', 'b', 'c'])
    c.elect('a')
    assert.deepEqual(c.core('b').propose([cmd('x')]), {ok: false, code: 'NOT_LEADER', leader: 'a'})
  })
})

describe('raft config and quorum', () => {
  it('validation names each bad field', () => {
    const problems = validateRaftConfig({...defaultRaftConfig('a'), electionTimeoutMs: 100, heartbeatIntervalMs: 80, leaseDriftRatio: 0.7})
    assert.ok(problems.some((p) => p.startsWith('electionTimeoutMs')))
    assert.ok(problems.some((p) => p.startsWith('leaseDriftRatio')))
    assert.throws(() => new RaftCore({config: {...defaultRaftConfig('a'), maxInflightMsgs: 0}, storage: new MemoryRaftStorage(), rng: new SeededRng(1), nowMs: 0}),
      (e: unknown) => e instanceof RaftConfigError && e.code === 'RAFT_CONFIG_INVALID' && e.problems[0].startsWith('maxInflightMsgs'))
  })

  for (const [voters, matches, expected] of [
    [['a'], [5], 5],
    [['a', 'b', 'c'], [5, 3, 1], 3],
    [['a', 'b', 'c', 'd'], [9, 7, 2, 1], 2],
    [['a', 'b', 'c', 'd', 'e'], [9, 8, 7, 1, 0], 7],
  ] as Array<[string[], number[], number]>) {
    it(`quorum value of ${matches.join(',')} is ${expected}`, () => {
      assert.equal(quorumValue(voters, (id) => matches[voters.indexOf(id)]), expected)
    })
  }

  it('vote outcome is lost as soon as a majority rejected', () => {
    assert.equal(voteOutcome(['a', 'b', 'c'], new Map([['a', true], ['b', false]])), 'pending')
    assert.equal(voteOutcome(['a', 'b', 'c'], new Map([['a', true], ['b', false], ['c', false]])), 'lost')
    assert.equal(voteOutcome(['a', 'b', 'c'], new Map([['a', true], ['c', true]])), 'won')
  })
})
