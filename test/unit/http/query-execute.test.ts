import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {failoverDatacenters, selectEntries, type HealthEntry} from '../../../src/lib/http/query-execute.js'
import {decodePreparedQuery} from '../../../src/lib/state/prepared-query.js'

const entry = (node: string, tags: string[], statuses: Array<[string, string]>, meta: Record<string, string> = {}): HealthEntry =>
  ({Node: {Node: node, Meta: meta}, Service: {Tags: tags, Meta: {}}, Checks: statuses.map(([CheckID, Status]) => ({CheckID, Status}))})

describe('prepared query execution rules', () => {
  const entries = [
    entry('a', ['v1'], [['serfHealth', 'passing']], {rack: '1'}),
    entry('b', ['v2'], [['serfHealth', 'passing'], ['svc', 'warning']]),
    entry('c', ['V2', 'canary'], [['serfHealth', 'passing'], ['flaky', 'critical']]),
  ]
  const service = (fields: Record<string, unknown>) => decodePreparedQuery({Service: {Service: 'web', ...fields}}).Service
  const nodes = (picked: HealthEntry[]) => picked.map((e) => e.Node.Node)

  it('drops critical always, warning with OnlyPassing, ignoring IgnoreCheckIDs', () => {
    assert.deepEqual(nodes(selectEntries(entries, service({}))), ['a', 'b'])
    assert.deepEqual(nodes(selectEntries(entries, service({OnlyPassing: true}))), ['a'])
    assert.deepEqual(nodes(selectEntries(entries, service({IgnoreCheckIDs: ['flaky']}))), ['a', 'b', 'c'])
  })

  it('tags: all plain ones and none of the !-prefixed, case-insensitively; node meta must match', () => {
    assert.deepEqual(nodes(selectEntries(entries, service({Tags: ['v2'], IgnoreCheckIDs: ['flaky']}))), ['b', 'c'])
    assert.deepEqual(nodes(selectEntries(entries, service({Tags: ['v2', '!CANARY'], IgnoreCheckIDs: ['flaky']}))), ['b'])
    assert.deepEqual(nodes(selectEntries(entries, service({NodeMeta: {rack: '1'}}))), ['a'])
  })

  it('fails over to the NearestN nearest, then the listed known datacenters, each once', () => {
    const failover = (fields: Record<string, unknown>) => service({Failover: fields}).Failover
    const byDistance = ['dc3', 'dc2', 'dc4']
    assert.deepEqual(failoverDatacenters(failover({NearestN: 2, Datacenters: ['dc2', 'dc4', 'dc9']}), byDistance), ['dc3', 'dc2', 'dc4'])
    assert.deepEqual(failoverDatacenters(failover({Datacenters: ['dc4', 'dc3']}), byDistance), ['dc4', 'dc3'])
    assert.deepEqual(failoverDatacenters(failover({NearestN: 9}), byDistance), byDistance)
    assert.deepEqual(failoverDatacenters(failover({Targets: [{Datacenter: 'dc4'}, {Datacenter: 'nope'}]}), byDistance), ['dc4'])
    assert.deepEqual(failoverDatacenters(failover({}), byDistance), [])
  })
})
