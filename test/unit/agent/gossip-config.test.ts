// The gossip part of the agent config: join/retry keys and flags, gossip_lan / gossip_wan blocks
// (Consul's key names) mapped onto the pools' gossip configs, and the member snapshot format.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildConfig, ConfigError, mergeRaw} from '../../../src/lib/agent/config.js'
import {rawConfigFromFlags} from '../../../src/lib/agent/flags-config.js'
import {gossipConfigFor} from '../../../src/lib/agent/gossip-timing.js'
import {coordGossipConfig, wanGossipConfig} from '../../../src/lib/gossip/config.js'
import {parseMemberSnapshot, snapshotAddresses} from '../../../src/lib/agent/member-snapshot.js'
import {wanMemberName, wanSeeds} from '../../../src/lib/agent/gossip-wan.js'

function problems(raw: Record<string, unknown>): string[] {
  try {
    buildConfig(raw, {dev: true})
  } catch (error) {
    assert.ok(error instanceof ConfigError)
    return error.problems
  }
  return []
}

describe('agent config: joining', () => {
  it('defaults: retry every 1s forever, no rejoin after leave, no seeds', () => {
    const c = buildConfig({}, {dev: true})
    assert.equal(c.retryIntervalMs, 1000)
    assert.equal(c.retryMax, 0)
    assert.equal(c.rejoinAfterLeave, false)
    assert.deepEqual([c.startJoin, c.retryJoin, c.startJoinWan, c.retryJoinWan], [[], [], [], []])
  })

  it('flags map to Consul keys: -join, -retry-join, -retry-interval, -retry-max, -rejoin and the -wan twins', () => {
    const flags = {join: ['10.0.0.1'], 'retry-join': ['10.0.0.2'], 'retry-interval': '5s', 'retry-max': '3', rejoin: true,
      'join-wan': ['10.1.0.1'], 'retry-join-wan': ['10.1.0.2:9302'], 'retry-interval-wan': '2s', 'retry-max-wan': '7'}
    const c = buildConfig(rawConfigFromFlags(flags, new Set(Object.keys(flags))), {dev: true})
    assert.deepEqual(c.startJoin, ['10.0.0.1:8300'])
    assert.deepEqual(c.retryJoin, ['10.0.0.2:8300', '10.0.0.1:8300'])
    assert.equal(c.retryIntervalMs, 5000)
    assert.equal(c.retryMax, 3)
    assert.equal(c.rejoinAfterLeave, true)
    assert.deepEqual(c.startJoinWan, ['10.1.0.1'])
    assert.deepEqual(c.retryJoinWan, ['10.1.0.2:9302'])
    assert.equal(c.retryIntervalWanMs, 2000)
    assert.equal(c.retryMaxWan, 7)
  })

  it('rejects a bad retry_interval or retry_max, naming the key', () => {
    const p = problems({retry_interval: '0s', retry_max: -1, retry_interval_wan: 'soon'}).join('\n')
    assert.match(p, /retry_interval: must be greater than zero/)
    assert.match(p, /retry_max: expected a non-negative integer/)
    assert.match(p, /retry_interval_wan: expected a duration/)
  })
})

describe('agent config: gossip_lan / gossip_wan', () => {
  it('overrides only the keys given, on coord\'s LAN profile and memberlist\'s WAN profile', () => {
    const c = buildConfig({
      gossip_lan: {probe_interval: '300ms', probe_timeout: '100ms', suspicion_mult: 5, retransmit_mult: 3, gossip_interval: '60ms', gossip_nodes: 4},
      gossip_wan: {probe_interval: '4s'},
    }, {dev: true})
    const lan = gossipConfigFor('lan', c.gossipLan)
    assert.deepEqual(
      [lan.probeIntervalMs, lan.probeTimeoutMs, lan.suspicionMult, lan.retransmitMult, lan.gossipIntervalMs, lan.gossipNodes],
      [300, 100, 5, 3, 60, 4],
    )
    assert.equal(lan.suspicionFloorMs, coordGossipConfig().suspicionFloorMs)
    assert.ok(lan.localStallThresholdMs >= 4 * 60)
    const wan = gossipConfigFor('wan', c.gossipWan)
    assert.equal(wan.probeIntervalMs, 4000)
    assert.equal(wan.probeTimeoutMs, wanGossipConfig().probeTimeoutMs)
    assert.deepEqual(gossipConfigFor('lan', buildConfig({}, {dev: true}).gossipLan), coordGossipConfig())
  })

  it('reports bad values and inconsistent timings with Consul\'s key names', () => {
    const p = problems({gossip_lan: {probe_interval: 'fast', gossip_nodes: 0, typo: 1}, gossip_wan: {probe_interval: '1s', probe_timeout: '2s'}}).join('\n')
    assert.match(p, /gossip_lan\.probe_interval: expected a positive duration/)
    assert.match(p, /gossip_lan\.gossip_nodes: expected a positive integer/)
    assert.match(p, /invalid config key gossip_lan\.typo/)
    assert.match(p, /gossip_wan: gossip_wan\.probe_timeout \(2000\) must be less than gossip_wan\.probe_interval \(1000\)/)
  })

  it('a large gossip_interval keeps the stall detector valid', () => {
    assert.deepEqual(problems({gossip_lan: {gossip_interval: '200ms'}}), [])
    const merged = buildConfig(mergeRaw({gossip_lan: {gossip_interval: '200ms'}}, {gossip_lan: {gossip_nodes: 5}}), {dev: true})
    assert.deepEqual(merged.gossipLan, {gossipIntervalMs: 200, gossipNodes: 5})
  })
})

describe('member snapshot format', () => {
  it('parses version 1 and lists addresses to rejoin (IPv6 bracketed)', () => {
    const s = parseMemberSnapshot('{"version":1,"left":false,"members":[{"name":"a","addr":"10.0.0.1","port":8301},{"name":"b","addr":"::1","port":8301}]}')
    assert.equal(s.left, false)
    assert.deepEqual(snapshotAddresses(s), ['10.0.0.1:8301', '[::1]:8301'])
  })

  it('rejects corrupt files with a one-line reason', () => {
    for (const [text, why] of [
      ['{"version":1,"left":false,"mem', /not JSON/],
      ['[]', /not a JSON object/],
      ['{"version":2,"left":false,"members":[]}', /unknown version/],
      ['{"version":1,"left":"no","members":[]}', /"left" is not a boolean/],
      ['{"version":1,"left":false,"members":[{"name":"a","addr":"x","port":0}]}', /members\[0\]/],
    ] as const) assert.throws(() => parseMemberSnapshot(text), why)
  })
})

describe('WAN pool naming and seeds', () => {
  it('names a server <node>.<dc> and defaults seeds to the serf WAN port', () => {
    assert.equal(wanMemberName({nodeName: 's1', datacenter: 'dc2'}), 's1.dc2')
    assert.deepEqual(wanSeeds(['10.0.0.1', '10.0.0.2:9000', '::1', '10.0.0.1'], 8302), ['10.0.0.1:8302', '10.0.0.2:9000', '[::1]:8302'])
    assert.deepEqual(wanSeeds(['h'], 0), ['h:8302'])
  })
})
