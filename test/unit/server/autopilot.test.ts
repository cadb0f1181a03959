import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {AUTOPILOT_DEFAULTS, clusterHealth, deadServerRemovals, mayPromote, trackStability} from '../../../src/lib/server/autopilot.js'
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

describe('autopilot dead-server removal and promotion (raft-autopilot semantics)', () => {
  const five = (dead: string[]) => clusterHealth(
    {servers: ['a', 'b', 'c', 'd', 'e'].map((id) => server(id, {leader: id === 'a', lastContactMs: dead.includes(id) ? 5000 : 0})), index: 1},
    AUTOPILOT_DEFAULTS, (s) => dead.includes(s.id) ? 'failed' : 'alive')
  const settings = {cleanupDeadServers: true, minQuorum: 0, serverStabilizationTimeMs: 10_000}
  const statusOf = (dead: string[]) => (s: {id: string}) => dead.includes(s.id) ? 'failed' as const : 'alive' as const

  it('removes two failed voters of five once they have been unhealthy for the stabilization time', () => {
    const health = five(['d', 'e'])
    const stable = trackStability(health, new Map(), 0)
    assert.deepEqual(deadServerRemovals(health, statusOf(['d', 'e']), stable, settings, 9_999), [])
    assert.deepEqual(deadServerRemovals(health, statusOf(['d', 'e']), stable, settings, 10_000), ['d', 'e'])
  })

  it('never below min_quorum, never more than (voters - 1) / 2 at once, never when cleanup is off', () => {
    const health = five(['d', 'e'])
    const stable = trackStability(health, new Map(), 0)
    const status = statusOf(['d', 'e'])
    assert.deepEqual(deadServerRemovals(health, status, stable, {...settings, minQuorum: 5}, 20_000), [])
    assert.deepEqual(deadServerRemovals(health, status, stable, {...settings, minQuorum: 4}, 20_000), ['d'])
    assert.deepEqual(deadServerRemovals(health, status, stable, {...settings, cleanupDeadServers: false}, 20_000), [])
    const seven = clusterHealth(
      {servers: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => server(id, {leader: id === 'a', lastContactMs: 'efg'.includes(id) ? 5000 : 0})), index: 1},
      AUTOPILOT_DEFAULTS, (s) => 'efg'.includes(s.id) ? 'failed' : 'alive')
    assert.deepEqual(deadServerRemovals(seven, statusOf(['e', 'f', 'g']), trackStability(seven, new Map(), 0), settings, 20_000), ['e', 'f', 'g'])
  })

  it('no voter is removed unless the healthy voters are a quorum without it', () => {
    // Three failed of five: only two healthy, not a quorum of the four left after any one removal.
    const health = five(['c', 'd', 'e'])
    assert.deepEqual(deadServerRemovals(health, statusOf(['c', 'd', 'e']), trackStability(health, new Map(), 0), settings, 20_000), [])
    // Three servers: gossip sees b failed (it is partitioned or restarting), c is cut off from the
    // leader: removing b would leave {a, c} with only a to commit it.
    const three = clusterHealth(
      {servers: [server('a', {leader: true, lastContactMs: 0}), server('b', {lastContactMs: 10}), server('c', {lastContactMs: 5000})], index: 1},
      AUTOPILOT_DEFAULTS, (s) => s.id === 'b' ? 'failed' : 'alive')
    const stable = trackStability(three, new Map(), 0)
    assert.deepEqual(deadServerRemovals(three, (s) => s.id === 'b' ? 'failed' : 'alive', stable, settings, 20_000), [])
    // With c back in contact, b (still failed in gossip) may go: a and c commit it.
    const healed = clusterHealth(
      {servers: [server('a', {leader: true, lastContactMs: 0}), server('b', {lastContactMs: 5000}), server('c', {lastContactMs: 10})], index: 1},
      AUTOPILOT_DEFAULTS, (s) => s.id === 'b' ? 'failed' : 'alive')
    assert.deepEqual(deadServerRemovals(healed, (s) => s.id === 'b' ? 'failed' : 'alive', trackStability(healed, new Map(), 0), settings, 20_000), ['b'])
  })

  it('an unhealthy server that gossip still sees alive stays', () => {
    const health = five(['e'])
    const stable = trackStability(health, new Map(), 0)
    assert.deepEqual(deadServerRemovals(health, () => 'alive', stable, settings, 60_000), [])
  })

  it('promotes a non-voter only after it has been healthy for the stabilization time, without a break', () => {
    const config = {servers: [server('a', {leader: true, lastContactMs: 0}), server('n', {voter: false})], index: 1}
    let stable = trackStability(clusterHealth(config), new Map(), 0)
    assert.equal(mayPromote('n', stable, settings, 5_000), false)
    assert.equal(mayPromote('n', stable, settings, 10_000), true)
    // A break in health restarts the clock.
    stable = trackStability(clusterHealth({...config, servers: [config.servers[0], server('n', {voter: false, lastContactMs: 999})]}), stable, 11_000)
    stable = trackStability(clusterHealth(config), stable, 12_000)
    assert.equal(mayPromote('n', stable, settings, 21_000), false)
    assert.equal(mayPromote('n', stable, settings, 22_000), true)
  })
})
