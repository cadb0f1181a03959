import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {PORT, Pool, testConfig} from './harness.js'

const names = (n: number): string[] => Array.from({length: n}, (_, i) => `n${i}`)

describe('gossip core: membership', () => {
  it('push-pull merges state: joiners learn the whole pool and are learned by it', () => {
    const p = new Pool(names(5))
    p.joinAll()
    for (const a of p.cores.keys()) for (const b of p.cores.keys()) assert.equal(p.stateOf(a, b), 'alive', `${a} sees ${b}`)
    assert.ok(p.events.filter((e) => e.type === 'joined').length >= 4)
  })

  it('a crashed member is suspected, then declared failed by everyone', () => {
    const p = new Pool(names(5))
    p.joinAll()
    p.down.add('n4')
    p.advance(4000)
    for (const a of names(4)) assert.equal(p.stateOf(a, 'n4'), 'failed', a)
    assert.ok(p.events.some((e) => e.type === 'failed' && e.member.name === 'n4'))
  })

  it('refutation with higher incarnation clears a suspicion everywhere', () => {
    const p = new Pool(names(4))
    p.joinAll()
    const before = p.core('n1').status().incarnation
    p.core('n0').receive({address: 'n2', port: PORT}, {from: 'n2', messages: [{type: 'suspect', node: 'n1', incarnation: before, from: 'n2'}]}, p.nowMs)
    p.flush()
    assert.equal(p.stateOf('n0', 'n1'), 'suspect')
    p.advance(1000)
    assert.ok(p.core('n1').status().incarnation > before, 'n1 refuted with a higher incarnation')
    for (const a of ['n0', 'n2', 'n3']) assert.equal(p.stateOf(a, 'n1'), 'alive', a)
    assert.ok(!p.events.some((e) => e.type === 'failed'))
  })

  it('a stale suspicion (lower incarnation) is ignored', () => {
    const p = new Pool(names(3))
    p.joinAll()
    p.core('n1').updateTags({v: '2'})
    p.flush()
    p.advance(500)
    p.core('n0').receive({address: 'n2', port: PORT}, {from: 'n2', messages: [{type: 'suspect', node: 'n1', incarnation: 0, from: 'n2'}]}, p.nowMs)
    assert.equal(p.stateOf('n0', 'n1'), 'alive')
  })

  it('a leaving node is marked left, not failed, and a later "dead" does not change that', () => {
    const p = new Pool(names(4))
    p.joinAll()
    p.core('n3').leave()
    assert.equal(p.core('n3').status().state, 'leaving')
    p.advance(1000)
    assert.equal(p.core('n3').status().state, 'left')
    p.down.add('n3')
    p.advance(5000)
    for (const a of names(3)) assert.equal(p.stateOf(a, 'n3'), 'left', a)
    p.core('n0').receive({address: 'n1', port: PORT}, {from: 'n1', messages: [{type: 'dead', node: 'n3', incarnation: 99, from: 'n1'}]}, p.nowMs)
    assert.equal(p.stateOf('n0', 'n3'), 'left')
    assert.ok(!p.events.some((e) => e.type === 'failed'))
    assert.equal(p.events.filter((e) => e.type === 'left' && e.member.name === 'n3' && e.observer !== 'n3').length, 3)
  })

  it('tag updates reach everyone as "updated" events', () => {
    const p = new Pool(names(4))
    p.joinAll()
    p.core('n2').updateTags({dc: 'west'})
    p.advance(500)
    for (const a of ['n0', 'n1', 'n3']) assert.deepEqual(p.core(a).member('n2')?.tags, {dc: 'west'})
    assert.equal(p.events.filter((e) => e.type === 'updated' && e.member.name === 'n2').length, 3)
  })

  it('failed members are reaped after reconnectTimeout, left ones after tombstoneTimeout', () => {
    const p = new Pool(names(4), testConfig({reconnectTimeoutMs: 5000, tombstoneTimeoutMs: 2000, reapIntervalMs: 500}))
    p.joinAll()
    p.core('n3').leave()
    p.advance(1000)
    p.down.add('n3')
    p.down.add('n2')
    p.advance(4000)
    assert.equal(p.core('n0').member('n3'), undefined, 'left member reaped')
    assert.equal(p.stateOf('n0', 'n2'), 'failed')
    p.advance(5000)
    assert.equal(p.core('n0').member('n2'), undefined, 'failed member reaped')
    assert.ok(p.events.some((e) => e.type === 'reaped' && e.member.name === 'n2' && e.member.state === 'failed'))
  })

  it('user events reach every member once, ordered by Lamport time', () => {
    const p = new Pool(names(4))
    p.joinAll()
    const got: string[] = []
    p.core('n1').userEvent('deploy', new TextEncoder().encode('v2'))
    for (let i = 0; i < 20; i++) {
      for (const [name, core] of p.cores) {
        core.tick(p.nowMs += 10)
        const r = core.ready()
        for (const e of r.userEvents) got.push(`${name}:${e.name}:${e.ltime}`)
        for (const out of r.packets) p.core(out.toName as string).receive({address: name, port: PORT}, out.packet, p.nowMs)
      }
    }
    const ltime = got[0].split(':')[2]
    assert.deepEqual(got.sort(), ['n0', 'n1', 'n2', 'n3'].map((n) => `${n}:deploy:${ltime}`))
  })

  it('a member cut off from all others rejoins within seconds of the heal (it retries every second while alone)', () => {
    const p = new Pool(names(4), testConfig({reconnectIntervalMs: 10_000}))
    p.joinAll()
    const cut = (from: string, to: string) => (from === 'n3') !== (to === 'n3')
    p.drop = cut
    // The cut-off member is slower to declare the others failed (Lifeguard raises its own timeouts): bounded wait.
    for (let step = 0; step < 120 && !names(3).every((name) => p.stateOf('n3', name) === 'failed'); step++) p.advance(500)
    for (const name of names(3)) assert.equal(p.stateOf(name, 'n3'), 'failed', `${name} declared n3 failed`)
    for (const name of names(3)) assert.equal(p.stateOf('n3', name), 'failed', `n3 declared ${name} failed`)
    p.advance(2000) // alone for a while: its retries find nobody
    p.drop = () => false
    const healedAt = p.nowMs
    let rejoinedMs = -1
    for (let step = 0; step < 600 && rejoinedMs < 0; step++) {
      p.advance(10)
      const all = names(4).every((a) => names(4).every((b) => p.stateOf(a, b) === 'alive'))
      if (all) rejoinedMs = p.nowMs - healedAt
    }
    console.log(`# rejoined ${rejoinedMs} ms after the heal`)
    assert.ok(rejoinedMs >= 0 && rejoinedMs <= 2000, `every member saw every other alive ${rejoinedMs} ms after the heal (the reconnect interval is 10 s; alone, every second)`)
  })

  it('a member cut off while an event spread gets it at its next push-pull (not a joiner); nobody gets it twice', () => {
    // Push-pull every 2 s; n2 is cut off (neither ticks nor hears anything) while n0 fires.
    const p = new Pool(names(3), testConfig({pushPullIntervalMs: 2000}))
    p.joinAll()
    p.down.add('n2')
    p.core('n0').userEvent('deploy', new TextEncoder().encode('v3'))
    p.advance(1500)
    const seenBy = () => p.userEvents.filter((e) => e.name === 'deploy').map((e) => e.observer).sort()
    assert.deepEqual(seenBy(), ['n0', 'n1'], 'n1 heard it by gossip, n2 did not')
    p.down.delete('n2')
    p.advance(6000)
    assert.deepEqual(seenBy(), ['n0', 'n1', 'n2'], 'n2 got it through a push-pull once back, each member once')
    // A member that joins afterwards is not handed events fired before it joined.
    const late = new Pool([...names(3), 'n3'], testConfig({pushPullIntervalMs: 2000}))
    for (const name of names(3)) late.core(name).join([{address: 'n0', port: PORT}])
    late.flush()
    late.advance(2000)
    late.core('n0').userEvent('early', new TextEncoder().encode('x'))
    late.advance(2000)
    late.core('n3').join([{address: 'n0', port: PORT}])
    late.flush()
    late.advance(500)
    assert.ok(!late.userEvents.some((e) => e.name === 'early' && e.observer === 'n3'), 'a joiner is not sent what was fired before it joined')
  })

  it('with dead members among the gossip targets, a user event still reaches every live member (200 seeds)', () => {
    // Gossip to a failed or left member counts no transmit (core-state.ts sendGossip); counted, as
    // memberlist counts them, this pool lost the event at a live member in about 1 seed in 20.
    const missed: string[] = []
    for (let seed = 1; seed <= 200; seed++) {
      const p = new Pool(names(5), testConfig(), seed)
      p.joinAll()
      p.down.add('n4')
      p.advance(6000)
      p.core('n3').leave()
      p.advance(1000)
      p.down.add('n3')
      assert.equal(p.stateOf('n1', 'n4'), 'failed', `seed ${seed}`)
      assert.equal(p.stateOf('n1', 'n3'), 'left', `seed ${seed}`)
      p.core('n1').userEvent('deploy', new TextEncoder().encode('v2'))
      p.advance(5000)
      for (const live of ['n0', 'n2']) if (!p.userEvents.some((e) => e.observer === live && e.name === 'deploy')) missed.push(`seed ${seed}: ${live}`)
    }
    assert.deepEqual(missed, [])
  })
})

describe('gossip core: probing (SWIM + Lifeguard)', () => {
  it('an indirect probe saves a member whose direct path is broken', () => {
    const p = new Pool(names(5))
    p.joinAll()
    p.drop = (from, to) => (from === 'n0' && to === 'n1') || (from === 'n1' && to === 'n0')
    p.advance(6000)
    assert.equal(p.stateOf('n0', 'n1'), 'alive')
    assert.ok(p.sent.some((s) => s.from === 'n0' && s.packet.messages.some((m) => m.type === 'indirectPing' && m.target === 'n1')))
  })

  it('relays answer with a nack when the target stays silent', () => {
    const p = new Pool(names(5))
    p.joinAll()
    p.down.add('n4')
    p.advance(1000)
    assert.ok(p.sent.some((s) => s.packet.messages.some((m) => m.type === 'nack')))
  })

  it('a probe of a suspect member carries the suspicion (buddy system)', () => {
    const p = new Pool(names(3))
    p.joinAll()
    p.down.add('n2')
    p.advance(600)
    assert.ok(p.sent.some((s) => s.to === 'n2' && s.packet.messages[0].type === 'ping' && s.packet.messages.some((m) => m.type === 'suspect' && m.node === 'n2')))
  })

  it('missed nacks raise local health, which stretches the probe interval', () => {
    const p = new Pool(names(6), testConfig({localStallThresholdMs: 0}))
    p.joinAll()
    const pings = (): number[] => p.sent.filter((s) => s.from === 'n0' && s.packet.messages[0]?.type === 'ping').map((s) => s.atMs)
    // n0 can send but hears nothing: its probes fail and no relay nacks, so it must be the problem.
    p.drop = (_from, to) => to === 'n0'
    const start = p.sent.length
    p.advance(3000)
    assert.ok(p.core('n0').status().health > 0, 'health score rose')
    const times = pings().filter((t) => t > p.sent[start].atMs)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    assert.ok(Math.max(...gaps) >= 3 * testConfig().probeIntervalMs, `probe gaps ${gaps.join(',')}`)
  })

  it('a stalled node blames no peer for probes that timed out during its own stall', () => {
    const p = new Pool(names(4))
    p.joinAll()
    // n0 stops running for 1 s (no ticks, no reads), while everyone else carries on.
    p.advance(1000, 10, new Set(['n0']))
    p.tick('n0', p.nowMs)
    p.advance(3000)
    for (const b of names(4)) assert.equal(p.stateOf('n0', b), 'alive', b)
    assert.ok(!p.events.some((e) => e.type === 'failed'))
  })
})

describe('gossip core: force-leave', () => {
  it('turns a failed member left everywhere; prune forgets it locally; unknown names and self are refused', () => {
    const p = new Pool(names(4))
    p.joinAll()
    p.down.add('n3')
    p.advance(4000)
    assert.equal(p.stateOf('n0', 'n3'), 'failed')
    assert.equal(p.core('n0').forceLeave('n3'), true)
    p.flush()
    p.advance(1000, 10, new Set(['n3']))
    for (const a of names(3)) assert.equal(p.stateOf(a, 'n3'), 'left', a)
    assert.equal(p.core('n0').forceLeave('n3', true), true)
    p.flush()
    assert.equal(p.core('n0').member('n3'), undefined)
    assert.ok(p.events.some((e) => e.type === 'reaped' && e.member.name === 'n3'))
    assert.equal(p.core('n0').forceLeave('nobody'), false)
    assert.equal(p.core('n0').forceLeave('n0'), false)
  })

  it('a live member refutes a force-leave and stays alive', () => {
    const p = new Pool(names(3))
    p.joinAll()
    p.core('n0').forceLeave('n2')
    p.flush()
    p.advance(2000)
    for (const a of ['n0', 'n1']) assert.equal(p.stateOf(a, 'n2'), 'alive', a)
  })
})

describe('gossip core: user event identity', () => {
  it('same Lamport time and name but different payloads are two events; a repeat is dropped', () => {
    const p = new Pool(names(2))
    p.joinAll()
    const bytes = (s: string) => new TextEncoder().encode(s)
    const core = p.core('n0')
    core.ready()
    core.receive({address: 'n1', port: PORT}, {from: 'n1', messages: [
      {type: 'userEvent', ltime: 500, name: 'deploy', payload: bytes('aa')},
      {type: 'userEvent', ltime: 500, name: 'deploy', payload: bytes('bb')},
      {type: 'userEvent', ltime: 500, name: 'deploy', payload: bytes('aa')},
    ]}, p.nowMs)
    const got = core.ready().userEvents.map((e) => `${e.ltime}:${e.name}:${new TextDecoder().decode(e.payload)}`)
    assert.deepEqual(got, ['500:deploy:aa', '500:deploy:bb'])
  })
})
