// Gossip encryption on real sockets: datagrams under a key we lack are dropped, counted, and
// logged once per period naming the sender; a joiner with a wrong key is refused with the reason;
// encrypt_verify_incoming/outgoing=false lets an encrypting member and a plaintext one talk (the
// migration path); a key rotation (install, use, remove) on live nodes keeps them talking; and a
// query over real sockets collects every member's answer.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {GossipNode, type GossipNodeOptions} from '../../../src/lib/gossip/node.js'
import {AesGcmKeyring, GossipEncryption, generateGossipKey} from '../../../src/lib/gossip/keyring.js'
import {GossipTransport, silentLogger, type GossipLogger} from '../../../src/lib/gossip/transport.js'
import {encodePacket} from '../../../src/lib/gossip/codec.js'
import {waitFor} from '../../helpers/wait.js'

const HOST = '127.0.0.1'
const nodes: GossipNode[] = []

async function startNode(name: string, extra: Partial<GossipNodeOptions> = {}): Promise<GossipNode> {
  const node = new GossipNode({name, bindAddress: HOST, bindPort: 0, seed: name.charCodeAt(0) * 31 + name.length, ...extra})
  await node.start()
  nodes.push(node)
  return node
}

function capture(): {log: GossipLogger; warnings: Array<{message: string; fields?: Record<string, unknown>}>} {
  const warnings: Array<{message: string; fields?: Record<string, unknown>}> = []
  return {warnings, log: {...silentLogger, warn: (message, fields) => warnings.push({message, fields})}}
}

describe('gossip encryption on loopback', () => {
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()))
  })

  it('drops datagrams no key opens, counts each, and warns once per period naming the sender', async () => {
    const sink = capture()
    const a = await startNode('a', {cipher: new AesGcmKeyring([generateGossipKey()]), log: sink.log})
    const wrong = new GossipTransport({bindAddress: HOST, bindPort: 0, maxDatagramBytes: 1500, maxStreamBytes: 1 << 20, streamTimeoutMs: 500, maxInboundStreams: 1, cipher: new AesGcmKeyring([generateGossipKey()]), log: silentLogger, onPacket: () => {}, onStream: async () => new Uint8Array(0)})
    await wrong.listen()
    try {
      const [datagram] = encodePacket({from: 'x', messages: [{type: 'ping', seqNo: 1, target: 'a'}]}, 1400).datagrams
      for (let i = 0; i < 5; i++) wrong.sendPacket({address: HOST, port: a.port}, datagram)
      await waitFor('five drops', () => a.stats().packetsDropped === 5, 2000)
      assert.equal(a.stats().decryptFailures, 5)
      await new Promise((resolve) => setTimeout(resolve, 50))
      const drops = sink.warnings.filter((w) => w.message === 'memberlist: Decrypt packet failed: No installed keys could decrypt the message')
      assert.equal(drops.length, 1, JSON.stringify(sink.warnings))
      assert.equal(drops[0].fields?.from, HOST)
    } finally {
      await wrong.close()
    }
  })

  it('a joiner with a different key is refused and told why', async () => {
    const seed = await startNode('s', {cipher: new AesGcmKeyring([generateGossipKey()])})
    const joiner = await startNode('j', {cipher: new AesGcmKeyring([generateGossipKey()])})
    await assert.rejects(joiner.join([`${HOST}:${seed.port}`]), /refused the exchange: No installed keys could decrypt the message \(our gossip encryption key is not in its keyring\)/)
    const plain = await startNode('p')
    await assert.rejects(plain.join([`${HOST}:${seed.port}`]), /No installed keys could decrypt the message/)
    assert.equal(seed.members().length, 1)
  })

  it('verify_incoming=false and verify_outgoing=false let an encrypting member and a plaintext one form a pool', async () => {
    const key = generateGossipKey()
    const open = await startNode('o', {cipher: new GossipEncryption(new AesGcmKeyring([key]), false, false)})
    const plain = await startNode('q')
    await plain.join([`${HOST}:${open.port}`])
    await waitFor('both alive in both views', () => open.member('q')?.state === 'alive' && plain.member('o')?.state === 'alive', 3000)
  })

  it('rotation on live members (install everywhere, use, remove the old) keeps them alive, and queries see every answer', async () => {
    const k1 = generateGossipKey()
    const rings = [0, 1, 2].map(() => new AesGcmKeyring([k1]))
    const pool = await Promise.all(rings.map((cipher, i) => startNode(`r${i}`, {cipher})))
    for (const n of pool.slice(1)) await n.join([`${HOST}:${pool[0].port}`])
    await waitFor('3 alive everywhere', () => pool.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 5000)
    for (const [i, n] of pool.entries()) n.setQueryHandler('whoami', () => new TextEncoder().encode(`r${i}:${rings[i].primaryKey()}`))
    const k2 = generateGossipKey()
    for (const ring of rings) ring.install(k2)
    for (const ring of rings) ring.use(k2)
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const ring of rings) ring.remove(k1)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    for (const n of pool) for (const m of n.members()) assert.equal(m.state, 'alive', `${n.name} sees ${m.name} ${m.state}`)
    const result = await pool[1].query('whoami', new Uint8Array(0), {timeoutMs: 3000})
    assert.equal(result.complete, true)
    assert.deepEqual(result.responses.map((r) => new TextDecoder().decode(r.payload)).sort(), ['r0', 'r1', 'r2'].map((n) => `${n}:${k2}`))
  })
})
