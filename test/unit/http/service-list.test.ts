// Kept list answers (service-list.ts) over a real catalog in a state machine: after every kind of
// change (instances added, changed, moved to another name and removed; checks; node records and
// node checks; a rolled-back txn; a restored snapshot; a gap longer than the change log) the
// answer equals JSON.stringify of every row rendered afresh, and a change renders only its rows.
// The /v1/catalog/nodes list follows the nodes table's change log the same way (one row a node).
// The DNS catalog's instance lists (dns/state-catalog.ts) follow the same change log: they equal a
// list built afresh after every step.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness} from '../state/harness.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {NODE_LOG_LIMIT, SERVICE_LOG_LIMIT} from '../../../src/lib/state/catalog.js'
import type {RegisterRequest} from '../../../src/lib/state/types.js'
import {BLOCK_ROWS, ServiceList, ServiceLists} from '../../../src/lib/http/service-list.js'
import {HEALTH_LIST} from '../../../src/lib/http/health-endpoint.js'
import {INSTANCE_LIST, NODE_LIST} from '../../../src/lib/http/catalog-endpoint.js'
import {renderNode} from '../../../src/lib/http/catalog-render.js'
import {StateDnsCatalog} from '../../../src/lib/dns/state-catalog.js'

function register(h: Harness, request: RegisterRequest): void {
  const result = h.cmd('catalog-register', {request})
  assert.ok(result.type === 'catalog-register' && result.error === undefined, JSON.stringify(result))
}

/** `nodes` nodes with `perNode` instances of web each (a check per instance, a node check). */
function seed(nodes: number, perNode: number): Harness {
  const h = new Harness()
  for (let n = 0; n < nodes; n++) {
    const node = `node-${String(n).padStart(3, '0')}`
    for (let j = 0; j < perNode; j++) {
      register(h, {
        Node: node, Address: `10.0.${n}.1`,
        Service: {ID: `web-${j}`, Service: 'web', Tags: [`t${j % 3}`], Port: 1000 + j},
        Checks: [{CheckID: `web-${j}-alive`, Name: 'alive', ServiceID: `web-${j}`, Status: 'passing'}, {CheckID: 'serf', Name: 'serf', Status: 'passing'}],
      })
    }
  }
  return h
}

const fresh = (sm: StateMachine): string => JSON.stringify(HEALTH_LIST.allRows(sm.catalog, 'web').map(HEALTH_LIST.render))
const freshCatalog = (sm: StateMachine): string => JSON.stringify(INSTANCE_LIST.allRows(sm.catalog, 'web').map(INSTANCE_LIST.render))
/** /v1/catalog/nodes as the object-built path renders it (every node, sorted, rendered afresh). */
const freshNodes = (sm: StateMachine): string => JSON.stringify(sm.catalog.nodes().map(renderNode))

describe('kept service lists', () => {
  it('answers byte for byte as a fresh render after every kind of change, in random order', async () => {
    const h = seed(40, 5)
    const health = new ServiceList('web', HEALTH_LIST)
    const instances = new ServiceList('web', INSTANCE_LIST)
    const nodes = new ServiceList('', NODE_LIST)
    // The state machine's own consensus is not needed: every read here is local.
    const barrier = {readBarrier: async () => {}}
    const dns = new StateDnsCatalog(h.sm, barrier, 'dc1')
    const opts = {datacenter: 'dc1', allowStale: true, maxStaleMs: 0}
    const check = async (step: string): Promise<void> => {
      health.sync(h.sm.catalog)
      instances.sync(h.sm.catalog)
      nodes.sync(h.sm.catalog)
      assert.equal(Buffer.concat(health.body()).toString(), fresh(h.sm), `health after ${step}`)
      assert.equal(Buffer.concat(nodes.body()).toString(), freshNodes(h.sm), `nodes after ${step}`)
      assert.equal(Buffer.concat(instances.body()).toString(), freshCatalog(h.sm), `catalog after ${step}`)
      assert.deepEqual(await dns.serviceInstances('web', opts), await new StateDnsCatalog(h.sm, barrier, 'dc1').serviceInstances('web', opts), `dns after ${step}`)
    }
    await check('seed')
    let seedValue = 11
    const next = (n: number): number => {
      seedValue = (seedValue * 1103515245 + 12345) % 2147483648
      return seedValue % n
    }
    for (let step = 0; step < 300; step++) {
      const n = next(45) // nodes 40..44 are new ones, sorting after (and between: 'node-04x' names)
      const node = n < 40 ? `node-${String(n).padStart(3, '0')}` : `node-0${n}x`
      const id = `web-${next(7)}`
      const roll = next(12)
      if (roll < 4) {
        register(h, {Node: node, Address: `10.1.${n}.${next(3)}`, Service: {ID: id, Service: next(6) === 0 ? 'db' : 'web', Tags: [`t${next(3)}`], Port: 1000 + next(3)},
          Checks: [{CheckID: `${id}-alive`, Name: 'alive', ServiceID: id, Status: next(2) === 0 ? 'passing' : 'warning'}]})
      } else if (roll < 6) {
        if (h.sm.catalog.node(node) !== undefined) register(h, {Node: node, SkipNodeUpdate: true, Checks: [{CheckID: 'serf', Name: 'serf', Status: next(2) === 0 ? 'passing' : 'critical'}]})
      } else if (roll < 7) {
        register(h, {Node: node, Address: `10.2.${n}.${next(200)}`, NodeMeta: {rack: `r${next(3)}`}})
      } else if (roll < 9) {
        h.cmd('catalog-deregister', {request: {Node: node, ServiceID: id}})
      } else if (roll < 10) {
        if (next(4) === 0) h.cmd('catalog-deregister', {request: {Node: node}})
      } else {
        // A txn that changes an instance, then fails: rolled back, the answer as before.
        const existing = h.sm.catalog.service(node, id)
        if (existing !== undefined) {
          const {createIndex: _c, modifyIndex: _m, ...service} = existing
          const result = h.txn([{kind: 'service', verb: 'set', service: {...service, port: 9999}, index: 0}, {kind: 'service', verb: 'cas', service: {...service, port: 1}, index: 1}])
          assert.ok((result.errors?.length ?? 0) > 0, "the txn failed")
        }
      }
      await check(`step ${step} (roll ${roll} on ${node}/${id})`)
    }
    assert.ok(health.size > 2 * BLOCK_ROWS, `rows in several blocks (${health.size})`)
    assert.ok(nodes.size < 45 && nodes.size > 30, `nodes came and went (${nodes.size})`)
  })

  it('nodes: many nodes over several blocks, written, added, removed in random order, answer as a fresh render', () => {
    const h = new Harness()
    const name = (n: number): string => `n-${String(n).padStart(4, '0')}`
    for (let n = 0; n < 400; n += 2) register(h, {Node: name(n), Address: `10.0.${n >> 8}.${n & 255}`})
    const nodes = new ServiceList('', NODE_LIST)
    nodes.sync(h.sm.catalog)
    assert.equal(Buffer.concat(nodes.body()).toString(), freshNodes(h.sm))
    let seedValue = 7
    const next = (n: number): number => {
      seedValue = (seedValue * 1103515245 + 12345) % 2147483648
      return seedValue % n
    }
    for (let step = 0; step < 300; step++) {
      const n = next(400)
      const roll = next(6)
      // Several writes between reads now and then: the log names each node once or more.
      for (let w = 0; w < (next(4) === 0 ? 3 : 1); w++) {
        const m = w === 0 ? n : next(400)
        if (roll < 3) register(h, {Node: name(m), Address: `10.${next(3)}.${m >> 8}.${m & 255}`, NodeMeta: next(2) === 0 ? {} : {rack: `r${next(3)}`}})
        else if (roll < 4) register(h, {Node: name(m), SkipNodeUpdate: true, Checks: [{CheckID: 'serf', Name: 'serf', Status: 'passing'}]})
        else h.cmd('catalog-deregister', {request: {Node: name(m)}})
      }
      nodes.sync(h.sm.catalog)
      assert.equal(Buffer.concat(nodes.body()).toString(), freshNodes(h.sm), `nodes after step ${step} (roll ${roll} on ${name(n)})`)
    }
    assert.ok(nodes.size > 2 * BLOCK_ROWS, `rows in several blocks (${nodes.size})`)
  })

  it('nodes: a node record written renders that row only; other tables leave the answer as it was', () => {
    const h = seed(200, 1)
    const list = new ServiceList('', NODE_LIST)
    list.sync(h.sm.catalog)
    list.body()
    assert.equal(list.rendered, 200)
    register(h, {Node: 'node-107', Address: '10.9.9.9'})
    list.sync(h.sm.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), freshNodes(h.sm))
    assert.equal(list.rendered, 201, 'one node written: one row')
    const before = list.body()
    register(h, {Node: 'node-031', SkipNodeUpdate: true, Checks: [{CheckID: 'serf', Name: 'serf', Status: 'critical'}]})
    register(h, {Node: 'node-031', SkipNodeUpdate: true, Service: {ID: 'db', Service: 'db', Port: 5432}})
    list.sync(h.sm.catalog)
    assert.equal(list.body(), before, 'a check or a service write: the same parts')
    h.cmd('catalog-deregister', {request: {Node: 'node-008'}})
    list.sync(h.sm.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), freshNodes(h.sm))
    assert.equal(list.rendered, 201, 'a node removed: nothing rendered')
    for (let i = 0; i <= NODE_LOG_LIMIT; i++) register(h, {Node: `node-${String(i % 200).padStart(3, '0')}`, Address: `10.8.${Math.floor(i / 200)}.1`})
    assert.equal(h.sm.catalog.nodeChangesSince(0), undefined, 'the log started over')
    list.sync(h.sm.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), freshNodes(h.sm))
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    list.sync(copy.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), freshNodes(copy))
  })

  it('renders only the changed rows when the index moves', () => {
    const h = seed(60, 5)
    const list = new ServiceList('web', HEALTH_LIST)
    list.sync(h.sm.catalog)
    list.body()
    assert.equal(list.rendered, 300)
    register(h, {Node: 'node-007', SkipNodeUpdate: true, Checks: [{CheckID: 'web-2-alive', Name: 'alive', ServiceID: 'web-2', Status: 'critical'}]})
    list.sync(h.sm.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), fresh(h.sm))
    assert.equal(list.rendered, 301, 'one instance check: one row')
    register(h, {Node: 'node-031', SkipNodeUpdate: true, Checks: [{CheckID: 'serf', Name: 'serf', Status: 'critical'}]})
    list.sync(h.sm.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), fresh(h.sm))
    assert.equal(list.rendered, 306, 'a node check: that node\'s 5 rows')
    // A write to another service does not move web's index: nothing visited, the same Buffer.
    const before = list.body()
    register(h, {Node: 'node-031', SkipNodeUpdate: true, Service: {ID: 'db', Service: 'db', Port: 5432}})
    list.sync(h.sm.catalog)
    assert.equal(list.body(), before)
  })

  it('resyncs when the change log no longer reaches back, or the catalog was restored', () => {
    const h = seed(30, 5)
    const list = new ServiceList('web', HEALTH_LIST)
    list.sync(h.sm.catalog)
    list.body()
    for (let i = 0; i <= SERVICE_LOG_LIMIT; i++) {
      register(h, {Node: `node-${String(i % 30).padStart(3, '0')}`, SkipNodeUpdate: true, Checks: [{CheckID: 'web-0-alive', Name: 'alive', ServiceID: 'web-0', Status: i % 2 === 0 ? 'warning' : 'passing'}]})
    }
    assert.equal(h.sm.catalog.serviceChangesSince('web', 0), undefined, 'the log started over')
    list.sync(h.sm.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), fresh(h.sm))
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    list.sync(copy.catalog)
    assert.equal(Buffer.concat(list.body()).toString(), fresh(copy))
  })

  it('keeps the most recently read lists within the byte bound, never dropping the last', () => {
    const h = seed(30, 5)
    h.cmd('catalog-register', {request: {Node: 'node-000', SkipNodeUpdate: true, Service: {ID: 'db', Service: 'db', Port: 1}}})
    const lists = new ServiceLists(HEALTH_LIST, 1)
    for (const name of ['web', 'db']) {
      const list = lists.get(name)
      list.sync(h.sm.catalog)
      list.body()
      lists.trim()
    }
    assert.deepEqual(lists.names(), ['db'])
    lists.get('web')
    assert.deepEqual(lists.names(), ['db', 'web'])
  })
})
