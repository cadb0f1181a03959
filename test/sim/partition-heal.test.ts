// The soak's "leader partitioned" fault in the pure Raft simulation, seeded: the leader is cut off
// from the other servers for 5–15 s while clients keep writing to it, then the cut heals. Measured
// on every server, in simulated time: how long it goes without a known leader. The reachable side
// must elect within about two election timeouts of the cut; after the heal the old leader must
// learn the new one within about two election timeouts, and the others must keep their leader
// throughout (PreVote and stickiness, core-election.ts: a server coming back from a partition does
// not disrupt the cluster). A control run without PreVote shows the last check can fail.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {defaultRaftConfig} from '../../src/lib/raft/config.js'
import {SeededRng} from '../../src/lib/rng.js'
import type {Message} from '../../src/lib/raft/types.js'
import {encodeKv} from './kv.js'
import {SimNetwork} from './network.js'
import {SimNode} from './node.js'

const STEP_MS = 5
const ELECTION_TIMEOUT_MS = 1000

interface HealFigures {
  /** Longest time a server of the reachable side went without a leader after the cut. */
  electedAfterCutMs: number
  /** Time from the heal until the old leader knew the current leader. */
  oldLeaderKnowsAfterHealMs: number
  /** Time the reachable side spent without a leader after the heal (0: never lost it). */
  othersLeaderlessAfterHealMs: number
}

function runPartitionHeal(seed: number, nodes: number, preVote: boolean): HealFigures {
  const rng = new SeededRng(seed)
  const net = new SimNetwork<Message>(Array.from({length: nodes}, (_, i) => `n${i + 1}`), {
    delayMinMs: 1, delayMeanMs: rng.pick([2, 5, 15]), lossRate: 0, duplicateRate: 0, reorderRate: 0,
    partitionRate: 0, unpartitionRate: 0, partitionStabilityMs: 0, unpartitionStabilityMs: 0, asymmetricRate: 0,
  }, rng.fork())
  let realMs = 0
  const conf = {voters: [...net.nodes], learners: []}
  const servers = net.nodes.map((id) => new SimNode(id, conf, {...defaultRaftConfig(id), electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatIntervalMs: 100, preVote},
    1 + (rng.next() * 2 - 1) * 0.02, rng.int(0, 1e6), rng.fork(), {
      send: (m) => net.send(m, realMs), persisted: () => {}, applied: () => {}, readState: () => {}, abortedRead: () => {},
    }, 1000))
  for (const server of servers) server.start(0)
  const step = () => {
    realMs += STEP_MS
    for (const m of net.deliverDue(realMs)) servers.find((s) => s.id === m.to)?.receive(m, realMs)
    for (const server of servers) server.core.tick(server.localNow(realMs))
    for (const server of servers) server.processReady(false)
  }
  const leader = () => servers.find((s) => s.core.role === 'leader')
  // A settled cluster: a leader every server knows (bounded).
  for (let i = 0; i < 20_000 && !(leader() && servers.every((s) => s.core.leader === leader()!.id)); i++) step()
  const old = leader()
  assert.ok(old, `seed ${seed}: no leader to cut off`)
  for (let i = 0; i < rng.int(0, 400); i++) step()
  const others = servers.filter((s) => s !== old)
  // The cut: clients keep writing to the old leader (they reach it; its peers do not).
  net.isolate(old.id, realMs)
  const cutMs = rng.int(5000, 15_000)
  const cutAt = realMs
  const leaderless = new Map(others.map((s) => [s.id, 0]))
  let electedAfterCutMs = 0
  while (realMs - cutAt < cutMs) {
    if (old.core.role === 'leader' && rng.chance(0.05)) old.core.propose([encodeKv({key: 'k', value: String(realMs)})])
    step()
    for (const s of others) {
      if (s.core.leader === null || s.core.leader === old.id) leaderless.set(s.id, realMs - cutAt)
    }
  }
  electedAfterCutMs = Math.max(...leaderless.values())
  assert.ok(others.every((s) => s.core.leader !== null && s.core.leader !== old.id), `seed ${seed}: the reachable side has no leader after ${cutMs} ms`)
  // The heal.
  net.heal(realMs)
  const healedAt = realMs
  let oldLeaderKnowsAfterHealMs: number | undefined
  let othersLeaderlessAfterHealMs = 0
  while (realMs - healedAt < 10 * ELECTION_TIMEOUT_MS) {
    step()
    const current = leader()
    if (oldLeaderKnowsAfterHealMs === undefined && current && old.core.leader === current.id) oldLeaderKnowsAfterHealMs = realMs - healedAt
    if (others.some((s) => s.core.leader === null)) othersLeaderlessAfterHealMs += STEP_MS
  }
  return {electedAfterCutMs, oldLeaderKnowsAfterHealMs: oldLeaderKnowsAfterHealMs ?? Infinity, othersLeaderlessAfterHealMs}
}

const SEEDS = Array.from({length: 24}, (_, i) => 14_000 + i)

describe('raft simulation: the leader partitioned, then healed', () => {
  it('every reachable server knows a leader within about two election timeouts, and a healed old leader does not disrupt', () => {
    const figures = SEEDS.map((seed) => ({seed, ...runPartitionHeal(seed, seed % 2 === 0 ? 3 : 5, true)}))
    const worst = (key: keyof HealFigures) => Math.max(...figures.map((f) => f[key]))
    console.log(`${SEEDS.length} seeds: reachable side elected ≤ ${worst('electedAfterCutMs')} ms after the cut; old leader knew the new one ≤ ${worst('oldLeaderKnowsAfterHealMs')} ms after the heal; others leaderless after the heal ≤ ${worst('othersLeaderlessAfterHealMs')} ms (election timeout ${ELECTION_TIMEOUT_MS} ms)`)
    for (const f of figures) {
      // Followers time out after 1–2 election timeouts; a pre-vote and a vote round take a few message delays.
      assert.ok(f.electedAfterCutMs <= 2.5 * ELECTION_TIMEOUT_MS, `seed ${f.seed}: reachable side leaderless ${f.electedAfterCutMs} ms after the cut`)
      assert.ok(f.oldLeaderKnowsAfterHealMs <= 2 * ELECTION_TIMEOUT_MS, `seed ${f.seed}: old leader knew the new one ${f.oldLeaderKnowsAfterHealMs} ms after the heal`)
      assert.equal(f.othersLeaderlessAfterHealMs, 0, `seed ${f.seed}: the returning server disrupted the cluster for ${f.othersLeaderlessAfterHealMs} ms`)
    }
  })

  it('control: without PreVote the returning server does disrupt (the check above can fail)', () => {
    const disrupted = SEEDS.map((seed) => runPartitionHeal(seed, 3, false)).filter((f) => f.othersLeaderlessAfterHealMs > 0).length
    console.log(`without PreVote: ${disrupted} of ${SEEDS.length} heals disrupted the cluster`)
    assert.ok(disrupted > 0)
  })
})
