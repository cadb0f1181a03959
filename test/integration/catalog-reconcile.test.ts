// The leader mirrors LAN gossip into the catalog, on three real server processes: every server
// is a catalog node with a passing serfHealth check and a `consul` service instance; a kill -9
// turns its serfHealth critical (and kills a session bound to it); a restart makes it passing
// again; a graceful leave deregisters it.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {serverArgs} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'
import {runCli, useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

interface Check {Node: string; CheckID: string; Status: string; Output: string; Name: string}

async function serfHealth(httpAddr: string, node: string): Promise<Check | undefined> {
  const res = await http(httpAddr, 'GET', `/v1/health/node/${node}?stale`)
  assert.equal(res.status, 200, res.text)
  return res.json<Check[]>().find((c) => c.CheckID === 'serfHealth')
}

/** Polls `probe` every 100 ms until it returns true; returns the ms it took. */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < timeoutMs) {
    if (await probe()) return Date.now() - start
    await sleep(100)
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

describe('leader reconcile of gossip members into the catalog', () => {
  const ctx = useCluster(3, 'coord-reconcile-')

  it('registers every server with serfHealth passing and the consul service', async () => {
    const a = ctx.cluster.servers[0].httpAddr
    const ms = await waitFor('three nodes passing', 15_000, async () => {
      const checks = await Promise.all(['server-1', 'server-2', 'server-3'].map((n) => serfHealth(a, n)))
      return checks.every((c) => c?.Status === 'passing')
    })
    console.log(`# reconcile: 3 servers registered with serfHealth passing ${ms} ms after the cluster was up`)
    const check = (await serfHealth(a, 'server-2'))!
    assert.equal(check.Name, 'Serf Health Status')
    assert.equal(check.Output, 'Agent alive and reachable')
    const nodes = (await http(a, 'GET', '/v1/catalog/nodes')).json<Array<{Node: string; Address: string}>>()
    assert.deepEqual(nodes.map((n) => n.Node), ['server-1', 'server-2', 'server-3'])
    assert.equal(nodes[1].Address, ctx.cluster.addresses[1])
    await waitFor('consul service on 3 nodes', 10_000, async () => {
      const consul = (await http(a, 'GET', '/v1/catalog/service/consul')).json<Array<{Node: string; ServicePort: number}>>()
      return consul.length === 3 && consul.every((s) => s.ServicePort === 8300)
    })
  })

  it('turns serfHealth critical after a kill -9 and invalidates a session bound to it', async () => {
    const a = ctx.cluster.servers[0].httpAddr
    const leader = (await http(a, 'GET', '/v1/status/leader')).json<string>()
    // Kill a follower so the survivors keep their leader (the figure is then gossip + one write).
    const victimIndex = ctx.cluster.addresses.findIndex((addr, i) => i > 0 && !leader.startsWith(`${addr}:`))
    const victimName = `server-${victimIndex + 1}`
    const created = await http(a, 'PUT', '/v1/session/create', JSON.stringify({Node: victimName, Name: 'bound'}))
    assert.equal(created.status, 200, created.text)
    const {ID} = created.json<{ID: string}>()
    await ctx.cluster.servers[victimIndex].kill9()
    const ms = await waitFor(`${victimName} serfHealth critical`, 20_000, async () => (await serfHealth(a, victimName))?.Status === 'critical')
    console.log(`# reconcile: kill -9 → serfHealth critical in the catalog in ${ms} ms`)
    assert.equal((await serfHealth(a, victimName))!.Output, 'Agent not live or unreachable')
    const info = await http(a, 'GET', `/v1/session/info/${ID}`)
    assert.deepEqual(info.json(), [], 'the session bound to serfHealth is gone')
    const passing = (await http(a, 'GET', '/v1/health/service/consul?passing')).json<Array<{Node: {Node: string}}>>()
    assert.ok(!passing.some((e) => e.Node.Node === victimName), 'a failed server is not a passing consul instance')

    const address = ctx.cluster.addresses[victimIndex]
    const restarted = await spawnAgent({
      name: victimName, timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name: victimName, address, dataDir: join(ctx.dir, victimName), expect: 3, join: ctx.cluster.addresses.filter((x) => x !== address)}),
    })
    ctx.cluster.servers[victimIndex] = restarted
    const back = await waitFor(`${victimName} passing again`, 20_000, async () => (await serfHealth(a, victimName))?.Status === 'passing')
    console.log(`# reconcile: restarted server passing again ${back} ms after it served`)
  })

  it('deregisters a server that leaves gracefully', async () => {
    const leader = (await http(ctx.cluster.servers[0].httpAddr, 'GET', '/v1/status/leader')).json<string>()
    const index = ctx.cluster.addresses.findIndex((addr) => !leader.startsWith(`${addr}:`))
    const name = `server-${index + 1}`
    const observer = ctx.cluster.servers.find((_, i) => i !== index)!.httpAddr
    const res = await runCli(['leave'], {httpAddr: ctx.cluster.servers[index].httpAddr})
    assert.equal(res.code, 0, res.stderr)
    const ms = await waitFor(`${name} deregistered`, 20_000, async () => {
      const node = await http(observer, 'GET', `/v1/catalog/node/${name}?stale`)
      return node.text === 'null'
    })
    console.log(`# reconcile: graceful leave → node deregistered in ${ms} ms`)
    const nodes = (await http(observer, 'GET', '/v1/catalog/nodes')).json<Array<{Node: string}>>()
    assert.equal(nodes.length, 2)
  })
})
