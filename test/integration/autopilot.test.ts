// Autopilot on five real servers: the configuration seeded from the agents' `autopilot` block and
// changed with `coord operator autopilot set-config`; two servers killed with SIGKILL stay voters
// while min_quorum = 5, and once min_quorum allows it autopilot removes both (after gossip marks
// them failed and server_stabilization_time passes) while the cluster keeps taking writes. The same
// cluster's Prometheus output shows the Raft, gossip and autopilot metrics moving with their causes
// (writes, the kills, an election after the leader is killed).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {randomSubnet, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {parsePrometheus, type PromFamily} from '../helpers/prometheus.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'

/** A counter's value, a summary's count or a gauge's value in one scrape (0 when absent). */
function reading(families: Map<string, PromFamily>, name: string): number {
  const metric = families.get(name)?.metrics[0]
  return metric ? Number(metric.count ?? metric.value ?? 0) : 0
}

type RaftConfig = {Servers: Array<{ID: string; Node: string; Leader: boolean; Voter: boolean}>}

describe('autopilot: five servers, two killed', () => {
  const dir = tempDir('coord-autopilot-')
  let cluster: Cluster

  before(async () => {
    const file = join(dir.path, 'autopilot.json')
    writeFileSync(file, JSON.stringify({autopilot: {server_stabilization_time: '2s', min_quorum: 5}, telemetry: {prometheus_retention_time: '5m', disable_hostname: true}}))
    cluster = await startCluster({servers: 5, dir: dir.path, subnet: randomSubnet(), timeoutMs: 60_000, extraArgs: [`-config-file=${file}`]})
  })
  after(async () => {
    await cluster?.stop()
    dir.cleanup()
  })

  const alive = (): AgentProcess[] => cluster.servers.filter((s) => !s.exited())
  const leader = async (): Promise<AgentProcess> => until('a leader among the live servers', async () => {
    for (const server of alive()) {
      const config = await http(server.httpAddr, 'GET', '/v1/operator/raft/configuration').catch(() => undefined)
      if (config?.status !== 200) continue
      const lead = config.json<RaftConfig>().Servers.find((s) => s.Leader)
      const found = lead && alive().find((s) => s.name === lead.Node)
      if (found) return found
    }
    return undefined
  }, 30_000)
  const cli = (args: string[], on: AgentProcess) => runCli(args, {httpAddr: on.httpAddr})
  const scrape = async (server: AgentProcess) => parsePrometheus((await http(server.httpAddr, 'GET', '/v1/agent/metrics?format=prometheus')).text)
  /**
   * The LAN pool's consul.memberlist.probeNode summary (label network = lan), read from the text:
   * the parser keeps one quantile set per labelled summary family (here the LAN and WAN series
   * would overwrite each other) and drops their counts.
   */
  const lanProbes = async (server: AgentProcess): Promise<{count: number; median: number}> => {
    const text = (await http(server.httpAddr, 'GET', '/v1/agent/metrics?format=prometheus')).text
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1])
    return {
      count: value(/^consul_memberlist_probeNode_count\{network="lan"\} (\S+)$/m),
      median: value(/^consul_memberlist_probeNode\{network="lan",quantile="0.5"\} (\S+)$/m),
    }
  }
  /** The first scrape of every server, before anything is killed. */
  const baseline = new Map<string, Map<string, PromFamily>>()

  it('get-config shows the seeded configuration; state lists five healthy voters', async () => {
    const first = await leader()
    const shown = await until('the autopilot configuration stored by the leader', async () => {
      const res = await cli(['operator', 'autopilot', 'get-config'], first)
      return res.code === 0 && res
    }, 20_000)
    assert.match(shown.stdout, /^CleanupDeadServers = true$/m)
    assert.match(shown.stdout, /^ServerStabilizationTime = 2s$/m)
    assert.match(shown.stdout, /^MinQuorum = 5$/m)
    const state = await until('five healthy voters', async () => {
      const res = await cli(['operator', 'autopilot', 'state', '-format=json'], first)
      const body = res.code === 0 ? JSON.parse(res.stdout) as {Healthy: boolean; Voters: string[]; FailureTolerance: number} : undefined
      return body?.Healthy && body.Voters.length === 5 && body
    }, 30_000)
    assert.equal(state.FailureTolerance, 2)
    for (const server of cluster.servers) baseline.set(server.name, await scrape(server))
  })

  it('with min_quorum = 5 the dead stay; with min_quorum = 3 both go, and writes continue', async () => {
    const lead = await leader()
    const victims = alive().filter((s) => s !== lead).slice(0, 2)
    const probesBefore = (await lanProbes(lead)).count
    const killedAt = Date.now()
    for (const victim of victims) await victim.kill9()
    // Gossip marks them failed within seconds; stabilization is 2 s: give it well past both.
    await sleep(12_000)
    // The leader kept timing its LAN probe rounds through the kills (the rounds against the killed
    // servers included, as memberlist's probeNode): at least one per longest health-scaled probe
    // period (150 ms × 8), and a median in the last 10 s window.
    const probesAfter = await lanProbes(lead)
    console.log(`leader's LAN probe rounds timed in the 12 s after the kills: ${probesAfter.count - probesBefore}, median ${probesAfter.median.toFixed(2)} ms`)
    assert.ok(probesAfter.count - probesBefore >= 10, `${probesBefore} → ${probesAfter.count}`)
    assert.ok(Number.isFinite(probesAfter.median), JSON.stringify(probesAfter))
    let config = (await http(lead.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<RaftConfig>()
    assert.equal(config.Servers.length, 5, 'min_quorum = 5: no server removed')
    const state = JSON.parse((await cli(['operator', 'autopilot', 'state', '-format=json'], lead)).stdout) as {Healthy: boolean; Servers: Record<string, {Name: string; NodeStatus: string; Healthy: boolean}>}
    assert.equal(state.Healthy, false)
    for (const victim of victims) {
      const entry = Object.values(state.Servers).find((s) => s.Name === victim.name)
      assert.equal(entry?.Healthy, false, `${victim.name} is unhealthy`)
      assert.equal(entry?.NodeStatus, 'failed', `${victim.name} is failed in gossip`)
    }
    assert.equal((await http(lead.httpAddr, 'PUT', '/v1/kv/autopilot/during', 'x')).text.trim(), 'true')

    const set = await cli(['operator', 'autopilot', 'set-config', '-min-quorum=3'], lead)
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stdout.trim(), 'Configuration updated!')
    const setAt = Date.now()
    config = await until('both dead servers removed from the Raft configuration', async () => {
      const now = (await http(lead.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<RaftConfig>()
      return now.Servers.length === 3 && now
    }, 30_000)
    console.log(`removed ${((Date.now() - setAt) / 1000).toFixed(1)} s after min_quorum allowed it (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill)`)
    assert.deepEqual(config.Servers.map((s) => s.Node).sort(), alive().map((s) => s.name).sort())
    assert.ok(config.Servers.every((s) => s.Voter))
    for (let i = 0; i < 5; i++) {
      assert.equal((await http(lead.httpAddr, 'PUT', `/v1/kv/autopilot/after/${i}`, 'y')).text.trim(), 'true')
    }
    const health = (await http(lead.httpAddr, 'GET', '/v1/operator/autopilot/health')).json<{Healthy: boolean; FailureTolerance: number}>()
    assert.deepEqual([health.Healthy, health.FailureTolerance], [true, 1])
  })

  it('a removed server that comes back through gossip alone (no -retry-join) is added back as a voter', async () => {
    const lead = await leader()
    const index = cluster.servers.findIndex((s) => s.exited())
    const removed = cluster.servers[index]
    // Its own data dir and flags, without the retry-join addresses: it rejoins the LAN pool from its
    // gossip snapshot, so only the leader's reading of gossip can bring it back into Raft.
    const args = removed.args.slice(2).filter((arg) => !arg.startsWith('-retry-join'))
    const started = Date.now()
    cluster.servers[index] = await spawnAgent({name: removed.name, args, timeoutMs: 60_000})
    const config = await until(`${removed.name} a voter again`, async () => {
      const now = (await http(lead.httpAddr, 'GET', '/v1/operator/raft/configuration')).json<RaftConfig>()
      return now.Servers.some((s) => s.Node === removed.name && s.Voter) && now
    }, 60_000)
    console.log(`${removed.name} back as a voter ${((Date.now() - started) / 1000).toFixed(1)} s after its restart`)
    assert.equal(config.Servers.length, 4)
    assert.equal((await http(lead.httpAddr, 'PUT', '/v1/kv/autopilot/rejoined', 'z')).text.trim(), 'true')
  })

  it('PUT ?cas= with a stale index is refused; bad bodies are 400s', async () => {
    const lead = await leader()
    const current = (await http(lead.httpAddr, 'GET', '/v1/operator/autopilot/configuration')).json<{ModifyIndex: number}>()
    const body = JSON.stringify({CleanupDeadServers: true, MinQuorum: 3, ServerStabilizationTime: '2s', LastContactThreshold: '200ms', MaxTrailingLogs: 250})
    assert.equal((await http(lead.httpAddr, 'PUT', `/v1/operator/autopilot/configuration?cas=${current.ModifyIndex - 1}`, body)).text.trim(), 'false')
    assert.equal((await http(lead.httpAddr, 'PUT', `/v1/operator/autopilot/configuration?cas=${current.ModifyIndex}`, body)).text.trim(), 'true')
    const bad = await http(lead.httpAddr, 'PUT', '/v1/operator/autopilot/configuration', JSON.stringify({LastContactThreshold: 'soon'}))
    assert.equal(bad.status, 400)
    assert.match(bad.text, /^Error parsing autopilot config: LastContactThreshold/)
    assert.equal((await http(lead.httpAddr, 'PUT', '/v1/operator/autopilot/configuration?cas=x', body)).status, 400)
  })

  it('Raft, gossip and autopilot metrics move with their causes; killing the leader moves raft.state.candidate', async () => {
    const lead = await leader()
    const before = baseline.get(lead.name)!
    let families = await scrape(lead)
    // Writes on the leader (the earlier tests made some, and the removals): applies, commits, FSM applies.
    for (const name of ['consul_raft_apply', 'consul_raft_commitTime', 'consul_raft_fsm_apply', 'consul_raft_leader_dispatchLog', 'consul_raft_leader_lastContact']) {
      assert.ok(reading(families, name) > reading(before, name), `${name}: ${reading(before, name)} → ${reading(families, name)}`)
    }
    // The kills: gossip suspected and then declared the two servers dead; autopilot reports health.
    for (const name of ['consul_memberlist_msg_suspect', 'consul_memberlist_msg_dead', 'consul_serf_member_failed']) {
      assert.ok(reading(families, name) > reading(before, name), `${name}: ${reading(before, name)} → ${reading(families, name)}`)
    }
    // Health is sampled once a second on the leader (a loaded box may miss a heartbeat window now and then).
    families = await until('consul.autopilot.healthy = 1 and failure_tolerance = 1 on the leader', async () => {
      const now = await scrape(lead)
      return reading(now, 'consul_autopilot_healthy') === 1 && reading(now, 'consul_autopilot_failure_tolerance') === 1 && now
    }, 20_000)
    // probeNode is a summary over a sliding 10 s window (as client_golang's): NaN in a window without
    // a timed probe. Every LAN probe round is timed, those of the killed servers included (as
    // memberlist's probeNode), one per probe interval, so the leader's LAN series always has a median.
    const lan = await lanProbes(lead)
    assert.ok(Number.isFinite(lan.median), JSON.stringify(lan))
    assert.ok(families.has('consul_memberlist_probeNode'))
    console.log(`leader's LAN probeNode: ${lan.count} rounds timed, median ${lan.median.toFixed(2)} ms`)
    assert.ok(families.has('consul_memberlist_health_score'))
    // Kill the leader: a survivor stands for election.
    const survivors = alive().filter((s) => s !== lead)
    const candidacies = async () => (await Promise.all(survivors.map(async (s) => reading(await scrape(s), 'consul_raft_state_candidate')))).reduce((a, b) => a + b, 0)
    const candidatesBefore = await candidacies()
    await lead.kill9()
    const next = await leader()
    assert.ok(survivors.includes(next))
    assert.ok(await candidacies() > candidatesBefore, 'consul.raft.state.candidate moved on a survivor')
    families = await scrape(next)
    assert.ok(reading(families, 'consul_raft_state_leader') >= 1)
    assert.equal((await http(next.httpAddr, 'PUT', '/v1/kv/autopilot/after-election', 'z')).text.trim(), 'true')
  })
})
