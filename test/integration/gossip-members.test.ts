// Gossip membership on real processes: three servers (each on its own 127.B.C.n, default ports)
// see each other alive through the LAN pool; a kill -9 is reported failed by the others; the
// restarted server is alive again; `coord leave` is reported left; force-leave and join answer.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {serverArgs} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {runCli, useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

const STATUS = ['none', 'alive', 'leaving', 'left', 'failed']

async function members(httpAddr: string): Promise<Map<string, string>> {
  const res = await http(httpAddr, 'GET', '/v1/agent/members')
  assert.equal(res.status, 200, res.text)
  return new Map(res.json<AgentMember[]>().map((m) => [m.Name, STATUS[m.Status]]))
}

/** Polls until every given agent sees `name` in `status`; returns the ms it took. */
async function waitStatus(httpAddrs: string[], name: string, status: string, timeoutMs: number): Promise<number> {
  const start = Date.now()
  let last = ''
  while (Date.now() - start < timeoutMs) {
    const seen = await Promise.all(httpAddrs.map(async (a) => (await members(a)).get(name)))
    if (seen.every((s) => s === status)) return Date.now() - start
    last = seen.join(',')
    await sleep(50)
  }
  throw new Error(`${name} not ${status} everywhere within ${timeoutMs} ms (last: ${last})`)
}

describe('gossip membership of a three-server cluster', () => {
  const ctx = useCluster(3, 'coord-gossip-')

  it('every server lists all three members alive, with Consul tags and the serf port', async () => {
    const start = Date.now()
    for (;;) {
      const views = await Promise.all(ctx.cluster.servers.map((s) => members(s.httpAddr)))
      if (views.every((v) => v.size === 3 && [...v.values()].every((s) => s === 'alive'))) break
      if (Date.now() - start > 10_000) assert.fail(`not converged: ${JSON.stringify(views.map((v) => [...v]))}`)
      await sleep(50)
    }
    console.log(`# gossip: 3 members alive everywhere ${Date.now() - start} ms after the cluster was up`)
    const res = await http(ctx.cluster.servers[0].httpAddr, 'GET', '/v1/agent/members')
    const list = res.json<AgentMember[]>()
    const two = list.find((m) => m.Name === 'server-2')!
    assert.equal(two.Addr, ctx.cluster.addresses[1])
    assert.equal(two.Port, 8301)
    assert.equal(two.Tags.role, 'consul')
    assert.equal(two.Tags.port, '8300')
    assert.equal(two.Tags.expect, '3')
    assert.match(two.Tags.build, /:coord$/)
    assert.match(two.Tags.id, /^[0-9a-f-]{36}$/)
    const wan = (await http(ctx.cluster.servers[0].httpAddr, 'GET', '/v1/agent/members?wan')).json<AgentMember[]>()
    assert.deepEqual(wan.map((m) => m.Name).sort(), ['server-1.dc1', 'server-2.dc1', 'server-3.dc1'])

    // ?filter= (and `coord members -filter`) select on the member fields; a broken expression is a 400.
    const filtered = await http(ctx.cluster.servers[0].httpAddr, 'GET', `/v1/agent/members?filter=${encodeURIComponent('Name == "server-2" and Tags["role"] == "consul"')}`)
    assert.deepEqual(filtered.json<AgentMember[]>().map((m) => m.Name), ['server-2'])
    const broken = await http(ctx.cluster.servers[0].httpAddr, 'GET', '/v1/agent/members?filter=((')
    assert.equal(broken.status, 400, broken.text)
    const cliFiltered = await runCli(['members', '-filter=Name != "server-1"'], {httpAddr: ctx.cluster.servers[1].httpAddr})
    assert.equal(cliFiltered.code, 0, cliFiltered.stderr)
    assert.deepEqual(cliFiltered.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]).sort(), ['server-2', 'server-3'])

    const cli = await runCli(['members'], {httpAddr: ctx.cluster.servers[1].httpAddr})
    assert.equal(cli.code, 0, cli.stderr)
    const lines = cli.stdout.trim().split('\n')
    assert.match(lines[0], /^Node\s+Address\s+Status\s+Type\s+Build\s+Protocol\s+DC\s+Partition\s+Segment$/)
    assert.equal(lines.length, 4)
    for (let i = 1; i <= 3; i++) assert.match(lines[i], new RegExp(`^server-${i}\\s+${ctx.cluster.addresses[i - 1].replace(/\./g, '\\.')}:8301\\s+alive\\s+server\\s+\\S+\\s+2\\s+dc1\\s+default\\s+<all>$`))
  })

  it('reports a kill -9 failed, then alive again after a restart', async () => {
    const victim = ctx.cluster.servers[2]
    const others = ctx.cluster.servers.slice(0, 2).map((s) => s.httpAddr)
    await victim.kill9()
    const detected = await waitStatus(others, 'server-3', 'failed', 8000)
    console.log(`# gossip: kill -9 reported failed by both peers in ${detected} ms`)
    const cli = await runCli(['members', '-status=failed'], {httpAddr: others[0]})
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, /server-3\s+\S+\s+failed/)

    const address = ctx.cluster.addresses[2]
    const restarted = await spawnAgent({
      name: 'server-3', timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name: 'server-3', address, dataDir: join(ctx.dir, 'server-3'), expect: 3, join: ctx.cluster.addresses.filter((a) => a !== address)}),
    })
    ctx.cluster.servers[2] = restarted
    const back = await waitStatus([...others, restarted.httpAddr], 'server-3', 'alive', 8000)
    console.log(`# gossip: restarted member alive everywhere ${back} ms after it served`)
    await waitStatus([restarted.httpAddr], 'server-1', 'alive', 5000)
  })

  it('answers join, and force-leave for an unknown node with an error', async () => {
    const joined = await runCli(['join', ctx.cluster.addresses[1]], {httpAddr: ctx.cluster.servers[0].httpAddr})
    assert.equal(joined.code, 0, joined.stderr)
    assert.equal(joined.stdout, 'Successfully joined cluster by contacting 1 nodes.\n')
    const none = await runCli(['join'], {httpAddr: ctx.cluster.servers[0].httpAddr})
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^At least one address to join must be specified\.\n\n/)
    const bad = await runCli(['force-leave', 'no-such-node'], {httpAddr: ctx.cluster.servers[0].httpAddr})
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^Error force leaving: .*No node found with name 'no-such-node'/)
  })

  it('force-leave of an alive member (another node, or the agent\'s own) succeeds silently as Consul\'s and the member stays alive', async () => {
    const first = ctx.cluster.servers[0].httpAddr
    const all = ctx.cluster.servers.map((s) => s.httpAddr)
    for (const name of ['server-2', 'server-1']) {
      const res = await runCli(['force-leave', name], {httpAddr: first})
      assert.deepEqual([res.code, res.stdout, res.stderr], [0, '', ''], `force-leave ${name}`)
      // A live member refutes the leave intent (serf's handleNodeLeaveIntent): alive everywhere again.
      const ms = await waitStatus(all, name, 'alive', 10_000)
      console.log(`force-leave ${name}: alive everywhere after ${ms} ms`)
    }
  })

  it('reports a graceful leave as left, and force-leave -prune forgets it', async () => {
    const leaving = ctx.cluster.servers[2]
    const res = await runCli(['leave'], {httpAddr: leaving.httpAddr})
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, 'Graceful leave complete\n')
    const others = ctx.cluster.servers.slice(0, 2).map((s) => s.httpAddr)
    await waitStatus(others, 'server-3', 'left', 5000)
    const deadline = Date.now() + 10_000
    while (!leaving.exited() && Date.now() < deadline) await sleep(50)
    assert.ok(leaving.exited(), 'the agent exits after a leave')
    const pruned = await runCli(['force-leave', '-prune', 'server-3'], {httpAddr: others[0]})
    assert.equal(pruned.code, 0, pruned.stderr)
    assert.equal(pruned.stdout, '')
    assert.equal((await members(others[0])).has('server-3'), false)
  })
})
