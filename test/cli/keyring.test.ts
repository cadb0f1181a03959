// `coord keyring` against lone agents: without encryption every operation fails with serf's
// "encryption not enabled" messages (500, exit 1); a -dev agent with -encrypt lists its key in
// both pools (WAN first), keeps it in memory only, and rotates it alone. Method and body errors
// of /v1/operator/keyring answer 405/400.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {runCli, startAgent, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {generateGossipKey} from '../../src/lib/gossip/keyring.js'

describe('coord keyring against lone dev agents', () => {
  const key = generateGossipKey()
  let plain: TestAgent
  let encrypted: TestAgent

  before(async () => {
    ;[plain, encrypted] = await Promise.all([startAgent(), startAgent({args: [`-encrypt=${key}`]})])
  })
  after(async () => {
    await Promise.all([plain?.stop(), encrypted?.stop()])
  })

  it('without encryption: -list and -install fail with serf\'s messages, exit 1', async () => {
    const list = await runCli(['keyring', '-list'], {httpAddr: plain.httpAddr})
    assert.equal(list.code, 1)
    assert.match(list.stdout, /^==> Gathering installed encryption keys\.\.\.\n$/)
    assert.match(list.stderr, /error: Unexpected response code: 500 \(\d errors occurred:[\s\S]*dc1 \(LAN\) error: 1\/1 nodes reported failure\n\t\* test-node: Keyring is empty \(encryption not enabled\)/)
    const install = await runCli(['keyring', `-install=${key}`], {httpAddr: plain.httpAddr})
    assert.equal(install.code, 1)
    assert.match(install.stderr, /test-node: No keyring to modify \(encryption not enabled\)/)
    assert.match((await http(plain.httpAddr, 'GET', '/v1/agent/self')).text, /"encrypted": *"false"/)
  })

  it('with -encrypt: lists WAN then LAN, rotates alone, and reports encryption on', async () => {
    const cli = (...args: string[]) => runCli(['keyring', ...args], {httpAddr: encrypted.httpAddr})
    const list = await cli('-list')
    assert.equal(list.code, 0, list.stderr)
    assert.equal(list.stdout, `==> Gathering installed encryption keys...\n\nWAN:\n  ${key} [1/1]\n\ndc1 (LAN):\n  ${key} [1/1]\n`)
    const next = generateGossipKey()
    for (const args of [[`-install=${next}`], [`-use=${next}`], [`-remove=${key}`]]) {
      const r = await cli(...args)
      assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`)
    }
    const primary = await cli('-list-primary', '-local-only')
    assert.equal(primary.stdout, `==> Gathering installed primary encryption keys...\n\ndc1 (LAN):\n  ${next} [1/1]\n`)
    assert.match(encrypted.output(), /Gossip Encryption: true/)
    assert.match((await http(encrypted.httpAddr, 'GET', '/v1/agent/self')).text, /"encrypted": *"true"/)
  })

  it('the endpoint refuses other methods and malformed bodies', async () => {
    const patch = await http(encrypted.httpAddr, 'PATCH', '/v1/operator/keyring')
    assert.equal(patch.status, 405)
    const notJson = await http(encrypted.httpAddr, 'POST', '/v1/operator/keyring', '{"Key":')
    assert.equal(notJson.status, 400)
    assert.match(notJson.text, /^Failed to parse body/)
    const wrongType = await http(encrypted.httpAddr, 'PUT', '/v1/operator/keyring', '{"Key": 5}')
    assert.deepEqual([wrongType.status, wrongType.text], [400, 'Request decode failed: Key must be a string'])
  })
})
