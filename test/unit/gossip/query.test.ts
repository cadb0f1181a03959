// Gossip queries (core-query.ts): a query reaches every member once, answers travel straight to
// the origin, and the origin's outcome closes as soon as every live member answered, or at the
// deadline with what it has. Relayed answers are counted once.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Pool} from './harness.js'
import {defaultQueryTimeoutMs} from '../../../src/lib/gossip/core-query.js'
import {decodePacket, encodePacket} from '../../../src/lib/gossip/codec.js'

const names = (n: number): string[] => Array.from({length: n}, (_, i) => `n${i}`)
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Every member that received a query not yet answered answers `answer(member)`. */
function answerAll(p: Pool, answered: Set<string>, answer: (member: string) => string | null): void {
  for (const q of p.queries) {
    const key = `${q.observer}:${q.origin}:${q.id}`
    if (answered.has(key)) continue
    answered.add(key)
    const reply = answer(q.observer)
    if (reply !== null) p.core(q.observer).respond(q, bytes(reply), p.nowMs)
  }
  p.flush()
}

describe('gossip core: queries', () => {
  it('every member answers once and the origin completes before the deadline', () => {
    const p = new Pool(names(5))
    p.joinAll()
    const id = p.core('n2').query('_serf_list-keys', bytes('?'), 5000)
    const answered = new Set<string>()
    const start = p.nowMs
    while (p.queryResults.length === 0 && p.nowMs - start < 6000) {
      p.advance(10)
      answerAll(p, answered, (m) => `keys-of-${m}`)
    }
    // Each member got the query exactly once, the origin included.
    assert.deepEqual(p.queries.map((q) => q.observer).sort(), names(5))
    const [result] = p.queryResults
    assert.equal(result.observer, 'n2')
    assert.equal(result.id, id)
    assert.equal(result.complete, true)
    assert.deepEqual(result.expected.sort(), names(5))
    assert.deepEqual(result.responses.map((r) => `${r.from}=${text(r.payload)}`).sort(), names(5).map((n) => `${n}=keys-of-${n}`))
    assert.ok(p.nowMs - start < 1000, `completed in ${p.nowMs - start} ms, long before the 5 s deadline`)
  })

  it('a silent member makes the query end at its deadline with the answers it has', () => {
    const p = new Pool(names(4))
    p.joinAll()
    p.core('n0').query('q', bytes(''), 800)
    const answered = new Set<string>()
    const start = p.nowMs
    while (p.queryResults.length === 0 && p.nowMs - start < 2000) {
      p.advance(10)
      answerAll(p, answered, (m) => (m === 'n3' ? null : 'ok'))
    }
    const [result] = p.queryResults
    assert.equal(result.complete, false)
    assert.deepEqual(result.responses.map((r) => r.from).sort(), ['n0', 'n1', 'n2'])
    assert.ok(p.nowMs - start >= 800 && p.nowMs - start <= 900, `ended ${p.nowMs - start} ms after start`)
  })

  it('answers past the deadline are not sent, and late answers do not reopen a closed query', () => {
    const p = new Pool(names(3))
    p.joinAll()
    p.core('n0').query('q', bytes(''), 300)
    p.advance(200)
    const late = p.queries.find((q) => q.observer === 'n1')
    assert.ok(late, 'n1 received the query')
    p.advance(400)
    assert.equal(p.queryResults.length, 1)
    const before = p.sent.length
    p.core('n1').respond(late, bytes('late'), p.nowMs)
    p.flush()
    assert.ok(!p.sent.slice(before).some((s) => s.packet.messages.some((m) => m.type === 'queryResponse')), 'no answer sent past the deadline')
    assert.equal(p.queryResults.length, 1)
  })

  it('with a relay factor, answers arrive through relays when the direct path is cut, counted once', () => {
    const p = new Pool(names(5))
    p.joinAll()
    // n4 cannot reach the origin n0 directly (but it still hears the query through others).
    p.drop = (from, to, msgs) => from === 'n4' && to === 'n0' && msgs.some((m) => m.type === 'queryResponse')
    p.core('n0').query('q', bytes(''), 3000, 2)
    const answered = new Set<string>()
    const start = p.nowMs
    while (p.queryResults.length === 0 && p.nowMs - start < 4000) {
      p.advance(10)
      answerAll(p, answered, () => 'ok')
    }
    const [result] = p.queryResults
    assert.equal(result.complete, true)
    assert.deepEqual(result.responses.map((r) => r.from).sort(), names(5))
  })

  it('default timeout follows serf: gossip interval × 16 × ceil(log10(N + 1))', () => {
    assert.equal(defaultQueryTimeoutMs({gossipIntervalMs: 200}, 5), 3200)
    assert.equal(defaultQueryTimeoutMs({gossipIntervalMs: 200}, 100), 9600)
    assert.equal(defaultQueryTimeoutMs({gossipIntervalMs: 50}, 1), 800)
  })

  it('query, response and relay messages round-trip through the codec', () => {
    const messages = [
      {type: 'query' as const, id: 4_000_000_000, origin: 'n0', address: '127.0.0.1', port: 8301, name: '_serf_use-key', payload: bytes('k'), timeoutMs: 1600, relayFactor: 3},
      {type: 'queryResponse' as const, id: 7, from: 'n1', payload: bytes('answer')},
      {type: 'queryRelay' as const, address: '10.0.0.1', port: 8301, response: {type: 'queryResponse' as const, id: 7, from: 'n1', payload: bytes('x')}},
    ]
    const {datagrams} = encodePacket({from: 'n9', messages}, 1400)
    assert.equal(datagrams.length, 1)
    assert.deepEqual(decodePacket(datagrams[0]).messages, messages)
  })
})
