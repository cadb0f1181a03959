// The forwarding RPC over real loopback sockets: a client's forwarder against a server's
// serveForwardedRequests, including the cancel of a blocking query whose caller went away.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {RpcTransport} from '../../../src/lib/rpc/transport.js'
import {ServerPool} from '../../../src/lib/forward/server-pool.js'
import {ServerRpc} from '../../../src/lib/forward/server-rpc.js'
import {createForwarder, serveForwardedRequests} from '../../../src/lib/forward/forward.js'
import type {ForwardedRequest} from '../../../src/lib/forward/forwarded.js'

async function pair(run: Parameters<typeof serveForwardedRequests>[1]) {
  const server = new RpcTransport({localId: 'server'})
  serveForwardedRequests(server, run)
  const port = await server.listen('127.0.0.1', 0)
  const client = new RpcTransport({localId: 'client'})
  const rpc = new ServerRpc(new ServerPool({servers: () => [`127.0.0.1:${port}`]}), client)
  const forward = createForwarder(rpc, 'client-1', () => {})
  return {forward, close: async () => { await client.close(); await server.close() }}
}

const get = (url: string): ForwardedRequest => ({method: 'GET', url, headers: {}, body: new Uint8Array()})

describe('forwarding over the server RPC port', () => {
  it('carries the request and the answer whole; only blocking queries get a cancel id', async () => {
    const seen: ForwardedRequest[] = []
    const {forward, close} = await pair(async (request) => {
      seen.push(request)
      return {status: 201, headers: {'X-Consul-Index': '9'}, body: Buffer.from(`echo ${request.method} ${request.url}`)}
    })
    try {
      const answer = await forward({method: 'PUT', url: '/v1/kv/a?cas=0', headers: {'content-type': 'text/plain'}, body: Buffer.from('v')})
      assert.equal(answer.status, 201)
      assert.deepEqual(answer.headers, {'X-Consul-Index': '9'})
      assert.equal(Buffer.from(answer.body).toString(), 'echo PUT /v1/kv/a?cas=0')
      assert.equal(Buffer.from(seen[0].body).toString(), 'v')
      assert.deepEqual(seen[0].headers, {'content-type': 'text/plain'})
      assert.equal(seen[0].cancelId, undefined)
      await forward(get('/v1/kv/a?index=3&wait=1s'))
      assert.match(seen[1].cancelId ?? '', /^[0-9a-f-]{36}$/)
    } finally {
      await close()
    }
  })

  it("cancels a parked blocking query on the server when the caller goes away", async () => {
    let released = 0
    const {forward, close} = await pair(async (_request, cancelled) => {
      const outcome = await Promise.race([cancelled.then(() => 'cancelled'), new Promise((r) => setTimeout(() => r('timeout'), 10_000))])
      if (outcome === 'cancelled') released = performance.now()
      return {status: 500, headers: {}, body: Buffer.from('request cancelled by the client agent')}
    })
    try {
      let leave: () => void = () => {}
      const closed = new Promise<void>((resolve) => { leave = resolve })
      const pending = forward(get('/v1/kv/a?index=3&wait=60s'), closed)
      await new Promise((r) => setTimeout(r, 100))
      const left = performance.now()
      leave()
      const answer = await pending
      assert.ok(released > 0, 'the server saw the cancel')
      assert.ok(released - left < 5_000, `released ${released - left} ms after the caller left`)
      assert.equal(answer.status, 500)
    } finally {
      await close()
    }
  })
})
