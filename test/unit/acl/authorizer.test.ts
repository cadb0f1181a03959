// The authorizer against Consul's precedence (hashicorp/consul acl/policy_authorizer.go,
// acl/policy_merger.go, acl/static_authorizer.go): exact beats prefix, the longest prefix wins,
// deny > write > list > read between policies naming one segment, Default falls to default_policy
// (which never grants ACL management or snapshots).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {takesPrecedenceOver, enforce, type Access, type Need} from '../../../src/lib/acl/access.js'
import {lookup, mergeRules, policyAuthorizer, type DefaultPolicy} from '../../../src/lib/acl/authorizer.js'
import {parseRules} from '../../../src/lib/acl/rules.js'
import {nodeIdentityRules, serviceIdentityRules, tokenAuthorizer, type Directory} from '../../../src/lib/acl/resolve.js'

const authz = (policies: string[], defaultPolicy: DefaultPolicy = 'deny') => policyAuthorizer(mergeRules(policies.map(parseRules)), defaultPolicy)

describe('access levels', () => {
  it('takesPrecedenceOver: deny > write > list > read > nothing', () => {
    const order: Array<Access | undefined> = [undefined, 'read', 'list', 'write', 'deny']
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        const expected = i > 0 && i >= j
        assert.equal(takesPrecedenceOver(order[i], order[j]), expected, `${order[i]} over ${order[j]}`)
      }
    }
  })

  it('enforce: write grants all, list grants list and read, read grants read, deny nothing', () => {
    const table: Array<[Access, Need, string]> = [
      ['write', 'write', 'allow'], ['write', 'list', 'allow'], ['write', 'read', 'allow'],
      ['list', 'write', 'deny'], ['list', 'list', 'allow'], ['list', 'read', 'allow'],
      ['read', 'write', 'deny'], ['read', 'list', 'deny'], ['read', 'read', 'allow'],
      ['deny', 'write', 'deny'], ['deny', 'list', 'deny'], ['deny', 'read', 'deny'],
    ]
    for (const [granted, need, decision] of table) assert.equal(enforce(granted, need), decision, `${granted} for ${need}`)
  })
})

describe('authorizer: one policy', () => {
  const policy = [
    'key_prefix "" { policy = "read" }',
    'key_prefix "app/" { policy = "write" }',
    'key_prefix "app/secret/" { policy = "deny" }',
    'key "app/secret/public" { policy = "read" }',
    'key "app" { policy = "deny" }',
    'key_prefix "list/" { policy = "list" }',
  ].join('\n')
  const table: Array<[string, Need, boolean, string]> = [
    ['other', 'read', true, 'the "" prefix covers everything'],
    ['other', 'write', false, '"" grants read only'],
    ['app/x', 'write', true, 'longer prefix app/ wins over ""'],
    ['app/secret/x', 'read', false, 'the longest prefix (deny) wins over app/ write'],
    ['app/secret/public', 'read', true, 'exact beats the deny prefix'],
    ['app/secret/public', 'write', false, 'exact read does not grant write'],
    ['app', 'read', false, 'exact deny beats the "" prefix'],
    ['apple', 'read', true, 'exact "app" does not cover "apple"; "" does'],
    ['list/a', 'list', true, 'list grants list'],
    ['list/a', 'read', true, 'list grants read'],
    ['list/a', 'write', false, 'list does not grant write'],
  ]
  for (const [key, need, allowed, why] of table) {
    it(`key ${JSON.stringify(key)} ${need} → ${allowed ? 'allow' : 'deny'} (${why})`, () => {
      for (const defaultPolicy of ['allow', 'deny'] as const) assert.equal(authz([policy], defaultPolicy).allowed('key', key, need), allowed, `default_policy=${defaultPolicy}`)
    })
  }
})

describe('authorizer: several policies (the merger)', () => {
  it('two policies naming one segment: the stronger word wins, deny strongest', () => {
    const cases: Array<[Access, Access, Need, boolean]> = [
      ['read', 'write', 'write', true], ['write', 'read', 'write', true],
      ['write', 'deny', 'read', false], ['deny', 'write', 'read', false],
      ['read', 'list', 'list', true], ['list', 'write', 'write', true], ['deny', 'read', 'read', false],
    ]
    for (const [a, b, need, allowed] of cases) {
      const az = authz([`key_prefix "x/" { policy = "${a}" }`, `key_prefix "x/" { policy = "${b}" }`])
      assert.equal(az.allowed('key', 'x/1', need), allowed, `${a} + ${b} for ${need}`)
    }
  })

  it('the same for exact rules of another kind', () => {
    assert.equal(authz(['service "web" { policy = "read" }', 'service "web" { policy = "write" }']).allowed('service', 'web', 'write'), true)
    assert.equal(authz(['service "web" { policy = "write" }', 'service "web" { policy = "deny" }'], 'allow').allowed('service', 'web', 'read'), false)
  })

  it('exact and prefix rules from different policies still follow exact-beats-prefix and longest-prefix', () => {
    const az = authz(['node_prefix "" { policy = "write" }', 'node_prefix "db-" { policy = "read" }', 'node "db-1" { policy = "write" }'])
    assert.equal(az.allowed('node', 'web-1', 'write'), true)
    assert.equal(az.allowed('node', 'db-2', 'write'), false)
    assert.equal(az.allowed('node', 'db-1', 'write'), true)
  })

  it('scalars merge with the same precedence', () => {
    assert.equal(authz(['operator = "read"', 'operator = "write"']).allowedScalar('operator', 'write'), true)
    assert.equal(authz(['operator = "write"', 'operator = "deny"']).allowedScalar('operator', 'read'), false)
    assert.equal(authz(['keyring = "read"']).allowedScalar('keyring', 'write'), false)
  })

  it('merging keeps one grant per segment', () => {
    const merged = mergeRules(['key "a" { policy = "read" }', 'key "a" { policy = "write" }', 'key "a" { policy = "list" }'].map(parseRules))
    assert.equal(merged.exact.get('key')!.size, 1)
    assert.equal(lookup(merged, 'key', 'a'), 'write')
  })
})

describe('authorizer: the longest-prefix table', () => {
  it('answers as a scan of every rule would, over random rule sets and segments', () => {
    // A small alphabet makes prefixes of one another common; a fixed LCG keeps the run repeatable.
    let seed = 42
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n
    const word = (max: number) => Array.from({length: next(max + 1)}, () => 'ab/'[next(3)]).join('')
    const levels: Access[] = ['read', 'list', 'write', 'deny']
    for (let round = 0; round < 200; round++) {
      const policies = Array.from({length: 1 + next(3)}, () => Array.from({length: next(8)}, () =>
        `key${next(2) ? '_prefix' : ''} ${JSON.stringify(word(5))} { policy = "${levels[next(4)]}" }`).join('\n'))
      const merged = mergeRules(policies.map(parseRules))
      const az = policyAuthorizer(merged, 'deny')
      for (let i = 0; i < 30; i++) {
        const segment = word(7)
        // The reference: exact rule, else the longest prefix rule found by scanning them all.
        let expected = merged.exact.get('key')!.get(segment)
        if (expected === undefined) {
          let best = -1
          for (const [prefix, access] of merged.prefix.get('key')!) {
            if (prefix.length > best && segment.startsWith(prefix)) [expected, best] = [access, prefix.length]
          }
        }
        assert.equal(lookup(merged, 'key', segment), expected, `${JSON.stringify(segment)} under ${policies.join(' | ')}`)
        for (const need of ['read', 'list', 'write'] as const) {
          assert.equal(az.allowed('key', segment, need), expected !== undefined && enforce(expected, need) === 'allow')
        }
      }
    }
  })
})

describe('authorizer: default_policy and the static authorizers', () => {
  it('no rule: default_policy decides for every segment kind and for keyring/operator', () => {
    for (const kind of ['agent', 'event', 'key', 'node', 'query', 'service', 'session'] as const) {
      assert.equal(authz([], 'allow').allowed(kind, 'x', 'write'), true, `${kind} allow`)
      assert.equal(authz([], 'deny').allowed(kind, 'x', 'read'), false, `${kind} deny`)
    }
    assert.equal(authz([], 'allow').allowedScalar('operator', 'write'), true)
    assert.equal(authz([], 'deny').allowedScalar('keyring', 'read'), false)
  })

  it('default_policy=allow never grants ACL management or snapshots (allowManage is false)', () => {
    const az = authz([], 'allow')
    assert.equal(az.allowedScalar('acl', 'read'), false)
    assert.equal(az.allowedScalar('acl', 'write'), false)
    assert.equal(az.snapshot(), false)
  })

  it('acl = "write" grants ACL management and snapshots; acl = "read" neither writes nor snapshots', () => {
    assert.equal(authz(['acl = "write"']).snapshot(), true)
    assert.equal(authz(['acl = "write"']).allowedScalar('acl', 'write'), true)
    assert.equal(authz(['acl = "read"']).snapshot(), false)
    assert.equal(authz(['acl = "read"']).allowedScalar('acl', 'read'), true)
  })

  it('a rule that speaks (even read) overrides default_policy=allow', () => {
    const az = authz(['key_prefix "ro/" { policy = "read" }'], 'allow')
    assert.equal(az.allowed('key', 'ro/a', 'write'), false)
    assert.equal(az.allowed('key', 'rw/a', 'write'), true)
  })
})

describe('authorizer: deleting a whole prefix (KeyWritePrefix)', () => {
  const table: Array<[string[], string, DefaultPolicy, boolean, string]> = [
    [['key_prefix "a/" { policy = "write" }'], 'a/', 'deny', true, 'write on the prefix, nothing under it'],
    [['key_prefix "a/" { policy = "write" }', 'key "a/keep" { policy = "read" }'], 'a/', 'deny', false, 'an exact read rule under it'],
    [['key_prefix "a/" { policy = "write" }', 'key_prefix "a/b/" { policy = "deny" }'], 'a/', 'allow', false, 'a deny prefix under it'],
    [['key_prefix "a/" { policy = "read" }'], 'a/x/', 'allow', false, 'the covering prefix withholds write'],
    [[], 'a/', 'allow', true, 'no rule: default allow'],
    [[], 'a/', 'deny', false, 'no rule: default deny'],
    [['key_prefix "a/b/" { policy = "write" }'], 'a/', 'deny', false, 'write under it but no grant on the prefix itself'],
  ]
  for (const [policies, prefix, defaultPolicy, allowed, why] of table) {
    it(`${JSON.stringify(prefix)} → ${allowed} (${why})`, () => assert.equal(authz(policies, defaultPolicy).keyWritePrefix(prefix), allowed))
  }
})

describe('tokens: policies, roles and identities across datacenters', () => {
  const policies: Record<string, {ID: string; Rules: string; Datacenters?: string[]}> = {
    p1: {ID: 'p1', Rules: 'key_prefix "team/" { policy = "write" }'},
    p2: {ID: 'p2', Rules: 'key_prefix "team/" { policy = "deny" }', Datacenters: ['dc2']},
    p3: {ID: 'p3', Rules: 'service_prefix "" { policy = "write" }'},
  }
  const roles: Record<string, {Policies: Array<{ID: string}>}> = {r1: {Policies: [{ID: 'p3'}]}}
  const directory: Directory = {policy: (id) => policies[id], role: (id) => roles[id]}

  it('a policy limited to another datacenter does not apply here; in its own it does', () => {
    const token = {Policies: [{ID: 'p1'}, {ID: 'p2'}]}
    assert.equal(tokenAuthorizer(token, directory, 'dc1', 'deny').allowed('key', 'team/a', 'write'), true)
    assert.equal(tokenAuthorizer(token, directory, 'dc2', 'deny').allowed('key', 'team/a', 'read'), false)
  })

  it('a role brings its policies; a missing policy or role is skipped', () => {
    const token = {Policies: [{ID: 'gone'}], Roles: [{ID: 'r1'}, {ID: 'gone-role'}]}
    const az = tokenAuthorizer(token, directory, 'dc1', 'deny')
    assert.equal(az.allowed('service', 'web', 'write'), true)
    assert.equal(az.allowed('key', 'team/a', 'read'), false)
  })

  it('a service identity grants write on the service and its sidecar, read on all services and nodes', () => {
    const az = tokenAuthorizer({ServiceIdentities: [{ServiceName: 'web'}]}, directory, 'dc1', 'deny')
    assert.equal(az.allowed('service', 'web', 'write'), true)
    assert.equal(az.allowed('service', 'web-sidecar-proxy', 'write'), true)
    assert.equal(az.allowed('service', 'db', 'write'), false)
    assert.equal(az.allowed('service', 'db', 'read'), true)
    assert.equal(az.allowed('node', 'n1', 'read'), true)
    assert.equal(az.allowed('key', 'k', 'read'), false)
    assert.equal(tokenAuthorizer({ServiceIdentities: [{ServiceName: 'web', Datacenters: ['dc2']}]}, directory, 'dc1', 'deny').allowed('service', 'web', 'read'), false)
  })

  it('a node identity grants node write in its datacenter only, and service read', () => {
    const token = {NodeIdentities: [{NodeName: 'n1', Datacenter: 'dc1'}]}
    const az = tokenAuthorizer(token, directory, 'dc1', 'deny')
    assert.equal(az.allowed('node', 'n1', 'write'), true)
    assert.equal(az.allowed('node', 'n2', 'read'), false)
    assert.equal(az.allowed('service', 'x', 'read'), true)
    assert.equal(tokenAuthorizer(token, directory, 'dc2', 'deny').allowed('node', 'n1', 'write'), false)
  })

  it('identity templates are valid rules with names quoted', () => {
    assert.equal(parseRules(serviceIdentityRules('we"b')).exact.service[0].segment, 'we"b')
    assert.deepEqual(parseRules(nodeIdentityRules('n1')).exact.node, [{segment: 'n1', access: 'write'}])
  })
})
