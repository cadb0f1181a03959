// `coord operator raft ...` and /v1/operator/* against real agents (Consul docs: commands/operator, commands/snapshot–10.3,
// Consul docs: api-docs/operator, api-docs/snapshot). A lone server is the only voter: it lists itself, and refuses to remove itself or
// hand leadership to nobody.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

interface Configuration {
  Servers: Array<{ID: string; Node: string; Address: string; Leader: boolean; ProtocolVersion: string; Voter: boolean; LastIndex: number}>
  Index: number
}

describe('coord operator raft against a dev agent', () => {
  let agent: TestAgent
  let self: Configuration['Servers'][0]
  const cli = (args: string[]) => runCli(args, {httpAddr: agent.httpAddr})

  before(async () => {
    agent = await startAgent()
    const res = await http(agent.httpAddr, 'GET', '/v1/operator/raft/configuration')
    assert.equal(res.status, 200)
    const config = res.json<Configuration>()
    assert.equal(config.Servers.length, 1)
    assert.equal(config.Index, 1)
    self = config.Servers[0]
  })
  after(async () => { await agent?.stop() })

  it('the configuration is this server, leader and voter, in Consul\'s field order', async () => {
    assert.deepEqual(Object.keys(self), ['ID', 'Node', 'Address', 'Leader', 'ProtocolVersion', 'Voter', 'LastIndex'])
    assert.equal(self.Node, 'test-node')
    assert.match(self.ID, /^[0-9a-f-]{36}$/)
    assert.deepEqual([self.Leader, self.Voter, self.ProtocolVersion], [true, true, '3'])
  })

  it('list-peers prints Consul\'s columns', async () => {
    const {code, stdout, stderr} = await cli(['operator', 'raft', 'list-peers'])
    assert.equal(code, 0, stderr)
    const lines = stdout.trimEnd().split('\n')
    assert.equal(lines.length, 2)
    assert.match(lines[0], /^Node +ID +Address +State +Voter +RaftProtocol +Commit Index +Trails Leader By$/)
    assert.deepEqual(lines[1].split(/ {2,}/), ['test-node', self.ID, self.Address, 'leader', 'true', '3', lines[1].split(/ {2,}/)[6], '-'])
    assert.ok(Number(lines[1].split(/ {2,}/)[6]) >= 1)
    const json = JSON.parse((await cli(['operator', 'raft', 'list-peers', '-format=json'])).stdout) as Configuration
    assert.equal(json.Servers[0].ID, self.ID)
  })

  it('remove-peer: flag errors, unknown peers, and the only voter', async () => {
    assert.deepEqual(await cli(['operator', 'raft', 'remove-peer']), {code: 1, stdout: '', stderr: 'Error removing peer: an address or id is required for the peer to remove\n'})
    assert.deepEqual(await cli(['operator', 'raft', 'remove-peer', '-id=a', '-address=b']), {code: 1, stdout: '', stderr: 'Error removing peer: cannot give both an address and id\n'})
    assert.deepEqual(await cli(['operator', 'raft', 'remove-peer', '-id=nobody']), {
      code: 1, stdout: '', stderr: 'Error removing peer: Unexpected response code: 400 (id "nobody" was not found in the Raft configuration)\n',
    })
    assert.deepEqual(await cli(['operator', 'raft', 'remove-peer', `-id=${self.ID}`]), {
      code: 1, stdout: '', stderr: 'Error removing peer: Unexpected response code: 400 (cannot remove the only voter)\n',
    })
    assert.equal((await cli(['operator', 'raft', 'remove-peer', `-address=${self.Address}`])).stderr, 'Error removing peer: Unexpected response code: 400 (cannot remove the only voter)\n')
  })

  it('transfer-leader: no other voter', async () => {
    assert.deepEqual(await cli(['operator', 'raft', 'transfer-leader']), {
      code: 1, stdout: '', stderr: 'Error transfering leadership: Failed to transfer leadership Unexpected response code: 400 (no other voter to transfer leadership to)\n',
    })
    assert.equal((await cli(['operator', 'raft', 'transfer-leader', '-id=nobody'])).stderr,
      'Error transfering leadership: Failed to transfer leadership Unexpected response code: 400 (id "nobody" was not found in the Raft configuration)\n')
  })

  it('HTTP: peer parameters, method, autopilot health', async () => {
    const none = await http(agent.httpAddr, 'DELETE', '/v1/operator/raft/peer')
    assert.deepEqual([none.status, none.text], [400, 'Must specify either ?id with the server\'s ID or ?address with IP:port of peer to remove'])
    const both = await http(agent.httpAddr, 'DELETE', '/v1/operator/raft/peer?id=a&address=b')
    assert.deepEqual([both.status, both.text], [400, 'Must specify only one of ?id or ?address'])
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/operator/raft/transfer-leader')).status, 405)
    const health = await http(agent.httpAddr, 'GET', '/v1/operator/autopilot/health')
    assert.equal(health.status, 200)
    const body = health.json<{Healthy: boolean; FailureTolerance: number; Servers: Array<Record<string, unknown>>}>()
    assert.deepEqual([body.Healthy, body.FailureTolerance], [true, 0])
    assert.deepEqual(Object.keys(body.Servers[0]), ['ID', 'Name', 'Address', 'SerfStatus', 'Version', 'Leader', 'LastContact', 'LastTerm', 'LastIndex', 'Healthy', 'Voter', 'StableSince'])
    assert.equal(body.Servers[0].ID, self.ID)
    assert.equal(body.Servers[0].LastContact, '0s')
    assert.match(String(body.Servers[0].StableSince), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })
})

describe('operator endpoints on a server with no leader', () => {
  it('answer "No cluster leader" unless ?stale; autopilot reports unhealthy with 429', async () => {
    const dir = tempDir('coord-op-')
    // -bootstrap-expect=3: a lone server that never elects itself.
    const agent = await startAgent({dataDir: join(dir.path, 'data'), args: ['-bootstrap=false', '-bootstrap-expect=3']})
    try {
      const cli = (args: string[]) => runCli(args, {httpAddr: agent.httpAddr})
      assert.deepEqual(await cli(['operator', 'raft', 'list-peers']), {
        code: 1, stdout: '', stderr: 'Error getting peers: Failed to retrieve raft configuration: Unexpected response code: 500 (No cluster leader)\n',
      })
      const stale = await cli(['operator', 'raft', 'list-peers', '-stale'])
      assert.equal(stale.code, 0, stale.stderr)
      // Not bootstrapped yet: the configuration is empty, so only the header is printed.
      assert.match(stale.stdout, /^Node +ID +Address +State +Voter/)
      assert.equal(stale.stdout.trim().split('\n').length, 1)
      assert.equal((await http(agent.httpAddr, 'GET', '/v1/snapshot')).status, 500)
      assert.equal((await http(agent.httpAddr, 'GET', '/v1/snapshot?stale')).status, 200)
      const health = await http(agent.httpAddr, 'GET', '/v1/operator/autopilot/health?stale')
      assert.equal(health.status, 429)
      assert.equal(health.json<{Healthy: boolean}>().Healthy, false)
    } finally {
      await agent.stop()
      dir.cleanup()
    }
  })
})
