// Client agents (no -server) against three real servers: every non-local /v1 request goes through a
// client to a server and back unchanged (KV, ?consistent and blocking reads, txn, sessions, the npm
// `consul` client), the agent's own endpoints answer locally, and when the client's server is
// killed its next requests go through another one. A client that knows no server says so.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import Consul from 'consul'
import {clientArgs, randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {runCli, tempDir, useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

/** The server RPC address a client last logged it uses ("client: using server: server=host:port"). */
function serverInUse(client: AgentProcess): string | undefined {
  const matches = [...client.output().matchAll(/client: using server: server=(\S+)/g)]
  return matches.at(-1)?.[1]
}

describe('client agents with three servers', () => {
  const ctx = useCluster(3, 'coord-clients-', {clients: 2})
  const client = (i: number) => ctx.cluster.clients[i].httpAddr
  const server = (i: number) => ctx.cluster.servers[i].httpAddr

  it('a write through one client reads back through the other client and through every server', async () => {
    const put = await http(client(0), 'PUT', '/v1/kv/shared/greeting?flags=7', 'hello from a client')
    assert.equal(put.status, 200)
    assert.equal(put.text, 'true')
    for (const addr of [client(1), server(0), server(1), server(2)]) {
      const got = await http(addr, 'GET', '/v1/kv/shared/greeting')
      assert.equal(got.status, 200, addr)
      const [entry] = got.json<Array<{Value: string; Flags: number}>>()
      assert.equal(Buffer.from(entry.Value, 'base64').toString(), 'hello from a client')
      assert.equal(entry.Flags, 7)
      assert.ok(Number(got.headers['x-consul-index']) > 0)
      assert.equal(got.headers['x-consul-knownleader'], 'true')
    }
    const missing = await http(client(1), 'GET', '/v1/kv/shared/nothing-here')
    assert.equal(missing.status, 404)
  })

  it('?consistent reads and blocking GETs through a client see writes made on a server', async (t) => {
    await http(server(1), 'PUT', '/v1/kv/block/k', 'v1')
    const consistent = await http(client(0), 'GET', '/v1/kv/block/k?consistent')
    assert.equal(consistent.status, 200)
    assert.equal(consistent.headers['x-consul-effective-consistency'], 'consistent')
    const index = Number(consistent.headers['x-consul-index'])
    const started = performance.now()
    const blocked = http(client(1), 'GET', `/v1/kv/block/k?index=${index}&wait=30s`)
    await sleep(300)
    await http(server(2), 'PUT', '/v1/kv/block/k', 'v2')
    const woke = await blocked
    const ms = performance.now() - started
    t.diagnostic(`blocking GET through a client woke ${Math.round(ms)} ms after it was sent (write after 300 ms)`)
    assert.equal(woke.status, 200)
    assert.ok(Number(woke.headers['x-consul-index']) > index)
    assert.equal(Buffer.from(woke.json<Array<{Value: string}>>()[0].Value, 'base64').toString(), 'v2')
    assert.ok(ms < 10_000, `woke after ${ms} ms, well before its 30 s wait`)
    // A blocking query that nothing wakes answers after its wait, through the client too.
    const quiet = await http(client(0), 'GET', `/v1/kv/block/k?index=${woke.headers['x-consul-index']}&wait=1s`)
    assert.equal(quiet.status, 200)
    assert.equal(quiet.headers['x-consul-index'], woke.headers['x-consul-index'])
  })

  it('runs a transaction through a client', async () => {
    const ops = [
      {KV: {Verb: 'set', Key: 'txn/a', Value: Buffer.from('1').toString('base64')}},
      {KV: {Verb: 'set', Key: 'txn/b', Value: Buffer.from('2').toString('base64')}},
      {KV: {Verb: 'get', Key: 'txn/a'}},
    ]
    const res = await http(client(0), 'PUT', '/v1/txn', JSON.stringify(ops))
    assert.equal(res.status, 200, res.text)
    const body = res.json<{Results: Array<{KV: {Key: string}}>; Errors: unknown}>()
    assert.equal(body.Results.length, 3)
    assert.equal(body.Errors, null)
    const failing = await http(client(1), 'PUT', '/v1/txn', JSON.stringify([{KV: {Verb: 'cas', Key: 'txn/a', Index: 1, Value: ''}}]))
    assert.equal(failing.status, 409)
    assert.equal((await http(server(0), 'GET', '/v1/kv/txn/b?raw')).text, '2')
  })

  it('creates, renews and destroys a session through a client', async () => {
    // Bound to a server's node, which the leader keeps in the catalog.
    const created = await http(client(0), 'PUT', '/v1/session/create', JSON.stringify({Node: 'server-1', TTL: '30s', Name: 'via-client'}))
    assert.equal(created.status, 200, created.text)
    const id = created.json<{ID: string}>().ID
    const info = await http(server(2), 'GET', `/v1/session/info/${id}`)
    assert.equal(info.json<Array<{Name: string; Node: string}>>()[0].Name, 'via-client')
    const renewed = await http(client(1), 'PUT', `/v1/session/renew/${id}`)
    assert.equal(renewed.status, 200, renewed.text)
    assert.equal(renewed.json<Array<{ID: string}>>()[0].ID, id)
    const lock = await http(client(1), 'PUT', `/v1/kv/locked?acquire=${id}`, 'mine')
    assert.equal(lock.text, 'true')
    const destroyed = await http(client(0), 'PUT', `/v1/session/destroy/${id}`)
    assert.equal(destroyed.status, 200)
    assert.equal((await http(client(1), 'GET', `/v1/session/info/${id}`)).text, '[]')
    assert.equal((await http(client(0), 'GET', '/v1/kv/locked')).json<Array<{Session?: string}>>()[0].Session, undefined)
    assert.equal((await http(client(0), 'PUT', '/v1/session/renew/00000000-0000-0000-0000-000000000000')).status, 404)
  })

  it("a session created on a client without a Node belongs to the client's node", async () => {
    // The client node (and its serfHealth check) reaches the catalog through the leader's reconcile
    // of gossip members, about a second after the client joined; until then the server refuses.
    const deadline = Date.now() + 10_000
    let created = await http(client(0), 'PUT', '/v1/session/create', '{}')
    while (created.text === 'Missing node registration' && Date.now() < deadline) {
      await sleep(250)
      created = await http(client(0), 'PUT', '/v1/session/create', '{}')
    }
    assert.equal(created.status, 200, created.text)
    const id = created.json<{ID: string}>().ID
    const info = await http(server(0), 'GET', `/v1/session/info/${id}`)
    assert.equal(info.json<Array<{Node: string}>>()[0].Node, 'client-1')
  })

  it('answers its agent endpoints itself: Server false, every member listed, coord info and members work', async () => {
    const self = await http(client(0), 'GET', '/v1/agent/self')
    const body = self.json<{Config: {Server: boolean; NodeName: string}; Stats: Record<string, Record<string, string>>}>()
    assert.equal(body.Config.Server, false)
    assert.equal(body.Config.NodeName, 'client-1')
    assert.equal(body.Stats.consul.server, 'false')
    assert.equal(body.Stats.consul.known_servers, '3')
    assert.equal(body.Stats.raft, undefined, 'a client has no Raft')
    const members = await runCli(['members'], {httpAddr: client(0)})
    assert.equal(members.code, 0, members.stderr)
    for (const name of ['server-1', 'server-2', 'server-3', 'client-1', 'client-2']) assert.match(members.stdout, new RegExp(`^${name}\\s`, 'm'))
    assert.match(members.stdout, /^client-2\s.*\salive\s+client\s/m)
    const info = await runCli(['info'], {httpAddr: client(1)})
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, /^consul:\n(\t.*\n)*\tserver = false$/m)
    assert.match(info.stdout, /^agent:$/m)
    assert.doesNotMatch(info.stdout, /^raft:$/m)
    // Forwarded, so a client answers with the servers' view of the cluster.
    const leader = await http(client(1), 'GET', '/v1/status/leader')
    assert.match(leader.json<string>(), /^127\.\d+\.\d+\.[1-3]:8300$/)
    assert.equal((await http(client(1), 'GET', '/v1/status/peers')).json<string[]>().length, 3)
  })

  it('works with the npm consul client', async () => {
    const [host, port] = client(1).split(':')
    const consul = new Consul({host, port: Number(port)}) as any
    assert.equal(await consul.kv.set({key: 'npm/k', value: 'v', flags: 3}), true)
    const pair = await consul.kv.get('npm/k')
    assert.equal(pair.Value, 'v')
    assert.equal(pair.Flags, 3)
    const {ModifyIndex} = pair
    assert.equal(await consul.kv.set({key: 'npm/k', value: 'w', cas: ModifyIndex}), true)
    assert.ok(!(await consul.kv.set({key: 'npm/k', value: 'x', cas: ModifyIndex})))
    assert.deepEqual(await consul.kv.keys('npm/'), ['npm/k'])
    const session = await consul.session.create({node: 'server-2', ttl: '20s'})
    assert.match(session.ID, /^[0-9a-f-]{36}$/)
    await consul.session.destroy(session.ID)
    assert.equal((await consul.status.peers()).length, 3)
    const self = await consul.agent.self()
    assert.equal(self.Config.Server, false)
  })

  // Last: it leaves the cluster with two servers.
  it("carries on through another server when its server is killed", async (t) => {
    const c = ctx.cluster.clients[0]
    assert.equal((await http(c.httpAddr, 'GET', '/v1/kv/shared/greeting')).status, 200)
    const used = serverInUse(c)
    assert.ok(used, 'the client logs the server it uses')
    const victim = ctx.cluster.servers.findIndex((s) => s.httpAddr.split(':')[0] === used!.split(':')[0])
    assert.ok(victim >= 0, `server ${used} is one of the cluster's`)
    // The hardest case, made certain: the client's server is also the leader (moved there through
    // the client, which forwards operator calls too), so the kill costs an election as well.
    const victimSelf = (await http(ctx.cluster.servers[victim].httpAddr, 'GET', '/v1/agent/self')).json<{Config: {NodeID: string}; Stats: {consul: {leader: string}}}>()
    if (victimSelf.Stats.consul.leader !== 'true') {
      const moved = await http(c.httpAddr, 'POST', `/v1/operator/raft/transfer-leader?id=${victimSelf.Config.NodeID}`)
      assert.equal(moved.status, 200, moved.text)
    }
    assert.equal((await http(c.httpAddr, 'GET', '/v1/status/leader')).json<string>(), used)
    await ctx.cluster.servers[victim].kill9()
    const started = performance.now()
    // The first read right after the kill, ?stale so it needs no leader (the victim may have led):
    // retried on another server when the dead one refuses the connection.
    const read = await http(c.httpAddr, 'GET', '/v1/kv/shared/greeting?stale')
    const readMs = performance.now() - started
    assert.equal(read.status, 200, read.text)
    // Default reads and writes may meet a leader election (if the victim led), answered by the
    // servers as 500s: bounded retries until each lands.
    const untilOk = async (method: string, path: string, body?: string) => {
      let failures = 0
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        const res = await http(c.httpAddr, method, path, body)
        assert.notEqual(res.text, 'No known Consul servers', 'the client still knows the live servers')
        if (res.status === 200) return {failures, ms: performance.now() - started}
        failures++
        await sleep(200)
      }
      assert.fail(`${method} ${path} through the client did not succeed within 30 s of the kill`)
    }
    const write = await untilOk('PUT', '/v1/kv/after-kill', 'still here')
    const consistent = await untilOk('GET', '/v1/kv/after-kill?consistent')
    t.diagnostic(`after kill -9 of ${used}: stale read ok in ${Math.round(readMs)} ms; write ok in ${Math.round(write.ms)} ms ` +
      `(${write.failures} failed attempts); consistent read ok in ${Math.round(consistent.ms)} ms`)
    assert.ok(readMs < 15_000, `the read took ${readMs} ms`)
    assert.notEqual(serverInUse(c), used, 'the client moved to another server')
    const survivor = ctx.cluster.servers.find((_, i) => i !== victim)!
    assert.equal((await http(survivor.httpAddr, 'GET', '/v1/kv/after-kill?raw')).text, 'still here')
  })
})

describe('a client agent that knows no server', () => {
  const dir = tempDir('coord-lonely-client-')
  let agent: AgentProcess
  before(async () => {
    const subnet = randomSubnet()
    agent = await spawnAgent({
      name: 'lonely', timeoutMs: 20_000,
      // Nothing listens at .250: gossip never finds a server.
      args: [...clientArgs({name: 'lonely', address: `${subnet}.1`, dataDir: join(dir.path, 'lonely'), join: [`${subnet}.250`]}), '-http-port=0', '-dns-port=0'],
    })
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('answers 500 "No known Consul servers" for KV, and its own endpoints still work', async () => {
    const get = await http(agent.httpAddr, 'GET', '/v1/kv/anything')
    assert.equal(get.status, 500)
    assert.equal(get.text, 'No known Consul servers')
    const put = await http(agent.httpAddr, 'PUT', '/v1/kv/anything', 'x')
    assert.equal(put.status, 500)
    assert.equal(put.text, 'No known Consul servers')
    const self = await http(agent.httpAddr, 'GET', '/v1/agent/self')
    assert.equal(self.status, 200)
    assert.equal(self.json<{Config: {Server: boolean}}>().Config.Server, false)
    const cli = await runCli(['kv', 'get', 'anything'], {httpAddr: agent.httpAddr})
    assert.notEqual(cli.code, 0)
    assert.match(cli.stderr, /No known Consul servers/)
  })
})
