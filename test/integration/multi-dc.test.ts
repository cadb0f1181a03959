// Two datacenters on loopback, their servers in one WAN pool: dc1 (a server and a client agent) and
// dc2 (one server). Requests naming `?dc=dc2` made in dc1 run in dc2 (through dc1's server, and
// through dc1's client via its server), blocking reads wake on dc2's writes, the CLI's -datacenter
// and the npm `consul` client's `dc` work, an event fired with ?dc=dc2 reaches dc2's agents, the
// loop guard and body limits hold, and an unknown or stopped datacenter answers "No path to
// datacenter" promptly. A catalog write whose body names Datacenter dc2 runs in dc2; DNS names in
// dc2 (web.service.dc2.consul, _web._tcp.service.dc2.consul, <node>.node.dc2.consul) asked of dc1's
// agents answer from dc2's catalog, an unknown or stopped datacenter NXDOMAIN. Prints the extra
// latency of a forwarded GET over a local one, and of a DNS answer from dc2 over a local one.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {clientArgs, randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {RpcTransport} from '../../src/lib/rpc/transport.js'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {runCli, startDatacenterServer, tempDir} from '../helpers/agent.js'
import {consulClient, http, sleep} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {agentDnsPort, dnsTcp, dnsUdp, type DnsReply} from '../helpers/dns.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

const value = (text: string) => Buffer.from(JSON.parse(text)[0].Value, 'base64').toString()

/** Polls an async condition every 100 ms until it holds; fails with `what` after `timeoutMs`. */
/** The shared poll, with a refused connection (a server still starting) counted as "not yet". */
const untilOk = (what: string, cond: () => Promise<boolean>, timeoutMs: number) => until(what, () => cond().catch(() => false), timeoutMs)

const dataOf = (reply: DnsReply) => reply.answers?.map((r) => (r as {data: unknown}).data)

/** PUT /v1/catalog/register with `body` to the agent at `addr`. */
function registerIn(addr: string, body: Record<string, unknown>) {
  return http(addr, 'PUT', '/v1/catalog/register', JSON.stringify(body))
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

describe('multi-datacenter requests over the WAN pool', () => {
  const dir = tempDir('coord-multidc-')
  const subnet = randomSubnet()
  const agents: AgentProcess[] = []
  let s1: AgentProcess // dc1 server
  let c1: AgentProcess // dc1 client
  let s2: AgentProcess // dc2 server
  const server = async (i: number, dc: string, extra: string[] = []) => {
    const agent = await startDatacenterServer(dir.path, subnet, i, dc, extra)
    agents.push(agent)
    return agent
  }

  before(async () => {
    const started = performance.now()
    // Both servers run remote exec, so a job run in the wrong datacenter would show. dc1's server
    // has its own DNS TTLs: answers from dc2 carry the asking agent's.
    const dnsConfig = join(dir.path, 's1-dns.json')
    writeFileSync(dnsConfig, JSON.stringify({dns_config: {node_ttl: '9s', service_ttl: {'*': '7s'}}}))
    ;[s1, s2] = await Promise.all([
      server(1, 'dc1', ['-disable-remote-exec=false', `-config-file=${dnsConfig}`]),
      server(3, 'dc2', [`-retry-join-wan=${subnet}.1`, '-disable-remote-exec=false']),
    ])
    const dataDir = join(dir.path, 'c1')
    mkdirSync(dataDir, {recursive: true})
    c1 = await spawnAgent({name: 'c1', timeoutMs: 30_000, waitForLeader: true, args: clientArgs({name: 'c1', address: `${subnet}.2`, dataDir, join: [`${subnet}.1`]})})
    agents.push(c1)
    // Forwarding needs dc2's server alive in dc1's WAN view (and the reverse for the loop test).
    await untilOk('both servers alive in each WAN view', async () => {
      const views = await Promise.all([s1, s2].map((a) => http(a.httpAddr, 'GET', '/v1/agent/members?wan').then((r) => r.json<AgentMember[]>())))
      return views.every((v) => v.length === 2 && v.every((m) => m.Status === 1))
    }, 20_000)
    console.log(`# multi-dc: 2 datacenters (3 agents) up and WAN-joined in ${Math.round(performance.now() - started)} ms`)
  })
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()))
    dir.cleanup()
  })

  it('a key PUT with ?dc=dc2 through dc1\'s server and through dc1\'s client lands in dc2 only', async () => {
    const viaServer = await http(s1.httpAddr, 'PUT', '/v1/kv/multi/via-server?dc=dc2', 'written from dc1 server')
    assert.equal(viaServer.status, 200, viaServer.text)
    assert.equal(viaServer.text, 'true')
    const viaClient = await http(c1.httpAddr, 'PUT', '/v1/kv/multi/via-client?dc=dc2', 'written from dc1 client')
    assert.equal(viaClient.status, 200, viaClient.text)
    // Directly in dc2, and from dc1 with ?dc=dc2: same value, dc2's index and leader headers.
    const viaServerInDc2 = await http(s2.httpAddr, 'GET', '/v1/kv/multi/via-server')
    assert.equal(viaServerInDc2.status, 200)
    assert.equal(value(viaServerInDc2.text), 'written from dc1 server')
    const direct = await http(s2.httpAddr, 'GET', '/v1/kv/multi/via-client')
    assert.equal(value(direct.text), 'written from dc1 client')
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      const remote = await http(addr, 'GET', '/v1/kv/multi/via-client?dc=dc2')
      assert.equal(remote.status, 200, remote.text)
      assert.equal(value(remote.text), 'written from dc1 client')
      assert.equal(remote.headers['x-consul-index'], direct.headers['x-consul-index'], 'the index is dc2\'s')
      assert.equal(remote.headers['x-consul-knownleader'], 'true')
      assert.ok(remote.headers['x-consul-lastcontact'] !== undefined)
    }
    // Absent in dc1, whichever agent asks.
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      assert.equal((await http(addr, 'GET', '/v1/kv/multi/via-server')).status, 404)
      assert.equal((await http(addr, 'GET', '/v1/kv/multi/via-server?dc=dc1')).status, 404)
    }
  })

  it('a blocking ?dc=dc2&index= read through dc1 wakes on a write made in dc2', async () => {
    await http(s2.httpAddr, 'PUT', '/v1/kv/multi/block', 'v1')
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      const first = await http(addr, 'GET', '/v1/kv/multi/block?dc=dc2')
      const index = Number(first.headers['x-consul-index'])
      assert.ok(index > 0)
      const started = performance.now()
      const blocked = http(addr, 'GET', `/v1/kv/multi/block?dc=dc2&index=${index}&wait=30s`)
      await sleep(300)
      await http(s2.httpAddr, 'PUT', '/v1/kv/multi/block', `after ${index}`)
      const woke = await blocked
      const ms = Math.round(performance.now() - started)
      console.log(`# multi-dc: blocking ?dc=dc2 read through dc1's ${addr === s1.httpAddr ? 'server' : 'client'} woke ${ms} ms after it was sent (write after 300 ms)`)
      assert.equal(woke.status, 200)
      assert.ok(Number(woke.headers['x-consul-index']) > index)
      assert.equal(value(woke.text), `after ${index}`)
      assert.ok(ms < 20_000, `woken by the write, not by the 30 s wait (${ms} ms)`)
    }
  })

  it('catalog, health, status and operator reads with ?dc=dc2 answer dc2\'s state', async () => {
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      const nodes = await http(addr, 'GET', '/v1/catalog/nodes?dc=dc2')
      assert.equal(nodes.status, 200, nodes.text)
      const list = nodes.json<Array<{Node: string; Datacenter: string}>>()
      assert.deepEqual(list.map((n) => n.Node), ['s3'])
      assert.equal(list[0].Datacenter, 'dc2')
      const health = await http(addr, 'GET', '/v1/health/service/consul?dc=dc2')
      assert.deepEqual(health.json<Array<{Node: {Node: string}}>>().map((e) => e.Node.Node), ['s3'])
      const leader = await http(addr, 'GET', '/v1/status/leader?dc=dc2')
      assert.equal(leader.json<string>(), `${subnet}.3:8300`)
      const raft = await http(addr, 'GET', '/v1/operator/raft/configuration?dc=dc2')
      assert.deepEqual(raft.json<{Servers: Array<{Node: string}>}>().Servers.map((s) => s.Node), ['s3'])
      const autopilot = await http(addr, 'GET', '/v1/operator/autopilot/health?dc=dc2')
      assert.deepEqual(autopilot.json<{Servers: Array<{Name: string}>}>().Servers.map((s) => s.Name), ['s3'])
    }
    // A snapshot of dc2, saved through dc1's client: a verified archive.
    const file = join(dir.path, 'dc2.snap')
    const saved = await runCli(['snapshot', 'save', '-datacenter=dc2', file], {httpAddr: c1.httpAddr})
    assert.equal(saved.code, 0, saved.stderr)
    const inspected = await runCli(['snapshot', 'inspect', file])
    assert.equal(inspected.code, 0, inspected.stderr)
    // The agent's own endpoints ignore ?dc= (Consul's do): still this agent.
    const self = await http(c1.httpAddr, 'GET', '/v1/agent/self?dc=dc2')
    assert.equal(self.status, 200)
    assert.equal(self.json<{Config: {NodeName: string; Datacenter: string}}>().Config.NodeName, 'c1')
  })

  it('coord kv put/get and catalog nodes with -datacenter=dc2 work; operator raft list-peers too', async () => {
    const put = await runCli(['kv', 'put', '-datacenter=dc2', 'multi/cli', 'from the cli'], {httpAddr: c1.httpAddr})
    assert.equal(put.code, 0, put.stderr)
    const get = await runCli(['kv', 'get', '-datacenter=dc2', 'multi/cli'], {httpAddr: s1.httpAddr})
    assert.deepEqual([get.code, get.stdout, get.stderr], [0, 'from the cli\n', ''])
    const local = await runCli(['kv', 'get', 'multi/cli'], {httpAddr: s1.httpAddr})
    assert.equal(local.code, 1)
    assert.match(local.stderr, /No key exists at: multi\/cli/)
    const nodes = await runCli(['catalog', 'nodes', '-datacenter=dc2'], {httpAddr: c1.httpAddr})
    assert.equal(nodes.code, 0, nodes.stderr)
    assert.match(nodes.stdout, /^s3\s/m)
    assert.doesNotMatch(nodes.stdout, /^(s1|c1)\s/m)
    const peers = await runCli(['operator', 'raft', 'list-peers', '-datacenter=dc2'], {httpAddr: s1.httpAddr})
    assert.equal(peers.code, 0, peers.stderr)
    assert.match(peers.stdout, /^s3\s/m)
    const mars = await runCli(['kv', 'get', '-datacenter=mars', 'multi/cli'], {httpAddr: s1.httpAddr})
    assert.equal(mars.code, 1)
    assert.match(mars.stderr, /^Error querying Consul agent: Unexpected response code: 500 \(No path to datacenter\)/)
  })

  it('the npm consul client with dc: dc2 reads and writes dc2', async () => {
    const consul: any = consulClient(c1.httpAddr)
    assert.equal(await consul.kv.set({key: 'multi/npm', value: 'npm value', dc: 'dc2'}), true)
    assert.equal((await consul.kv.get({key: 'multi/npm', dc: 'dc2'})).Value, 'npm value')
    assert.equal(await consul.kv.get({key: 'multi/npm'}), undefined)
    const nodes = await consul.catalog.node.list({dc: 'dc2'})
    assert.deepEqual(nodes.map((n: any) => n.Node), ['s3'])
  })

  it('an event fired with ?dc=dc2 (through dc1\'s client) reaches dc2\'s agents, not dc1\'s', async () => {
    const fired = await http(c1.httpAddr, 'PUT', '/v1/event/fire/cross-dc?dc=dc2', 'payload')
    assert.equal(fired.status, 200, fired.text)
    const id = fired.json<{ID: string}>().ID
    await untilOk('the event in dc2\'s list', async () => {
      const list = await http(s2.httpAddr, 'GET', '/v1/event/list?name=cross-dc')
      return list.json<Array<{ID: string}>>().some((e) => e.ID === id)
    }, 10_000)
    await sleep(500)
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      assert.deepEqual((await http(addr, 'GET', '/v1/event/list?name=cross-dc')).json(), [], 'not fired in dc1')
    }
  })

  it('coord exec -datacenter=dc2 runs the job in dc2 only, its session bound to a dc2 server', async () => {
    const res = await runCli(['exec', '-datacenter=dc2', '-verbose', '-wait=2s', 'echo "hi from $((40+2))"'], {httpAddr: c1.httpAddr, timeoutMs: 60_000})
    assert.equal(res.code, 0, res.stdout + res.stderr)
    assert.match(res.stdout, /Remote exec in foreign datacenter, using Session TTL/)
    assert.match(res.stdout, /Binding session to remote node s3@dc2/)
    assert.match(res.stdout, /^ {4}s3: hi from 42$/m)
    assert.doesNotMatch(res.stdout, /s1: /)
    // Cleaned up in dc2 afterwards: no job keys, no session.
    assert.equal((await http(s2.httpAddr, 'GET', '/v1/kv/_rexec/?recurse')).status, 404)
    assert.deepEqual((await http(s2.httpAddr, 'GET', '/v1/session/list')).json(), [])
  })

  it('a request that already crossed a datacenter is never forwarded again; bodies keep their limits', async () => {
    // As dc1's server would send it, but naming a third datacenter from dc2's point of view.
    const transport = new RpcTransport({localId: 'test-dc1-server'})
    try {
      const answer = await transport.request(`${subnet}.3:8300`, 'http-forward', {
        method: 'GET', url: '/v1/kv/multi/via-server?dc=dc1', headers: {}, body: new Uint8Array(), fromDc: 'dc1',
      }, 10_000) as {status: number; body: Uint8Array}
      assert.equal(answer.status, 500)
      assert.equal(Buffer.from(answer.body).toString(), 'No path to datacenter')
    } finally {
      await transport.close()
    }
    // dc2's KV limit answers, through dc1's server or client (the forwarded 413 once crashed the receiving server).
    for (const [addr, url] of [[s1.httpAddr, '/v1/kv/multi/big?dc=dc2'], [c1.httpAddr, '/v1/kv/multi/big?dc=dc2'], [c1.httpAddr, '/v1/kv/multi/big']]) {
      const big = await http(addr, 'PUT', url, Buffer.alloc(600 * 1024, 'x'))
      assert.equal(big.status, 413, big.text)
      assert.match(big.text, /^Request body\(614400 bytes\) too large, max size: 524288 bytes/)
    }
    assert.equal((await http(s2.httpAddr, 'GET', '/v1/status/leader')).status, 200, 'dc2\'s server still serves')
  })

  it('prints the extra latency of a forwarded GET over a local one', async () => {
    await http(s1.httpAddr, 'PUT', '/v1/kv/multi/lat', 'x')
    // Interleaved, so a load spike from whatever else runs on the box hits both series alike.
    const local: number[] = []
    const forwarded: number[] = []
    for (let i = 0; i < 60; i++) {
      for (const [path, samples] of [['/v1/kv/multi/lat', local], ['/v1/kv/multi/via-server?dc=dc2', forwarded]] as const) {
        const started = performance.now()
        const res = await http(s1.httpAddr, 'GET', path)
        samples.push(performance.now() - started)
        assert.equal(res.status, 200, `${path}: ${res.text}`)
      }
    }
    const [l, f] = [median(local), median(forwarded)]
    console.log(`# multi-dc: GET median local ${l.toFixed(2)} ms, forwarded to dc2 ${f.toFixed(2)} ms (+${(f - l).toFixed(2)} ms; 60 each, interleaved, through dc1's server)`)
  })

  it('/v1/catalog/datacenters lists both datacenters from the WAN pool, the asking one first; coordinates by datacenter', async () => {
    // The local datacenter counts as 0 RTT (Consul's router), so it leads whatever the WAN estimates.
    for (const addr of [s1.httpAddr, c1.httpAddr]) assert.deepEqual((await http(addr, 'GET', '/v1/catalog/datacenters')).json(), ['dc1', 'dc2'])
    assert.deepEqual((await http(s2.httpAddr, 'GET', '/v1/catalog/datacenters')).json(), ['dc2', 'dc1'])
    const cli = await runCli(['catalog', 'datacenters'], {httpAddr: c1.httpAddr})
    assert.deepEqual([cli.code, cli.stdout], [0, 'dc1\ndc2\n'])
    const maps = (await http(s1.httpAddr, 'GET', '/v1/coordinate/datacenters')).json<Array<{Datacenter: string; AreaID: string}>>()
    assert.deepEqual(maps.map((m) => [m.Datacenter, m.AreaID]), [['dc1', 'wan'], ['dc2', 'wan']])
  })

  it('a catalog register/deregister whose body names Datacenter dc2, sent to dc1\'s server or client, runs in dc2 only', async () => {
    for (const [addr, node] of [[s1.httpAddr, 'body-via-server'], [c1.httpAddr, 'body-via-client']]) {
      const res = await registerIn(addr, {Datacenter: 'dc2', Node: node, Address: '10.42.1.1', Service: {Service: 'bodysvc', Port: 81}})
      assert.deepEqual([res.status, res.text], [200, 'true'])
      const inDc2 = await http(s2.httpAddr, 'GET', `/v1/catalog/node/${node}`)
      assert.equal(inDc2.json<{Node: {Datacenter: string}}>().Node.Datacenter, 'dc2')
      assert.equal((await http(s1.httpAddr, 'GET', `/v1/catalog/node/${node}`)).text, 'null', 'not in dc1')
    }
    const gone = await http(c1.httpAddr, 'PUT', '/v1/catalog/deregister', JSON.stringify({Datacenter: 'DC2', Node: 'body-via-client'}))
    assert.deepEqual([gone.status, gone.text], [200, 'true'])
    assert.equal((await http(s2.httpAddr, 'GET', '/v1/catalog/node/body-via-client')).text, 'null')
    assert.equal((await http(s2.httpAddr, 'GET', '/v1/catalog/node/body-via-server')).status, 200)
    // An unknown datacenter in the body: Consul's "No path"; a bad body still answers here, 400.
    // A coordinate update naming dc2 in its body is dc2's too.
    const coord = {Vec: [0.002, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5}
    const update = await http(c1.httpAddr, 'PUT', '/v1/coordinate/update', JSON.stringify({Datacenter: 'dc2', Node: 'body-via-server', Coord: coord}))
    assert.equal(update.status, 200, update.text)
    await untilOk('the coordinate in dc2', async () => (await http(s2.httpAddr, 'GET', '/v1/coordinate/node/body-via-server')).status === 200, 10_000)
    assert.equal((await http(s1.httpAddr, 'GET', '/v1/coordinate/node/body-via-server')).status, 404, 'not in dc1')
    const mars = await registerIn(c1.httpAddr, {Datacenter: 'mars', Node: 'x', Address: '10.0.0.1'})
    assert.deepEqual([mars.status, mars.text], [500, 'No path to datacenter'])
    assert.equal((await http(s1.httpAddr, 'PUT', '/v1/catalog/register', '{"Datacenter": "dc2", "Node": ')).status, 400)
  })

  it('DNS names in dc2 asked of dc1\'s server and client answer from dc2\'s catalog (A, SRV, node; critical left out); unknown dc NXDOMAIN', async () => {
    const check = (status: string) => ({CheckID: 'web-alive', Name: 'web alive', Status: status, ServiceID: 'web1'})
    for (const [node, address, status] of [['dc2-app', '10.42.0.5', 'passing'], ['dc2-sick', '10.42.0.6', 'critical']]) {
      const res = await registerIn(s2.httpAddr, {Node: node, Address: address, Service: {ID: 'web1', Service: 'web', Port: 8080}, Check: check(status)})
      assert.equal(res.status, 200, res.text)
    }
    const [s1Dns, c1Dns] = await Promise.all([agentDnsPort(s1), agentDnsPort(c1)])
    for (const [host, port, who] of [[`${subnet}.1`, s1Dns, 'server'], [`${subnet}.2`, c1Dns, 'client']] as const) {
      const a = await dnsUdp(port, 'web.service.dc2.consul', 'A', host, 10_000)
      assert.equal(a.rcode, 'NOERROR', who)
      assert.deepEqual(dataOf(a), ['10.42.0.5'], `${who}: the passing instance only`)
      const ttl = (reply: DnsReply) => (reply.answers?.[0] as {ttl?: number}).ttl
      assert.equal(ttl(a), who === 'server' ? 7 : 0, `${who}: the asking agent's service_ttl`)
      const srv = await dnsTcp(port, '_web._tcp.service.dc2.consul', 'SRV', host, 10_000)
      assert.deepEqual(dataOf(srv), [{priority: 1, weight: 1, port: 8080, target: 'dc2-app.node.dc2.consul'}], who)
      assert.deepEqual(srv.additionals?.map((r) => [r.name, (r as {data: string}).data]), [['dc2-app.node.dc2.consul', '10.42.0.5']])
      const node = await dnsUdp(port, 'dc2-app.node.dc2.consul', 'A', host, 10_000)
      assert.deepEqual([node.rcode, dataOf(node)], ['NOERROR', ['10.42.0.5']], who)
      assert.equal(ttl(node), who === 'server' ? 9 : 0, `${who}: the asking agent's node_ttl`)
      // dc2's names are not dc1's; a missing name in dc2 and an unknown datacenter: NXDOMAIN + SOA.
      for (const name of ['web.service.consul', 'dc2-app.node.consul', 'ghost.node.dc2.consul', 'web.service.mars.consul', 'dc2-app.node.mars.consul']) {
        const reply = await dnsUdp(port, name, 'A', host, 10_000)
        assert.equal(reply.rcode, 'NXDOMAIN', `${who}: ${name}`)
        assert.equal(reply.authorities?.[0]?.type, 'SOA', `${who}: ${name}`)
      }
    }
    // Interleaved, so load on the box hits both alike.
    const local: number[] = []
    const remote: number[] = []
    for (let i = 0; i < 20; i++) {
      for (const [name, samples] of [['s1.node.consul', local], ['dc2-app.node.dc2.consul', remote]] as const) {
        const started = performance.now()
        assert.equal((await dnsUdp(s1Dns, name, 'A', `${subnet}.1`, 10_000)).rcode, 'NOERROR')
        samples.push(performance.now() - started)
      }
    }
    console.log(`# multi-dc: DNS A median local ${median(local).toFixed(2)} ms, from dc2 ${median(remote).toFixed(2)} ms (20 each, interleaved, asked of dc1's server)`)
  })

  it('unknown datacenter, and dc2 with its server stopped: 500 No path to datacenter, promptly', async () => {
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      const mars = await http(addr, 'GET', '/v1/kv/x?dc=mars')
      assert.deepEqual([mars.status, mars.text], [500, 'No path to datacenter'])
    }
    await s2.stop()
    for (const addr of [s1.httpAddr, c1.httpAddr]) {
      const started = performance.now()
      const res = await http(addr, 'GET', '/v1/kv/multi/via-server?dc=dc2&index=1&wait=60s')
      const ms = Math.round(performance.now() - started)
      console.log(`# multi-dc: dc2's server stopped: ?dc=dc2 through dc1's ${addr === s1.httpAddr ? 'server' : 'client'} answered ${res.status} in ${ms} ms`)
      assert.deepEqual([res.status, res.text], [500, 'No path to datacenter'])
      assert.ok(ms < 15_000, `answered, not hung for the 60 s wait (${ms} ms)`)
    }
    // DNS: Consul answers its "no path" with NXDOMAIN, and promptly (not after the HTTP hop's 35 s).
    const [s1Dns, c1Dns] = await Promise.all([agentDnsPort(s1), agentDnsPort(c1)])
    for (const [host, port] of [[`${subnet}.1`, s1Dns], [`${subnet}.2`, c1Dns]] as const) {
      const started = performance.now()
      const reply = await dnsUdp(port, 'web.service.dc2.consul', 'A', host, 10_000)
      console.log(`# multi-dc: dc2's server stopped: web.service.dc2.consul from ${host} answered ${reply.rcode} in ${Math.round(performance.now() - started)} ms`)
      assert.equal(reply.rcode, 'NXDOMAIN')
    }
  })
})
