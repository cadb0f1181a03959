import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {encode} from '@msgpack/msgpack'
import {decodePacket, decodePushPull, encodeMessage, encodePacket, encodePushPull, GossipDecodeError, WIRE_VERSION} from '../../../src/lib/gossip/codec.js'
import {AesGcmKeyring, generateGossipKey, GossipKeyError} from '../../../src/lib/gossip/keyring.js'
import {encodedPacketSizeBytes, messageSizeBytes, packetSizeBytes, pushPullSizeBytes} from '../../../src/lib/gossip/wire-size.js'
import {encodeFrame, FrameDecoder} from '../../../src/lib/frame.js'
import {SeededRng} from '../../../src/lib/rng.js'
import type {GossipMessage, Packet, PushPullState} from '../../../src/lib/gossip/types.js'

const oneOfEach: GossipMessage[] = [
  {type: 'ping', seqNo: 1, target: 'n1'},
  {type: 'indirectPing', seqNo: 70000, target: 'n2', targetAddress: {address: '10.0.0.2', port: 8301}, wantNack: true},
  {type: 'ack', seqNo: 2 ** 40},
  {type: 'ack', seqNo: 3, payload: new Uint8Array(88).fill(7)},
  {type: 'nack', seqNo: 0},
  {type: 'suspect', node: 'n3', incarnation: 5, from: 'n1'},
  {type: 'alive', node: 'n4', incarnation: 300, address: '10.0.0.4', port: 65535, tags: {role: 'consul', dc: 'dc1'}},
  {type: 'dead', node: 'n5', incarnation: 0, from: 'n2'},
  {type: 'leave', node: 'n6', incarnation: 9, ltime: 12345},
  {type: 'userEvent', ltime: 7, name: 'deploy', payload: Uint8Array.of(0, 1, 2, 255)},
]

const pushPull: PushPullState = {
  from: 'n0',
  join: true,
  ltime: 42,
  members: [
    {name: 'n0', address: '127.0.0.1', port: 8301, tags: {}, incarnation: 1, state: 'alive'},
    {name: 'n1', address: '127.0.0.2', port: 8301, tags: {a: 'b'}, incarnation: 3, state: 'suspect'},
    {name: 'n2', address: '127.0.0.3', port: 8301, tags: {}, incarnation: 0, state: 'failed'},
    {name: 'n3', address: '127.0.0.4', port: 8301, tags: {}, incarnation: 2, state: 'leaving'},
    {name: 'n4', address: '127.0.0.5', port: 8301, tags: {}, incarnation: 2, state: 'left'},
  ],
}

function randomName(rng: SeededRng): string {
  const len = rng.int(1, 64)
  let s = ''
  for (let i = 0; i < len; i++) s += String.fromCharCode(rng.int(0x21, 0x7f))
  return s
}

function randomMessage(rng: SeededRng): GossipMessage {
  const n = (): number => rng.pick([0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 50, rng.int(0, 2 ** 31)])
  const tags: Record<string, string> = {}
  for (let i = rng.int(0, 6); i > 0; i--) tags[randomName(rng)] = randomName(rng)
  const m: GossipMessage[] = [
    {type: 'ping', seqNo: n(), target: randomName(rng)},
    {type: 'indirectPing', seqNo: n(), target: randomName(rng), targetAddress: {address: randomName(rng), port: rng.int(0, 65536)}, wantNack: rng.chance(0.5)},
    {type: 'ack', seqNo: n()},
    {type: 'ack', seqNo: n(), payload: new Uint8Array(rng.int(0, 200))},
    {type: 'nack', seqNo: n()},
    {type: 'suspect', node: randomName(rng), incarnation: n(), from: randomName(rng)},
    {type: 'alive', node: randomName(rng), incarnation: n(), address: randomName(rng), port: rng.int(0, 65536), tags},
    {type: 'dead', node: randomName(rng), incarnation: n(), from: randomName(rng)},
    {type: 'leave', node: randomName(rng), incarnation: n(), ltime: n()},
    {type: 'userEvent', ltime: n(), name: randomName(rng), payload: new Uint8Array(rng.int(0, 70000))},
  ]
  return rng.pick(m)
}

function expectDecodeError(fn: () => unknown, why: string): void {
  assert.throws(fn, (e: unknown) => e instanceof GossipDecodeError && e.code === 'GOSSIP_DECODE_FAILED', why)
}

describe('gossip codec: packets', () => {
  it('round-trips every message type in one compound packet', () => {
    const packet: Packet = {from: 'n0', messages: oneOfEach}
    const {datagrams, dropped} = encodePacket(packet, 1400)
    assert.equal(datagrams.length, 1)
    assert.equal(dropped, 0)
    assert.equal(datagrams[0][0], WIRE_VERSION)
    assert.deepEqual(decodePacket(datagrams[0]), packet)
  })

  it('an ack without a payload stays the two-field form older members decode; one with a coordinate fits a datagram', () => {
    assert.deepEqual(encodeMessage({type: 'ack', seqNo: 9}), encode([2, 9]))
    const ack: GossipMessage = {type: 'ack', seqNo: 2 ** 33, payload: new Uint8Array(88)}
    assert.ok(encodeMessage(ack).length <= messageSizeBytes(ack))
    assert.ok(messageSizeBytes(ack) < 120, `${messageSizeBytes(ack)} bytes`)
  })

  it('an empty packet round-trips', () => {
    const {datagrams} = encodePacket({from: 'n0', messages: []}, 1400)
    assert.deepEqual(datagrams.map(decodePacket), [{from: 'n0', messages: []}])
  })

  it('encodes at or below the size the core budgets (wire-size.ts) for ASCII names', () => {
    const rng = new SeededRng(7)
    for (let i = 0; i < 2000; i++) {
      const m = randomMessage(rng)
      assert.ok(encodeMessage(m).length <= messageSizeBytes(m), `${m.type}: ${encodeMessage(m).length} > ${messageSizeBytes(m)}`)
      const messages = Array.from({length: rng.int(0, 20)}, () => randomMessage(rng)).filter((x) => x.type !== 'userEvent')
      const {datagrams} = encodePacket({from: 'node-a', messages}, 1 << 20)
      assert.equal(datagrams.length, 1)
      assert.ok(datagrams[0].length <= packetSizeBytes('node-a', messages))
    }
    assert.ok(encodePushPull(pushPull).length <= pushPullSizeBytes(pushPull))
  })

  it('wire-size.ts gives the exact encoded size for ASCII names (the simulation counts bytes with it)', () => {
    const rng = new SeededRng(11)
    for (let i = 0; i < 2000; i++) {
      const m = randomMessage(rng)
      assert.equal(encodeMessage(m).length, messageSizeBytes(m), m.type)
      const messages = Array.from({length: rng.int(0, 20)}, () => randomMessage(rng)).filter((x) => x.type !== 'userEvent')
      const {datagrams} = encodePacket({from: 'node-a', messages}, 1 << 20)
      assert.equal(datagrams[0].length, encodedPacketSizeBytes('node-a', messages), `${messages.length} messages`)
    }
    for (const m of oneOfEach) assert.equal(encodeMessage(m).length, messageSizeBytes(m), m.type)
    assert.equal(encodePushPull(pushPull).length, pushPullSizeBytes(pushPull))
  })

  it('splits a packet over the datagram limit, keeps order, drops only what can never fit', () => {
    const rng = new SeededRng(3)
    const messages: GossipMessage[] = Array.from({length: 60}, (_, i) => ({type: 'alive', node: `név-ü-${i}-${randomName(rng)}`, incarnation: i, address: '10.1.2.3', port: 8301, tags: {}}))
    messages.splice(10, 0, {type: 'userEvent', ltime: 1, name: 'big', payload: new Uint8Array(5000)})
    const {datagrams, dropped} = encodePacket({from: 'n0', messages}, 1400)
    assert.equal(dropped, 1)
    assert.ok(datagrams.length > 1)
    for (const d of datagrams) assert.ok(d.length <= 1400, `${d.length} bytes`)
    const decoded = datagrams.map(decodePacket)
    assert.ok(decoded.every((p) => p.from === 'n0'))
    assert.deepEqual(decoded.flatMap((p) => p.messages), messages.filter((m) => m.type !== 'userEvent'))
  })
})

describe('gossip codec: push-pull streams', () => {
  it('round-trips through a length-prefixed frame split at every byte', () => {
    const frame = encodeFrame(encodePushPull(pushPull))
    const decoder = new FrameDecoder(1 << 20)
    const frames: Buffer[] = []
    for (let i = 0; i < frame.length; i++) frames.push(...decoder.push(frame.subarray(i, i + 1)))
    assert.equal(frames.length, 1)
    assert.deepEqual(decodePushPull(frames[0]), pushPull)
  })
})

describe('gossip codec: garbage is rejected with GossipDecodeError only', () => {
  const valid = encodePacket({from: 'n0', messages: oneOfEach}, 1400).datagrams[0]
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['version only', Uint8Array.of(WIRE_VERSION)],
    ['unknown version', Uint8Array.of(2, ...valid.subarray(1))],
    ['truncated', valid.subarray(0, valid.length - 3)],
    ['trailing bytes', Uint8Array.of(...valid, 0xc0)],
    ['not an array', Uint8Array.of(WIRE_VERSION, ...encode({from: 'n0'}))],
    ['unknown message type', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[99, 1]]]))],
    ['wrong arity', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[0, 1]]]))],
    ['negative seqNo', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[2, -1]]]))],
    ['float seqNo', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[2, 1.5]]]))],
    ['port out of range', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[5, 'n1', 1, 'a', 70000, {}]]]))],
    ['tag value not a string', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[5, 'n1', 1, 'a', 1, {x: 1}]]]))],
    ['empty sender', Uint8Array.of(WIRE_VERSION, ...encode(['', []]))],
    ['payload not bytes', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[8, 1, 'e', 'text']]]))],
    ['ack payload not bytes', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[2, 1, [1.5, 2]]]]))],
    ['ack with four fields', Uint8Array.of(WIRE_VERSION, ...encode(['n0', [[2, 1, new Uint8Array(1), 0]]]))],
  ]
  for (const [why, bytes] of cases) it(`packet: ${why}`, () => expectDecodeError(() => decodePacket(bytes), why))

  it('push-pull: unknown kind, unknown state, bad member', () => {
    expectDecodeError(() => decodePushPull(Uint8Array.of(WIRE_VERSION, ...encode([1, 'n0', false, 0, []]))), 'kind')
    expectDecodeError(() => decodePushPull(Uint8Array.of(WIRE_VERSION, ...encode([0, 'n0', false, 0, [['n1', 'a', 1, 0, 9, {}]]]))), 'state')
    expectDecodeError(() => decodePushPull(Uint8Array.of(WIRE_VERSION, ...encode([0, 'n0', false, 0, [['n1']]]))), 'member')
    expectDecodeError(() => decodePushPull(valid), 'a datagram is not a stream payload')
  })

  it('10 000 random and mutated inputs: only GossipDecodeError, or a valid decode', () => {
    const rng = new SeededRng(11)
    for (let i = 0; i < 10_000; i++) {
      let bytes: Uint8Array
      if (i % 2 === 0) {
        bytes = Uint8Array.from({length: rng.int(0, 200)}, () => rng.int(0, 256))
        if (rng.chance(0.5) && bytes.length > 0) bytes[0] = WIRE_VERSION
      } else {
        bytes = Uint8Array.from(valid)
        for (let k = rng.int(1, 4); k > 0; k--) bytes[rng.int(1, bytes.length)] = rng.int(0, 256)
      }
      for (const decodeFn of [decodePacket, decodePushPull]) {
        try {
          decodeFn(bytes)
        } catch (e) {
          assert.ok(e instanceof GossipDecodeError, `input ${i}: threw ${String(e)}`)
        }
      }
    }
  })
})

describe('gossip keyring (AES-GCM)', () => {
  it('seals and opens; a different key, tampering or garbage opens to null', () => {
    const key = generateGossipKey()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    const ring = new AesGcmKeyring([key])
    const plain = encodePacket({from: 'n0', messages: oneOfEach}, 1400).datagrams[0]
    const sealed = ring.seal(plain)
    assert.equal(sealed.length, plain.length + ring.overheadBytes)
    assert.deepEqual(Uint8Array.from(ring.open(sealed) as Uint8Array), plain)
    assert.notDeepEqual(ring.seal(plain), sealed, 'fresh nonce per message')
    assert.equal(new AesGcmKeyring([generateGossipKey()]).open(sealed), null)
    const tampered = Uint8Array.from(sealed)
    tampered[20] ^= 1
    assert.equal(ring.open(tampered), null)
    assert.equal(ring.open(Uint8Array.of(1, 2, 3)), null)
  })

  it('rotation: every installed key opens, the first one seals', () => {
    const oldKey = generateGossipKey()
    const newKey = generateGossipKey()
    const sealedWithOld = new AesGcmKeyring([oldKey]).seal(Uint8Array.of(1, 2, 3))
    const ring = new AesGcmKeyring([newKey, oldKey])
    assert.deepEqual([...(ring.open(sealedWithOld) as Uint8Array)], [1, 2, 3])
    assert.equal(new AesGcmKeyring([oldKey]).open(ring.seal(Uint8Array.of(1))), null)
    assert.ok(new AesGcmKeyring([Buffer.alloc(16, 1).toString('base64')]).open(new AesGcmKeyring([Buffer.alloc(16, 1).toString('base64')]).seal(Uint8Array.of(9))))
  })

  it('rejects keys of the wrong size or not base64, with GOSSIP_KEY_INVALID', () => {
    for (const bad of [[], ['not base64!!'], [Buffer.alloc(20).toString('base64')]]) {
      assert.throws(() => new AesGcmKeyring(bad), (e: unknown) => e instanceof GossipKeyError && e.code === 'GOSSIP_KEY_INVALID')
    }
  })
})
