// Forwarded writes batched per event-loop turn (server/forward-batch.ts), over two real RpcTransports
// on loopback: one request carries the turn's writes, each write gets its own outcome, a refusal
// keeps its error code (what decides whether a write may be sent again), and a request that fails
// as a whole fails every write in it.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {RpcRequestError, RpcTransport} from '../../../src/lib/rpc/transport.js'
import {systemClock} from '../../../src/lib/clock.js'
import {CoordError} from '../../../src/lib/errors.js'
import {ForwardBatcher, PROPOSE_BATCH, proposeBatch} from '../../../src/lib/server/forward-batch.js'

async function pair(propose: (bytes: Uint8Array) => Promise<unknown>) {
  const follower = new RpcTransport({localId: 'follower'})
  const leader = new RpcTransport({localId: 'leader'})
  const requests: number[] = []
  leader.onRequest(PROPOSE_BATCH, (_from, body) => {
    requests.push((body as unknown[]).length)
    return proposeBatch(body, propose)
  })
  const port = await leader.listen('127.0.0.1', 0)
  return {follower, leader, requests, address: `127.0.0.1:${port}`, close: async () => { await follower.close(); await leader.close() }}
}

describe('ForwardBatcher', () => {
  it('sends the writes of one turn as one request and answers each with its own outcome, in order', async () => {
    const p = await pair(async (bytes) => {
      if (bytes[0] === 3) throw new CoordError('WRITE_NOT_APPLIED', 'this server is not the leader: the write was not applied', {httpStatus: 500})
      return {index: bytes[0] * 10}
    })
    try {
      const batcher = new ForwardBatcher(p.follower, systemClock, 2000)
      const writes = [1, 2, 3, 4, 5].map((n) => batcher.forward(p.address, new Uint8Array([n])))
      const settled = await Promise.allSettled(writes)
      assert.deepEqual(p.requests, [5], 'one request for the five writes of the turn')
      assert.deepEqual(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'refused')), [{index: 10}, {index: 20}, 'refused', {index: 40}, {index: 50}])
      const refused = (settled[2] as PromiseRejectedResult).reason
      assert.ok(refused instanceof RpcRequestError)
      assert.equal(refused.remote, true)
      assert.equal(refused.code, 'WRITE_NOT_APPLIED')
      assert.match(refused.message, /not applied/)
      // A later turn is a new request.
      assert.deepEqual(await batcher.forward(p.address, new Uint8Array([7])), {index: 70})
      assert.deepEqual(p.requests, [5, 1])
    } finally {
      await p.close()
    }
  })

  it('fails every write of a request that fails as a whole (here: timed out)', async () => {
    const p = await pair(() => new Promise(() => {}))
    try {
      const batcher = new ForwardBatcher(p.follower, systemClock, 300)
      const settled = await Promise.allSettled([1, 2].map((n) => batcher.forward(p.address, new Uint8Array([n]))))
      for (const s of settled) {
        assert.equal(s.status, 'rejected')
        assert.ok((s as PromiseRejectedResult).reason instanceof RpcRequestError)
        assert.match(String((s as PromiseRejectedResult).reason.message), /timed out/)
      }
    } finally {
      await p.close()
    }
  })

  it('answers a write whose proposal throws at once with its refusal, and the others with theirs', async () => {
    const outcomes = await proposeBatch([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])], (bytes) => {
      if (bytes[0] === 2) throw new CoordError('STATE_CODEC', 'log entry is not a coord state command', {httpStatus: 400})
      return Promise.resolve({index: bytes[0]})
    })
    assert.deepEqual(outcomes, [
      {ok: true, body: {index: 1}},
      {ok: false, error: 'log entry is not a coord state command', code: 'STATE_CODEC', status: 400},
      {ok: true, body: {index: 3}},
    ])
    assert.deepEqual(await proposeBatch([], async () => 1), [])
  })

  it('refuses a batch that is not a list of encoded commands', async () => {
    await assert.rejects(proposeBatch('nope', async () => 1), /list of encoded commands/)
    await assert.rejects(proposeBatch([1, 2], async () => 1), /list of encoded commands/)
  })
})
