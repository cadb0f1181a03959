// The forwarding RPC over real loopback sockets: a client's forwarder against a server's
// serveForwardedRequests, including the cancel of a blocking query whose caller went away, and
// the move to another server when one answers that it did not carry the request out.
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

/** Servers in a fixed order (the pool picks the first healthy one), each answering with its own `run`. */
async function servers(runs: Array<Parameters<typeof serveForwardedRequests>[1]>, holdMs = 0) {
  const transports = runs.map((_, i) => new RpcTransport({localId: `server-${i}`}))
  const addresses: string[] = []
  for (const [i, transport] of transports.entries()) {
    serveForwardedRequests(transport, runs[i])
    addresses.push(`127.0.0.1:${await transport.listen('127.0.0.1', 0)}`)
  }
  const client = new RpcTransport({localId: 'client'})
  const rpc = new ServerRpc(new ServerPool({servers: () => addresses, random: () => 0}), client, {holdMs})
  const forward = createForwarder(rpc, 'client-1', () => {})
  return {forward, close: async () => { await client.close(); for (const t of transports) await t.close() }}
}

const refusal = (code: string, text: string) => ({status: 500, headers: {}, body: Buffer.from(text), errorCode: code})

describe('forwarding over the server RPC port', () => {
  it('a write a server answered it did not carry out (no leader, full disk, not applied) goes to the next server', async () => {
    for (const [code, text] of [['NO_LEADER', 'No cluster leader'], ['DISK_FULL', 'this server cannot write to its disk'], ['WRITE_NOT_APPLIED', 'the write was not applied']]) {
      const seen: string[] = []
      const {forward, close} = await servers([
        async () => { seen.push('first'); return refusal(code, text) },
        async () => { seen.push('second'); return {status: 200, headers: {}, body: Buffer.from('true')} },
      ])
      try {
        const answer = await forward({method: 'PUT', url: '/v1/kv/a', headers: {}, body: Buffer.from('v')})
        assert.equal(answer.status, 200, code)
        assert.deepEqual(seen, ['first', 'second'], code)
      } finally {
        await close()
      }
    }
  })

  it("when every server says No cluster leader the caller gets that answer, Consul's wording; other errors are not retried", async () => {
    const seen: string[] = []
    const noLeader = (name: string) => async () => { seen.push(name); return refusal('NO_LEADER', 'No cluster leader') }
    const all = await servers([noLeader('a'), noLeader('b')], 300)
    try {
      const answer = await all.forward(get('/v1/kv/a'))
      assert.equal(answer.status, 500)
      assert.equal(Buffer.from(answer.body).toString(), 'No cluster leader')
      assert.ok(seen.includes('a') && seen.includes('b'), `tried ${seen.join(', ')}`)
      assert.ok(seen.length <= 24, `bounded: ${seen.length} attempts`)
    } finally {
      await all.close()
    }
    // A server's own failure (here a 500 that is not one of those) may have applied the write: not sent again.
    const tried: string[] = []
    const other = await servers([
      async () => { tried.push('first'); return refusal('SERVER_ERROR', 'apply failed') },
      async () => { tried.push('second'); return {status: 200, headers: {}, body: Buffer.from('true')} },
    ])
    try {
      const answer = await other.forward({method: 'PUT', url: '/v1/kv/a', headers: {}, body: Buffer.from('v')})
      assert.equal(answer.status, 500)
      assert.deepEqual(tried, ['first'])
    } finally {
      await other.close()
    }
  })

  it('a server that said No cluster leader is what the caller hears, not a dead server tried after it', async () => {
    for (const deadFirst of [false, true]) {
      const live = new RpcTransport({localId: 'live'})
      serveForwardedRequests(live, async () => refusal('NO_LEADER', 'No cluster leader'))
      const liveAddress = `127.0.0.1:${await live.listen('127.0.0.1', 0)}`
      const gone = new RpcTransport({localId: 'gone'})
      const deadAddress = `127.0.0.1:${await gone.listen('127.0.0.1', 0)}`
      await gone.close()
      const addresses = deadFirst ? [deadAddress, liveAddress] : [liveAddress, deadAddress]
      const client = new RpcTransport({localId: 'client'})
      const forward = createForwarder(new ServerRpc(new ServerPool({servers: () => addresses, random: () => 0}), client, {holdMs: 300}), 'client-1', () => {})
      try {
        const answer = await forward(get('/v1/kv/a'))
        assert.equal(answer.status, 500, `dead server ${deadFirst ? 'first' : 'second'}`)
        assert.equal(Buffer.from(answer.body).toString(), 'No cluster leader', `dead server ${deadFirst ? 'first' : 'second'}`)
      } finally {
        await client.close()
        await live.close()
      }
    }
  })

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
