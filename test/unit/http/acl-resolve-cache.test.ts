// Token resolution's caches on a server (acl-authorize.ts resolveToken): an authorizer is compiled
// once per policy set and shared by the tokens that carry it, survives a change to other tokens, and
// is compiled again as soon as a policy or role changes; a deleted or expired token is refused at
// once whatever was cached. Over the real HTTP pipeline and state machine (helpers/acl-agent.ts).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {aclRoutes} from '../../../src/lib/http/acl-endpoint.js'
import {resolveToken} from '../../../src/lib/http/acl-authorize.js'
import {aclEdge, call} from '../../helpers/acl-agent.js'

describe('ACL resolution caches (server)', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  let base = ''
  let root = ''
  const resolve = (secret: string) => resolveToken(env.agent, {token: secret, source: 'header'})
  const put = async (path: string, body: unknown) => {
    const answer = await call(base, 'PUT', path, body, root)
    assert.equal(answer.status, 200, answer.text)
    return answer.json as Record<string, unknown>
  }
  before(async () => {
    base = await env.start(aclRoutes)
    const boot = await call(base, 'PUT', '/v1/acl/bootstrap')
    assert.equal(boot.status, 200, boot.text)
    root = String((boot.json as {SecretID: string}).SecretID)
  })
  after(() => env.stop())

  it('one compiled authorizer per policy set; a policy edit takes effect on the next request; deletion and expiry refuse at once', async () => {
    const policy = await put('/v1/acl/policy', {Name: 'app', Rules: 'key_prefix "app/" { policy = "write" }\nkey "app/locked" { policy = "read" }'})
    const a = String((await put('/v1/acl/token', {Policies: [{ID: policy.ID}]})).SecretID)
    const b = String((await put('/v1/acl/token', {Policies: [{Name: 'app'}]})).SecretID)
    const first = resolve(a).authorizer
    assert.equal(first.allowed('key', 'app/x', 'write'), true)
    assert.equal(first.allowed('key', 'app/locked', 'write'), false, 'exact beats prefix')
    assert.equal(first.allowed('key', 'other', 'read'), false)
    assert.equal(resolve(b).authorizer, first, 'tokens with the same policy set share one authorizer')
    assert.equal(resolve(a).authorizer, first, 'a repeat is a cache hit')
    // A change to other tokens moves the tokens index: tokens resolve again, the compiled set is kept.
    await put('/v1/acl/token', {Description: 'unrelated'})
    assert.equal(resolve(a).authorizer, first)
    // A policy edit: the next resolution compiles again and sees it.
    await put(`/v1/acl/policy/${policy.ID}`, {Name: 'app', Rules: 'key_prefix "app/" { policy = "read" }'})
    const edited = resolve(a).authorizer
    assert.notEqual(edited, first)
    assert.equal(edited.allowed('key', 'app/x', 'write'), false)
    assert.equal(edited.allowed('key', 'app/x', 'read'), true)
    // Deleted: refused at once, though it was cached a moment ago.
    const accessor = String(env.state.acl.tokenBySecret(b)!.AccessorID)
    assert.equal(resolve(b).accessorId, accessor)
    assert.equal((await call(base, 'DELETE', `/v1/acl/token/${accessor}`, undefined, root)).status, 200)
    assert.throws(() => resolve(b), /ACL not found/)
    // Expired: refused once the clock passes its ExpirationTime, cached or not.
    const short = String((await put('/v1/acl/token', {Policies: [{ID: policy.ID}], ExpirationTTL: '1m'})).SecretID)
    assert.equal(resolve(short).authorizer.allowed('key', 'app/x', 'read'), true)
    env.advance(61_000)
    assert.throws(() => resolve(short), /ACL not found/)
    assert.throws(() => resolve('00000000-0000-4000-8000-000000000000'), /ACL not found/)
  })
})
