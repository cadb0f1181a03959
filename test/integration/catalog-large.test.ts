// /v1/catalog/nodes and /v1/catalog/service/:name for lists long enough (≥ 128 records) that their
// answers are joined from per-record JSON kept between reads (http/kept-json.ts): the joined answer
// is byte for byte the one built from objects (the ?filter path), and a change to a node record, an
// instance record or a deregistration shows in the next answer (a kept record's JSON never goes
// stale), read through plain HTTP and the npm `consul` client.
import {before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useAgent} from '../helpers/agent.js'
import {consulClient, http} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API */

const NODES = 70
const PER_NODE = 2
/** Always true, so the ?filter answers (built from objects) must equal the joined ones. */
const NODES_FILTER = `filter=${encodeURIComponent('Node != ""')}`
const SERVICE_FILTER = `filter=${encodeURIComponent('ServiceName == "wide"')}`
const nodeName = (n: number): string => `wide-node-${String(n).padStart(3, '0')}`

describe('/v1/catalog/nodes and /v1/catalog/service for long lists', () => {
  const ctx = useAgent()
  let consul: any
  const txn = async (ops: unknown[]): Promise<void> => {
    const res = await http(ctx.agent.httpAddr, 'PUT', '/v1/txn', JSON.stringify(ops))
    assert.equal(res.status, 200, res.text)
  }
  const get = async (path: string): Promise<{text: string; index: number; list: any[]}> => {
    const res = await http(ctx.agent.httpAddr, 'GET', path)
    assert.equal(res.status, 200, res.text)
    return {text: res.text, index: Number(res.headers['x-consul-index']), list: JSON.parse(res.text) as any[]}
  }
  /** The joined answer, checked against the object-built one for the same query. */
  const joined = async (path: string, query = ''): Promise<any[]> => {
    const filter = path === '/v1/catalog/nodes' ? NODES_FILTER : SERVICE_FILTER
    const plain = await get(`${path}${query === '' ? '' : `?${query}`}`)
    const built = await get(`${path}?${query === '' ? '' : `${query}&`}${filter}`)
    assert.equal(plain.text, built.text, `${path}?${query}: the joined answer is the one built from objects`)
    return plain.list
  }

  before(async () => {
    consul = consulClient(ctx.agent.httpAddr)
    for (let n = 0; n < NODES; n += 2) {
      const ops: unknown[] = []
      for (const m of [n, n + 1]) {
        const node = nodeName(m)
        ops.push({Node: {Verb: 'set', Node: {Node: node, Address: `10.3.0.${m}`, Meta: {rack: `r${m % 2}`}}}})
        for (let j = 0; j < PER_NODE; j++) {
          ops.push({Service: {Verb: 'set', Node: node, Service: {ID: `wide-${m}-${j}`, Service: 'wide', Port: 9000 + j, Tags: [`t${j}`]}}})
        }
      }
      await txn(ops)
    }
    // More nodes without the service, so the node list is long too.
    for (let n = NODES; n < 2 * NODES; n += 8) {
      await txn(Array.from({length: 8}, (_, k) => ({Node: {Verb: 'set', Node: {Node: nodeName(n + k), Address: `10.4.0.${n + k}`}}})))
    }
  })

  it('answers every record in Consul\'s order, as the object-built answer and the npm client see it', async () => {
    const nodes = await joined('/v1/catalog/nodes')
    assert.ok(nodes.length >= 2 * NODES, `${nodes.length} nodes`)
    const names = nodes.map((n) => n.Node as string)
    assert.deepEqual(names, [...names].sort(), 'ordered by node name')
    assert.equal((await joined('/v1/catalog/nodes', 'node-meta=rack:r1')).length, NODES / 2)
    const instances = await joined('/v1/catalog/service/wide')
    assert.equal(instances.length, NODES * PER_NODE)
    const order = instances.map((s) => `${s.Node}/${s.ServiceID}`)
    assert.deepEqual(order, [...order].sort(), 'ordered by node, then service ID')
    assert.equal((await joined('/v1/catalog/service/wide', 'tag=t1')).length, NODES)
    assert.equal((await joined('/v1/catalog/service/wide', 'node-meta=rack:r0')).length, NODES)
    // ?near sorts the records before they are joined: the same order as the object-built answer.
    assert.equal((await joined('/v1/catalog/nodes', 'near=_agent')).length, nodes.length)
    assert.equal((await joined('/v1/catalog/service/wide', 'near=_agent')).length, NODES * PER_NODE)
    const viaClient = await consul.catalog.service.nodes('wide')
    assert.equal(viaClient.length, NODES * PER_NODE)
    assert.equal(viaClient[3].ServiceName, 'wide')
    assert.equal((await consul.catalog.node.list()).length, nodes.length)
  })

  it('a node record, an instance record and a deregistration show in the next answers', async () => {
    const first = await get('/v1/catalog/service/wide')
    // The node record: its own list entry and the NodeMeta/Address of its instances' entries.
    const woken = get(`/v1/catalog/service/wide?index=${first.index}&wait=20s`)
    await txn([{Node: {Verb: 'set', Node: {Node: nodeName(11), Address: '10.9.9.9', Meta: {rack: 'moved'}}}}])
    const after = await woken
    assert.ok(after.index > first.index, 'a blocking read woke with the change')
    assert.deepEqual(after.list.filter((s) => s.Node === nodeName(11)).map((s) => [s.Address, s.NodeMeta.rack]), [['10.9.9.9', 'moved'], ['10.9.9.9', 'moved']])
    assert.equal((await joined('/v1/catalog/nodes')).find((n) => n.Node === nodeName(11)).Address, '10.9.9.9')
    assert.deepEqual((await joined('/v1/catalog/nodes', 'node-meta=rack:moved')).map((n) => n.Node), [nodeName(11)])
    await joined('/v1/catalog/service/wide')

    // One instance record.
    await txn([{Service: {Verb: 'set', Node: nodeName(4), Service: {ID: 'wide-4-1', Service: 'wide', Port: 7777, Tags: ['t1', 'new']}}}])
    const changed = (await joined('/v1/catalog/service/wide')).filter((s) => s.ServicePort === 7777)
    assert.deepEqual(changed.map((s) => [s.ServiceID, s.ServiceTags]), [['wide-4-1', ['t1', 'new']]])
    assert.equal((await joined('/v1/catalog/service/wide', 'tag=new')).length, 1)

    // A deregistered instance and a deregistered node (with its instances).
    await txn([{Service: {Verb: 'delete', Node: nodeName(5), Service: {ID: 'wide-5-0'}}}])
    await txn([{Node: {Verb: 'delete', Node: {Node: nodeName(6)}}}])
    const left = await joined('/v1/catalog/service/wide')
    assert.equal(left.length, NODES * PER_NODE - 3)
    assert.ok(!left.some((s) => s.ServiceID === 'wide-5-0' || s.Node === nodeName(6)))
    assert.ok(!(await joined('/v1/catalog/nodes')).some((n) => n.Node === nodeName(6)))
  })
})
