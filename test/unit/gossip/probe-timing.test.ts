// consul.memberlist.probeNode times every probe round, as memberlist's probeNode does (a deferred
// MeasureSince around the whole round): acked directly or through a relay, or not at all. A round
// whose target has died counts too, so the timing does not go quiet just when members fail.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Pool, testConfig} from './harness.js'

describe('gossip core: probe timings', () => {
  it('every acked probe is timed, with or without an ack payload', () => {
    const p = new Pool(['n0', 'n1', 'n2'])
    p.joinAll()
    p.probes.length = 0
    p.advance(5000)
    const mine = p.probes.filter((r) => r.observer === 'n0')
    // One round per probe interval, none failed; no member asked for ack payloads here.
    const rounds = 5000 / p.config.probeIntervalMs
    assert.ok(mine.length >= Math.floor(rounds) - 1 && mine.length <= Math.ceil(rounds) + 1, `${mine.length} rounds timed in 5 s, ${rounds} periods`)
    assert.ok(mine.every((r) => r.outcome === 'acked' && r.ms >= 0 && r.ms <= p.config.probeTimeoutMs), JSON.stringify(mine))
    assert.deepEqual(new Set(mine.map((r) => r.node)), new Set(['n1', 'n2']))
    assert.equal(p.pingResults.length, 0, 'no payloads asked for, so no ping results: the timings do not depend on them')
  })

  it('rounds against killed members are timed to the end of their period, and no timing gap outlasts a period', () => {
    const config = testConfig()
    const p = new Pool(['n0', 'n1', 'n2', 'n3', 'n4'], config)
    p.joinAll()
    p.probes.length = 0
    const killedAt = p.nowMs
    p.down.add('n3')
    p.down.add('n4')
    p.advance(40_000)
    const mine = p.probes.filter((r) => r.observer === 'n0')
    const failed = mine.filter((r) => r.outcome === 'failed')
    assert.ok(failed.length > 0, 'n0 probed a killed member at least once')
    assert.ok(failed.every((r) => ['n3', 'n4'].includes(r.node)), JSON.stringify(failed))
    // A failed round lasts its whole (health-scaled) probe period, as memberlist waits out its deadline.
    assert.ok(failed.every((r) => r.ms >= config.probeIntervalMs), JSON.stringify(failed))
    // The killed members end up failed and are no longer probed; the live ones still are, and timed.
    assert.equal(p.stateOf('n0', 'n3'), 'failed')
    assert.equal(p.stateOf('n0', 'n4'), 'failed')
    const lastQuarter = mine.filter((r) => r.atMs >= p.nowMs - 10_000)
    assert.ok(lastQuarter.length > 0 && lastQuarter.every((r) => r.outcome === 'acked' && ['n1', 'n2'].includes(r.node)), JSON.stringify(lastQuarter))
    // Never longer between two timings than the longest probe period (health-scaled) plus a tick:
    // a 10 s summary window always holds one.
    const longest = config.probeIntervalMs * config.awarenessMaxMultiplier + 10
    let previous = killedAt
    for (const r of mine) {
      assert.ok(r.atMs - previous <= longest, `no probe timed between ${previous} and ${r.atMs} ms`)
      previous = r.atMs
    }
    assert.ok(p.nowMs - previous <= longest)
    console.log(`n0: ${mine.length} rounds timed in 40 s, ${failed.length} failed (${failed.map((r) => r.ms).join(', ')} ms); longest gap ${Math.max(...mine.map((r, i) => r.atMs - (i ? mine[i - 1].atMs : killedAt)))} ms`)
  })

  it('a round acked through a relay is timed from its ping to the relayed ack', () => {
    const p = new Pool(['n0', 'n1', 'n2'])
    p.joinAll()
    // n0's direct datagrams to n1 are lost; n2 relays for it.
    p.drop = (from, to) => from === 'n0' && to === 'n1'
    p.probes.length = 0
    p.advance(6000)
    const toN1 = p.probes.filter((r) => r.observer === 'n0' && r.node === 'n1')
    assert.ok(toN1.length > 0, 'n0 probed n1')
    assert.ok(toN1.every((r) => r.outcome === 'acked' && r.ms >= p.config.probeTimeoutMs), JSON.stringify(toN1))
    assert.equal(p.stateOf('n0', 'n1'), 'alive')
  })
})
