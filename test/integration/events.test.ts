// User events across three real agents: `coord event` / PUT /v1/event/fire on one agent reaches
// the others by LAN gossip exactly once; a node filter is applied by the receivers; a blocking
// /v1/event/list wakes on a new event; bad input answers 400 one-liners and CLI errors; the npm
// `consul` client's event.fire / event.list work unchanged.
import {describe, it, before} from 'node:test'
import assert from 'node:assert/strict'
import type {AgentMember} from '../../src/lib/api/agent.js'
import type {UserEventEntry} from '../../src/lib/api/event.js'
import {runCli, useCluster} from '../helpers/agent.js'
import {consulClient, http, sleep} from '../helpers/http.js'

async function list(httpAddr: string, query = ''): Promise<{events: UserEventEntry[]; index: string}> {
  const res = await http(httpAddr, 'GET', `/v1/event/list${query}`)
  assert.equal(res.status, 200, res.text)
  return {events: res.json<UserEventEntry[]>(), index: String(res.headers['x-consul-index'])}
}

/** Polls until `id` is listed by every agent; returns the ms it took. */
async function waitListed(httpAddrs: string[], id: string, timeoutMs: number): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < timeoutMs) {
    const seen = await Promise.all(httpAddrs.map(async (a) => (await list(a)).events.some((e) => e.ID === id)))
    if (seen.every(Boolean)) return Date.now() - start
    await sleep(50)
  }
  throw new Error(`event ${id} not listed everywhere within ${timeoutMs} ms`)
}

describe('user events over the LAN pool of three agents', () => {
  const ctx = useCluster(3, 'coord-events-')
  const addrs = () => ctx.cluster.servers.map((s) => s.httpAddr)

  before(async () => {
    const start = Date.now()
    for (;;) {
      const views = await Promise.all(addrs().map(async (a) => (await http(a, 'GET', '/v1/agent/members')).json<AgentMember[]>()))
      if (views.every((v) => v.length === 3 && v.every((m) => m.Status === 1))) break
      if (Date.now() - start > 15_000) throw new Error('gossip did not converge')
      await sleep(100)
    }
  })

  it('coord event on one agent is listed once by all three, with payload and Lamport time', async () => {
    const cli = await runCli(['event', '-name=deploy', 'v1.2.3'], {httpAddr: addrs()[0]})
    assert.equal(cli.code, 0, cli.stderr)
    const id: string = /^Event ID: ([0-9a-f-]{36})$/.exec(cli.stdout.trim())?.[1] ?? ''
    assert.notEqual(id, '', cli.stdout)
    const took = await waitListed(addrs(), id, 10_000)
    console.log(`# events: listed by all 3 agents ${took} ms after coord event returned`)
    await sleep(500) // let retransmissions land: a duplicate would show up now
    for (const addr of addrs()) {
      const {events, index} = await list(addr, '?name=deploy')
      const mine: UserEventEntry[] = events.filter((e) => e.ID === id)
      assert.equal(mine.length, 1, `${addr} lists it once`)
      assert.equal(Buffer.from(mine[0].Payload!, 'base64').toString(), 'v1.2.3')
      assert.equal(mine[0].Version, 1)
      assert.ok(mine[0].LTime > 0)
      const hex: string = id.replace(/-/g, '')
      assert.equal(index, (BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`)).toString())
    }
  })

  it('a node filter reaches only the matching node', async () => {
    const res = await http(addrs()[0], 'PUT', '/v1/event/fire/only-two?node=%5Eserver-2%24', 'x')
    assert.equal(res.status, 200, res.text)
    const fired = res.json<UserEventEntry>()
    assert.equal(fired.NodeFilter, '^server-2$')
    assert.equal(fired.LTime, 0)
    await waitListed([addrs()[1]], fired.ID, 10_000)
    // A later unfiltered event reaching everyone proves the filtered one had its chance too.
    const marker = (await http(addrs()[1], 'PUT', '/v1/event/fire/marker')).json<UserEventEntry>()
    await waitListed(addrs(), marker.ID, 10_000)
    for (const addr of [addrs()[0], addrs()[2]]) {
      assert.equal((await list(addr, '?name=only-two')).events.length, 0, `${addr} must not keep it`)
    }
  })

  it('a blocking list parks until a new event arrives, and times out with the same index', async () => {
    const target = addrs()[2]
    const {index} = await list(target)
    const start = Date.now()
    const parked = http(target, 'GET', `/v1/event/list?index=${index}&wait=30s`)
    await sleep(300)
    const fired = (await http(addrs()[0], 'PUT', '/v1/event/fire/wake', 'now')).json<UserEventEntry>()
    const res = await parked
    const took = Date.now() - start
    console.log(`# events: blocking list woke ${took} ms after parking (event fired at ~300 ms)`)
    assert.equal(res.status, 200)
    assert.ok(took < 15_000, `woke in ${took} ms`)
    assert.ok(took >= 250, 'it did park')
    assert.ok(res.json<UserEventEntry[]>().some((e) => e.ID === fired.ID))
    assert.notEqual(res.headers['x-consul-index'], index)

    const now = await list(target)
    const t0 = Date.now()
    const idle = await http(target, 'GET', `/v1/event/list?index=${now.index}&wait=1s`)
    const idleMs = Date.now() - t0
    assert.equal(idle.headers['x-consul-index'], now.index)
    assert.ok(idleMs >= 900 && idleMs < 10_000, `timed out after ${idleMs} ms`)
    // A different index answers at once.
    const t1 = Date.now()
    await http(target, 'GET', '/v1/event/list?index=12345&wait=30s')
    assert.ok(Date.now() - t1 < 5000)
  })

  it('bad input: 400 one-liners from the API, Consul\'s errors from the CLI', async () => {
    const a = addrs()[0]
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['/v1/event/fire/', undefined, /^Missing name$/],
      ['/v1/event/fire/x?node=(', undefined, /^Invalid node filter: /],
      ['/v1/event/fire/x?tag=blue', undefined, /^Cannot provide tag filter without service filter$/],
      ['/v1/event/fire/x', 'p'.repeat(600), /^user event exceeds configured limit of 512 bytes/],
    ]
    for (const [path, body, message] of cases) {
      const res = await http(a, 'PUT', path, body)
      assert.equal(res.status, 400, `${path}: ${res.text}`)
      assert.match(res.text, message)
      assert.ok(!res.text.includes('\n'))
    }
    assert.equal((await http(a, 'GET', '/v1/event/fire/x')).status, 405)
    assert.equal((await http(a, 'GET', '/v1/event/list?index=abc')).status, 400)

    const noName = await runCli(['event', 'payload'], {httpAddr: a})
    assert.equal(noName.code, 1)
    assert.match(noName.stderr, /^Event name must be specified\n/)
    const badRe = await runCli(['event', '-name=x', '-node=('], {httpAddr: a})
    assert.equal(badRe.code, 1)
    assert.match(badRe.stderr, /^Failed to compile node filter regexp: /)
    const tagOnly = await runCli(['event', '-name=x', '-tag=a'], {httpAddr: a})
    assert.equal(tagOnly.code, 1)
    assert.match(tagOnly.stderr, /^Cannot provide tag filter without service filter\.$/m)
    const many = await runCli(['event', '-name=x', 'a', 'b'], {httpAddr: a})
    assert.equal(many.code, 1)
    assert.match(many.stderr, /^Too many command line arguments\./)
    const down = await runCli(['event', '-name=x'], {httpAddr: '127.0.0.1:1'})
    assert.equal(down.code, 1)
    assert.match(down.stderr, /^Error querying Consul agent: /)
    const huge = await runCli(['event', '-name=x', 'p'.repeat(600)], {httpAddr: a})
    assert.equal(huge.code, 1)
    assert.match(huge.stderr, /^Error firing event: Unexpected response code: 400 \(user event exceeds/)
  })

  it('the npm consul client fires and lists events', async () => {
    const consul = consulClient(addrs()[1])
    const fired = await consul.event.fire({name: 'npm-client', payload: 'hello'})
    assert.match(fired.ID, /^[0-9a-f-]{36}$/)
    assert.equal(fired.Payload, 'hello')
    await waitListed([addrs()[1]], fired.ID, 10_000)
    const events = await consul.event.list({name: 'npm-client'})
    assert.equal(events.length, 1)
    assert.equal(events[0].ID, fired.ID)
    assert.equal(events[0].Payload, 'hello')
  })
})
