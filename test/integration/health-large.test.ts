// /v1/health/service for a service large enough (≥ 128 instances) that its answer is joined from
// per-instance entries kept between reads (http/health-fragments.ts): the joined answer is byte for
// byte the one built from entry objects (the ?filter path), and a change to one instance's check,
// a node-level check or a node record shows in the next answer (a kept entry never goes stale).
// A write to another service on the same nodes does not wake a blocking read of this one.
import {before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useAgent} from '../helpers/agent.js'
import {consulClient, http} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API */

const NODES = 20
const PER_NODE = 8
/** Always true for these instances, so the ?filter answer (built from objects) must equal the joined one. */
const FILTER = `?filter=${encodeURIComponent('Service.Service == "big"')}`

describe('/v1/health/service for a large service', () => {
  const ctx = useAgent()
  let consul: any
  const txn = async (ops: unknown[]): Promise<void> => {
    const res = await http(ctx.agent.httpAddr, 'PUT', '/v1/txn', JSON.stringify(ops))
    assert.equal(res.status, 200, res.text)
  }
  const health = async (query = ''): Promise<{text: string; index: number; entries: any[]}> => {
    const res = await http(ctx.agent.httpAddr, 'GET', `/v1/health/service/big${query}`)
    assert.equal(res.status, 200, res.text)
    return {text: res.text, index: Number(res.headers['x-consul-index']), entries: JSON.parse(res.text) as any[]}
  }
  const sameAsObjects = async (): Promise<any[]> => {
    const joined = await health()
    const built = await health(FILTER)
    assert.equal(joined.text, built.text, 'the joined answer is the one built from entry objects')
    return joined.entries
  }

  before(async () => {
    consul = consulClient(ctx.agent.httpAddr)
    for (let n = 0; n < NODES; n++) {
      const node = `big-node-${String(n).padStart(2, '0')}`
      const ops: unknown[] = [
        {Node: {Verb: 'set', Node: {Node: node, Address: `10.2.0.${n}`, Meta: {rack: `r${n % 2}`}}}},
        {Check: {Verb: 'set', Check: {Node: node, CheckID: 'node-ok', Name: 'node ok', Status: 'passing'}}},
      ]
      for (let j = 0; j < PER_NODE; j++) {
        const id = `big-${n}-${j}`
        ops.push({Service: {Verb: 'set', Node: node, Service: {ID: id, Service: 'big', Port: 8000 + j, Tags: [`t${j % 2}`]}}})
        ops.push({Check: {Verb: 'set', Check: {Node: node, CheckID: `${id}-alive`, Name: 'alive', Status: 'passing', ServiceID: id}}})
      }
      await txn(ops)
    }
  })

  it('answers every instance in Consul\'s order with node checks first, as the object-built answer and the npm client see it', async () => {
    const entries = await sameAsObjects()
    assert.equal(entries.length, NODES * PER_NODE)
    const order = entries.map((e) => `${e.Node.Node}/${e.Service.ID}`)
    assert.deepEqual(order, [...order].sort(), 'ordered by node, then service ID')
    assert.deepEqual(entries[0].Checks.map((c: any) => c.CheckID), ['node-ok', `${entries[0].Service.ID}-alive`])
    const viaClient = await consul.health.service('big')
    assert.equal(viaClient.length, NODES * PER_NODE)
    assert.equal(viaClient[5].Service.Service, 'big')
    assert.equal((await health('?tag=t1')).entries.length, NODES * PER_NODE / 2)
    assert.equal((await health('?node-meta=rack:r1')).entries.length, NODES * PER_NODE / 2)
  })

  it('an instance check, a node check and a node record change show in the next answer', async () => {
    const first = await health()
    // One instance's check goes critical: a blocking read at the last index wakes with it.
    const woken = health(`?index=${first.index}&wait=20s`)
    await txn([{Check: {Verb: 'set', Check: {Node: 'big-node-03', CheckID: 'big-3-2-alive', Name: 'alive', Status: 'critical', ServiceID: 'big-3-2'}}}])
    const after = await woken
    assert.ok(after.index > first.index)
    const critical = after.entries.filter((e) => e.Checks.some((c: any) => c.Status === 'critical')).map((e) => e.Service.ID)
    assert.deepEqual(critical, ['big-3-2'])
    assert.equal((await health('?passing')).entries.length, NODES * PER_NODE - 1)
    await sameAsObjects()

    // A node-level check: every instance on that node carries it.
    await txn([{Check: {Verb: 'set', Check: {Node: 'big-node-07', CheckID: 'node-ok', Name: 'node ok', Status: 'warning'}}}])
    const warned = (await sameAsObjects()).filter((e) => e.Checks.some((c: any) => c.Status === 'warning')).map((e) => e.Node.Node)
    assert.deepEqual(warned, Array(PER_NODE).fill('big-node-07'))

    // The node record itself.
    await txn([{Node: {Verb: 'set', Node: {Node: 'big-node-11', Address: '10.9.9.9', Meta: {rack: 'r1'}}}}])
    const moved = (await sameAsObjects()).filter((e) => e.Node.Node === 'big-node-11')
    assert.deepEqual(moved.map((e) => e.Node.Address), Array(PER_NODE).fill('10.9.9.9'))
  })

  it('a write to another service on the same nodes does not wake a blocking read of this one', async () => {
    const first = await health()
    const t0 = Date.now()
    const parked = health(`?index=${first.index}&wait=1500ms`)
    await txn([{Service: {Verb: 'set', Node: 'big-node-00', Service: {ID: 'other', Service: 'other', Port: 1}}}])
    const after = await parked
    console.log(`blocking read returned after ${Date.now() - t0} ms`)
    assert.equal(after.index, first.index, 'the service index did not move')
    assert.ok(Date.now() - t0 >= 1400, 'it waited out its wait instead of waking')
    assert.equal(after.text, first.text)
  })
})
