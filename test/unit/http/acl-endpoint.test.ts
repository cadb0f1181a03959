// The /v1/acl API through the real HTTP pipeline over a real state machine (helpers/acl-agent.ts):
// with ACLs on (default_policy=deny), and the 401 every ACL route answers with ACLs off.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {aclRoutes} from '../../../src/lib/http/acl-endpoint.js'
import {aclEdge, call} from '../../helpers/acl-agent.js'

describe('/v1/acl with ACLs on (default_policy=deny)', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  let base = ''
  let root = ''
  let rootAccessor = ''
  before(async () => {
    base = await env.start(aclRoutes)
  })
  after(() => env.stop())

  it('bootstrap answers a management token once; then 403 with the reset index; nothing else written', async () => {
    const first = await call(base, 'PUT', '/v1/acl/bootstrap')
    assert.equal(first.status, 200, first.text)
    const token = first.json as Record<string, unknown>
    assert.match(String(token.SecretID), /^[0-9a-f-]{36}$/)
    assert.equal(token.ID, token.SecretID)
    assert.deepEqual(token.Policies, [{ID: '00000000-0000-0000-0000-000000000001', Name: 'global-management'}])
    root = String(token.SecretID)
    rootAccessor = String(token.AccessorID)
    const tokensBefore = env.state.acl.tokens().length
    const again = await call(base, 'PUT', '/v1/acl/bootstrap')
    assert.equal(again.status, 403)
    assert.equal(again.text, `Permission denied: ACL bootstrap no longer allowed (reset index: ${env.state.acl.bootstrapIndex})`)
    assert.equal(env.state.acl.tokens().length, tokensBefore)
  })

  it('without a token: the anonymous token, which may not read ACLs (Consul\'s wording)', async () => {
    const answer = await call(base, 'GET', '/v1/acl/tokens')
    assert.equal(answer.status, 403)
    assert.equal(answer.text, "Permission denied: anonymous token lacks permission 'acl:read'. The anonymous token is used implicitly when a request does not specify a token.")
  })

  it('an unknown secret is 403 ACL not found', async () => {
    const answer = await call(base, 'GET', '/v1/acl/tokens', undefined, '11111111-2222-3333-4444-555555555555')
    assert.deepEqual([answer.status, answer.text], [403, 'ACL not found'])
  })

  it('policies: create, read by ID and name, list without rules, update; bad rules are a 400 naming the line', async () => {
    const created = await call(base, 'PUT', '/v1/acl/policy', {Name: 'kv-app', Description: 'app keys', Rules: 'key_prefix "app/" {\n  policy = "write"\n}'}, root)
    assert.equal(created.status, 200, created.text)
    const policy = created.json as {ID: string; Rules: string}
    const byName = await call(base, 'GET', '/v1/acl/policy/name/kv-app', undefined, root)
    assert.equal((byName.json as {ID: string}).ID, policy.ID)
    const list = await call(base, 'GET', '/v1/acl/policies', undefined, root)
    const listed = (list.json as Array<Record<string, unknown>>).find((p) => p.ID === policy.ID)!
    assert.equal(listed.Rules, undefined, 'the list carries no rules')
    assert.ok(Number(list.headers.get('x-consul-index')) >= 1)
    const bad = await call(base, 'PUT', '/v1/acl/policy', {Name: 'broken', Rules: 'key_prefix "a/" {\n  policy = "read"\n}\nservice "x" {\n  policy = "rw"\n}'}, root)
    assert.equal(bad.status, 400)
    assert.equal(bad.text, 'Failed to parse ACL rules: line 5: invalid service policy "rw" for "x" (read, write or deny)')
    assert.equal(env.state.acl.policyByName('broken'), undefined, 'nothing written')
    const dup = await call(base, 'PUT', '/v1/acl/policy', {Name: 'kv-app', Rules: ''}, root)
    assert.deepEqual([dup.status, dup.text], [400, 'Invalid Policy: A Policy with Name "kv-app" already exists'])
    const updated = await call(base, 'PUT', `/v1/acl/policy/${policy.ID}`, {Name: 'kv-app', Rules: 'key_prefix "app/" { policy = "read" }'}, root)
    assert.equal(updated.status, 200, updated.text)
    assert.match((updated.json as {Rules: string}).Rules, /read/)
  })

  it('tokens: create with a policy by name, read (secret hidden from a reader), self, clone, list by policy, delete', async () => {
    const reader = await call(base, 'PUT', '/v1/acl/policy', {Name: 'acl-reader', Rules: 'acl = "read"'}, root)
    const readerPolicy = (reader.json as {ID: string}).ID
    const made = await call(base, 'PUT', '/v1/acl/token', {Description: 'app', Policies: [{Name: 'kv-app'}, {Name: 'acl-reader'}]}, root)
    assert.equal(made.status, 200, made.text)
    const token = made.json as {AccessorID: string; SecretID: string; Policies: Array<{Name: string}>}
    assert.deepEqual(token.Policies.map((p) => p.Name).sort(), ['acl-reader', 'kv-app'])
    const asReader = await call(base, 'GET', `/v1/acl/token/${rootAccessor}`, undefined, token.SecretID)
    assert.equal(asReader.status, 200, asReader.text)
    assert.equal((asReader.json as {SecretID: string}).SecretID, '<hidden>', 'acl:read sees no secrets')
    const asRoot = await call(base, 'GET', `/v1/acl/token/${token.AccessorID}`, undefined, root)
    assert.equal((asRoot.json as {SecretID: string}).SecretID, token.SecretID)
    const self = await call(base, 'GET', '/v1/acl/token/self', undefined, token.SecretID)
    assert.equal((self.json as {AccessorID: string}).AccessorID, token.AccessorID)
    const writeDenied = await call(base, 'PUT', '/v1/acl/token', {Description: 'x'}, token.SecretID)
    assert.equal(writeDenied.status, 403)
    assert.equal(writeDenied.text, `Permission denied: token with AccessorID '${token.AccessorID}' lacks permission 'acl:write'`)
    const clone = await call(base, 'PUT', `/v1/acl/token/${token.AccessorID}/clone`, {Description: 'copy'}, root)
    assert.equal(clone.status, 200, clone.text)
    assert.notEqual((clone.json as {SecretID: string}).SecretID, token.SecretID)
    const byPolicy = await call(base, 'GET', `/v1/acl/tokens?policy=${readerPolicy}`, undefined, root)
    assert.equal((byPolicy.json as unknown[]).length, 2)
    const gone = await call(base, 'DELETE', `/v1/acl/token/${token.AccessorID}`, undefined, root)
    assert.deepEqual([gone.status, gone.json], [200, true])
    const deleted = await call(base, 'GET', '/v1/acl/tokens', undefined, token.SecretID)
    assert.deepEqual([deleted.status, deleted.text], [403, 'ACL not found'], 'a deleted token resolves no more')
  })

  it('bad input: unknown policy name, the anonymous token, the management policy, own token, bad TTL', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['PUT', '/v1/acl/token', {Policies: [{Name: 'nope'}]}, 400, 'No such ACL policy with name "nope"'],
      ['DELETE', '/v1/acl/token/00000000-0000-0000-0000-000000000002', undefined, 400, 'Delete operation not permitted on the anonymous token'],
      ['DELETE', '/v1/acl/policy/00000000-0000-0000-0000-000000000001', undefined, 400, 'Delete operation not permitted on the builtin global-management policy'],
      ['DELETE', `/v1/acl/token/${rootAccessor}`, undefined, 400, "Deletion of the request's authorization token is not permitted"],
      ['PUT', '/v1/acl/token', {ExpirationTTL: '5s'}, 400, "Token Expiration TTL '5s' should be between 1m0s and 24h0m0s"],
      ['PUT', '/v1/acl/policy', {Name: 'bad name!'}, 400, "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"],
      ['PUT', '/v1/acl/token', '[1,2]', 400, 'Token decoding failed: expected a JSON object'],
      ['PUT', '/v1/acl/role', {Name: 'r', ServiceIdentities: [{ServiceName: 'Web'}]}, 400, 'Service identity "Web" has an invalid name. Only lowercase alphanumeric characters, \'-\' and \'_\' are allowed'],
    ]
    for (const [method, path, body, status, text] of cases) {
      const tokensBefore = env.state.acl.dump()
      const answer = await call(base, method, path, body, root)
      assert.deepEqual([answer.status, answer.text], [status, text], `${method} ${path}`)
      assert.deepEqual(env.state.acl.dump(), tokensBefore, `${method} ${path} wrote nothing`)
    }
  })

  it('roles: create with a service identity, read by name, a token with the role, delete', async () => {
    const made = await call(base, 'PUT', '/v1/acl/role', {Name: 'web', Policies: [{Name: 'kv-app'}], ServiceIdentities: [{ServiceName: 'web'}]}, root)
    assert.equal(made.status, 200, made.text)
    const role = made.json as {ID: string}
    const byName = await call(base, 'GET', '/v1/acl/role/name/web', undefined, root)
    assert.equal((byName.json as {ID: string}).ID, role.ID)
    const token = await call(base, 'PUT', '/v1/acl/token', {Roles: [{ID: role.ID}]}, root)
    assert.equal(token.status, 200, token.text)
    assert.deepEqual((token.json as {Roles: unknown}).Roles, [{ID: role.ID, Name: 'web'}])
    assert.equal((await call(base, 'DELETE', `/v1/acl/role/${role.ID}`, undefined, root)).status, 200)
    assert.equal((await call(base, 'GET', `/v1/acl/role/${role.ID}`, undefined, root)).status, 404)
  })

  it('the agent token endpoint needs acl:write and sets the default token requests without one then use', async () => {
    assert.equal((await call(base, 'PUT', '/v1/agent/token/default', {Token: root})).status, 403)
    const set = await call(base, 'PUT', '/v1/agent/token/default', {Token: root}, root)
    assert.equal(set.status, 200, set.text)
    const noToken = await call(base, 'GET', '/v1/acl/tokens')
    assert.equal(noToken.status, 200, 'a request without a token acts with the agent default token')
    assert.equal((await call(base, 'PUT', '/v1/agent/token/bogus', {Token: 'x'}, root)).status, 404)
    await call(base, 'PUT', '/v1/agent/token/default', {Token: ''}, root)
  })

  it('no secret reached the log', () => {
    const secrets = env.state.acl.tokens().map((t) => t.SecretID).filter((s) => s !== 'anonymous')
    assert.ok(secrets.length >= 3)
    for (const secret of secrets) assert.ok(!env.lines.some((line) => line.includes(secret)), 'a secret in the log')
    assert.ok(env.lines.some((line) => line.includes(rootAccessor)), 'accessor IDs are logged')
  })
})

describe('/v1/acl with ACLs off', () => {
  it('every ACL route answers 401 ACL support disabled', async () => {
    const env = aclEdge({enabled: false})
    const base = await env.start(aclRoutes)
    try {
      for (const [method, path] of [['PUT', '/v1/acl/bootstrap'], ['GET', '/v1/acl/tokens'], ['PUT', '/v1/acl/token'], ['GET', '/v1/acl/token/self'], ['GET', '/v1/acl/policies'], ['PUT', '/v1/acl/role'], ['PUT', '/v1/agent/token/default']]) {
        const answer = await call(base, method, path)
        assert.deepEqual([answer.status, answer.text], [401, 'ACL support disabled'], `${method} ${path}`)
      }
    } finally {
      env.stop()
    }
  })
})
