// Consul's filter expressions (go-bexpr): the grammar, each operator's semantics on strings,
// numbers, lists and maps, ANY over lists of records, and one-line errors for bad expressions.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseFilter, FilterError} from '../../../src/lib/filter/parse.js'
import {compileFilter} from '../../../src/lib/filter/evaluate.js'
import {SERVICE_ENTRY_SCHEMA, SERVICE_NODE_SCHEMA} from '../../../src/lib/http/catalog-render.js'

const web = {
  Node: 'n1', Address: '10.0.0.1', NodeMeta: {rack: 'a', env: 'prod'}, ServiceName: 'web', ServiceID: 'web-1',
  ServiceTags: ['v1', 'primary'], ServicePort: 8080, ServiceEnableTagOverride: false, ServiceMeta: {},
  ServiceWeights: {Passing: 3, Warning: 1}, ServiceTaggedAddresses: {lan: {Address: '10.0.0.1', Port: 8080}},
}

const match = (expr: string, record: unknown = web) => compileFilter(expr, SERVICE_NODE_SCHEMA)(record)

describe('filter grammar', () => {
  it('parses precedence: not > and > or, with parentheses', () => {
    assert.deepEqual(parseFilter('a == 1 or b == 2 and not c == 3'), {
      kind: 'or',
      left: {kind: 'match', selector: ['a'], op: 'equal', value: '1'},
      right: {kind: 'and', left: {kind: 'match', selector: ['b'], op: 'equal', value: '2'}, right: {kind: 'not', operand: {kind: 'match', selector: ['c'], op: 'equal', value: '3'}}},
    })
    assert.equal(parseFilter('(a == 1 or b == 2) and c == 3').kind, 'and')
  })

  it('reads selectors with dots and ["index"], values bare, quoted, raw and numeric', () => {
    assert.deepEqual(parseFilter('Meta["a.b"] == `x"y`'), {kind: 'match', selector: ['Meta', 'a.b'], op: 'equal', value: 'x"y'})
    assert.deepEqual(parseFilter('Node.Meta.k != "a\\"b"'), {kind: 'match', selector: ['Node', 'Meta', 'k'], op: 'not-equal', value: 'a"b'})
    assert.deepEqual(parseFilter('"v1" not in Tags'), {kind: 'match', selector: ['Tags'], op: 'not-in', value: 'v1'})
    assert.deepEqual(parseFilter('Tags not contains v1'), {kind: 'match', selector: ['Tags'], op: 'not-in', value: 'v1'})
    assert.deepEqual(parseFilter('Port==-1.5'), {kind: 'match', selector: ['Port'], op: 'equal', value: '-1.5'})
    assert.deepEqual(parseFilter('Tags is not empty'), {kind: 'match', selector: ['Tags'], op: 'is-not-empty'})
  })

  it('rejects bad expressions with a one-line reason', () => {
    for (const bad of ['', 'Service ==', 'Service = web', '(Service == web', 'Service == "web', 'Service is full', 'and', 'Meta[1] == a', 'Service == web extra']) {
      assert.throws(() => parseFilter(bad), (err: unknown) => {
        assert.ok(err instanceof FilterError, bad)
        assert.ok(!err.message.includes('\n'))
        return true
      }, bad)
    }
  })

  it('bounds nesting: 1000 levels parse, deeper is a FilterError, not a stack overflow (fuzz finding)', () => {
    const grouped = (n: number) => `${'('.repeat(n)}Service == web${')'.repeat(n)}`
    assert.doesNotThrow(() => parseFilter(grouped(999)))
    for (const deep of [grouped(5000), `${'not '.repeat(5000)}Service == web`, Array.from({length: 3000}, () => 'Service == web').join(' or ')]) {
      assert.throws(() => parseFilter(deep), (err: unknown) => err instanceof FilterError && /nested more than 1000 levels/.test(err.message))
    }
  })
})

describe('filter evaluation', () => {
  it('== and != on strings, numbers and booleans', () => {
    assert.equal(match('ServiceName == web'), true)
    assert.equal(match('ServiceName != web'), false)
    assert.equal(match('ServicePort == 8080'), true)
    assert.equal(match('ServiceEnableTagOverride == false'), true)
    assert.equal(match('ServiceWeights.Passing == 3'), true)
  })

  it('in / contains on lists, maps and strings', () => {
    assert.equal(match('v1 in ServiceTags'), true)
    assert.equal(match('ServiceTags contains "v2"'), false)
    assert.equal(match('"rack" in NodeMeta'), true)
    assert.equal(match('ServiceName contains "we"'), true)
    assert.equal(match('"v2" not in ServiceTags'), true)
  })

  it('is empty, matches, map keys (present and missing)', () => {
    assert.equal(match('ServiceMeta is empty'), true)
    assert.equal(match('ServiceTags is not empty'), true)
    assert.equal(match('ServiceName matches "^w.b$"'), true)
    assert.equal(match('ServiceName not matches "^db"'), true)
    assert.equal(match('NodeMeta.rack == a and NodeMeta["env"] == prod'), true)
    assert.equal(match('NodeMeta.missing == x'), false)
    assert.equal(match('NodeMeta.missing != x'), true)
    assert.equal(match('NodeMeta.missing is empty'), true)
    assert.equal(match('ServiceTaggedAddresses.lan.Port == 8080'), true)
  })

  it('and, or, not, parentheses', () => {
    assert.equal(match('ServiceName == db or (v1 in ServiceTags and not ServicePort == 1)'), true)
    assert.equal(match('not (ServiceName == web)'), false)
  })

  it('a selector through a list matches when ANY element does', () => {
    const entry = {Node: {Node: 'n1', Meta: {}}, Service: {Service: 'web', Tags: []}, Checks: [{Status: 'passing', CheckID: 'a'}, {Status: 'critical', CheckID: 'b'}]}
    const f = (e: string) => compileFilter(e, SERVICE_ENTRY_SCHEMA)(entry)
    assert.equal(f('Checks.Status == critical'), true)
    assert.equal(f('Checks.Status == warning'), false)
    assert.equal(f('Checks.Status != passing'), true)
    assert.equal(f('Node.Node == n1 and Service.Service == web'), true)
  })

  it('rejects unknown selectors, unsupported operators and unconvertible values', () => {
    assert.throws(() => match('Foo == 1'), /Selector "Foo" is not valid/)
    assert.throws(() => match('ServiceTags == v1'), /Invalid match operator "==" for selector "ServiceTags"/)
    assert.throws(() => match('ServicePort == abc'), /Failed to convert value "abc"/)
    assert.throws(() => match('ServiceEnableTagOverride == maybe'), /to a boolean/)
    assert.throws(() => match('ServiceName matches "("'), /Invalid regular expression/)
  })
})
