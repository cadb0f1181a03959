// /v1/txn beyond KV against a real agent: Node, Service, Check and Session operations with the npm
// `consul` client, all or nothing across kinds (a failing check-index in the middle leaves the
// catalog and KV untouched), Consul's per-operation errors with 409, and bad bodies → 400.
import {before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useAgent} from '../helpers/agent.js'
import {consulClient, http} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API */

const b64 = (s: string) => Buffer.from(s).toString('base64')

describe('/v1/txn with catalog and session operations', () => {
  const ctx = useAgent()
  let consul: any
  before(() => { consul = consulClient(ctx.agent.httpAddr) })

  it('the npm client applies a txn mixing KV, Node, Service and Check at one index', async () => {
    const out = await consul.transaction.create([
      {Node: {Verb: 'set', Node: {Node: 'ext-1', Address: '10.1.0.1', Meta: {rack: 'r1'}}}},
      {Service: {Verb: 'set', Node: 'ext-1', Service: {ID: 'web-1', Service: 'web', Port: 8080, Tags: ['v1']}}},
      {Check: {Verb: 'set', Check: {Node: 'ext-1', CheckID: 'web-1-alive', Name: 'alive', Status: 'passing', ServiceID: 'web-1'}}},
      {KV: {Verb: 'set', Key: 'svc/web', Value: b64('ext-1')}},
    ])
    assert.deepEqual(out.Results.map((r: any) => Object.keys(r)[0]), ['Node', 'Service', 'Check', 'KV'])
    const index = out.Results[0].Node.ModifyIndex
    assert.equal(out.Results[0].Node.Datacenter, 'dc1', 'a node without Datacenter is in the agent\'s')
    assert.equal(out.Results[1].Service.ModifyIndex, index)
    assert.equal(out.Results[2].Check.ServiceName, 'web')
    assert.equal(out.Results[3].KV.ModifyIndex, index)
    const health = await http(ctx.agent.httpAddr, 'GET', '/v1/health/service/web?passing')
    const entries = JSON.parse(health.text) as any[]
    assert.deepEqual(entries.map((e) => [e.Node.Node, e.Service.Port]), [['ext-1', 8080]])
    const read = await consul.transaction.create([
      {Node: {Verb: 'get', Node: {Node: 'ext-1'}}},
      {Service: {Verb: 'get', Node: 'ext-1', Service: {ID: 'web-1'}}},
      {Check: {Verb: 'get', Check: {Node: 'ext-1', CheckID: 'web-1-alive'}}},
    ])
    assert.equal(read.Results[0].Node.Meta.rack, 'r1')
    assert.deepEqual(read.Results[1].Service.Tags, ['v1'])
    assert.equal(read.Results[2].Check.Status, 'passing')
  })

  it('a failing check-index in the middle leaves the catalog and KV untouched (409, Consul\'s error list)', async () => {
    await http(ctx.agent.httpAddr, 'PUT', '/v1/kv/guard', 'g')
    const kvBefore = await http(ctx.agent.httpAddr, 'GET', '/v1/kv/?recurse')
    const catalogBefore = await http(ctx.agent.httpAddr, 'GET', '/v1/catalog/nodes')
    const res = await http(ctx.agent.httpAddr, 'PUT', '/v1/txn', JSON.stringify([
      {Node: {Verb: 'set', Node: {Node: 'ext-2', Address: '10.1.0.2'}}},
      {Service: {Verb: 'set', Node: 'ext-2', Service: {ID: 'db', Service: 'db', Port: 5432}}},
      {KV: {Verb: 'set', Key: 'half/written', Value: b64('x')}},
      {KV: {Verb: 'check-index', Key: 'guard', Index: 1}},
      {Check: {Verb: 'set', Check: {Node: 'ext-2', CheckID: 'db-alive', Status: 'passing', ServiceID: 'db'}}},
      {Node: {Verb: 'delete', Node: {Node: 'ext-1'}}},
      {Service: {Verb: 'get', Node: 'nowhere', Service: {ID: 'x'}}},
    ]))
    assert.equal(res.status, 409)
    const body = res.json<any>()
    assert.equal(body.Results, null)
    assert.deepEqual(body.Errors.map((e: any) => e.OpIndex), [3, 6])
    assert.match(body.Errors[0].What, /^failed index check for key "guard", current modify index \d+ != 1$/)
    assert.equal(body.Errors[1].What, 'service "x" on node "nowhere" doesn\'t exist')
    assert.equal((await http(ctx.agent.httpAddr, 'GET', '/v1/kv/?recurse')).text, kvBefore.text)
    assert.equal((await http(ctx.agent.httpAddr, 'GET', '/v1/catalog/nodes')).text, catalogBefore.text)
    assert.equal((await http(ctx.agent.httpAddr, 'GET', '/v1/catalog/node/ext-1')).status, 200)
    assert.deepEqual((await http(ctx.agent.httpAddr, 'GET', '/v1/catalog/service/db')).json(), [])
  })

  it('a Session delete releases the session\'s lock in the same txn as other writes', async () => {
    const {ID} = await consul.session.create({Name: 'holder'})
    assert.equal(await consul.kv.set({key: 'locks/a', value: 'me', acquire: ID}), true)
    await consul.transaction.create([
      {Session: {Verb: 'delete', Session: {ID}}},
      {KV: {Verb: 'set', Key: 'after-session', Value: b64('1')}},
    ])
    assert.equal((await consul.kv.get('locks/a')).Session, undefined)
    assert.equal(await consul.session.info(ID), undefined)
  })

  it('malformed operations are 400 with a one-line reason', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{}], /operation 0 has no KV, Node, Service, Check or Session object/],
      [[{KV: {Verb: 'get', Key: 'a'}, Node: {Verb: 'get', Node: {Node: 'n'}}}], /operation 0 has more than one of KV, Node/],
      [[{Node: 'n'}], /operation 0: Node must be an object/],
      [[{Service: {Verb: 'set', Node: 'n', Service: {Port: 'eighty'}}}], /operation 0: Port must be an integer/],
      [[{Check: {Verb: 'set', Check: {Node: 'n', Status: 'sideways'}}}], /operation 0: invalid check status "sideways"/],
    ]
    for (const [body, reason] of cases) {
      const res = await http(ctx.agent.httpAddr, 'PUT', '/v1/txn', JSON.stringify(body))
      assert.equal(res.status, 400, res.text)
      assert.match(res.text, reason)
      assert.doesNotMatch(res.text, /\n./)
    }
    const unknownVerb = await http(ctx.agent.httpAddr, 'PUT', '/v1/txn', JSON.stringify([{Node: {Verb: 'upsert', Node: {Node: 'n'}}}]))
    assert.equal(unknownVerb.status, 409)
    assert.equal(JSON.parse(unknownVerb.text).Errors[0].What, 'unknown Node verb "upsert"')
  })
})
