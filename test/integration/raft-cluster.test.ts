// Three real server processes on their own loopback addresses: writes through any server, reads
// in every consistency mode, the leader killed with SIGKILL, a new leader, the old one restarted
// and caught up, and no acknowledged write lost.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {serverArgs, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'
import {useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

async function leaderIndex(cluster: Cluster): Promise<number> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    for (let i = 0; i < cluster.servers.length; i++) {
      const agent = cluster.servers[i]
      if (agent.exited()) continue
      try {
        const self = await http(agent.httpAddr, 'GET', '/v1/agent/self')
        if (self.json<{Stats: {consul: {leader: string}}}>().Stats.consul.leader === 'true') return i
      } catch {
        // not answering (killed or paused): try the next one
      }
    }
    await sleep(50)
  }
  throw new Error('no leader within 15 s')
}

describe('a three-server cluster', () => {
  const ctx = useCluster(3, 'coord-raft-')

  it('agrees on one leader and lists three voters', async () => {
    const leader = await leaderIndex(ctx.cluster)
    const config = await http(ctx.cluster.servers[leader].httpAddr, 'GET', '/v1/operator/raft/configuration')
    const servers = config.json<{Servers: Array<{Voter: boolean; Leader: boolean}>}>().Servers
    assert.equal(servers.length, 3)
    assert.ok(servers.every((s) => s.Voter))
    assert.equal(servers.filter((s) => s.Leader).length, 1)
    const leaders = await Promise.all(ctx.cluster.servers.map(async (a) => (await http(a.httpAddr, 'GET', '/v1/status/leader')).json<string>()))
    assert.equal(new Set(leaders).size, 1, `servers disagree on the leader: ${leaders.join(', ')}`)
  })

  it('accepts writes on any server and reads them back on every server, in every mode', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await http(ctx.cluster.servers[i].httpAddr, 'PUT', `/v1/kv/via/${i}`, `from-${i}`)
      assert.equal(res.text.trim(), 'true')
    }
    for (const agent of ctx.cluster.servers) {
      for (const mode of ['', '?consistent']) {
        const res = await http(agent.httpAddr, 'GET', `/v1/kv/via/?recurse${mode ? '&consistent' : ''}`)
        assert.equal(res.status, 200)
        assert.equal(res.json<unknown[]>().length, 3, `${agent.name} ${mode || 'default'}`)
      }
      const stale = await http(agent.httpAddr, 'GET', '/v1/kv/via/0?stale')
      assert.equal(stale.headers['x-consul-knownleader'], 'true')
      assert.ok(stale.headers['x-consul-lastcontact'] !== undefined)
    }
  })

  it('hands leadership to another server on request, and renews sessions through a follower', async () => {
    const before = await leaderIndex(ctx.cluster)
    const follower = ctx.cluster.servers[(before + 1) % 3]
    const res = await http(follower.httpAddr, 'POST', '/v1/operator/raft/transfer-leader')
    assert.equal(res.status, 200, res.text)
    const after = await leaderIndex(ctx.cluster)
    assert.notEqual(after, before, 'leadership moved')
    // A session with a TTL lives on the leader's timers; renewing through any server must work.
    const created = await http(follower.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({TTL: '10s'}))
    assert.equal(created.status, 200, created.text)
    const id = created.json<{ID: string}>().ID
    for (const agent of ctx.cluster.servers) {
      const renewed = await http(agent.httpAddr, 'PUT', `/v1/session/renew/${id}`)
      assert.equal(renewed.status, 200, `${agent.name}: ${renewed.text}`)
      assert.equal(renewed.json<Array<{ID: string}>>()[0].ID, id)
    }
  })

  it('a write the leader acknowledged is seen by the next default and ?consistent reads through the followers, round after round, while leadership moves', async () => {
    // Followers answer these reads from their own state once it has applied the read index the
    // leader gave them (its lease for default reads, a ReadIndex round for ?consistent ones, one
    // request per mode for the reads of one turn): each burst below shares such requests.
    const ROUNDS = 60
    const TRANSFER_EVERY = 12
    const BURST = 4
    let leader = await leaderIndex(ctx.cluster)
    const moves: Array<Promise<number>> = []
    let reads = 0
    for (let round = 0; round < ROUNDS; round++) {
      // Every few rounds a leadership transfer starts, unawaited, just before the write: the
      // write and the reads after it run while leadership moves.
      if (round % TRANSFER_EVERY === TRANSFER_EVERY - 1) moves.push(http(ctx.cluster.servers[leader].httpAddr, 'POST', '/v1/operator/raft/transfer-leader').then((r) => r.status))
      const value = `round-${round}`
      const put = await http(ctx.cluster.servers[leader].httpAddr, 'PUT', '/v1/kv/follower-reads/key', value)
      assert.equal(put.status, 200, `round ${round}: the write: ${put.text}`)
      assert.equal(put.text.trim(), 'true')
      const followers = ctx.cluster.servers.filter((_, i) => i !== leader)
      const answers = await Promise.all(followers.flatMap((agent) => ['', '?consistent'].flatMap((mode) => Array.from({length: BURST}, async () => {
        const res = await http(agent.httpAddr, 'GET', `/v1/kv/follower-reads/key${mode}`)
        return {agent: agent.name, mode: mode || 'default', res}
      }))))
      for (const {agent, mode, res} of answers) {
        assert.equal(res.status, 200, `round ${round}: ${mode} read through ${agent}: ${res.text}`)
        const seen = Buffer.from(res.json<Array<{Value: string}>>()[0].Value, 'base64').toString()
        assert.equal(seen, value, `round ${round}: a ${mode} read through ${agent} after the write was acknowledged`)
        assert.equal(res.headers['x-consul-knownleader'], 'true')
        assert.ok(res.headers['x-consul-lastcontact'] !== undefined)
        reads++
      }
      if (round % TRANSFER_EVERY === TRANSFER_EVERY - 1 || round % TRANSFER_EVERY === 0) leader = await leaderIndex(ctx.cluster)
    }
    const transferred = await Promise.all(moves)
    console.log(`# ${ROUNDS} writes, ${reads} reads through followers, every one saw the write before it; transfers answered ${transferred.join(', ')}`)
    assert.ok(transferred.filter((status) => status === 200).length >= 2, 'leadership moved at least twice during the rounds')
  })

  it('survives kill -9 of the leader: a new leader, no acknowledged write lost, the old leader catches up', async () => {
    const acknowledged: string[] = []
    for (let i = 0; i < 30; i++) {
      const res = await http(ctx.cluster.servers[i % 3].httpAddr, 'PUT', `/v1/kv/before/${i}`, String(i))
      if (res.text.trim() === 'true') acknowledged.push(`before/${i}`)
    }
    const oldLeader = await leaderIndex(ctx.cluster)
    const survivor = ctx.cluster.servers[(oldLeader + 1) % 3]
    const killedAt = performance.now()
    await ctx.cluster.servers[oldLeader].kill9()
    // Failover: time from the kill to the next acknowledged write through a survivor.
    let failoverMs = -1
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        const res = await http(survivor.httpAddr, 'PUT', '/v1/kv/after/first', 'x')
        if (res.status === 200 && res.text.trim() === 'true') {
          failoverMs = performance.now() - killedAt
          break
        }
      } catch {
        // keep trying
      }
      await sleep(25)
    }
    assert.ok(failoverMs > 0, 'a write succeeded after the leader died')
    console.log(`# leader failover (kill -9 → next acknowledged write): ${failoverMs.toFixed(0)} ms`)
    const keys = new Set((await http(survivor.httpAddr, 'GET', '/v1/kv/before/?keys&consistent')).json<string[]>())
    assert.deepEqual(acknowledged.filter((k) => !keys.has(k)), [])

    // Restart the old leader with its data: it rejoins and catches up.
    const name = `server-${oldLeader + 1}`
    const address = ctx.cluster.addresses[oldLeader]
    const restarted = await spawnAgent({
      name, timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name, address, dataDir: join(ctx.dir, name), expect: 3, join: ctx.cluster.addresses.filter((a) => a !== address)}),
    })
    ctx.cluster.servers[oldLeader] = restarted
    const deadline = Date.now() + 15_000
    let caughtUp = false
    while (Date.now() < deadline && !caughtUp) {
      const res = await http(restarted.httpAddr, 'GET', '/v1/kv/after/first?stale')
      caughtUp = res.status === 200
      if (!caughtUp) await sleep(100)
    }
    assert.ok(caughtUp, 'the restarted server replicated the write made while it was down')
  })

  it('adds a fourth server that joins later (non-voter, then voter), and removes it again', async () => {
    const name = 'server-4'
    const address = ctx.cluster.addresses[0].replace(/\.\d+$/, '.4')
    const fourth = await spawnAgent({
      name, timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name, address, dataDir: join(ctx.dir, name), expect: 3, join: ctx.cluster.addresses}),
    })
    ctx.cluster.servers.push(fourth)
    const leader = ctx.cluster.servers[await leaderIndex(ctx.cluster)]
    type Config = {Servers: Array<{Node: string; Voter: boolean}>}
    // Autopilot promotes it once it has been healthy for server_stabilization_time (10 s by default).
    const deadline = Date.now() + 40_000
    let voters = 0
    while (Date.now() < deadline) {
      const config = (await http(leader.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<Config>()
      voters = config.Servers.filter((server) => server.Voter).length
      if (voters === 4) break
      await sleep(100)
    }
    assert.equal(voters, 4, 'the new server was promoted to voter')
    assert.equal((await http(fourth.httpAddr, 'PUT', '/v1/kv/from/fourth', 'hello')).text.trim(), 'true')
    assert.equal((await http(fourth.httpAddr, 'GET', '/v1/kv/via/0?raw')).text, 'from-0', 'it holds the data written before it joined')
    // Asked through a follower, the configuration is the leader's view, and a removal is forwarded.
    const follower = ctx.cluster.servers.find((agent) => agent !== leader && agent !== fourth)!
    const seen = (await http(follower.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<{Servers: Array<{LastIndex: number}>}>()
    assert.ok(seen.Servers.every((server) => server.LastIndex > 0), 'the leader reports every server\'s progress')
    const removed = await http(follower.httpAddr, 'DELETE', `/v1/operator/raft/peer?address=${address}:8300`)
    assert.equal(removed.status, 200, removed.text)
    const after = (await http(leader.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<Config>()
    assert.equal(after.Servers.length, 3)
  })
})
