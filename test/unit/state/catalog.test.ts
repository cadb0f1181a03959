// The catalog in the state machine: Consul's register/deregister rules, per-table and per-service
// indexes (and which watches fire), session invalidation by checks, snapshot round trips, and
// restoring a snapshot written before services existed.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness} from './harness.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {encodeValue, decodeCommand, encodeCommand} from '../../../src/lib/state/codec.js'
import {CatalogRequestError, parseDeregisterRequest, parseRegisterRequest} from '../../../src/lib/state/catalog-request.js'
import type {RegisterRequest, DeregisterRequest} from '../../../src/lib/state/types.js'
import type {WatchTable as WatchTableName} from '../../../src/lib/state/watch.js'

function register(h: Harness, request: RegisterRequest): string | undefined {
  const result = h.cmd('catalog-register', {request})
  assert.equal(result.type, 'catalog-register')
  return result.type === 'catalog-register' ? result.error : undefined
}

function deregister(h: Harness, request: DeregisterRequest): void {
  h.cmd('catalog-deregister', {request})
}

const web1: RegisterRequest = {
  Node: 'n1', Address: '10.0.0.1', NodeMeta: {rack: 'a'},
  Service: {Service: 'web', Tags: ['v1'], Port: 80},
  Checks: [{Name: 'web alive', ServiceID: 'web', Status: 'passing'}, {CheckID: 'mem', Name: 'memory', Status: 'passing'}],
}

/** Which watch tables one command fires. */
function fired(h: Harness, tables: WatchTableName[], act: () => void): WatchTableName[] {
  const hits: WatchTableName[] = []
  for (const table of tables) h.sm.watches.watchTable(table, () => hits.push(table))
  act()
  return hits.sort()
}

describe('catalog register', () => {
  it('stores node, service and checks with Consul defaults', () => {
    const h = new Harness()
    assert.equal(register(h, web1), undefined)
    const c = h.sm.catalog
    assert.deepEqual(c.node('n1')?.meta, {rack: 'a'})
    const svc = c.service('n1', 'web')!
    assert.equal(svc.id, 'web', 'service ID defaults to its name')
    assert.deepEqual(svc.weights, {Passing: 1, Warning: 1})
    const check = c.check('n1', 'web alive')!
    assert.equal(check.checkId, 'web alive', 'check ID defaults to its name')
    assert.equal(check.serviceName, 'web')
    assert.deepEqual(check.serviceTags, ['v1'])
    assert.equal(c.check('n1', 'mem')!.serviceId, '')
    assert.deepEqual(c.instances('web').map((s) => s.node), ['n1'])
    assert.equal(svc.createIndex, 1)
  })

  it('defaults a check status to critical', () => {
    const h = new Harness()
    register(h, {Node: 'n1', Address: 'a', Check: {Name: 'x'}})
    assert.equal(h.sm.catalog.check('n1', 'x')!.status, 'critical')
  })

  it('rejects a check bound to an unknown service, and changes nothing', () => {
    const h = new Harness()
    assert.equal(register(h, {Node: 'n1', Address: 'a', Checks: [{Name: 'c', ServiceID: 'nope'}]}), 'Missing service registration')
    assert.equal(h.sm.catalog.node('n1'), undefined)
    assert.equal(h.sm.catalogIndex('nodes', 'checks'), 0)
  })

  it('with SkipNodeUpdate needs the node and keeps its record', () => {
    const h = new Harness()
    assert.equal(register(h, {Node: 'n1', SkipNodeUpdate: true, Service: {Service: 'web'}}), 'Missing node registration')
    register(h, web1)
    const nodeIndex = h.sm.catalog.node('n1')!.modifyIndex
    assert.equal(register(h, {Node: 'n1', SkipNodeUpdate: true, Service: {Service: 'db', Port: 5432}}), undefined)
    assert.equal(h.sm.catalog.node('n1')!.modifyIndex, nodeIndex)
    assert.deepEqual(h.sm.catalog.node('n1')!.meta, {rack: 'a'})
    assert.ok(h.sm.catalog.service('n1', 'db'))
  })

  it('writes nothing for an identical re-registration', () => {
    const h = new Harness()
    register(h, web1)
    const before = h.sm.catalogIndex('nodes', 'services', 'checks')
    const hits = fired(h, ['nodes', 'services', 'checks', 'service:web'], () => register(h, web1))
    assert.deepEqual(hits, [])
    assert.equal(h.sm.catalogIndex('nodes', 'services', 'checks'), before)
  })

  it('follows a service tag change into its checks', () => {
    const h = new Harness()
    register(h, web1)
    register(h, {...web1, Service: {Service: 'web', Tags: ['v2'], Port: 80}, Checks: []})
    assert.deepEqual(h.sm.catalog.check('n1', 'web alive')!.serviceTags, ['v2'])
  })
})

describe('catalog indexes and watches', () => {
  it('a change to one service wakes only that service (and its tables)', () => {
    const h = new Harness()
    register(h, web1)
    register(h, {Node: 'n2', Address: 'b', Service: {Service: 'db', Port: 5432}})
    const webIndex = h.sm.serviceIndex('web')
    const hits = fired(h, ['service:web', 'service:db', 'services', 'nodes'], () =>
      register(h, {Node: 'n2', Address: 'b', Service: {Service: 'db', Port: 5433}}))
    assert.deepEqual(hits, ['service:db', 'services'])
    assert.equal(h.sm.serviceIndex('web'), webIndex)
    assert.equal(h.sm.serviceIndex('db'), h.index)
  })

  it('a node check change moves the index of every service on that node', () => {
    const h = new Harness()
    register(h, web1)
    register(h, {Node: 'n1', Address: '10.0.0.1', NodeMeta: {rack: 'a'}, Service: {Service: 'db'}})
    const hits = fired(h, ['service:web', 'service:db', 'checks'], () =>
      register(h, {Node: 'n1', Address: '10.0.0.1', NodeMeta: {rack: 'a'}, Checks: [{CheckID: 'mem', Name: 'memory', Status: 'critical'}]}))
    assert.deepEqual(hits, ['checks', 'service:db', 'service:web'])
    assert.equal(h.sm.serviceIndex('web'), h.index)
  })

  it('a service check change moves only its service', () => {
    const h = new Harness()
    register(h, web1)
    register(h, {Node: 'n1', Address: '10.0.0.1', NodeMeta: {rack: 'a'}, Service: {Service: 'db'}})
    const hits = fired(h, ['service:web', 'service:db'], () =>
      register(h, {Node: 'n1', Address: '10.0.0.1', NodeMeta: {rack: 'a'}, Checks: [{Name: 'web alive', ServiceID: 'web', Status: 'warning'}]}))
    assert.deepEqual(hits, ['service:web'])
  })

  it('a service that disappears keeps its index, so a blocked reader sees it move', () => {
    const h = new Harness()
    register(h, web1)
    deregister(h, {Node: 'n1', ServiceID: 'web'})
    assert.equal(h.sm.serviceIndex('web'), h.index)
    assert.deepEqual(h.sm.catalog.instances('web'), [])
  })
})

describe('catalog deregister', () => {
  it('a node takes its services and checks with it', () => {
    const h = new Harness()
    register(h, web1)
    deregister(h, {Node: 'n1'})
    const c = h.sm.catalog
    assert.equal(c.node('n1'), undefined)
    assert.deepEqual(c.nodeServices('n1'), [])
    assert.deepEqual(c.checks('n1'), [])
    assert.deepEqual(c.serviceNames(), [])
  })

  it('a service takes its checks but not the node checks', () => {
    const h = new Harness()
    register(h, web1)
    deregister(h, {Node: 'n1', ServiceID: 'web'})
    assert.deepEqual(h.sm.catalog.checks('n1').map((c) => c.checkId), ['mem'])
  })

  it('a check alone; unknown things are no-ops', () => {
    const h = new Harness()
    register(h, web1)
    deregister(h, {Node: 'n1', CheckID: 'mem'})
    assert.equal(h.sm.catalog.check('n1', 'mem'), undefined)
    const index = h.sm.catalogIndex('nodes', 'services', 'checks')
    deregister(h, {Node: 'zz'})
    deregister(h, {Node: 'n1', ServiceID: 'zz'})
    assert.equal(h.sm.catalogIndex('nodes', 'services', 'checks'), index)
  })
})

describe('catalog and sessions', () => {
  function session(h: Harness, nodeChecks: string[], serviceChecks: string[] = []): string {
    const id = `s-${h.index}`
    const result = h.cmd('session-create', {session: {id, name: '', node: 'n1', nodeChecks, serviceChecks: serviceChecks.map((c) => ({id: c})), lockDelayMs: 0, behavior: 'release', ttl: ''}})
    assert.equal(result.type === 'session-create' && result.error, undefined)
    return id
  }

  it('a service check going critical invalidates sessions bound to it', () => {
    const h = new Harness()
    register(h, web1)
    const id = session(h, [], ['web alive'])
    register(h, {...web1, Checks: [{Name: 'web alive', ServiceID: 'web', Status: 'critical'}]})
    assert.equal(h.sm.sessionGet(id).value, undefined)
  })

  it('deregistering a check or a node invalidates its sessions', () => {
    const h = new Harness()
    register(h, web1)
    const byCheck = session(h, ['mem'])
    const onNode = session(h, [])
    deregister(h, {Node: 'n1', CheckID: 'mem'})
    assert.equal(h.sm.sessionGet(byCheck).value, undefined)
    assert.ok(h.sm.sessionGet(onNode).value)
    deregister(h, {Node: 'n1'})
    assert.equal(h.sm.sessionGet(onNode).value, undefined)
  })

  it('the legacy node-register command still applies', () => {
    const h = new Harness()
    h.cmd('node-register', {node: {id: 'x', node: 'n1', address: 'a', datacenter: 'dc1'}, checks: [{node: 'n1', checkId: 'serfHealth', name: 'Serf Health Status', status: 'passing', notes: '', output: ''}]})
    assert.equal(h.sm.catalog.check('n1', 'serfHealth')!.status, 'passing')
    assert.deepEqual(h.sm.catalog.node('n1')!.meta, {})
  })
})

describe('catalog snapshots', () => {
  it('round-trips nodes, services, checks and indexes', () => {
    const h = new Harness()
    register(h, web1)
    register(h, {Node: 'n2', Address: 'b', Service: {Service: 'db', Port: 5432, Meta: {v: '1'}, TaggedAddresses: {lan: {Address: 'b', Port: 1}}}})
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    assert.deepEqual(copy.catalog.dump(), h.sm.catalog.dump())
    assert.equal(copy.serviceIndex('web'), h.sm.serviceIndex('web'))
    assert.equal(copy.catalog.instances('db')[0].port, 5432)
  })

  it('restores a snapshot written before services existed', () => {
    const old = encodeValue({
      format: 'coord-state', version: 1, lastIndex: 5,
      kv: {entries: [], tombstones: [], lockDelays: [], index: 0},
      sessions: {sessions: [], index: 0},
      catalog: {
        nodes: [{id: 'x', node: 'n1', address: 'a', datacenter: 'dc1', createIndex: 2, modifyIndex: 2}],
        checks: [{node: 'n1', checkId: 'serfHealth', name: 'Serf Health Status', status: 'passing', notes: '', output: '', createIndex: 2, modifyIndex: 2}],
        nodesIndex: 2, checksIndex: 2,
      },
    })
    const sm = new StateMachine()
    sm.restore(old)
    assert.deepEqual(sm.catalog.node('n1')!.taggedAddresses, {})
    const check = sm.catalog.check('n1', 'serfHealth')!
    assert.equal(check.serviceId, '')
    assert.deepEqual(check.serviceTags, [])
    assert.equal(sm.catalogIndex('services'), 0)
    // And it keeps working: a re-registration of the same check writes nothing.
    sm.apply(6, {type: 'catalog-register', now: 0, request: {Node: 'n1', Address: 'a', ID: '', Datacenter: 'dc1', SkipNodeUpdate: true, Checks: [{CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing'}]}})
    assert.equal(sm.catalog.check('n1', 'serfHealth')!.modifyIndex, 2)
  })

  it('encodes catalog commands through the log codec', () => {
    const cmd = {type: 'catalog-register' as const, now: 1, request: web1}
    assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd)
    assert.throws(() => decodeCommand(encodeValue({type: 'catalog-deregister', now: 1})), /has no request/)
  })
})

describe('catalog request parsing', () => {
  it('matches fields case-insensitively and with snake_case', () => {
    const r = parseRegisterRequest({node: 'n1', address: 'a', service: {service: 'web', enable_tag_override: true}, check: {name: 'c', service_id: 'web'}})
    assert.equal(r.Service!.EnableTagOverride, true)
    assert.equal(r.Checks![0].ServiceID, 'web')
    assert.equal(r.Checks![0].Node, 'n1')
    assert.equal(r.Check, undefined, 'the legacy Check joins Checks')
  })

  it('says why a body is rejected, in one line', () => {
    const cases: Array<[unknown, string, 'decode' | 'invalid']> = [
      [{Address: 'a'}, 'Must provide node', 'invalid'],
      [{Node: 'n'}, 'Must provide address if SkipNodeUpdate is not set', 'invalid'],
      [{Node: 'n', Address: 'a', Service: {ID: 'x'}}, 'Must provide service name with ID', 'invalid'],
      [{Node: 'n', Address: 'a', ID: 'not-a-uuid'}, 'Bad node ID', 'invalid'],
      [{Node: 'n', Address: 'a', Service: {Service: 'web', Port: 'x'}}, 'Port must be an integer', 'decode'],
      [{Node: 'n', Address: 'a', Checks: [{Name: 'c', Status: 'bogus'}]}, 'invalid check status', 'decode'],
      [{Node: 'n', Address: 'a', Checks: [{Name: 'c', Node: 'other'}]}, 'does not match node', 'invalid'],
      [[1], 'must be a JSON object', 'decode'],
    ]
    for (const [body, message, kind] of cases) {
      assert.throws(() => parseRegisterRequest(body), (err: unknown) => {
        assert.ok(err instanceof CatalogRequestError)
        assert.equal(err.kind, kind, JSON.stringify(body))
        assert.ok(err.message.includes(message), `${err.message} ∌ ${message}`)
        assert.ok(!err.message.includes('\n'))
        return true
      })
    }
    assert.throws(() => parseDeregisterRequest({}), /Must provide node/)
  })
})

describe('catalog summaries kept incrementally', () => {
  /** What /v1/catalog/services answers, recomputed from every instance. */
  function recomputed(h: Harness): Record<string, string[]> {
    const tags = new Map<string, Set<string>>()
    for (const s of h.sm.catalog.allServices()) {
      const set = tags.get(s.service) ?? new Set<string>()
      tags.set(s.service, set)
      for (const tag of s.tags) set.add(tag)
    }
    return Object.fromEntries([...tags].map(([name, set]) => [name, [...set].sort()]).sort())
  }
  function summary(sm: StateMachine): Record<string, string[]> {
    return Object.fromEntries([...sm.catalog.serviceTagSummary()].map(([name, counts]) => [name, [...counts.keys()].sort()]).sort())
  }
  function checksRecomputed(h: Harness, name: string): string[] {
    return h.sm.catalog.allChecks().filter((c) => c.serviceName === name && c.serviceId !== '').map((c) => `${c.node}/${c.checkId}`)
  }

  it('the per-service tag summary and per-service checks match a full scan through registers, renames, tag changes and deregisters', () => {
    const h = new Harness()
    let seed = 7
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const names = ['web', 'db', 'cache']
    const tagPool = ['a', 'b', 'c', 'v1']
    for (let step = 0; step < 400; step++) {
      const node = `n${next(6)}`
      const id = `s${next(4)}`
      const roll = next(10)
      if (roll < 6) {
        const tags = tagPool.filter(() => next(2) === 0)
        register(h, {Node: node, Address: '10.0.0.1', Service: {ID: id, Service: names[next(3)], Tags: [...tags, ...tags.slice(0, 1)], Port: 80},
          Checks: next(2) === 0 ? [{CheckID: `c-${id}`, Name: 'alive', ServiceID: id, Status: 'passing'}] : []})
      } else if (roll < 9) {
        deregister(h, {Node: node, ServiceID: id})
      } else {
        deregister(h, {Node: node})
      }
      assert.deepEqual(summary(h.sm), recomputed(h), `after step ${step}`)
      for (const name of names) assert.deepEqual(h.sm.catalog.serviceChecks(name).map((c) => `${c.node}/${c.checkId}`), checksRecomputed(h, name))
    }
    assert.ok(Object.keys(recomputed(h)).length > 0)
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    assert.deepEqual(summary(copy), recomputed(h), 'rebuilt when a snapshot is loaded')
  })
})
