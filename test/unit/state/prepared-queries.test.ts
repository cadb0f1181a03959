import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {compileTemplate, decodePreparedQuery, renderTemplate, validatePreparedQuery, type PreparedQueryDef} from '../../../src/lib/state/prepared-query.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {decodeValue, encodeValue} from '../../../src/lib/state/codec.js'
import {Harness} from './harness.js'

const def = (fields: Record<string, unknown>): PreparedQueryDef => decodePreparedQuery(fields)
const ID1 = '11111111-1111-1111-1111-111111111111'
const ID2 = '22222222-2222-2222-2222-222222222222'

function set(h: Harness, query: PreparedQueryDef): string | undefined {
  const result = h.cmd('prepared-query-set', {query})
  assert.equal(result.type, 'prepared-query-set')
  return (result as {error?: string}).error
}

describe('prepared query definitions', () => {
  it('decodes case-insensitively with Go zero values for absent fields', () => {
    const q = def({name: 'n', service: {service: 'web', failover: {nearestn: 2}}})
    assert.equal(q.Name, 'n')
    assert.equal(q.Service.Service, 'web')
    assert.equal(q.Service.Failover.NearestN, 2)
    assert.deepEqual(q.Service.Failover.Datacenters, [])
    assert.equal(q.DNS.TTL, '')
  })

  it('validates with Consul\'s texts', () => {
    assert.throws(() => validatePreparedQuery(def({Name: 'x'})), /Invalid prepared query: Must provide a Service name to query$/)
    assert.throws(() => validatePreparedQuery(def({Service: {Service: 'web'}})), /Must be bound to a session/)
    assert.throws(() => validatePreparedQuery(def({Name: 'x', Service: {Service: 'w'}, DNS: {TTL: '-1s'}})), /DNS TTL '-1000000000', must be >=0/)
    assert.throws(() => validatePreparedQuery(def({Name: 'x', Service: {Service: 'w', Failover: {NearestN: 1, Targets: [{Datacenter: 'dc2'}]}}})), /Targets cannot be populated with NearestN or Datacenters/)
    validatePreparedQuery(def({Name: 'x', Service: {Service: 'w', Failover: {Datacenters: ['unknown-dc']}}}))
  })

  it('renders templates: name variables, match(N), RemoveEmptyTags', () => {
    const ct = compileTemplate(def({
      Name: 'pre-', Template: {Type: 'name_prefix_match', Regexp: '^pre-([a-z]+)(?:-(\\w+))?$', RemoveEmptyTags: true},
      Service: {Service: '${match(1)}', Tags: ['${match(2)}', 'x-${name.suffix}'], Near: '${name.full}'},
    }))
    const r = renderTemplate(ct, 'pre-db-blue')
    assert.equal(r.Service.Service, 'db')
    assert.deepEqual(r.Service.Tags, ['blue', 'x-db-blue'])
    assert.equal(r.Service.Near, 'pre-db-blue')
    assert.deepEqual(renderTemplate(ct, 'pre-db').Service.Tags, ['x-db'])
    assert.throws(() => compileTemplate(def({Name: '', Template: {Type: 'name_prefix_match'}, Service: {Service: '${agent.node}'}})), /^Error: Bad format '\$\{agent\.node\}' in Service\.Service/)
  })
})

describe('prepared-queries table', () => {
  it('keeps Consul\'s integrity rules', () => {
    const h = new Harness()
    assert.equal(set(h, {...def({Name: 'Web', Service: {Service: 'web'}}), ID: ID1}), undefined)
    assert.equal(set(h, {...def({Name: 'web', Service: {Service: 'web'}}), ID: ID2}), "name 'web' aliases an existing query name")
    assert.equal(set(h, {...def({Name: ID1, Service: {Service: 'web'}}), ID: ID2}), `name '${ID1}' aliases an existing query ID`)
    assert.equal(set(h, {...def({Name: 'x', Session: 'nope', Service: {Service: 'web'}}), ID: ID2}), 'invalid session "nope"')
    assert.equal(set(h, {...def({Template: {Type: 'name_prefix_match'}, Service: {Service: 'w'}}), ID: ID2}), undefined)
    assert.equal(set(h, {...def({Template: {Type: 'name_prefix_match'}, Service: {Service: 'w'}}), ID: '33333333-3333-3333-3333-333333333333'}), 'a query template with an empty name already exists')
    assert.equal(h.sm.preparedQueries().value.length, 2)
  })

  it('resolves by ID, then exact name (any case), then the longest template prefix', () => {
    const h = new Harness()
    set(h, {...def({Name: 'exact', Service: {Service: 'exact-svc'}}), ID: ID1})
    set(h, {...def({Name: 'ex', Template: {Type: 'name_prefix_match'}, Service: {Service: 'short-${name.suffix}'}}), ID: ID2})
    set(h, {...def({Name: 'exa', Template: {Type: 'name_prefix_match'}, Service: {Service: 'long-${name.suffix}'}}), ID: '33333333-3333-3333-3333-333333333333'})
    const service = (name: string) => {
      const r = h.sm.resolvePreparedQuery(name).value
      return r === undefined ? undefined : 'error' in r ? r.error : r.query.Service.Service
    }
    assert.equal(service(ID1), 'exact-svc')
    assert.equal(service('EXACT'), 'exact-svc')
    assert.equal(service('exam'), 'long-m')
    assert.equal(service('exo'), 'short-o')
    assert.equal(service('nothing'), undefined)
    assert.match(service(ID2)!, /templates can only be resolved up by name/)
  })

  it('a query bound to a session goes when the session does; snapshots keep queries, old ones restore empty', () => {
    const h = new Harness()
    h.registerNode('n1')
    h.createSession('s1')
    set(h, {...def({Session: 's1', Service: {Service: 'web'}}), ID: ID1})
    set(h, {...def({Name: 'free', Service: {Service: 'web'}}), ID: ID2})
    const snap = h.sm.snapshot()
    h.destroySession('s1')
    assert.deepEqual(h.sm.preparedQueries().value.map((q) => q.ID), [ID2])
    assert.equal(h.sm.preparedQueries().index, h.index)
    const restored = new StateMachine()
    restored.restore(snap)
    assert.deepEqual(restored.preparedQueries().value.map((q) => q.ID), [ID1, ID2])
    const old = decodeValue(snap) as Record<string, unknown>
    delete old.preparedQueries
    const fromOld = new StateMachine()
    fromOld.restore(encodeValue(old))
    assert.deepEqual(fromOld.preparedQueries().value, [])
  })
})
