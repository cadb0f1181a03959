// `coord acl ...`: the real CLI binary against the HTTP edge with ACLs on (helpers/acl-agent.ts:
// the real pipeline and state machine in this process), then against a real agent with ACLs off.
// Token from -token, -token-file, CONSUL_HTTP_TOKEN and CONSUL_HTTP_TOKEN_FILE; Consul's layout
// and -format=json; bad input answered with `Error ...` and a non-zero exit.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {aclEdge} from '../helpers/acl-agent.js'
import {runCli, tempDir, useAgent} from '../helpers/agent.js'
import {buildRoutes} from '../../src/lib/http/server.js'

describe('coord acl against an agent edge with ACLs on', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  const dir = tempDir('coord-acl-cli-')
  let addr = ''
  let root = ''
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, {httpAddr: addr, env})
  before(async () => {
    addr = (await env.start(buildRoutes)).replace('http://', '')
  })
  after(() => {
    env.stop()
    dir.cleanup()
  })

  it('acl bootstrap prints the management token in Consul\'s layout; a second one fails with the reset index', async () => {
    const first = await cli(['acl', 'bootstrap'])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^AccessorID:\s+[0-9a-f-]{36}\nSecretID:\s+[0-9a-f-]{36}\nDescription:\s+Bootstrap Token \(Global Management\)\nLocal:\s+false\nCreate Time:\s+\S+\nPolicies:\n {3}00000000-0000-0000-0000-000000000001 - global-management\n$/)
    root = /SecretID:\s+(\S+)/.exec(first.stdout)![1]
    const again = await cli(['acl', 'bootstrap'])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /Failed ACL bootstrapping: Unexpected response code: 403 \(Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)\)/)
  })

  it('policy create from @file and inline; read by name as JSON; list; a bad rule names its line', async () => {
    const file = join(dir.path, 'app.hcl')
    writeFileSync(file, 'key_prefix "app/" {\n  policy = "write"\n}\n')
    const made = await cli(['acl', 'policy', 'create', '-name', 'app-kv', '-description', 'app keys', '-rules', `@${file}`, '-token', root])
    assert.equal(made.code, 0, made.stderr)
    assert.match(made.stdout, /^ID:\s+[0-9a-f-]{36}\nName:\s+app-kv\nDescription:\s+app keys\nDatacenters:\s*\nRules:\nkey_prefix "app\/" \{\n {2}policy = "write"\n\}\n/)
    const read = await cli(['acl', 'policy', 'read', '-name', 'app-kv', '-format=json'], {CONSUL_HTTP_TOKEN: root})
    assert.equal(read.code, 0, read.stderr)
    assert.equal((JSON.parse(read.stdout) as {Name: string}).Name, 'app-kv')
    const list = await cli(['acl', 'policy', 'list', '-token', root])
    assert.match(list.stdout, /^global-management:\n {3}ID:\s+00000000-0000-0000-0000-000000000001\n/m)
    assert.match(list.stdout, /^app-kv:\n/m)
    const bad = await cli(['acl', 'policy', 'create', '-name', 'bad', '-rules', 'key "a" {\n policy = "sometimes"\n}', '-token', root])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /Failed to create new policy: Unexpected response code: 400 \(Failed to parse ACL rules: line 2: invalid key policy "sometimes"/)
  })

  it('token create / read / update / clone / list / delete, the token from a file or the environment', async () => {
    const tokenFile = join(dir.path, 'root.token')
    writeFileSync(tokenFile, `${root}\n`)
    const made = await cli(['acl', 'token', 'create', '-description', 'app', '-policy-name', 'app-kv', '-service-identity', 'web:dc1', '-token-file', tokenFile])
    assert.equal(made.code, 0, made.stderr)
    assert.match(made.stdout, /Policies:\n {3}[0-9a-f-]{36} - app-kv\nService Identities:\n {3}web \(Datacenters: dc1\)\n$/)
    const accessor = /AccessorID:\s+(\S+)/.exec(made.stdout)![1]
    const secret = /SecretID:\s+(\S+)/.exec(made.stdout)![1]
    const self = await cli(['acl', 'token', 'read', '-self', '-format=json'], {CONSUL_HTTP_TOKEN_FILE: tokenFile})
    assert.equal((JSON.parse(self.stdout) as {Description: string}).Description, 'Bootstrap Token (Global Management)')
    const updated = await cli(['acl', 'token', 'update', '-id', accessor, '-description', 'app v2', '-token', root])
    assert.equal(updated.code, 0, updated.stderr)
    assert.match(updated.stdout, /^Token updated successfully\.\nAccessorID:\s+\S+\nSecretID:\s+\S+\nDescription:\s+app v2\n[\s\S]*app-kv/)
    const clone = await cli(['acl', 'token', 'clone', '-id', accessor, '-description', 'copy', '-token', root])
    assert.equal(clone.code, 0, clone.stderr)
    assert.match(clone.stdout, /^Token cloned successfully\./)
    const list = await cli(['acl', 'token', 'list', '-format=json', '-token', root])
    assert.equal((JSON.parse(list.stdout) as unknown[]).length, 4, 'anonymous, bootstrap, app, its clone')
    const denied = await cli(['acl', 'token', 'list', '-token', secret])
    assert.equal(denied.code, 1)
    assert.match(denied.stderr, /lacks permission 'acl:read'/)
    const gone = await cli(['acl', 'token', 'delete', '-id', accessor, '-token', root])
    assert.deepEqual([gone.code, gone.stdout.trim()], [0, `Token "${accessor}" deleted successfully`])
  })

  it('role create with a policy and an identity; read; set-agent-token', async () => {
    const made = await cli(['acl', 'role', 'create', '-name', 'web', '-policy-name', 'app-kv', '-node-identity', 'n1:dc1', '-token', root])
    assert.equal(made.code, 0, made.stderr)
    assert.match(made.stdout, /Name:\s+web\n[\s\S]*Policies:\n {3}\S+ - app-kv\nNode Identities:\n {3}n1 \(Datacenter: dc1\)/)
    const read = await cli(['acl', 'role', 'read', '-name', 'web', '-format=json', '-token', root])
    assert.equal((JSON.parse(read.stdout) as {Name: string}).Name, 'web')
    const set = await cli(['acl', 'set-agent-token', '-token', root, 'default', root])
    assert.deepEqual([set.code, set.stdout.trim()], [0, 'ACL token "default" set successfully'])
    assert.equal(env.agent.aclTokens?.get('default'), root)
  })

  it('bad input: missing flags and arguments are one-line errors and exit 1, not crashes', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['acl', 'token', 'read'], /^Must specify the -id parameter$/],
      [['acl', 'policy', 'create'], /^Missing required '-name' flag$/],
      [['acl', 'set-agent-token', 'default'], /^Missing TYPE and TOKEN arguments \(expected 2, got 1\)$/],
      [['acl', 'set-agent-token', 'bogus', 'x'], /^Unknown token type "bogus"/],
      [['acl', 'token', 'create', '-node-identity', 'nodc'], /^Malformed -node-identity argument: "nodc"$/],
      [['acl', 'policy', 'read', '-name', 'nope'], /^Error reading policy: Unexpected response code: 403 \(ACL not found\)$/],
    ]
    for (const [args, says] of cases) {
      const [topic, ...rest] = args
      const result = await cli([topic, ...rest.slice(0, rest[0] === 'set-agent-token' ? 1 : 2), '-token', root, ...rest.slice(rest[0] === 'set-agent-token' ? 1 : 2)])
      assert.equal(result.code, 1, args.join(' '))
      assert.match(result.stderr.trim(), says, `${args.join(' ')}: ${result.stderr}`)
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
    }
  })
})

describe('coord acl against a real agent with ACLs off', () => {
  const ctx = useAgent()
  it('answers Consul\'s 401 ACL support disabled', async () => {
    const result = await runCli(['acl', 'token', 'list'], {httpAddr: ctx.agent.httpAddr})
    assert.equal(result.code, 1)
    assert.match(result.stderr, /Failed to retrieve the token list: Unexpected response code: 401 \(ACL support disabled\)/)
  })
})
