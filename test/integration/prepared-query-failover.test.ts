// Prepared-query datacenter failover on real agents: two datacenters of three servers each, their
// servers WAN-joined on loopback, and a client agent in dc1. `web` runs in both; dc1's instances
// carry TCP checks (interval 1 s) against listeners this test owns. A query `web` with failover
// answers from dc1 while it has a passing instance; once every dc1 listener is closed, HTTP execute
// and DNS `web.query.consul`, asked of a dc1 server and of the dc1 client, answer from dc2 within
// one check interval + 1 s, with Failovers 1; after the listeners come back, from dc1 again.
// Prints each switch-over time.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:net'
import {startCluster, randomSubnet, type Cluster} from '../../src/lib/devcluster/cluster.js'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {tempDir} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {agentDnsPort, dnsUdp} from '../helpers/dns.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers read field by field */

const CHECK_INTERVAL_MS = 1000

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as {port: number}).port))
  })
}

function listenOn(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy())
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()))

describe('prepared query failover between datacenters', () => {
  const dir = tempDir('coord-pq-failover-')
  let dc1: Cluster
  let dc2: Cluster
  let listeners: Server[] = []
  const ports: number[] = []
  /** DNS of a dc1 server and of the dc1 client agent. */
  const dns: Array<{host: string; port: number}> = []

  before(async () => {
    const started = performance.now()
    const subnet1 = randomSubnet()
    let subnet2 = randomSubnet()
    while (subnet2 === subnet1) subnet2 = randomSubnet()
    dc1 = await startCluster({servers: 3, clients: 1, dir: `${dir.path}/dc1`, subnet: subnet1, timeoutMs: 60_000, extraArgs: ['-datacenter=dc1']})
    dc2 = await startCluster({servers: 3, dir: `${dir.path}/dc2`, subnet: subnet2, timeoutMs: 60_000, extraArgs: ['-datacenter=dc2', `-retry-join-wan=${subnet1}.1`]})
    await until('all six servers alive in dc1\'s WAN view', async () => {
      const members = await http(dc1.servers[0].httpAddr, 'GET', '/v1/agent/members?wan').then((r) => r.json<AgentMember[]>()).catch(() => [])
      return members.length === 6 && members.every((m) => m.Status === 1)
    }, 30_000)
    // One web instance per dc1 server, each with a TCP check on a listener this test controls. A closed
    // listener refuses at once; the long Timeout keeps a loaded box's event-loop stall from reading
    // as a failed check.
    for (let i = 0; i < 3; i++) {
      const server = createServer((socket) => socket.destroy())
      ports.push(await listen(server))
      listeners.push(server)
      const res = await http(dc1.servers[i].httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({
        ID: `web-dc1-${i}`, Name: 'web', Address: `10.1.0.${i + 1}`, Port: 8080,
        Check: {TCP: `127.0.0.1:${ports[i]}`, Interval: `${CHECK_INTERVAL_MS}ms`, Timeout: '5s'},
      }))
      assert.equal(res.status, 200, res.text)
    }
    for (let i = 0; i < 3; i++) {
      const res = await http(dc2.servers[i].httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({ID: `web-dc2-${i}`, Name: 'web', Address: `10.2.0.${i + 1}`, Port: 8080}))
      assert.equal(res.status, 200, res.text)
    }
    for (const agent of [dc1.servers[0], dc1.clients[0]]) dns.push({host: agent.httpAddr.split(':')[0], port: await agentDnsPort(agent)})
    console.log(`# pq-failover: 2 datacenters × 3 servers (+ a dc1 client) up and WAN-joined in ${Math.round(performance.now() - started)} ms`)
  })
  after(async () => {
    await Promise.all(listeners.map(closeServer))
    await Promise.all([dc1?.stop(), dc2?.stop()])
    dir.cleanup()
  })

  const execute = async (addr: string) => (await http(addr, 'GET', '/v1/query/web/execute')).json<any>()
  const dcOf = (answer: any): string => answer.Nodes.length === 0 ? 'none' : answer.Datacenter
  const dnsDcOf = async (at: {host: string; port: number}): Promise<string> => {
    const reply = await dnsUdp(at.port, 'web.query.consul', 'A', at.host)
    const addresses = (reply.answers ?? []).map((r: any) => String(r.data))
    if (addresses.length === 0) return 'none'
    if (addresses.every((a) => a.startsWith('10.1.'))) return 'dc1'
    if (addresses.every((a) => a.startsWith('10.2.'))) return 'dc2'
    return 'mixed'
  }
  /** The datacenter both DNS servers (dc1's server and client) answer from, or 'split'. */
  const dnsDc = async (): Promise<string> => {
    const [server, client] = await Promise.all(dns.map(dnsDcOf))
    return server === client ? server : 'split'
  }
  const client = () => dc1.clients[0].httpAddr

  it('answers from dc1 while it has a passing instance, from dc2 once all fail, and from dc1 again', async () => {
    const create = await http(dc1.servers[1].httpAddr, 'POST', '/v1/query', JSON.stringify({
      Name: 'web', Service: {Service: 'web', OnlyPassing: true, Failover: {NearestN: 1, Datacenters: ['dc2']}}, DNS: {TTL: '5s'},
    }))
    assert.equal(create.status, 200, create.text)
    // Every dc1 agent sees the three instances passing (each agent syncs its own check) and answers from dc1.
    await until('every dc1 instance passing, seen by every dc1 agent', async () => {
      const answers = await Promise.all([...dc1.servers.map((a) => a.httpAddr), client()].map(execute))
      return answers.every((a) => a.Datacenter === 'dc1' && a.Failovers === 0 && a.Nodes.length === 3)
    }, 20_000)
    assert.equal(await dnsDc(), 'dc1')

    // Two of three fail: still dc1.
    await closeServer(listeners[0])
    await closeServer(listeners[1])
    await until('two dc1 instances critical', async () => (await execute(dc1.servers[0].httpAddr)).Nodes?.length === 1, 10_000)
    const stillDc1 = await execute(dc1.servers[2].httpAddr)
    assert.equal(dcOf(stillDc1), 'dc1', `${JSON.stringify(stillDc1).slice(0, 400)} / health: ${(await http(dc1.servers[2].httpAddr, 'GET', '/v1/health/service/web')).text.slice(0, 1500)}`)
    assert.equal(await dnsDc(), 'dc1')

    // The last one fails: HTTP and DNS switch to dc2 within one interval + 1 s.
    const failedAt = performance.now()
    await closeServer(listeners[2])
    const bound = CHECK_INTERVAL_MS + 1000
    const [httpMs, dnsMs] = await Promise.all([
      until('HTTP execute answers from dc2 (server and client)', async () => dcOf(await execute(dc1.servers[1].httpAddr)) === 'dc2' && dcOf(await execute(client())) === 'dc2' && Math.round(performance.now() - failedAt), 10_000),
      until('DNS web.query.consul answers from dc2', async () => (await dnsDc()) === 'dc2' && Math.round(performance.now() - failedAt), 10_000),
    ])
    console.log(`# pq-failover: dc1 → dc2 after the last dc1 instance failed: HTTP ${httpMs} ms, DNS ${dnsMs} ms (bound ${bound} ms)`)
    assert.ok(httpMs <= bound, `HTTP switched in ${httpMs} ms > ${bound} ms`)
    assert.ok(dnsMs <= bound, `DNS switched in ${dnsMs} ms > ${bound} ms`)
    const failedOver = await execute(dc1.servers[0].httpAddr)
    assert.equal(failedOver.Datacenter, 'dc2')
    assert.equal(failedOver.Failovers, 1, 'dc2 is both the nearest and listed: tried once')
    assert.equal(failedOver.Nodes.length, 3)
    assert.equal(failedOver.DNS.TTL, '5s')
    for (const at of dns) {
      const reply = await dnsUdp(at.port, 'web.query.consul', 'SRV', at.host)
      assert.ok((reply.answers ?? []).length > 0)
      assert.ok((reply.answers ?? []).every((r: any) => r.ttl === 5), 'the query\'s TTL')
      assert.ok((reply.answers ?? []).every((r: any) => /\.dc2\.consul\.?$/.test(String(r.data.target))), 'SRV targets name dc2')
      const explicit = await dnsUdp(at.port, 'web.query.dc1.consul', 'A', at.host)
      assert.ok((explicit.answers ?? []).every((r: any) => String(r.data).startsWith('10.2.')), '<name>.query.dc1.consul runs in dc1 and fails over too')
    }
    const inDc2 = await dnsUdp(dns[0].port, 'web.query.dc2.consul', 'A', dns[0].host)
    assert.equal(inDc2.rcode, 'NXDOMAIN', 'the query is stored in dc1 only')

    // Back: every listener listens again on its port; the query answers from dc1.
    const backAt = performance.now()
    listeners = await Promise.all(ports.map(listenOn))
    const [httpBack, dnsBack] = await Promise.all([
      until('HTTP execute answers from dc1 again (server and client)', async () => dcOf(await execute(dc1.servers[2].httpAddr)) === 'dc1' && dcOf(await execute(client())) === 'dc1' && Math.round(performance.now() - backAt), 10_000),
      until('DNS answers from dc1 again', async () => (await dnsDc()) === 'dc1' && Math.round(performance.now() - backAt), 10_000),
    ])
    console.log(`# pq-failover: dc2 → dc1 after dc1 passed again: HTTP ${httpBack} ms, DNS ${dnsBack} ms`)
    assert.ok(httpBack <= bound && dnsBack <= bound, `back to dc1 in HTTP ${httpBack} / DNS ${dnsBack} ms > ${bound} ms`)
    const back = await execute(dc1.servers[0].httpAddr)
    assert.equal(back.Failovers, 0)
  })
})
