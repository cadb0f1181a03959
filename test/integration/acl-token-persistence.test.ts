// acl.enable_token_persistence on a real agent: a token set with `coord acl set-agent-token` (PUT
// /v1/agent/token/default) is written to <data_dir>/acl-tokens.json with mode 0600 and is still in
// force after a restart on the same data dir; a broken file refuses the start, naming it. The
// management token comes from acl.tokens.initial_management; a second bootstrap needs Consul's
// acl-bootstrap-reset file.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

describe('agent tokens kept across a restart (enable_token_persistence)', () => {
  const dir = tempDir('coord-acl-persist-')
  const root = randomUUID()
  const aclFile = join(dir.path, 'acl.json')
  writeFileSync(aclFile, JSON.stringify({acl: {enabled: true, default_policy: 'deny', enable_token_persistence: true, tokens: {initial_management: root}}}))
  const dataDir = join(dir.path, 'data')
  let agent: TestAgent | undefined
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })
  const start = () => startAgent({dataDir, args: [`-config-file=${aclFile}`], timeoutMs: 30_000})
  const cli = (args: string[]) => runCli(args, {httpAddr: agent!.httpAddr, env: {CONSUL_HTTP_TOKEN: root}})

  it('the default token set through the API survives a restart; the file is 0600', async () => {
    agent = await start()
    // The initial management token is written once this server leads.
    let ready = false
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await cli(['acl', 'token', 'read', '-self'])).code === 0
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.ok(ready, 'the initial management token works')
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/kv/app/x', 'hello', {'X-Consul-Token': root})).status, 200)
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/app/x?raw')).status, 403, 'anonymous: denied')
    assert.equal((await cli(['acl', 'policy', 'create', '-name', 'app-read', '-rules', 'key_prefix "app/" { policy = "read" }'])).code, 0)
    const made = await cli(['acl', 'token', 'create', '-policy-name', 'app-read', '-format=json'])
    const secret = (JSON.parse(made.stdout) as {SecretID: string}).SecretID
    const set = await cli(['acl', 'set-agent-token', 'default', secret])
    assert.equal(set.code, 0, set.stderr)
    const file = join(dataDir, 'acl-tokens.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {default: secret})
    assert.equal(agent.output().includes(secret), false, 'the secret is never logged')
    const withDefault = await http(agent.httpAddr, 'GET', '/v1/kv/app/x?raw')
    assert.deepEqual([withDefault.status, withDefault.text], [200, 'hello'], 'a request without a token now uses the default token')

    await agent.stop()
    agent = await start()
    let after = await http(agent.httpAddr, 'GET', '/v1/kv/app/x?raw')
    for (let i = 0; i < 100 && after.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100)) // a leader first
      after = await http(agent.httpAddr, 'GET', '/v1/kv/app/x?raw')
    }
    assert.deepEqual([after.status, after.text], [200, 'hello'], 'the persisted default token is in force after the restart')
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/other?raw')).status, 403, 'and only what it allows')
  })

  it('bootstrap is refused with the reset index; <data_dir>/acl-bootstrap-reset holding it allows one more', async () => {
    const bootstrap = () => runCli(['acl', 'bootstrap', '-format=json'], {httpAddr: agent!.httpAddr})
    const refused = await bootstrap()
    assert.equal(refused.code, 1)
    const index = Number(/reset index: (\d+)\)/.exec(refused.stderr)?.[1])
    assert.ok(index > 0, refused.stderr)
    const resetFile = join(dataDir, 'acl-bootstrap-reset')
    writeFileSync(resetFile, `${index + 1}\n`)
    const wrong = await bootstrap()
    assert.match(wrong.stderr, new RegExp(`Invalid bootstrap reset index \\(specified ${index + 1}, reset index: ${index}\\)`))
    writeFileSync(resetFile, `${index}\n`)
    const again = await bootstrap()
    assert.equal(again.code, 0, again.stderr)
    const token = JSON.parse(again.stdout) as {SecretID: string}
    assert.equal((await http(agent!.httpAddr, 'GET', '/v1/acl/token/self', undefined, {'X-Consul-Token': token.SecretID})).status, 200)
    assert.equal(existsSync(resetFile), false, 'the reset file is used once')
    const third = await bootstrap()
    assert.match(third.stderr, /ACL bootstrap no longer allowed \(reset index: \d+\)/)
    assert.equal(Number(/reset index: (\d+)\)/.exec(third.stderr)?.[1]) > index, true, 'the new bootstrap is the new reset index')
  })

  it('a tokens file that is not JSON refuses the start, naming the file', async () => {
    await agent?.stop()
    agent = undefined
    writeFileSync(join(dataDir, 'acl-tokens.json'), '{"default": ')
    await assert.rejects(start(), /failed to load tokens file "[^"]*acl-tokens\.json"/)
  })
})
