import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {clusterHealth} from '../../../src/lib/server/autopilot.js'
import type {RaftPeer} from '../../../src/lib/consensus.js'

const server = (id: string, fields: Partial<RaftPeer> = {}): RaftPeer => ({
  id, node: id, address: `10.0.0.${id.length}:8300`, leader: false, voter: true, lastIndex: 100, lastTerm: 2, lastContactMs: 10, ...fields,
})

describe('autopilot cluster health', () => {
  it('a lone leader is healthy with no failure tolerance', () => {
    const health = clusterHealth({servers: [server('a', {leader: true, lastContactMs: 0})], index: 1})
    assert.equal(health.healthy, true)
    assert.equal(health.failureTolerance, 0)
  })

  it('three healthy voters tolerate one failure', () => {
    const health = clusterHealth({servers: [server('a', {leader: true}), server('b'), server('c')], index: 1})
    assert.deepEqual([health.healthy, health.failureTolerance], [true, 1])
  })

  it('a follower that is silent, behind, or on another term is unhealthy and the cluster with it', () => {
    for (const bad of [{lastContactMs: 201}, {lastIndex: 100 - 251}, {lastTerm: 1}]) {
      const health = clusterHealth({servers: [server('a', {leader: true}), server('b', bad), server('c')], index: 1})
      assert.equal(health.healthy, false, JSON.stringify(bad))
      assert.equal(health.failureTolerance, 0)
      assert.deepEqual(health.servers.map((s) => s.healthy), [true, false, true])
    }
  })

  it('no leader: nothing is healthy', () => {
    const health = clusterHealth({servers: [server('a'), server('b')], index: 0})
    assert.equal(health.healthy, false)
    assert.ok(health.servers.every((s) => !s.healthy))
  })

  it('non-voters do not count towards tolerance or cluster health', () => {
    const health = clusterHealth({servers: [server('a', {leader: true}), server('b', {voter: false, lastContactMs: 9999})], index: 1})
    assert.deepEqual([health.healthy, health.failureTolerance], [true, 0])
  })
})
