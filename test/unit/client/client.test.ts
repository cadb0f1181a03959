// Client-agent pieces that need no process: which server to call, what a forwarded request carries
// and how long it may take, which paths stay on the agent, and the socket-less response capture.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {ServerPool, rebalanceIntervalMs} from '../../../src/lib/forward/server-pool.js'
import {RENEW_ATTEMPT_TIMEOUT_MS, forwardAttemptTimeoutMs, forwardTimeoutMs, getFromServer, parseForwarded, withAgentDefaults} from '../../../src/lib/forward/forward.js'
import {serverAddresses} from '../../../src/lib/forward/server-pool.js'
import {runsOnAgent} from '../../../src/lib/forward/agent-local-paths.js'
import {CapturedResponse} from '../../../src/lib/http/dispatch.js'
import type {MemberInfo} from '../../../src/lib/http/context.js'

describe('ServerPool', () => {
  it('sticks with its pick while it is alive, and picks another after a failure', () => {
    let now = 0
    const alive = ['a:8300', 'b:8300', 'c:8300']
    const pool = new ServerPool({servers: () => alive, random: () => 0.5, now: () => now, cooldownMs: 1000})
    const first = pool.pick()
    assert.equal(first, 'b:8300')
    for (let i = 0; i < 5; i++) assert.equal(pool.pick(), first)
    pool.failed('b:8300')
    const second = pool.pick()
    assert.notEqual(second, 'b:8300')
    assert.equal(pool.pick(), second, 'the new pick sticks too')
    assert.equal(second, 'c:8300')
    // c fails later; once b's cool-down is over it is a candidate again, c is not yet.
    now = 500
    pool.failed('c:8300')
    now = 1200
    assert.equal(pool.pick(), 'b:8300', 'healthy choices are [a, b]; random 0.5 takes b')
  })

  it('uses a failed server when nothing else is alive, never an excluded one, and none when gossip knows none', () => {
    const alive = ['a:8300']
    const pool = new ServerPool({servers: () => alive})
    pool.failed('a:8300')
    assert.equal(pool.pick(), 'a:8300')
    assert.equal(pool.pick(new Set(['a:8300'])), undefined)
    alive.pop()
    assert.equal(pool.pick(), undefined)
  })

  it('rebalance: the next call picks afresh, so a server added later gets clients; a cooling-down one is still avoided', () => {
    const alive = ['a:8300']
    let draw = 0.9
    const pool = new ServerPool({servers: () => alive, random: () => draw, now: () => 0, cooldownMs: 1000})
    assert.equal(pool.pick(), 'a:8300')
    alive.push('b:8300', 'c:8300')
    assert.equal(pool.pick(), 'a:8300', 'without a rebalance the pick sticks')
    pool.rebalance()
    assert.equal(pool.current(), undefined)
    assert.equal(pool.pick(), 'c:8300', 'random 0.9 of [a, b, c]')
    pool.failed('b:8300')
    pool.rebalance()
    draw = 0.5
    assert.equal(pool.pick(), 'c:8300', 'healthy choices are [a, c]; b sits out its cool-down')
  })

  it('rebalance interval: Consul\'s 120 s + up to 60 s, stretched to ≤ 64 rebalances/s per server across the pool', () => {
    assert.equal(rebalanceIntervalMs(3, 50, () => 0), 120_000)
    assert.equal(rebalanceIntervalMs(3, 50, () => 1), 180_000)
    // 100,000 members on one server: 100000 / 64 s ≈ 1562.5 s.
    assert.equal(rebalanceIntervalMs(1, 100_000, () => 0), 1_562_500)
    assert.equal(rebalanceIntervalMs(0, 10, () => 0), 120_000, 'no server known: the floor')
  })

  it('drops its pick once gossip no longer lists it alive', () => {
    const alive = ['a:8300', 'b:8300']
    const pool = new ServerPool({servers: () => alive, random: () => 0})
    assert.equal(pool.pick(), 'a:8300')
    alive.shift()
    assert.equal(pool.pick(), 'b:8300')
  })
})

describe('serverAddresses', () => {
  const member = (name: string, addr: string, status: number, tags: Record<string, string>): MemberInfo => ({
    Name: name, Addr: addr, Port: 8301, Tags: tags, Status: status,
    ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  })
  it('keeps alive servers of this datacenter at their RPC port', () => {
    const members = [
      member('s1', '10.0.0.1', 1, {role: 'consul', port: '8300', dc: 'dc1'}),
      member('s2', '10.0.0.2', 4, {role: 'consul', port: '8300', dc: 'dc1'}), // failed
      member('c1', '10.0.0.3', 1, {role: 'node', dc: 'dc1'}),
      member('s3', '::1', 1, {role: 'consul', port: '9300', dc: 'dc1'}),
      member('s4', '10.0.0.4', 1, {role: 'consul', port: '8300', dc: 'dc2'}),
    ]
    assert.deepEqual(serverAddresses(members, 'dc1'), ['10.0.0.1:8300', '[::1]:9300'])
  })
})

describe('forwarding rules', () => {
  it('keeps agent endpoints, events and the keyring on the agent; forwards the rest', () => {
    for (const path of ['/v1/agent/self', '/v1/agent/service/register', '/v1/event/fire/deploy', '/v1/event/list', '/v1/operator/keyring', '/']) {
      assert.equal(runsOnAgent(path), true, path)
    }
    for (const path of ['/v1/kv/a', '/v1/txn', '/v1/session/create', '/v1/status/leader', '/v1/catalog/nodes', '/v1/operator/raft/configuration', '/v1/snapshot']) {
      assert.equal(runsOnAgent(path), false, path)
    }
  })

  it('a server accepts forwarded requests for shared state only, never an agent-local one', () => {
    const request = (url: string) => ({method: 'PUT', url, headers: {'Content-Type': 'text/plain'}, body: new Uint8Array()})
    assert.deepEqual(parseForwarded(request('/v1/kv/a?cas=0')).headers, {'content-type': 'text/plain'})
    assert.throws(() => parseForwarded(request('/v1/agent/leave')), /\/v1\/agent\/leave runs on the agent that receives it/)
    assert.throws(() => parseForwarded(request('/v1/%61gent/leave')), /runs on the agent/)
    assert.throws(() => parseForwarded({method: 'GET', url: 'kv', headers: {}, body: new Uint8Array()}), /needs a method and a URL path/)
    assert.throws(() => parseForwarded({method: 'GET', url: '/v1/kv/a', headers: {}, body: 'text'}), /body must be bytes/)
  })

  it('gives a blocking query its wait plus jitter on top of the base timeout', () => {
    assert.equal(forwardTimeoutMs('/v1/kv/a'), 30_000)
    assert.equal(forwardTimeoutMs('/v1/kv/a?index=0&wait=1m'), 30_000)
    assert.equal(forwardTimeoutMs('/v1/kv/a?index=7&wait=16s'), 16_000 + 1_000 + 30_000)
    assert.equal(forwardTimeoutMs('/v1/kv/a?index=7'), 300_000 + 18_750 + 30_000, 'default wait 5m')
    assert.equal(forwardTimeoutMs('/v1/kv/a?index=7&wait=1h'), 600_000 + 37_500 + 30_000, 'wait capped at 10m')
    assert.equal(forwardTimeoutMs('/v1/kv/a?index=7&wait=bogus'), 300_000 + 18_750 + 30_000)
    // Naming a datacenter: the server may forward it once more with the plain timeout, which must expire first.
    assert.equal(forwardTimeoutMs('/v1/kv/a?dc=dc2&index=7&wait=16s'), 16_000 + 1_000 + 30_000 + 5_000)
    assert.equal(forwardTimeoutMs('/v1/kv/a?dc=dc2&index=7&wait=16s', true), 16_000 + 1_000 + 30_000)
  })

  it('gives a session renewal a short attempt (then another server), everything else the plain timeout', () => {
    assert.equal(RENEW_ATTEMPT_TIMEOUT_MS, 2_000)
    assert.equal(forwardAttemptTimeoutMs({method: 'PUT', url: '/v1/session/renew/abc'}), 2_000)
    assert.equal(forwardAttemptTimeoutMs({method: 'PUT', url: '/v1/session/renew/abc?stale'}), 2_000)
    // Through another datacenter it keeps the hop ordering of forwardTimeoutMs.
    assert.equal(forwardAttemptTimeoutMs({method: 'PUT', url: '/v1/session/renew/abc?dc=dc2'}), 35_000)
    assert.equal(forwardAttemptTimeoutMs({method: 'PUT', url: '/v1/session/create'}), 30_000)
    assert.equal(forwardAttemptTimeoutMs({method: 'GET', url: '/v1/session/renew/abc'}), 30_000)
    assert.equal(forwardAttemptTimeoutMs({method: 'GET', url: '/v1/kv/a?index=7&wait=16s'}), 16_000 + 1_000 + 30_000)
  })

  it('fills in the receiving node for a session created without one, and nothing else', () => {
    const body = (text: string) => Buffer.from(text)
    const create = (text: string) => withAgentDefaults({method: 'PUT', url: '/v1/session/create?dc=dc1', headers: {}, body: body(text)}, 'client-1')
    assert.deepEqual(JSON.parse(Buffer.from(create('').body).toString()), {Node: 'client-1'})
    assert.deepEqual(JSON.parse(Buffer.from(create('{"TTL":"15s"}').body).toString()), {TTL: '15s', Node: 'client-1'})
    assert.deepEqual(JSON.parse(Buffer.from(create('{"Node":"other"}').body).toString()), {Node: 'other'})
    assert.equal(Buffer.from(create('not json').body).toString(), 'not json', 'the server reports the decode error')
    const put = {method: 'PUT', url: '/v1/kv/session/create', headers: {}, body: body('')}
    assert.equal(withAgentDefaults(put, 'client-1'), put)
  })
})

describe('getFromServer', () => {
  it('parses a 200, maps 404 to undefined, and rejects with the reason otherwise', async () => {
    const seen: string[] = []
    const forward = async (request: {method: string; url: string}) => {
      seen.push(`${request.method} ${request.url}`)
      if (request.url.endsWith('/missing')) return {status: 404, headers: {}, body: new Uint8Array()}
      if (request.url.endsWith('/broken')) return {status: 500, headers: {}, body: Buffer.from('No cluster leader')}
      return {status: 200, headers: {}, body: Buffer.from('{"Node":{"Node":"c1"}}')}
    }
    assert.deepEqual(await getFromServer(forward, '/v1/catalog/node/c1'), {Node: {Node: 'c1'}})
    assert.equal(await getFromServer(forward, '/v1/catalog/node/missing'), undefined)
    await assert.rejects(getFromServer(forward, '/v1/catalog/node/broken'), (error: Error) => error.message === 'No cluster leader')
    assert.deepEqual(seen, ['GET /v1/catalog/node/c1', 'GET /v1/catalog/node/missing', 'GET /v1/catalog/node/broken'])
  })
})

describe('CapturedResponse', () => {
  it('records status, headers and body as a handler writes them', async () => {
    const res = new CapturedResponse()
    let closed = false
    res.once('close', () => { closed = true })
    res.setHeader('X-Consul-Index', 12)
    res.setHeader('Content-Type', 'application/json')
    res.statusCode = 404
    res.write('[1,')
    res.end(Buffer.from('2]'))
    await res.finished
    const answer = res.toForwarded()
    assert.equal(answer.status, 404)
    assert.deepEqual(answer.headers, {'X-Consul-Index': '12', 'Content-Type': 'application/json'})
    assert.equal(Buffer.from(answer.body).toString(), '[1,2]')
    await new Promise((r) => setImmediate(r))
    assert.equal(closed, true, "'close' fires after the end, as on a socket")
  })

  it('answers 500 for a response destroyed half-written', async () => {
    const res = new CapturedResponse()
    res.write('partial')
    res.destroy()
    await res.finished
    assert.equal(res.toForwarded().status, 500)
  })
})
