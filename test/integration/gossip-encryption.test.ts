// Gossip encryption on real processes: three servers on 127.B.C.1-3 sharing one -encrypt key form
// a cluster; an agent with another key cannot join and says why; a key rotation (install, use,
// remove) while KV writes flow and members are watched marks no member failed and leaves every
// member on the new primary; the keys survive a restart from the data dir (the file wins over the
// now stale -encrypt); `coord keyring` rejects bad flags; a corrupt keyring file stops the agent.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {randomSubnet, serverArgs, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {generateGossipKey} from '../../src/lib/gossip/keyring.js'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {runCli, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

const STATUS = ['none', 'alive', 'leaving', 'left', 'failed']
const K1 = generateGossipKey()
const K2 = generateGossipKey()

async function statuses(httpAddr: string): Promise<Map<string, string>> {
  const res = await http(httpAddr, 'GET', '/v1/agent/members')
  assert.equal(res.status, 200, res.text)
  return new Map(res.json<AgentMember[]>().map((m) => [m.Name, STATUS[m.Status]]))
}

async function waitAllAlive(cluster: Cluster, count: number, timeoutMs: number): Promise<number> {
  const start = Date.now()
  let last = ''
  while (Date.now() - start < timeoutMs) {
    const views = await Promise.all(cluster.servers.map((s) => statuses(s.httpAddr).catch(() => new Map<string, string>())))
    if (views.every((v) => v.size === count && [...v.values()].every((s) => s === 'alive'))) return Date.now() - start
    last = JSON.stringify(views.map((v) => [...v]))
    await sleep(100)
  }
  throw new Error(`not all ${count} alive everywhere within ${timeoutMs} ms: ${last}`)
}

describe('gossip encryption and keyring rotation on a three-server cluster', () => {
  const dir = tempDir('coord-keyring-')
  const subnet = randomSubnet()
  let cluster: Cluster
  const extra: AgentProcess[] = []

  before(async () => {
    cluster = await startCluster({servers: 3, dir: dir.path, subnet, extraArgs: [`-encrypt=${K1}`], timeoutMs: 30_000})
  })
  after(async () => {
    await Promise.all(extra.map((a) => a.stop()))
    await cluster?.stop()
    dir.cleanup()
  })

  it('with the same key the cluster forms: every member alive, `coord keyring -list` counts the key on 3/3', async () => {
    const ms = await waitAllAlive(cluster, 3, 15_000)
    console.log(`# keyring: 3 encrypted members alive everywhere ${ms} ms after start-up`)
    const members = await runCli(['members'], {httpAddr: cluster.servers[0].httpAddr})
    assert.equal(members.code, 0, members.stderr)
    assert.equal(members.stdout.trim().split('\n').filter((l) => /\balive\b/.test(l)).length, 3)
    const list = await runCli(['keyring', '-list'], {httpAddr: cluster.servers[1].httpAddr})
    assert.equal(list.code, 0, list.stderr)
    assert.equal(list.stdout, `==> Gathering installed encryption keys...\n\nWAN:\n  ${K1} [3/3]\n\ndc1 (LAN):\n  ${K1} [3/3]\n`)
    const api = await http(cluster.servers[2].httpAddr, 'GET', '/v1/operator/keyring')
    assert.equal(api.status, 200, api.text)
    const pool = {Datacenter: 'dc1', Segment: '', Messages: {}, Keys: {[K1]: 3}, PrimaryKeys: {[K1]: 3}, NumNodes: 3, Error: ''}
    assert.deepEqual(api.json(), [{WAN: true, ...pool}, {WAN: false, ...pool}])
    assert.deepEqual(JSON.parse(readFileSync(join(dir.path, 'server-1', 'serf', 'remote.keyring'), 'utf8')), [K1])
    assert.deepEqual(JSON.parse(readFileSync(join(dir.path, 'server-1', 'serf', 'local.keyring'), 'utf8')), [K1])
  })

  it('an agent with another key cannot join: the join error says no installed key could decrypt it', async () => {
    const address = `${subnet}.9`
    const dataDir = join(dir.path, 'intruder')
    mkdirSync(dataDir, {recursive: true})
    const intruder = await spawnAgent({
      name: 'intruder', timeoutMs: 30_000, waitForLeader: true,
      args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, '-node=intruder', `-bind=${address}`, `-client=${address}`, `-encrypt=${generateGossipKey()}`],
    })
    extra.push(intruder)
    const joined = await runCli(['join', cluster.addresses[0]], {httpAddr: intruder.httpAddr})
    assert.equal(joined.code, 1, joined.stdout)
    assert.match(joined.stderr, /No installed keys could decrypt the message/)
    assert.match(joined.stderr, /Failed to join any nodes/)
    console.log(`# keyring: wrong-key join error: ${joined.stderr.trim().split('\n')[0]}`)
    // The seed logged it, naming the sender; nobody lists the intruder.
    await sleep(300)
    assert.match(cluster.servers[0].output(), new RegExp(`No installed keys could decrypt the message.*from=${address.replace(/\./g, '\\.')}`))
    assert.deepEqual([...(await statuses(intruder.httpAddr)).keys()], ['intruder'])
    for (const s of cluster.servers) assert.ok(!(await statuses(s.httpAddr)).has('intruder'))
  })

  it('rotates the key mid-traffic: install, use, remove; no member failed, no write lost, all on the new primary', async () => {
    let stop = false
    let writes = 0
    const writeErrors: string[] = []
    const notAlive: string[] = []
    const writer = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const s = cluster.servers[i % 3]
        const res = await http(s.httpAddr, 'PUT', `/v1/kv/rotation/${i}`, `v${i}`).catch((e: Error) => ({status: 0, text: e.message}))
        if (res.status === 200) writes++
        else writeErrors.push(`${res.status} ${res.text}`)
      }
    })()
    const watcher = (async () => {
      while (!stop) {
        for (const s of cluster.servers) {
          for (const [name, status] of await statuses(s.httpAddr)) if (status !== 'alive') notAlive.push(`${s.name} saw ${name} ${status}`)
        }
        await sleep(50)
      }
    })()
    const steps: string[] = []
    const cli = async (...args: string[]) => {
      const t = Date.now()
      const result = await runCli(['keyring', ...args], {httpAddr: cluster.servers[0].httpAddr})
      steps.push(`${args[0].replace(/=.*/, '')} ${Date.now() - t} ms`)
      return result
    }
    const started = Date.now()
    const install = await cli(`-install=${K2}`)
    assert.equal(install.code, 0, install.stderr)
    assert.equal(install.stdout, '==> Installing new gossip encryption key...\n')
    const use = await cli(`-use=${K2}`)
    assert.equal(use.code, 0, use.stderr)
    await sleep(1500) // gossip under the new primary for a while, the old key still installed
    const removeWrong = await cli(`-remove=${K2}`)
    assert.equal(removeWrong.code, 1)
    assert.match(removeWrong.stderr, /error: Unexpected response code: 500 \(8 errors occurred:\n\t\* WAN error: 3\/3 nodes reported failure\n\t\* server-\d\.dc1: Removing the primary key is not allowed/)
    assert.match(removeWrong.stderr, /\t\* dc1 \(LAN\) error: 3\/3 nodes reported failure\n\t\* server-\d: Removing the primary key is not allowed/)
    const remove = await cli(`-remove=${K1}`)
    assert.equal(remove.code, 0, remove.stderr)
    const rotationMs = Date.now() - started
    await sleep(1500)
    stop = true
    await Promise.all([writer, watcher])
    console.log(`# keyring: rotation took ${rotationMs} ms with ${writes} KV writes flowing; ${writeErrors.length} write errors, ${notAlive.length} non-alive observations; CLI calls: ${steps.join(', ')}`)
    assert.ok(writes > 10, `writes kept flowing (${writes})`)
    assert.deepEqual(writeErrors, [])
    assert.deepEqual(notAlive, [])
    const primary = await cli('-list-primary')
    assert.equal(primary.stdout, `==> Gathering installed primary encryption keys...\n\nWAN:\n  ${K2} [3/3]\n\ndc1 (LAN):\n  ${K2} [3/3]\n`)
    const list = await cli('-list')
    assert.equal(list.stdout, `==> Gathering installed encryption keys...\n\nWAN:\n  ${K2} [3/3]\n\ndc1 (LAN):\n  ${K2} [3/3]\n`)
    for (let i = 1; i <= 3; i++) for (const file of ['local.keyring', 'remote.keyring']) assert.deepEqual(JSON.parse(readFileSync(join(dir.path, `server-${i}`, 'serf', file), 'utf8')), [K2])
  })

  it('keys survive a restart: the keyring file wins over the stale -encrypt and the member rejoins', async () => {
    const old = cluster.servers[2]
    await old.stop()
    const address = cluster.addresses[2]
    const restarted = await spawnAgent({
      name: 'server-3', timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name: 'server-3', address, dataDir: join(dir.path, 'server-3'), expect: 3, join: cluster.addresses.filter((a) => a !== address), extra: [`-encrypt=${K1}`]}),
    })
    cluster.servers[2] = restarted
    assert.match(restarted.output(), /LAN keyring doesn't include key provided with -encrypt, using keyring/)
    assert.match(restarted.output(), /WAN keyring doesn't include key provided with -encrypt, using keyring/)
    const ms = await waitAllAlive(cluster, 3, 20_000)
    console.log(`# keyring: restarted member alive everywhere again after ${ms} ms`)
    const list = await runCli(['keyring', '-list'], {httpAddr: restarted.httpAddr})
    assert.equal(list.stdout, `==> Gathering installed encryption keys...\n\nWAN:\n  ${K2} [3/3]\n\ndc1 (LAN):\n  ${K2} [3/3]\n`)
    const local = await runCli(['keyring', '-list', '-local-only'], {httpAddr: restarted.httpAddr})
    assert.equal(local.stdout, `==> Gathering installed encryption keys...\n\ndc1 (LAN):\n  ${K2} [3/3]\n`)
  })

  it('`coord keyring` with no action, several actions or bad options: an error and exit 1', async () => {
    const httpAddr = cluster.servers[0].httpAddr
    const none = await runCli(['keyring'], {httpAddr})
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^Error: one of -list, -list-primary, -install, -use or -remove is required\n[\s\S]*Usage: coord keyring \[options\]/)
    const two = await runCli(['keyring', '-list', `-install=${K1}`], {httpAddr})
    assert.deepEqual([two.code, two.stderr.trim()], [1, 'Only a single action is allowed'])
    const relay = await runCli(['keyring', '-list', '-relay-factor=9'], {httpAddr})
    assert.deepEqual([relay.code, relay.stderr.trim()], [1, 'Error parsing relay factor: Relay factor must be in range: [0, 5]'])
    const local = await runCli(['keyring', `-install=${K1}`, '-local-only'], {httpAddr})
    assert.deepEqual([local.code, local.stderr.trim()], [1, 'Error validating local-only: local-only can only be set for list requests'])
    const badKey = await runCli(['keyring', '-install=bm90LWEta2V5'], {httpAddr})
    assert.equal(badKey.code, 1)
    assert.match(badKey.stderr, /error: Unexpected response code: 500[\s\S]*must be 16, 24 or 32 bytes/)
    const empty = await http(httpAddr, 'POST', '/v1/operator/keyring', '{}')
    assert.deepEqual([empty.status, empty.text], [400, 'Request decode failed: Key is required (a base64 gossip key, see coord keygen)'])
    const relayHttp = await http(httpAddr, 'GET', '/v1/operator/keyring?relay-factor=2&local-only=true')
    assert.equal(relayHttp.status, 200, relayHttp.text)
  })

  it('a corrupt keyring file stops the agent with an error naming the file', async () => {
    const dataDir = join(dir.path, 'corrupt')
    mkdirSync(join(dataDir, 'serf'), {recursive: true})
    writeFileSync(join(dataDir, 'serf', 'local.keyring'), '["abc')
    const address = `${subnet}.10`
    await assert.rejects(
      spawnAgent({name: 'corrupt', timeoutMs: 20_000, args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, '-node=corrupt', `-bind=${address}`, `-client=${address}`, `-encrypt=${K1}`]}),
      /exited with 1 before serving:[\s\S]*Error loading keyring file .*local\.keyring: not valid JSON/,
    )
  })
})
