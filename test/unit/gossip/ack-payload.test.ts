// Ack payloads (serf's ping delegate, which carries network coordinates): a direct probe's ack
// carries the acker's payload only to pingers tagged ACK_PAYLOAD_TAG, and the pinger reports the
// completed probe with its round trip time. Members without the tag keep the old two-field acks.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Pool} from './harness.js'
import {ACK_PAYLOAD_TAG} from '../../../src/lib/gossip/types.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('gossip core: ack payloads', () => {
  it('tagged pingers get payloads and report ping results; an untagged member gets plain acks', () => {
    const p = new Pool(['n0', 'n1', 'n2'])
    p.joinAll()
    for (const name of ['n0', 'n1', 'n2']) p.core(name).setAckPayload(bytes(`coord-of-${name}`))
    p.core('n0').updateTags({[ACK_PAYLOAD_TAG]: '1'})
    p.core('n1').updateTags({[ACK_PAYLOAD_TAG]: '1'})
    p.advance(1000) // the new tags spread
    p.sent.length = 0
    p.pingResults.length = 0
    p.advance(3000)
    const seen = (observer: string) => new Set(p.pingResults.filter((r) => r.observer === observer).map((r) => `${r.node}:${text(r.payload)}`))
    assert.deepEqual(seen('n0'), new Set(['n1:coord-of-n1', 'n2:coord-of-n2']))
    assert.deepEqual(seen('n1'), new Set(['n0:coord-of-n0', 'n2:coord-of-n2']))
    assert.equal(seen('n2').size, 0, 'n2 is not tagged: nobody sends it a payload')
    const acksToN2 = p.sent.filter((s) => s.to === 'n2').flatMap((s) => s.packet.messages).filter((m) => m.type === 'ack')
    assert.ok(acksToN2.length > 0)
    assert.ok(acksToN2.every((m) => m.type === 'ack' && m.payload === undefined))
    assert.ok(p.pingResults.every((r) => r.rttMs >= 0))
  })

  it('a null payload stops them', () => {
    const p = new Pool(['n0', 'n1'])
    p.joinAll()
    p.core('n0').updateTags({[ACK_PAYLOAD_TAG]: '1'})
    p.core('n1').setAckPayload(bytes('x'))
    p.advance(1000)
    assert.ok(p.pingResults.some((r) => r.observer === 'n0'))
    p.core('n1').setAckPayload(null)
    p.pingResults.length = 0
    p.advance(2000)
    assert.equal(p.pingResults.length, 0)
  })
})
