// The rule language: Consul's HCL and JSON forms, its validation (hashicorp/consul acl/policy.go
// Validate: list only for keys), and errors that name the line of the bad rule.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {AclRulesError, parseRules, SEGMENT_KINDS} from '../../../src/lib/acl/rules.js'

function rejects(text: string, line: number, reason: RegExp) {
  assert.throws(() => parseRules(text), (error: unknown) => {
    assert.ok(error instanceof AclRulesError, `expected AclRulesError, got ${String(error)}`)
    assert.equal(error.line, line, `line of ${JSON.stringify(text)}: ${error.message}`)
    assert.equal(error.httpStatus, 400)
    assert.match(error.message, /^Failed to parse ACL rules: line \d+: /)
    assert.match(error.message, reason)
    assert.doesNotMatch(error.message, /\n/, 'one line')
    return true
  })
}

describe('ACL rules: parsing', () => {
  it('reads every exact and prefix kind, and the three scalars, from HCL', () => {
    const text = [
      ...SEGMENT_KINDS.flatMap((kind) => [`${kind} "exact-${kind}" {`, '  policy = "write"', '}', `${kind}_prefix "pre-${kind}" {`, '  policy = "read"', '}']),
      'acl = "read"', 'keyring = "write"', 'operator = "deny"',
    ].join('\n')
    const rules = parseRules(text)
    for (const kind of SEGMENT_KINDS) {
      assert.deepEqual(rules.exact[kind], [{segment: `exact-${kind}`, access: 'write'}], kind)
      assert.deepEqual(rules.prefix[kind], [{segment: `pre-${kind}`, access: 'read'}], `${kind}_prefix`)
    }
    assert.deepEqual(rules.scalar, {acl: 'read', keyring: 'write', operator: 'deny'})
  })

  it('reads the JSON form alike', () => {
    const json = JSON.stringify({key_prefix: {'app/': {policy: 'list'}}, service: {web: {policy: 'write', intentions: 'read'}}, operator: 'read'})
    const rules = parseRules(json)
    assert.deepEqual(rules.prefix.key, [{segment: 'app/', access: 'list'}])
    assert.deepEqual(rules.exact.service, [{segment: 'web', access: 'write', intentions: 'read'}])
    assert.deepEqual(rules.scalar, {operator: 'read'})
  })

  it('keeps two rules for one segment (the merger decides between them), and the empty prefix', () => {
    const rules = parseRules('key_prefix "" { policy = "read" }\nkey_prefix "" { policy = "deny" }')
    assert.deepEqual(rules.prefix.key, [{segment: '', access: 'read'}, {segment: '', access: 'deny'}])
  })

  it('an empty text and comments alone are a policy with no rules', () => {
    for (const text of ['', '   \n', '# nothing here\n// nor here']) {
      const rules = parseRules(text)
      assert.deepEqual(rules.scalar, {})
      for (const kind of SEGMENT_KINDS) assert.equal(rules.exact[kind].length + rules.prefix[kind].length, 0)
    }
  })

  it('accepts the rule words Consul has for features coord lacks (mesh, peering, identity) and they grant nothing', () => {
    const rules = parseRules('mesh = "write"\npeering = "read"\nidentity_prefix "" { policy = "write" }')
    assert.deepEqual(rules.scalar, {})
  })
})

describe('ACL rules: invalid rules are errors naming the line', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['syntax: unclosed block', 'key_prefix "a/" {\n  policy = "read"\n\n', 4, /column \d+: .*RBRACE/],
    ['syntax: missing value', 'key "a" {\n  policy =\n}', 3, /column/],
    ['unknown policy word', 'key "a" {\n  policy = "read"\n}\nservice "web" {\n  policy = "admin"\n}', 5, /invalid service policy "admin" for "web" \(read, write or deny\)/],
    ['list is for keys only', 'node_prefix "" {\n  policy = "list"\n}', 2, /invalid node_prefix policy "list"/],
    ['missing policy', '\n\nsession "n1" {\n}', 3, /invalid session policy \(missing\) for "n1"/],
    ['a number for a policy', 'event_prefix "" { policy = 3 }', 1, /invalid event_prefix policy 3/],
    ['bad scalar', 'acl = "read"\noperator = "list"', 2, /invalid operator policy "list" \(read, write or deny\)/],
    ['unknown rule word', 'key "a" { policy = "read" }\nkeys "b" { policy = "read" }', 2, /unknown rule "keys"/],
    ['unknown field', 'key "a" {\n  policy = "read"\n  polcy = "write"\n}', 3, /unknown field "polcy" in key "a"/],
    ['intentions outside service', 'node "a" { policy = "read" intentions = "read" }', 1, /unknown field "intentions"/],
    ['bad intentions', 'service_prefix "" {\n  policy = "read"\n  intentions = "all"\n}', 3, /invalid service_prefix intentions policy "all"/],
    ['a segment kind used as a scalar', '\nkey = "write"', 2, /key must be a block/],
    ['two labels', 'key "a" "b" { policy = "read" }', 1, /key takes one name/],
    ['JSON: bad policy', '{\n  "key_prefix": {\n    "a/": {\n      "policy": "rw"\n    }\n  }\n}', 4, /invalid key_prefix policy "rw" for "a\/" \(read, write, list or deny\)/],
  ]
  for (const [name, text, line, reason] of cases) it(name, () => rejects(text, line, reason))
})
