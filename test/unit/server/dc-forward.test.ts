// Cross-datacenter forwarding over real loopback sockets: which requests cross (routeRequest), and
// createDcForwarder against stand-in "dc2" servers answering the real 'http-forward' RPC: the
// servers picked from WAN members, another tried when one cannot be reached, the loop marker, the
// caller's cancel carried over, and "No path to datacenter" for unknown or unreachable datacenters.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, type AddressInfo} from 'node:net'
import {RpcTransport} from '../../../src/lib/rpc/transport.js'
import {serveForwardedRequests} from '../../../src/lib/forward/forward.js'
import {createDcForwarder} from '../../../src/lib/server/dc-forward.js'
import {bodyDatacenter, namesOtherDatacenter, routeRequest} from '../../../src/lib/forward/request-route.js'
import {HttpError} from '../../../src/lib/errors.js'
import type {MemberInfo} from '../../../src/lib/http/context.js'
import type {ForwardedRequest} from '../../../src/lib/forward/forwarded.js'
import {LogHub} from '../../../src/lib/logger.js'

const log = new LogHub('error', () => {}).logger('test')
const get = (url: string): ForwardedRequest => ({method: 'GET', url, headers: {}, body: new Uint8Array()})

function wanMember(name: string, dc: string, port: number, status = 1): MemberInfo {
  return {
    Name: `${name}.${dc}`, Addr: '127.0.0.1', Port: 8302, Status: status, Tags: {role: 'consul', dc, port: String(port)},
    ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  }
}

/** A port nothing listens on (bound, then closed): connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function noPath(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof HttpError && error.status === 500 && error.message === 'No path to datacenter')
}

describe('routeRequest: where a request runs', () => {
  const server = {datacenter: 'dc1', client: false}
  const client = {datacenter: 'dc1', client: true}
  it('a server forwards server endpoints naming another datacenter, answers its own datacenter locally', () => {
    assert.equal(routeRequest('/v1/kv/a', 'dc2', server), 'datacenter')
    assert.equal(routeRequest('/v1/kv/a', 'DC2', server), 'datacenter')
    assert.equal(routeRequest('/v1/catalog/nodes', 'dc1', server), 'local')
    assert.equal(routeRequest('/v1/kv/a', 'DC1', server), 'local')
    assert.equal(routeRequest('/v1/kv/a', '', server), 'local')
    // Prefix rules: an endpoint added later (coordinates) crosses without being listed.
    assert.equal(routeRequest('/v1/coordinate/nodes', 'dc2', server), 'datacenter')
    assert.equal(routeRequest('/v1/event/fire/deploy', 'dc2', server), 'datacenter')
  })
  it('the agent\'s own endpoints and the datacenter lists ignore ?dc=, as Consul\'s handlers do', () => {
    for (const path of ['/v1/agent/self', '/v1/agent/members', '/v1/event/list', '/v1/operator/keyring']) {
      assert.equal(routeRequest(path, 'dc2', server), 'local', path)
      assert.equal(routeRequest(path, 'dc2', client), 'local', path)
    }
    for (const path of ['/v1/catalog/datacenters', '/v1/coordinate/datacenters']) {
      assert.equal(routeRequest(path, 'dc2', server), 'local', path)
      assert.equal(routeRequest(path, 'dc2', client), 'server', path) // its server answers, for its own list
    }
  })
  it('a client hands every server request to its server, and an event fire naming another datacenter', () => {
    assert.equal(routeRequest('/v1/kv/a', '', client), 'server')
    assert.equal(routeRequest('/v1/kv/a', 'dc2', client), 'server')
    assert.equal(routeRequest('/v1/event/fire/deploy', 'dc2', client), 'server')
    assert.equal(routeRequest('/v1/event/fire/deploy', '', client), 'local')
  })
  it('namesOtherDatacenter reads ?dc= from a raw URL (a client ignores such answers for its own leader state)', () => {
    assert.equal(namesOtherDatacenter('/v1/kv/a?dc=dc2&index=3', 'dc1'), true)
    assert.equal(namesOtherDatacenter('/v1/kv/a?dc=DC1', 'dc1'), false)
    assert.equal(namesOtherDatacenter('/v1/kv/a?dc=', 'dc1'), false)
    assert.equal(namesOtherDatacenter('/v1/kv/a', 'dc1'), false)
  })
  it('bodyDatacenter: a write\'s body naming another datacenter sends it there; ?dc= and this datacenter keep it here', () => {
    assert.equal(bodyDatacenter({Datacenter: 'DC2', Node: 'n'}, '', 'dc1'), 'dc2')
    assert.equal(bodyDatacenter({Datacenter: 'dc1'}, '', 'dc1'), undefined)
    assert.equal(bodyDatacenter({Datacenter: 'DC1'}, '', 'dc1'), undefined)
    assert.equal(bodyDatacenter({Datacenter: ''}, '', 'dc1'), undefined)
    assert.equal(bodyDatacenter({Node: 'n'}, '', 'dc1'), undefined)
    assert.equal(bodyDatacenter({Datacenter: 7}, '', 'dc1'), undefined, 'not a string: the decoder answers it')
    assert.equal(bodyDatacenter([{Datacenter: 'dc2'}], '', 'dc1'), undefined)
    assert.equal(bodyDatacenter(null, '', 'dc1'), undefined)
    assert.equal(bodyDatacenter({Datacenter: 'dc2'}, 'dc3', 'dc1'), undefined, '?dc= wins (already routed on)')
  })
  it('a request that already crossed a datacenter never crosses another', () => {
    assert.equal(routeRequest('/v1/kv/a', 'dc3', {datacenter: 'dc2', client: false}, true), 'no-path')
    assert.equal(routeRequest('/v1/kv/a', 'dc2', {datacenter: 'dc2', client: false}, true), 'local')
  })
})

describe('createDcForwarder over the server RPC port', () => {
  const transports: RpcTransport[] = []
  after(async () => { await Promise.all(transports.map((t) => t.close())) })

  async function remoteServer(id: string, run: Parameters<typeof serveForwardedRequests>[1]): Promise<number> {
    const transport = new RpcTransport({localId: id})
    transports.push(transport)
    serveForwardedRequests(transport, run)
    return transport.listen('127.0.0.1', 0)
  }
  function forwarder(members: () => MemberInfo[]) {
    const transport = new RpcTransport({localId: 'dc1-server'})
    transports.push(transport)
    return createDcForwarder({transport, wanMembers: members, datacenter: 'dc1', nodeName: 's1', log})
  }

  it('sends the request to an alive server of that datacenter, marked as crossed, and returns its answer whole', async () => {
    const seen: ForwardedRequest[] = []
    const port = await remoteServer('dc2-a', async (request) => {
      seen.push(request)
      return {status: 200, headers: {'X-Consul-Index': '42', 'X-Consul-KnownLeader': 'true'}, body: Buffer.from('from dc2')}
    })
    const dead = await closedPort()
    // dc2's failed member and dc1's own server are never picked.
    const forward = forwarder(() => [wanMember('s1', 'dc1', dead), wanMember('s9', 'dc2', dead, 4), wanMember('s2', 'dc2', port)])
    const answer = await forward('dc2', get('/v1/kv/a?dc=dc2'))
    assert.equal(answer.status, 200)
    assert.deepEqual(answer.headers, {'X-Consul-Index': '42', 'X-Consul-KnownLeader': 'true'})
    assert.equal(Buffer.from(answer.body).toString(), 'from dc2')
    assert.equal(seen[0].fromDc, 'dc1')
    assert.equal(seen[0].url, '/v1/kv/a?dc=dc2')
  })

  it('tries another alive server when the first cannot be reached', async () => {
    let answered = 0
    const port = await remoteServer('dc3-b', async () => {
      answered++
      return {status: 200, headers: {}, body: Buffer.from('ok')}
    })
    const dead = await closedPort()
    // Both orders: whichever the pool picks first, the reachable one answers.
    for (const members of [[wanMember('a', 'dc3', dead), wanMember('b', 'dc3', port)], [wanMember('b', 'dc3', port), wanMember('a', 'dc3', dead)]]) {
      const forward = forwarder(() => members)
      for (let i = 0; i < 3; i++) assert.equal((await forward('dc3', get('/v1/kv/x?dc=dc3'))).status, 200)
    }
    assert.equal(answered, 6)
  })

  it('answers No path to datacenter for an unknown datacenter, one without an alive server, or none reachable', async () => {
    const dead = await closedPort()
    const forward = forwarder(() => [wanMember('a', 'dc4', dead), wanMember('b', 'dc5', dead, 4)])
    await noPath(forward('mars', get('/v1/kv/x?dc=mars')))
    await noPath(forward('dc5', get('/v1/kv/x?dc=dc5')))
    const started = performance.now()
    await noPath(forward('dc4', get('/v1/kv/x?dc=dc4&index=5&wait=60s')))
    console.log(`# dc-forward: unreachable datacenter answered No path in ${Math.round(performance.now() - started)} ms`)
    await noPath(forward('dc1', get('/v1/kv/x?dc=dc1')))
  })

  it('carries the caller leaving over to the remote server (a parked blocking query lets go)', async () => {
    let released = 0
    const port = await remoteServer('dc6-a', async (_request, cancelled) => {
      let timer: NodeJS.Timeout | undefined
      const outcome = await Promise.race([cancelled.then(() => 'cancelled'), new Promise((r) => { timer = setTimeout(() => r('timeout'), 10_000) })])
      clearTimeout(timer)
      if (outcome === 'cancelled') released = performance.now()
      return {status: 500, headers: {}, body: Buffer.from('request cancelled by the client agent')}
    })
    const forward = forwarder(() => [wanMember('a', 'dc6', port)])
    let leave: () => void = () => {}
    const closed = new Promise<void>((resolve) => { leave = resolve })
    const pending = forward('dc6', get('/v1/kv/a?dc=dc6&index=3&wait=60s'), closed)
    await new Promise((r) => setTimeout(r, 100))
    const left = performance.now()
    leave()
    await pending
    assert.ok(released > 0, 'the remote server saw the cancel')
    assert.ok(released - left < 5_000, `released ${released - left} ms after the caller left`)
  })
})
