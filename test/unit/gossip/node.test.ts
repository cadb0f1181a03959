// GossipNode on real sockets (loopback, free ports): join, crash detection, graceful leave, a late
// joiner merged by push-pull, and encryption. Timings use the `coord` profile (config.ts): a crash
// should be declared within ~3 s, a leave within a few gossip intervals.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {GossipJoinError, GossipNode, type GossipNodeOptions} from '../../../src/lib/gossip/node.js'
import {AesGcmKeyring, generateGossipKey} from '../../../src/lib/gossip/keyring.js'
import {GossipTransport, silentLogger} from '../../../src/lib/gossip/transport.js'
import {encodePacket} from '../../../src/lib/gossip/codec.js'
import {coordGossipConfig} from '../../../src/lib/gossip/config.js'
import type {MemberEvent, MemberState} from '../../../src/lib/gossip/types.js'
import {waitFor} from '../../helpers/wait.js'

const HOST = '127.0.0.1'

async function startNode(name: string, extra: Partial<GossipNodeOptions> = {}): Promise<GossipNode> {
  const node = new GossipNode({name, bindAddress: HOST, bindPort: 0, seed: name.length * 7919 + name.charCodeAt(name.length - 1), ...extra})
  await node.start()
  return node
}

const stateOf = (observer: GossipNode, subject: string): MemberState | undefined => observer.member(subject)?.state

describe('gossip node: a 5-member pool on loopback', () => {
  const nodes: GossipNode[] = []
  const events = new Map<string, MemberEvent[]>()
  const addr = (n: GossipNode): string => `${HOST}:${n.port}`

  before(async () => {
    for (let i = 0; i < 5; i++) {
      const node = await startNode(`n${i}`)
      const seen: MemberEvent[] = []
      events.set(node.name, seen)
      node.on('member', (e) => seen.push(e))
      nodes.push(node)
    }
  })

  after(async () => {
    await Promise.all(nodes.map((n) => n.close()))
  })

  it('every member joins through n0 and all see 5 alive members', async () => {
    const start = performance.now()
    for (const node of nodes.slice(1)) assert.equal(await node.join([addr(nodes[0])]), 1)
    const ms = await waitFor('5 alive everywhere', () => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 5), 3000)
    console.log(`# join: 4 joins + convergence in ${Math.round(performance.now() - start)} ms (convergence wait ${ms} ms)`)
    assert.ok((events.get('n1') ?? []).some((e) => e.type === 'joined' && e.member.name === 'n4'), 'n1 got a joined event for n4')
    assert.equal(nodes[1].status().alive, 5)
  })

  it('a crashed member (closed without leaving) is declared failed by all others', async () => {
    const crashed = nodes[4]
    await crashed.close()
    const ms = await waitFor('n4 failed everywhere', () => nodes.slice(0, 4).every((n) => stateOf(n, 'n4') === 'failed'), 8000)
    console.log(`# failure detection: n4 failed at all 4 peers after ${ms} ms`)
    for (const n of nodes.slice(0, 4)) assert.ok((events.get(n.name) ?? []).some((e) => e.type === 'failed' && e.member.name === 'n4'), n.name)
    assert.ok(ms < 6000, `detection took ${ms} ms`)
  })

  it('a graceful leave is reported `left`, never `failed`', async () => {
    const leaver = nodes[3]
    const start = performance.now()
    const leftCleanly = await leaver.leave()
    assert.equal(leftCleanly, true)
    console.log(`# leave: leave() resolved after ${Math.round(performance.now() - start)} ms`)
    await leaver.close()
    const ms = await waitFor('n3 left everywhere', () => nodes.slice(0, 3).every((n) => stateOf(n, 'n3') === 'left'), 3000)
    console.log(`# leave: n3 left at all 3 peers after ${ms} ms`)
    for (const n of nodes.slice(0, 3)) {
      const about = (events.get(n.name) ?? []).filter((e) => e.member.name === 'n3')
      assert.ok(about.some((e) => e.type === 'left'), n.name)
      assert.ok(!about.some((e) => e.type === 'failed'), `${n.name} never saw n3 failed`)
    }
  })

  it('a late joiner learns the whole pool from one push-pull, and the pool learns it', async () => {
    const late = await startNode('n5')
    nodes.push(late)
    assert.equal(await late.join([addr(nodes[1])]), 1)
    // Right after the exchange, before any gossip: the push-pull reply carried the full state.
    assert.equal(stateOf(late, 'n0'), 'alive')
    assert.equal(stateOf(late, 'n2'), 'alive')
    assert.equal(stateOf(late, 'n1'), 'alive')
    // The core adds no member it first hears of as left or failed (core-members.ts): they stay unknown.
    assert.equal(stateOf(late, 'n3'), undefined)
    assert.equal(stateOf(late, 'n4'), undefined)
    await waitFor('n5 alive at n0, n1, n2', () => nodes.slice(0, 3).every((n) => stateOf(n, 'n5') === 'alive'), 3000)
  })

  it('user events reach every live member', async () => {
    const got: string[] = []
    for (const n of [nodes[0], nodes[2], nodes[5]]) n.on('userEvent', (e) => got.push(`${n.name}:${e.name}:${Buffer.from(e.payload).toString()}`))
    nodes[1].userEvent('deploy', Buffer.from('v2'))
    await waitFor('the event everywhere', () => got.length === 3, 5000)
    assert.deepEqual(got.sort(), ['n0:deploy:v2', 'n2:deploy:v2', 'n5:deploy:v2'])
  })
})

describe('gossip node: encryption and join errors', () => {
  const nodes: GossipNode[] = []
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()))
  })

  it('members sharing a key join; a member with another key cannot, and its packets are dropped', async () => {
    const key = generateGossipKey()
    const a = await startNode('a', {cipher: new AesGcmKeyring([key])})
    const b = await startNode('b', {cipher: new AesGcmKeyring([key])})
    const intruder = await startNode('x', {cipher: new AesGcmKeyring([generateGossipKey()])})
    const plain = await startNode('p')
    nodes.push(a, b, intruder, plain)
    assert.equal(await b.join([`${HOST}:${a.port}`]), 1)
    await waitFor('a and b see each other', () => stateOf(a, 'b') === 'alive' && stateOf(b, 'a') === 'alive', 3000)

    await assert.rejects(intruder.join([`${HOST}:${a.port}`]), (e: unknown) => e instanceof GossipJoinError && e.code === 'GOSSIP_JOIN_FAILED')
    await assert.rejects(plain.join([`${HOST}:${a.port}`]), (e: unknown) => e instanceof GossipJoinError)
    assert.ok(a.stats().decryptFailures >= 2, `a counted ${a.stats().decryptFailures} decrypt failures`)
    // Datagrams sealed with another key (or not at all) are dropped and counted, never decoded.
    const raw = new GossipTransport({bindAddress: HOST, bindPort: 0, maxDatagramBytes: 1500, maxStreamBytes: 1 << 20, streamTimeoutMs: 500, maxInboundStreams: 1, cipher: new AesGcmKeyring([generateGossipKey()]), log: silentLogger, onPacket: () => {}, onStream: async () => new Uint8Array(0)})
    await raw.listen()
    const alive = encodePacket({from: 'x', messages: [{type: 'alive', node: 'x', incarnation: 1, address: HOST, port: raw.port, tags: {}}]}, 1400).datagrams[0]
    const before = a.stats()
    raw.sendPacket({address: HOST, port: a.port}, alive)
    raw.sendPacket({address: HOST, port: a.port}, alive)
    await waitFor('2 dropped datagrams', () => a.stats().packetsDropped - before.packetsDropped === 2, 2000)
    await raw.close()
    assert.equal(a.stats().decodeFailures, before.decodeFailures)
    assert.equal(stateOf(a, 'x'), undefined)
    assert.equal(stateOf(a, 'p'), undefined)
  })

  it('join with no reachable address rejects with GOSSIP_JOIN_FAILED and names each failure', async () => {
    const lonely = await startNode('lonely', {config: {...coordGossipConfig(), streamTimeoutMs: 300}})
    nodes.push(lonely)
    const closed = await startNode('closed')
    const closedPort = closed.port
    await closed.close()
    await assert.rejects(lonely.join([`${HOST}:${closedPort}`, 'no-such-host.invalid:8301', 'bad:port:x']), (e: unknown) => e instanceof GossipJoinError && e.failures.length === 3)
  })
})
