// A follower's read-index requests batched per event-loop turn (server/read-index-batch.ts), over two
// real RpcTransports on loopback: the reads of one mode in one turn share one request and its answer,
// the modes travel apart (the leader serves 'leader' from its lease, 'consistent' after a ReadIndex
// round), a later turn asks again, a failed request fails every read of it, and the leader's side
// reads the mode of an older peer's body-less request as 'consistent' and refuses a bad one.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {RpcRequestError, RpcTransport} from '../../../src/lib/rpc/transport.js'
import {systemClock} from '../../../src/lib/clock.js'
import {READ_INDEX, ReadIndexBatcher, requestedReadMode} from '../../../src/lib/server/read-index-batch.js'

async function pair(answer: (mode: string) => Promise<unknown>) {
  const follower = new RpcTransport({localId: 'follower'})
  const leader = new RpcTransport({localId: 'leader'})
  const requests: string[] = []
  leader.onRequest(READ_INDEX, (_from, body) => {
    const mode = requestedReadMode(body)
    requests.push(mode)
    return answer(mode)
  })
  const port = await leader.listen('127.0.0.1', 0)
  return {follower, leader, requests, address: `127.0.0.1:${port}`, close: async () => { await follower.close(); await leader.close() }}
}

describe('ReadIndexBatcher', () => {
  it('asks once per mode for the reads of one turn; every read of it gets that answer; a later turn asks again', async () => {
    let commit = 41
    const p = await pair(async (mode) => (mode === 'leader' ? ++commit : 1000 + ++commit))
    try {
      const asks = new ReadIndexBatcher(p.follower, systemClock)
      const defaults = [1, 2, 3, 4].map(() => asks.ask(p.address, 'leader', 2000))
      const consistent = [1, 2, 3].map(() => asks.ask(p.address, 'consistent', 2000))
      const [d, c] = await Promise.all([Promise.all(defaults), Promise.all(consistent)])
      assert.deepEqual([...p.requests].sort(), ['consistent', 'leader'], 'one request per mode for seven reads')
      assert.equal(new Set(d).size, 1, `the default reads share one index: ${d.join(', ')}`)
      assert.equal(new Set(c).size, 1, `the consistent reads share one index: ${c.join(', ')}`)
      assert.ok(c[0] > 1000, 'the consistent reads got the consistent answer')
      const later = await asks.ask(p.address, 'leader', 2000)
      assert.equal(p.requests.length, 3, 'a read of a later turn is a new request')
      assert.ok(later > d[0], 'and gets a fresh index')
    } finally {
      await p.close()
    }
  })

  it('fails every read of a request that fails (here: timed out), and refuses an answer that is no index', async () => {
    const p = await pair((mode) => (mode === 'leader' ? new Promise(() => {}) : Promise.resolve('seven')))
    try {
      const asks = new ReadIndexBatcher(p.follower, systemClock)
      const settled = await Promise.allSettled([1, 2, 3].map(() => asks.ask(p.address, 'leader', 300)))
      for (const s of settled) {
        assert.equal(s.status, 'rejected')
        assert.ok((s as PromiseRejectedResult).reason instanceof RpcRequestError)
        assert.match(String((s as PromiseRejectedResult).reason.message), /timed out/)
      }
      await assert.rejects(asks.ask(p.address, 'consistent', 2000), /answered "seven", not an index/)
    } finally {
      await p.close()
    }
  })

  it('the leader reads an older peer\'s body-less request as consistent and refuses an unknown mode', () => {
    assert.equal(requestedReadMode(null), 'consistent')
    assert.equal(requestedReadMode(undefined), 'consistent')
    assert.equal(requestedReadMode('consistent'), 'consistent')
    assert.equal(requestedReadMode('leader'), 'leader')
    assert.throws(() => requestedReadMode('stale'), /takes the read mode 'leader' or 'consistent'/)
    assert.throws(() => requestedReadMode({mode: 'leader'}), /takes the read mode/)
  })
})
