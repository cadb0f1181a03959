// The npm `consul` client, unchanged, against a real coord agent: KV round trips, CAS, listing.
import {before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useAgent} from '../helpers/agent.js'
import {consulClient} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

describe('npm consul client against a coord agent', () => {
  const ctx = useAgent()
  let consul: any
  before(() => { consul = consulClient(ctx.agent.httpAddr) })

  it('sets and gets a value with flags', async () => {
    assert.equal(await consul.kv.set({key: 'app/cfg', value: 'v1', flags: 42}), true)
    const pair = await consul.kv.get('app/cfg')
    assert.equal(pair.Value, 'v1')
    assert.equal(pair.Flags, 42)
    assert.equal(pair.Key, 'app/cfg')
    assert.ok(pair.ModifyIndex >= pair.CreateIndex && pair.CreateIndex > 0)
  })

  it('check-and-set succeeds only with the current ModifyIndex', async () => {
    await consul.kv.set('cas/k', 'a')
    const {ModifyIndex} = await consul.kv.get('cas/k')
    assert.equal(await consul.kv.set({key: 'cas/k', value: 'b', cas: ModifyIndex}), true)
    // The client hands back a falsy value (not always `false`) for a refused CAS.
    assert.ok(!(await consul.kv.set({key: 'cas/k', value: 'c', cas: ModifyIndex})))
    assert.equal((await consul.kv.get('cas/k')).Value, 'b')
    assert.equal(await consul.kv.set({key: 'cas/new', value: 'x', cas: 0}), true)
    assert.ok(!(await consul.kv.set({key: 'cas/new', value: 'y', cas: 0})))
  })

  it('lists recursively and by keys with a separator', async () => {
    for (const key of ['tree/a', 'tree/b/c', 'tree/b/d', 'tree/e/f/g', 'treeish']) await consul.kv.set(key, key)
    const all = await consul.kv.get({key: 'tree/', recurse: true})
    assert.deepEqual(all.map((p: any) => p.Key), ['tree/a', 'tree/b/c', 'tree/b/d', 'tree/e/f/g'])
    assert.deepEqual(await consul.kv.keys({key: 'tree/', separator: '/'}), ['tree/a', 'tree/b/', 'tree/e/'])
    assert.deepEqual(await consul.kv.keys('tree'), ['tree/a', 'tree/b/c', 'tree/b/d', 'tree/e/f/g', 'treeish'])
  })

  it('deletes a key and a tree', async () => {
    await consul.kv.set('del/a', '1')
    await consul.kv.set('del/b/c', '2')
    await consul.kv.del('del/a')
    assert.equal(await consul.kv.get('del/a'), undefined)
    await consul.kv.del({key: 'del/', recurse: true})
    assert.equal(await consul.kv.get({key: 'del/', recurse: true}), undefined)
  })

  it('runs a transaction atomically', async () => {
    const ok = await consul.transaction.create([
      {KV: {Verb: 'set', Key: 'txn/a', Value: Buffer.from('1').toString('base64')}},
      {KV: {Verb: 'set', Key: 'txn/b', Value: Buffer.from('2').toString('base64')}},
    ])
    assert.equal(ok.Results.length, 2)
    assert.equal(ok.Results[0].KV.ModifyIndex, ok.Results[1].KV.ModifyIndex)
    await assert.rejects(consul.transaction.create([
      {KV: {Verb: 'set', Key: 'txn/c', Value: 'Mw=='}},
      {KV: {Verb: 'check-index', Key: 'txn/a', Index: 1}},
    ]))
    assert.equal(await consul.kv.get('txn/c'), undefined)
  })

  it('creates, reads and destroys a session, and locks a key with it', async () => {
    const {ID} = await consul.session.create({Name: 'worker', TTL: '30s'})
    const info = await consul.session.info(ID)
    assert.equal(info.Name, 'worker')
    assert.equal(info.TTL, '30s')
    assert.equal(info.LockDelay, 15_000_000_000)
    assert.equal(await consul.kv.set({key: 'locks/job', value: 'me', acquire: ID}), true)
    assert.equal((await consul.kv.get('locks/job')).Session, ID)
    const renewed = await consul.session.renew(ID)
    assert.equal(renewed[0].ID, ID)
    await consul.session.destroy(ID)
    assert.equal((await consul.kv.get('locks/job')).Session, undefined)
    assert.deepEqual(await consul.session.info(ID), undefined)
  })

  it('answers status and agent endpoints', async () => {
    const leader = await consul.status.leader()
    assert.match(leader, /^127\.0\.0\.1:\d+$/)
    assert.deepEqual(await consul.status.peers(), [leader])
    const self = await consul.agent.self()
    assert.equal(self.Config.NodeName, 'test-node')
    assert.equal(self.Config.Datacenter, 'dc1')
    const members = await consul.agent.members()
    assert.equal(members.length, 1)
    assert.equal(members[0].Tags.role, 'consul')
  })
})
