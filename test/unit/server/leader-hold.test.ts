// LeaderHold (server/leader-hold.ts) on real timers with short hold times: a held request wakes
// on the leader event (not at its deadline), tries a failed leader again only after a backoff
// or on a new one, answers No cluster leader at the deadline, and one failover is one summary.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {LeaderHold} from '../../../src/lib/server/leader-hold.js'
import {CLIENT_AGENT_HOLD_MS, clientAgentWaitCapMs, holdForClientAgent} from '../../../src/lib/server/client-agent-hold.js'
import type {HoldEpisode} from '../../../src/lib/forward/hold-episodes.js'
import {NoLeaderError} from '../../../src/lib/consensus.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function newHold(holdMs: number): {hold: LeaderHold; episodes: HoldEpisode[]} {
  const episodes: HoldEpisode[] = []
  return {hold: new LeaderHold({holdMs, onEpisode: (episode) => episodes.push(episode), waitCapMs: clientAgentWaitCapMs}), episodes}
}

describe('LeaderHold', () => {
  it('runs at once with a known leader and logs nothing', async () => {
    const {hold, episodes} = newHold(1000)
    hold.note({id: 'a', term: 1})
    assert.equal(await hold.run(async (leader) => leader.id, () => true), 'a')
    assert.deepEqual(episodes, [])
  })

  it('holds requests while no leader is known and releases them when one is noted', async () => {
    const {hold, episodes} = newHold(5000)
    const started = performance.now()
    const runs = [1, 2, 3].map(() => hold.run(async (leader) => leader.id, () => true))
    await sleep(150)
    hold.note({id: 'b', term: 2})
    assert.deepEqual(await Promise.all(runs), ['b', 'b', 'b'])
    const waited = performance.now() - started
    assert.ok(waited >= 140 && waited < 2000, `released by the event after ${waited.toFixed(0)} ms, not at the 5 s deadline`)
    assert.equal(episodes.length, 1, 'one summary for the failover')
    assert.equal(episodes[0].held, 3)
    assert.equal(episodes[0].failed, 0)
    assert.ok(episodes[0].longestMs >= 140)
  })

  it('after a retryable failure waits for another leader (or a new term) and tries it', async () => {
    const {hold, episodes} = newHold(5000)
    hold.note({id: 'a', term: 1})
    const tried: string[] = []
    const result = hold.run(async (leader) => {
      tried.push(`${leader.id}@${leader.term}`)
      if (leader.id === 'a') throw new Error('connection to a closed')
      return 'done'
    }, () => true)
    await sleep(20)
    hold.note({id: 'c', term: 2})
    assert.equal(await result, 'done')
    assert.equal(tried[0], 'a@1')
    assert.equal(tried.at(-1), 'c@2')
    assert.equal(episodes.length, 1)
  })

  it("waits at most CLIENT_AGENT_HOLD_MS for a leader on a client agent's behalf, the full hold otherwise", async () => {
    const {hold} = newHold(3 * CLIENT_AGENT_HOLD_MS)
    const timed = async (run: () => Promise<unknown>): Promise<number> => {
      const started = performance.now()
      await assert.rejects(run(), NoLeaderError)
      return performance.now() - started
    }
    const forClient = await timed(() => holdForClientAgent(() => hold.run(async (leader) => leader.id, () => true)))
    const own = await timed(() => hold.run(async (leader) => leader.id, () => true))
    console.log(`No cluster leader after ${Math.round(forClient)} ms for a client agent, ${Math.round(own)} ms otherwise`)
    assert.ok(forClient >= CLIENT_AGENT_HOLD_MS - 50 && forClient < 2 * CLIENT_AGENT_HOLD_MS, `client agent's request: ${forClient} ms`)
    assert.ok(own >= 3 * CLIENT_AGENT_HOLD_MS - 50, `own request: ${own} ms`)
    // A leader noted while it waits still releases it at once.
    const released = holdForClientAgent(() => hold.run(async (leader) => leader.id, () => true))
    await sleep(100)
    hold.note({id: 'd', term: 4})
    assert.equal(await released, 'd')
  })

  it('throws a non-retryable error at once, without holding', async () => {
    const {hold, episodes} = newHold(5000)
    hold.note({id: 'a', term: 1})
    await assert.rejects(hold.run(async () => { throw new Error('outcome unknown') }, () => false), /outcome unknown/)
    assert.deepEqual(episodes, [])
  })

  it('answers No cluster leader once the hold time has passed, not before and not much later', async () => {
    const {hold, episodes} = newHold(400)
    const started = performance.now()
    await assert.rejects(hold.run(async (leader) => leader.id, () => true), (error) => error instanceof NoLeaderError && error.message === 'No cluster leader')
    const waited = performance.now() - started
    assert.ok(waited >= 390 && waited < 1500, `gave up after ${waited.toFixed(0)} ms`)
    assert.equal(episodes.length, 1)
    assert.equal(episodes[0].failed, 1)
  })

  it('keeps retrying a failing leader that stays the known one, with backoff, until the deadline', async () => {
    const {hold} = newHold(600)
    hold.note({id: 'a', term: 1})
    let attempts = 0
    const started = performance.now()
    await assert.rejects(hold.run(async () => { attempts++; throw new Error('refused') }, () => true), NoLeaderError)
    const waited = performance.now() - started
    assert.ok(attempts >= 3 && attempts <= 12, `${attempts} attempts in ${waited.toFixed(0)} ms: backoff, not a busy loop`)
    assert.ok(waited >= 590 && waited < 2000)
  })

  it('changedFrom resolves when another leader is noted; close ends held requests at once', async () => {
    const {hold} = newHold(5000)
    hold.note({id: 'a', term: 1})
    const watch = hold.changedFrom({id: 'a', term: 1})
    hold.note({id: 'a', term: 1})
    hold.note({id: 'a', term: 2})
    assert.equal(await watch.changed, true)
    const {hold: closing} = newHold(5000)
    const held = closing.run(async () => 'never', () => true)
    const started = performance.now()
    closing.close()
    await assert.rejects(held, NoLeaderError)
    assert.ok(performance.now() - started < 500)
  })
})
