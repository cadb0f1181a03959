// Failover as clients see it (Consul's rpc_hold_timeout): three real servers and a client agent,
// readers through a follower and through the client agent every 50 ms and a writer through the
// follower, while the leader is killed -9, the next leader is stopped with SIGTERM, and a leader
// is paused (SIGSTOP) for 3 s. No read may fail; every write is acknowledged or refused, and the
// whole history (acknowledged writes, refused ones as unknown outcomes, every read) must be
// linearizable: nothing lost, nothing applied twice. Then a cluster without quorum and
// `rpc_hold_timeout = 1s`: reads answer 500 "No cluster leader" after about 1 s.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {serverArgs, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {checkLinearizable} from '../../src/lib/check/linearizable.js'
import {tempDir, useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {FailoverLoad} from '../helpers/failover-load.js'

/** Index in cluster.servers of the server that says it leads (skipping dead and paused ones). */
async function leaderIndex(cluster: Cluster, skip: ReadonlySet<number> = new Set()): Promise<number> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    for (let i = 0; i < cluster.servers.length; i++) {
      const agent = cluster.servers[i]
      if (agent.exited() || skip.has(i)) continue
      try {
        const self = await http(agent.httpAddr, 'GET', '/v1/agent/self', undefined, {})
        if (self.json<{Stats: {consul: {leader: string}}}>().Stats.consul.leader === 'true') return i
      } catch {
        // not answering: try the next one
      }
    }
    await sleep(50)
  }
  throw new Error('no leader within 20 s')
}

/** Restarts server i on its data dir and waits until it serves with a leader known. */
async function restartServer(cluster: Cluster, dir: string, i: number): Promise<void> {
  const name = `server-${i + 1}`
  const address = cluster.addresses[i]
  cluster.servers[i] = await spawnAgent({
    name, timeoutMs: 30_000, waitForLeader: true,
    args: serverArgs({name, address, dataDir: join(dir, name), expect: 3, join: cluster.addresses.slice(0, 3).filter((a) => a !== address)}),
  })
}

/** Moves leadership away from server `avoid` (the one the load goes through) if it leads. */
async function leaderOtherThan(cluster: Cluster, avoid: number): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const leader = await leaderIndex(cluster)
    if (leader !== avoid) return leader
    const config = (await http(cluster.servers[leader].httpAddr, 'GET', '/v1/operator/raft/configuration')).json<{Servers: Array<{ID: string; Node: string}>}>()
    const target = config.Servers.find((server) => server.Node !== cluster.servers[avoid].name)!
    await http(cluster.servers[leader].httpAddr, 'POST', `/v1/operator/raft/transfer-leader?id=${target.ID}`)
    await sleep(500)
  }
  throw new Error('leadership stayed on the server the load goes through')
}

function report(label: string, load: FailoverLoad): void {
  console.log(`# ${label}: ${load.reads} reads (${load.failedReads.length} failed, slowest ${load.maxReadLatencyMs()} ms), ` +
    `${load.acknowledged} writes acknowledged, ${load.refused} refused`)
  for (const failed of load.failedReads.slice(0, 5)) console.log(`#   failed read via ${failed.via} at +${failed.atMs} ms: ${failed.error}`)
  for (const refusal of load.refusals.slice(0, 3)) console.log(`#   refused write: ${refusal}`)
}

function assertLinearizable(load: FailoverLoad): void {
  const result = checkLinearizable(load.history, {timeBudgetMs: 60_000})
  console.log(`#   linearizability: ${result.opsChecked} operations checked, ${result.anomalies.length} anomalies`)
  assert.ok(result.ok, `history not linearizable: ${result.anomalies.map((a) => a.explanation).join('; ') || `undecided: ${result.undecidedKeys?.join(',')}`}`)
}

/** Lines the agents logged about requests held through an election (one per failover). */
function holdLines(agents: AgentProcess[]): string[] {
  return agents.flatMap((agent) => agent.output().split('\n').filter((line) => line.includes('requests held for a leader')))
}

describe('failover as clients see it: requests held through an election', () => {
  const ctx = useCluster(3, 'coord-hold-', {clients: 1})

  it('kill -9 of the leader, then SIGTERM of the next one: no failed read, every write acknowledged or refused, linearizable', async () => {
    const {cluster} = ctx
    const first = await leaderIndex(cluster)
    const follower = (first + 1) % 3
    const via = cluster.servers[follower]
    const client = cluster.clients[0]
    await http(via.httpAddr, 'PUT', '/v1/kv/hold/blocking', 'still')
    const index = Number((await http(via.httpAddr, 'GET', '/v1/kv/hold/blocking')).headers['x-consul-index'])
    const load = new FailoverLoad('hold/kill', [via, client], via)
    // A session renewed through the client agent and through the follower all along: Consul's
    // Session.Renew runs on the leader, so each renew is held through the elections too.
    const session = (await http(via.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({TTL: '30s'}))).json<{ID: string}>().ID
    const renewals = {ok: 0, failed: [] as string[]}
    let renewing = true
    const renewLoop = (async () => {
      for (let i = 0; renewing && i < 10_000; i++) {
        const agent = i % 2 === 0 ? client : via
        try {
          const res = await http(agent.httpAddr, 'PUT', `/v1/session/renew/${session}`)
          if (res.status === 200) renewals.ok++
          else renewals.failed.push(`${agent.name}: ${res.status} ${res.text.trim()}`)
        } catch (error) {
          renewals.failed.push(`${agent.name}: ${(error as Error).message}`)
        }
        await sleep(100)
      }
    })()
    load.start()
    let blocking: Array<Promise<{label: string; status: number; index: number; tookMs: number}>> = []
    let stopMs = 0
    try {
      await sleep(1000)
      await cluster.servers[first].kill9()
      // Blocking queries sent while there is no leader: held, then parked for their whole wait
      // with the index they were given (nothing writes that key).
      blocking = [['follower', via], ['client agent', client]].map(async ([label, agent]) => {
        const started = performance.now()
        const res = await http((agent as AgentProcess).httpAddr, 'GET', `/v1/kv/hold/blocking?index=${index}&wait=2s`)
        return {label: label as string, status: res.status, index: Number(res.headers['x-consul-index']), tookMs: performance.now() - started}
      })
      const second = await leaderIndex(cluster, new Set([first]))
      console.log(`# killed ${cluster.servers[first].name} (-9); ${cluster.servers[second].name} leads`)
      await sleep(1000)
      await restartServer(cluster, ctx.dir, first)
      await sleep(1500)
      const next = await leaderOtherThan(cluster, follower)
      const stoppedAt = performance.now()
      await cluster.servers[next].stop()
      stopMs = performance.now() - stoppedAt
      console.log(`# stopped ${cluster.servers[next].name} (SIGTERM) in ${Math.round(stopMs)} ms`)
      await leaderIndex(cluster, new Set([next]))
      await sleep(1500)
      await restartServer(cluster, ctx.dir, next)
      await sleep(500)
    } finally {
      renewing = false
      await Promise.all([load.stop(), renewLoop])
    }
    await load.readOnce(via, '&consistent')
    report('kill -9 then SIGTERM of the leader', load)
    console.log(`#   session renewals through the client agent and the follower: ${renewals.ok} ok, ${renewals.failed.length} failed${renewals.failed.length ? ` (${renewals.failed[0]})` : ''}`)
    assert.deepEqual(renewals.failed, [], 'no session renewal failed')
    for (const result of await Promise.all(blocking)) {
      console.log(`#   blocking query through the ${result.label} sent at the kill: ${result.status}, index ${result.index}, after ${Math.round(result.tookMs)} ms`)
      assert.equal(result.status, 200)
      assert.equal(result.index, index, 'the key did not change: same index')
      assert.ok(result.tookMs >= 1900, 'it parked for its whole wait after the retry')
      assert.ok(result.tookMs < 7000 + 2000 + 4000, 'within hold + wait + jitter, with room for a loaded box')
    }
    const held = holdLines([...cluster.servers, client])
    console.log(`#   ${held.length} hold summaries logged${held.length > 0 ? `, e.g. ${held[0].trim()}` : ''}`)
    // One line per failover, not per request: the follower held more requests than it wrote lines.
    const viaLines = holdLines([via])
    const viaHeld = viaLines.reduce((sum, line) => sum + Number(/held=(\d+)/.exec(line)?.[1] ?? 0), 0)
    console.log(`#   ${via.name}: ${viaLines.length} summary lines for ${viaHeld} held requests`)
    assert.ok(viaHeld > viaLines.length, 'held requests are summed up, not logged one by one')
    assert.deepEqual(load.failedReads, [], 'no read failed')
    assert.ok(load.acknowledged > 20, 'writes went on through the failovers')
    // A leader stopping under held traffic exits by itself (stop() sends SIGKILL only after 10 s):
    // a read-index round started by a peer during shutdown once kept it alive for 10 s.
    assert.ok(stopMs < 8000, `the SIGTERMed leader exited by itself (${Math.round(stopMs)} ms)`)
    assert.ok(held.length >= 1, 'the held requests were summed up in a log line')
    assertLinearizable(load)
  })

  it('the leader paused (SIGSTOP) for 3 s: held reads end in success, linearizable', async () => {
    const {cluster} = ctx
    const follower = (await leaderIndex(cluster) + 1) % 3
    const leader = await leaderOtherThan(cluster, follower)
    const via = cluster.servers[follower]
    const load = new FailoverLoad('hold/pause', [via, cluster.clients[0]], via)
    load.start()
    try {
      await sleep(1000)
      cluster.servers[leader].pause()
      await sleep(3000)
      cluster.servers[leader].resume()
      await sleep(2000)
    } finally {
      cluster.servers[leader].resume()
      await load.stop()
    }
    await load.readOnce(via, '&consistent')
    report('leader paused 3 s', load)
    assert.deepEqual(load.failedReads, [], 'no read failed')
    assert.ok(load.maxReadLatencyMs() < 7000, 'every read answered within rpc_hold_timeout')
    assertLinearizable(load)
  })
})

describe('a client agent whose server dies', () => {
  const ctx = useCluster(3, 'coord-hold-client-', {clients: 1})

  it('sends reads in flight, blocking ones with their index and wait, to another server; no read fails', async () => {
    const {cluster} = ctx
    const client = cluster.clients[0]
    await http(client.httpAddr, 'PUT', '/v1/kv/hold/client-blocking', 'still')
    const index = Number((await http(client.httpAddr, 'GET', '/v1/kv/hold/client-blocking')).headers['x-consul-index'])
    const used = [...client.output().matchAll(/using server: server=(\S+):\d+/g)].at(-1)?.[1]
    const victim = cluster.addresses.indexOf(used ?? '')
    assert.ok(victim >= 0 && victim < 3, `the client names the server it uses (${used})`)
    const load = new FailoverLoad('hold/client', [client], client)
    load.start()
    let blocking: {status: number; index: number; tookMs: number} | undefined
    try {
      await sleep(500)
      // Parked on the server about to die; nothing writes that key, so only the wait ends it.
      const started = performance.now()
      const parked = http(client.httpAddr, 'GET', `/v1/kv/hold/client-blocking?index=${index}&wait=3s`)
        .then((res) => ({status: res.status, index: Number(res.headers['x-consul-index']), tookMs: performance.now() - started}))
      await sleep(1000)
      await cluster.servers[victim].kill9()
      console.log(`# killed ${cluster.servers[victim].name}, the client's server (-9)`)
      blocking = await parked
      await sleep(2000)
    } finally {
      await load.stop()
    }
    report('the client agent\'s server killed', load)
    console.log(`#   blocking query parked on it: ${blocking.status}, index ${blocking.index}, after ${Math.round(blocking.tookMs)} ms`)
    const retried = client.output().split('\n').filter((line) => line.includes('requests retried on another server'))
    console.log(`#   ${retried.length} retry summaries logged${retried.length > 0 ? `, e.g. ${retried[0].trim()}` : ''}`)
    assert.deepEqual(load.failedReads, [], 'no read failed')
    assert.equal(blocking.status, 200)
    assert.equal(blocking.index, index, 'the key did not change: same index')
    assert.ok(blocking.tookMs >= 1000 + 2900, 'sent again with its wait after the server died')
    assert.ok(retried.length >= 1, 'the retries were summed up in a log line')
    assertLinearizable(load)
  })
})

describe('no quorum, rpc_hold_timeout = 1s', () => {
  const config = tempDir('coord-hold-config-')
  const file = join(config.path, 'hold.json')
  writeFileSync(file, JSON.stringify({performance: {rpc_hold_timeout: '1s'}}))
  const ctx = useCluster(3, 'coord-hold1s-', {clients: 1, extraArgs: [`-config-file=${file}`]})

  it('reads answer 500 "No cluster leader" after about 1 s, through a server and through a client agent', async () => {
    const {cluster} = ctx
    await http(cluster.servers[0].httpAddr, 'PUT', '/v1/kv/hold/quorum', 'x')
    const survivor = cluster.servers[0]
    await Promise.all([cluster.servers[1].kill9(), cluster.servers[2].kill9()])
    // Past any leader lease the survivor may still hold (one election timeout).
    await sleep(1500)
    try {
      for (const [label, agent, limitMs] of [['server', survivor, 4000], ['client agent', cluster.clients[0], 6000]] as const) {
        for (const query of ['', '?consistent']) {
          const started = performance.now()
          const res = await http(agent.httpAddr, 'GET', `/v1/kv/hold/quorum${query}`)
          const tookMs = performance.now() - started
          console.log(`# no quorum, read${query} through the ${label}: ${res.status} ${res.text.trim()} after ${Math.round(tookMs)} ms`)
          assert.equal(res.status, 500)
          assert.equal(res.text.trim(), 'No cluster leader')
          assert.ok(tookMs >= 950, `held for the hold time first (${Math.round(tookMs)} ms)`)
          assert.ok(tookMs < limitMs, `not hanging (${Math.round(tookMs)} ms)`)
        }
      }
      const stale = await http(survivor.httpAddr, 'GET', '/v1/kv/hold/quorum?stale&raw')
      assert.equal(stale.status, 200, '?stale still reads locally')
    } finally {
      config.cleanup()
    }
  })
})
