// Turning gossip encryption on in a running cluster, as Consul documents it: three plain servers;
// a rolling restart adding `encrypt` with encrypt_verify_incoming = encrypt_verify_outgoing = false;
// another turning verify_outgoing on; a last one turning verify_incoming on. After every restart the
// three servers see each other alive and a write commits; after the first stage an agent without
// the key still joins, after the last it no longer can.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {randomSubnet, serverArgs, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {generateGossipKey} from '../../src/lib/gossip/keyring.js'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

const KEY = generateGossipKey()

async function aliveEverywhere(cluster: Cluster, names: string[], timeoutMs: number): Promise<number> {
  const start = Date.now()
  let last = ''
  while (Date.now() - start < timeoutMs) {
    const views = await Promise.all(cluster.servers.map(async (s) => {
      const res = await http(s.httpAddr, 'GET', '/v1/agent/members').catch(() => undefined)
      return res?.status === 200 ? res.json<AgentMember[]>().filter((m) => m.Status === 1).map((m) => m.Name) : []
    }))
    if (views.every((view) => names.every((name) => view.includes(name)))) return Date.now() - start
    last = JSON.stringify(views)
    await sleep(100)
  }
  throw new Error(`not every member alive everywhere within ${timeoutMs} ms: ${last}`)
}

describe('gossip encryption turned on in a live cluster (encrypt_verify_incoming / encrypt_verify_outgoing)', () => {
  const dir = tempDir('coord-encrypt-rollout-')
  const subnet = randomSubnet()
  let cluster: Cluster
  const extra: AgentProcess[] = []
  const names = ['server-1', 'server-2', 'server-3']

  before(async () => {
    cluster = await startCluster({servers: 3, dir: dir.path, subnet, timeoutMs: 30_000})
    await aliveEverywhere(cluster, names, 15_000)
  })
  after(async () => {
    await Promise.all(extra.map((a) => a.stop()))
    await cluster?.stop()
    dir.cleanup()
  })

  /** Restarts every server in turn with `settings` in a config file; checks the cluster after each. */
  async function rollingRestart(stage: string, settings: Record<string, unknown>): Promise<void> {
    const file = join(dir.path, `${stage}.json`)
    writeFileSync(file, JSON.stringify(settings))
    for (let i = 0; i < 3; i++) {
      const name = `server-${i + 1}`
      const address = cluster.addresses[i]
      await cluster.servers[i].stop()
      cluster.servers[i] = await spawnAgent({
        name, timeoutMs: 30_000, waitForLeader: true,
        args: serverArgs({name, address, dataDir: join(dir.path, name), expect: 3, join: cluster.addresses.filter((a) => a !== address), extra: [`-config-file=${file}`]}),
      })
      const ms = await aliveEverywhere(cluster, names, 20_000)
      const put = await http(cluster.servers[(i + 1) % 3].httpAddr, 'PUT', `/v1/kv/rollout/${stage}/${name}`, 'x')
      assert.equal(put.status, 200, put.text)
      console.log(`# rollout ${stage}: ${name} restarted, all alive everywhere after ${ms} ms`)
    }
    // Gossip of the restarted agents says what they run with.
    for (const server of cluster.servers) assert.match(server.output(), /Gossip Encryption: true/)
  }

  /** A plain agent (no key) tries to join the cluster through server-1. */
  async function plainAgentJoins(name: string, index: number): Promise<boolean> {
    const address = `${subnet}.${index}`
    const dataDir = join(dir.path, name)
    mkdirSync(dataDir, {recursive: true})
    const agent = await spawnAgent({name, timeoutMs: 20_000, args: [`-data-dir=${dataDir}`, `-node=${name}`, `-bind=${address}`, `-client=${address}`, `-retry-join=${cluster.addresses[0]}`]})
    extra.push(agent)
    try {
      await aliveEverywhere(cluster, [...names, name], 6_000)
      return true
    } catch {
      return false
    } finally {
      await agent.stop()
    }
  }

  it('stage 1: encrypt with both verifications off: mixed plain and encrypted members stay one cluster', async () => {
    await rollingRestart('stage1', {encrypt: KEY, encrypt_verify_incoming: false, encrypt_verify_outgoing: false})
    // Everything is still sent plain and plain is accepted: an agent without the key still joins.
    assert.equal(await plainAgentJoins('plain-a', 20), true, 'a plain agent still joins while both verifications are off')
  })

  it('stage 2: verify_outgoing on: members now send encrypted, still accept plain', async () => {
    await rollingRestart('stage2', {encrypt: KEY, encrypt_verify_incoming: false, encrypt_verify_outgoing: true})
  })

  it('stage 3: verify_incoming on: encrypted only; a plain agent can no longer join', async () => {
    await rollingRestart('stage3', {encrypt: KEY, encrypt_verify_incoming: true, encrypt_verify_outgoing: true})
    assert.equal(await plainAgentJoins('plain-b', 21), false, 'a plain agent is refused once verify_incoming is on')
  })
})
