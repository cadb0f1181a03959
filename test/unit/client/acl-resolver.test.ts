// A client agent's token resolution (client/acl-resolver.ts) over a scripted server: answers are
// cached per token_ttl (and the shorter policy/role TTLs), unknown secrets are cached as unknown,
// one question per secret at a time, and each down_policy does what Consul's does when no server
// answers. The clock is the test's.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {RemoteAclResolver, DOWN_ACCESSOR, type RemoteResolverOptions} from '../../../src/lib/client/acl-resolver.js'
import {resolutionFor, type AclResolution} from '../../../src/lib/forward/acl-resolution.js'
import type {AclDownPolicy} from '../../../src/lib/agent/acl-config.js'

class Down extends Error {}

/** A server with one token (secret "s1") whose policy writes app/; `down` makes every call fail as unreachable. */
function scripted() {
  const server = {
    calls: 0,
    down: false,
    tokens: new Map<string, AclResolution>([['s1', {
      token: {AccessorID: 'a1', Policies: [{ID: 'p1'}]},
      policies: [{ID: 'p1', Rules: 'key_prefix "app/" { policy = "write" }'}],
      roles: [],
    }]]),
  }
  let now = 1_000_000
  const make = (downPolicy: AclDownPolicy, extra: Partial<RemoteResolverOptions> = {}) => new RemoteAclResolver({
    fetch: async (secret) => {
      server.calls++
      await Promise.resolve()
      if (server.down) throw new Down('unreachable')
      return server.tokens.get(secret)
    },
    serversDown: (error) => error instanceof Down,
    datacenter: 'dc1', defaultPolicy: 'deny', downPolicy, tokenTtlMs: 30_000, policyTtlMs: 10_000, roleTtlMs: 30_000,
    now: () => now, ...extra,
  })
  return {server, make, advance: (ms: number) => { now += ms }}
}

const writesApp = (r: Awaited<ReturnType<RemoteAclResolver['resolve']>>) => r.found && r.authorizer.allowed('key', 'app/x', 'write')

describe('client ACL resolver', () => {
  it('caches an answer for the shortest TTL that applies (policy_ttl here), then asks again', async () => {
    const {server, make, advance} = scripted()
    const resolver = make('extend-cache')
    assert.ok(writesApp(await resolver.resolve('s1')))
    assert.ok(writesApp(await resolver.resolve('s1')))
    assert.equal(server.calls, 1)
    advance(9_999)
    await resolver.resolve('s1')
    assert.equal(server.calls, 1, 'still within policy_ttl (10 s)')
    advance(2)
    await resolver.resolve('s1')
    assert.equal(server.calls, 2, 'policy_ttl passed: asked again')
  })

  it('a token deleted on the server is "not found" once the cached answer expires', async () => {
    const {server, make, advance} = scripted()
    const resolver = make('extend-cache')
    assert.ok(writesApp(await resolver.resolve('s1')))
    server.tokens.delete('s1')
    assert.ok(writesApp(await resolver.resolve('s1')), 'cached until its TTL')
    advance(10_001)
    assert.deepEqual(await resolver.resolve('s1'), {found: false})
    assert.deepEqual(resolver.current('s1'), {found: false})
  })

  it('caches unknown secrets for token_ttl, and asks once for concurrent lookups', async () => {
    const {server, make, advance} = scripted()
    const resolver = make('deny')
    const answers = await Promise.all([resolver.resolve('nope'), resolver.resolve('nope'), resolver.resolve('nope')])
    assert.deepEqual(answers, [{found: false}, {found: false}, {found: false}])
    assert.equal(server.calls, 1)
    advance(29_000)
    await resolver.resolve('nope')
    assert.equal(server.calls, 1)
    advance(1_001)
    await resolver.resolve('nope')
    assert.equal(server.calls, 2)
  })

  it('an expiring token is "not found" after its ExpirationTime, even while cached', async () => {
    const {server, make, advance} = scripted()
    const resolver = make('extend-cache')
    server.tokens.set('short', {token: {AccessorID: 'a2', ExpirationTime: new Date(1_000_000 + 5_000).toISOString()}, policies: [], roles: []})
    assert.equal((await resolver.resolve('short')).found, true)
    advance(5_001)
    assert.deepEqual(await resolver.resolve('short'), {found: false})
  })

  for (const policy of ['extend-cache', 'async-cache'] as const) {
    it(`${policy}: servers down keep a cached token working past its TTL; a token never seen is denied everything`, async () => {
      const {server, make, advance} = scripted()
      const events: boolean[] = []
      const resolver = make(policy, {onDown: (down) => events.push(down)})
      assert.ok(writesApp(await resolver.resolve('s1')))
      server.down = true
      advance(60_000)
      const stale = await resolver.resolve('s1')
      assert.ok(writesApp(stale), 'the cached answer is extended')
      if (policy === 'async-cache') {
        // The stale answer came back at once; the refresh ran behind it.
        await new Promise((resolve) => setImmediate(resolve))
      }
      assert.ok(writesApp(await resolver.resolve('s1')))
      const unseen = await resolver.resolve('never-seen')
      assert.equal(unseen.found && unseen.accessorId, DOWN_ACCESSOR)
      assert.equal(unseen.found && unseen.authorizer.allowed('key', 'app/x', 'read'), false)
      server.down = false
      advance(60_000)
      await resolver.resolve('s1')
      await new Promise((resolve) => setImmediate(resolve)) // async-cache refreshes behind the answer
      assert.deepEqual(events, [true, false], 'one report when servers went away, one when they came back')
    })
  }

  it('async-cache answers an expired entry without waiting for the server', async () => {
    const {server, make, advance} = scripted()
    const resolver = make('async-cache')
    await resolver.resolve('s1')
    server.tokens.delete('s1')
    advance(10_001)
    assert.ok(writesApp(await resolver.resolve('s1')), 'stale answer first')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(await resolver.resolve('s1'), {found: false}, 'the refresh behind it saw the deletion')
  })

  it('deny: servers down and the cache expired → everything denied, cached token or not', async () => {
    const {server, make, advance} = scripted()
    const resolver = make('deny')
    await resolver.resolve('s1')
    server.down = true
    advance(10_001)
    const answer = await resolver.resolve('s1')
    assert.equal(answer.found && answer.accessorId, DOWN_ACCESSOR)
    assert.equal(writesApp(answer), false)
    const current = resolver.current('s1')
    assert.equal(current?.found && current.accessorId, DOWN_ACCESSOR, 'a synchronous look sees the same denial, not the older cached token')
    assert.equal(answer.found && answer.authorizer.allowed('node', 'n1', 'read'), false)
  })

  it('allow: servers down → everything allowed but ACL management and snapshots (Consul AllowAll)', async () => {
    const {server, make} = scripted()
    const resolver = make('allow')
    server.down = true
    const answer = await resolver.resolve('s1')
    assert.ok(answer.found)
    assert.equal(answer.authorizer.allowed('key', 'other/x', 'write'), true)
    assert.equal(answer.authorizer.allowedScalar('acl', 'read'), false)
    assert.equal(answer.authorizer.snapshot(), false)
  })

  it('an error a server answered is passed on, never read as "servers down"', async () => {
    const {make} = scripted()
    const resolver = make('allow', {fetch: async () => { throw new Error('ACL support disabled') }})
    await assert.rejects(resolver.resolve('s1'), /ACL support disabled/)
  })
})

describe('acl-resolve answers (server side)', () => {
  it('carries the token grants, its policies and its roles (with their policies), never the secret', () => {
    const tables = {
      tokenBySecret: (secret: string) => secret === 'sec' ? {AccessorID: 'acc', SecretID: 'sec', Policies: [{ID: 'p1'}, {ID: 'gone'}], Roles: [{ID: 'r1'}]} : undefined,
      policy: (id: string) => ({p1: {ID: 'p1', Name: 'one', Rules: 'key "a" { policy = "read" }'}, p2: {ID: 'p2', Name: 'two', Rules: 'key "b" { policy = "read" }'}} as Record<string, {ID: string; Name: string; Rules: string}>)[id],
      role: (id: string) => id === 'r1' ? {ID: 'r1', Policies: [{ID: 'p2'}, {ID: 'p1'}]} : undefined,
    }
    const answer = resolutionFor(tables, 'sec', Date.now())!
    assert.equal(answer.token.AccessorID, 'acc')
    assert.equal(JSON.stringify(answer).includes('sec"'), false, 'no SecretID in the answer')
    assert.deepEqual(answer.policies.map((p) => p.ID), ['p1', 'p2'])
    assert.deepEqual(answer.roles.map((r) => r.ID), ['r1'])
    assert.equal(resolutionFor(tables, 'other', Date.now()), undefined)
  })

  it('an expired token is unknown', () => {
    const tables = {tokenBySecret: () => ({AccessorID: 'a', SecretID: 's', ExpirationTime: '2000-01-01T00:00:00Z'}), policy: () => undefined, role: () => undefined}
    assert.equal(resolutionFor(tables, 's', Date.now()), undefined)
  })
})
