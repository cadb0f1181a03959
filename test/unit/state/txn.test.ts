import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {isReadOnlyTxn} from '../../../src/lib/state/txn.js'
import type {KVEntry, KVOp, TxnOp, TxnResultEntry} from '../../../src/lib/state/types.js'
import {bytes, Harness, text} from './harness.js'
import {decodeValue} from '../../../src/lib/state/codec.js'

/** The KV entries of a result list (every result of a KV-only txn is one). */
function kvResults(results: TxnResultEntry[] | null): KVEntry[] | undefined {
  return results?.map((r) => {
    assert.ok('kv' in r)
    return r.kv
  })
}

function seeded(): Harness {
  const h = new Harness()
  h.registerNode('n1') // 1
  h.createSession('s1') // 2
  h.put('a', 'A') // 3
  h.put('dir/1', 'one') // 4
  h.put('dir/2', 'two') // 5
  return h
}

describe('txn', () => {
  it('all written keys share the entry index and results follow op order', () => {
    const h = seeded()
    const result = h.txn([
      {verb: 'set', key: 'x', value: bytes('X')},
      {verb: 'cas', key: 'a', value: bytes('A2'), index: 3},
      {verb: 'lock', key: 'l', value: bytes('L'), session: 's1'},
      {verb: 'delete', key: 'dir/1'},
      {verb: 'get', key: 'x'},
    ])
    assert.equal(result.errors, null)
    const index = h.index
    assert.deepEqual(kvResults(result.results)?.map((e) => [e.key, e.modifyIndex]), [['x', index], ['a', index], ['l', index], ['x', index]])
    for (const key of ['x', 'a', 'l']) assert.equal(h.sm.kvGet(key).value?.modifyIndex, index)
    assert.equal(h.sm.kvGet('dir/1').value, undefined)
  })

  it('only get and get-tree results carry values', () => {
    const h = seeded()
    const result = h.txn([
      {verb: 'set', key: 'x', value: bytes('X')},
      {verb: 'get', key: 'a'},
      {verb: 'get-tree', key: 'dir/'},
      {verb: 'check-index', key: 'a', index: 3},
      {verb: 'check-not-exists', key: 'nope'},
      {verb: 'delete-tree', key: 'zzz/'},
    ])
    assert.equal(result.errors, null)
    assert.deepEqual(kvResults(result.results)?.map((e) => [e.key, text(e.value)]), [['x', ''], ['a', 'A'], ['dir/1', 'one'], ['dir/2', 'two'], ['a', '']])
    assert.equal(text(h.sm.kvGet('x').value!.value), 'X', 'the stored value is not blanked')
  })

  it('txn with one failing op changes nothing', () => {
    const h = seeded()
    const before = h.sm.snapshot()
    let woke = 0
    h.sm.watches.watchPrefix('', () => woke++)
    const result = h.txn([
      {verb: 'set', key: 'new', value: bytes('N')},
      {verb: 'delete-tree', key: 'dir/'},
      {verb: 'cas', key: 'a', value: bytes('A2'), index: 99},
      {verb: 'set', key: 'a', value: bytes('A3')},
    ])
    assert.equal(result.results, null)
    assert.deepEqual(result.errors, [{opIndex: 2, what: 'failed to set key "a", index is stale'}])
    assert.equal(woke, 0, 'no watcher fires for a rolled-back txn')
    const after = new Harness()
    after.sm.restore(before)
    assert.deepEqual(h.sm.kvList(''), after.sm.kvList(''))
    assert.equal(h.sm.kvList('dir/').index, 5, 'rolled-back deletes leave no tombstones')
    assert.equal(h.sm.lastIndex, 6, 'the entry still consumed its index')
  })

  it('every failing op is reported, with Consul texts', () => {
    const h = seeded()
    h.kv({verb: 'lock', key: 'held', session: 's1'}) // 6
    const ops: KVOp[] = [
      {verb: 'get', key: 'missing'},
      {verb: 'check-index', key: 'a', index: 5},
      {verb: 'check-index', key: 'missing', index: 1},
      {verb: 'check-session', key: 'a', session: 's1'},
      {verb: 'check-session', key: 'missing', session: 's1'},
      {verb: 'check-not-exists', key: 'a'},
      {verb: 'lock', key: 'x', session: 'ghost'},
      {verb: 'unlock', key: 'a', session: 's1'},
      {verb: 'delete-cas', key: 'a', index: 1},
      {verb: 'lock', key: 'x'},
      {verb: 'check-session', key: 'held', session: 's1'},
    ]
    const result = h.txn(ops)
    assert.deepEqual(result.errors, [
      {opIndex: 0, what: 'key "missing" doesn\'t exist'},
      {opIndex: 1, what: 'failed index check for key "a", current modify index 3 != 5'},
      {opIndex: 2, what: 'failed to check index, key "missing" doesn\'t exist'},
      {opIndex: 3, what: 'failed session check for key "a", current session "" != "s1"'},
      {opIndex: 4, what: 'failed to check session, key "missing" doesn\'t exist'},
      {opIndex: 5, what: 'key "a" exists'},
      {opIndex: 6, what: 'invalid session "ghost"'},
      {opIndex: 7, what: 'failed to unlock key "a", lock isn\'t held, or is held by another session'},
      {opIndex: 8, what: 'failed to delete key "a", index is stale'},
      {opIndex: 9, what: 'missing session'},
    ])
  })

  it('a lock held by another session fails the txn', () => {
    const h = seeded()
    h.createSession('s2')
    h.kv({verb: 'lock', key: 'l', session: 's1'})
    const result = h.txn([{verb: 'lock', key: 'l', session: 's2'}])
    assert.deepEqual(result.errors, [{opIndex: 0, what: 'failed to lock key "l", lock is already held'}])
  })

  it('later ops see the effects of earlier ones', () => {
    const h = seeded()
    const result = h.txn([
      {verb: 'check-not-exists', key: 'n'},
      {verb: 'set', key: 'n', value: bytes('1')},
      {verb: 'check-index', key: 'n', index: h.index + 1},
      {verb: 'get', key: 'n'},
    ])
    assert.equal(result.errors, null)
    assert.equal(result.results?.length, 3)
  })

  it('read-only txns are answered without a log entry', () => {
    const h = seeded()
    const ops: KVOp[] = [{verb: 'get', key: 'a'}, {verb: 'get-tree', key: 'dir/'}, {verb: 'check-index', key: 'a', index: 3}]
    assert.equal(isReadOnlyTxn(ops), true)
    const read = h.sm.txnRead(ops)
    assert.equal(read.index, 5)
    assert.deepEqual(kvResults(read.value.results)?.map((e) => e.key), ['a', 'dir/1', 'dir/2', 'a'])
    assert.equal(h.sm.lastIndex, 5)
  })

  it('a read-only txn path refuses write verbs instead of applying them', () => {
    const h = seeded()
    const ops: KVOp[] = [{verb: 'get', key: 'a'}, {verb: 'delete', key: 'a'}]
    assert.equal(isReadOnlyTxn(ops), false)
    const read = h.sm.txnRead(ops)
    assert.equal(read.value.results, null)
    assert.equal(read.value.errors?.[0].opIndex, 1)
    assert.notEqual(h.sm.kvGet('a').value, undefined)
  })
})

describe('txn across kinds', () => {
  const nodeOp = (verb: 'get' | 'set' | 'cas' | 'delete' | 'delete-cas', node: string, index = 0): TxnOp =>
    ({kind: 'node', verb, index, node: {id: '', node, address: '10.0.0.9', datacenter: 'dc1', taggedAddresses: {}, meta: {}}})
  const serviceOp = (verb: 'get' | 'set' | 'cas' | 'delete' | 'delete-cas', node: string, id: string, index = 0): TxnOp =>
    ({kind: 'service', verb, index, service: {node, id, service: id, tags: ['t'], address: '', taggedAddresses: {}, meta: {}, port: 80, weights: {Passing: 1, Warning: 1}, enableTagOverride: false, kind: ''}})
  const checkOp = (verb: 'get' | 'set' | 'cas' | 'delete' | 'delete-cas', node: string, checkId: string, status: 'passing' | 'critical', serviceId = '', index = 0): TxnOp =>
    ({kind: 'check', verb, index, check: {node, checkId, name: checkId, status, notes: '', output: '', serviceId, serviceName: '', serviceTags: [], type: '', interval: '', timeout: '', definition: {}}})

  it('node, service, check and KV writes commit together at the entry index', () => {
    const h = seeded()
    const result = h.txn([
      nodeOp('set', 'n2'),
      serviceOp('set', 'n2', 'web'),
      checkOp('set', 'n2', 'web-alive', 'passing', 'web'),
      {verb: 'set', key: 'x', value: bytes('X')},
      nodeOp('get', 'n2'),
    ])
    assert.equal(result.errors, null)
    const index = h.index
    assert.deepEqual(result.results?.map((r) => Object.keys(r)[0]), ['node', 'service', 'check', 'kv', 'node'])
    assert.equal(h.sm.catalog.node('n2')?.modifyIndex, index)
    assert.equal(h.sm.catalog.service('n2', 'web')?.modifyIndex, index)
    const check = h.sm.catalog.check('n2', 'web-alive')
    assert.equal(check?.serviceName, 'web', 'a service check takes its service name')
    assert.equal(h.sm.kvGet('x').value?.modifyIndex, index)
  })

  it('a failing check-index in the middle leaves catalog, sessions and KV untouched, and wakes nobody', () => {
    const h = seeded()
    const before = h.sm.snapshot()
    let woke = 0
    h.sm.watches.watchPrefix('', () => woke++)
    for (const table of ['nodes', 'services', 'checks', 'sessions', 'service:web'] as const) h.sm.watches.watchTable(table, () => woke++)
    const result = h.txn([
      nodeOp('set', 'n2'),
      serviceOp('set', 'n2', 'web'),
      {verb: 'set', key: 'x', value: bytes('X')},
      {verb: 'check-index', key: 'a', index: 99},
      checkOp('set', 'n2', 'web-alive', 'passing', 'web'),
      nodeOp('delete', 'n1'), // would destroy session s1 and its node's checks
    ])
    assert.equal(result.results, null)
    assert.deepEqual(result.errors, [{opIndex: 3, what: 'failed index check for key "a", current modify index 3 != 99'}])
    assert.equal(woke, 0)
    const restored = new Harness()
    restored.sm.restore(before)
    // Everything but lastIndex (the rejected entry still consumed its index) is as before.
    const strip = (bytes: Uint8Array): unknown => ({...(JSON.parse(JSON.stringify(decodeValue(bytes), (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)) as object), lastIndex: 0})
    assert.deepEqual(strip(h.sm.snapshot()), strip(restored.sm.snapshot()))
    assert.equal(h.sm.catalog.node('n2'), undefined)
    assert.notEqual(h.sm.sessionGet('s1').value, undefined)
  })

  it('random catalog txns that fail at their last op leave the catalog exactly as it was (undo log, not a copy)', () => {
    const h = seeded()
    let seed = 11
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const strip = (bytes: Uint8Array): unknown => ({...(JSON.parse(JSON.stringify(decodeValue(bytes), (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)) as object), lastIndex: 0})
    const summary = (): unknown => [...h.sm.catalog.serviceTagSummary()].map(([name, counts]) => [name, [...counts].sort()]).sort()
    const randomOps = (): TxnOp[] => Array.from({length: 1 + next(6)}, () => {
      const node = `n${next(4)}`
      const id = ['web', 'db', 'cache'][next(3)]
      const roll = next(8)
      if (roll === 0) return nodeOp('set', node)
      if (roll === 1) return nodeOp('delete', node)
      if (roll < 4) return serviceOp('set', node, id)
      if (roll === 4) return serviceOp('delete', node, id)
      if (roll < 7) return checkOp('set', node, `${id}-alive`, next(2) === 0 ? 'passing' : 'critical', id)
      return checkOp('delete', node, `${id}-alive`, 'passing')
    })
    let committed = 0
    for (let step = 0; step < 150; step++) {
      const ops = randomOps()
      const before = h.sm.snapshot()
      const beforeSummary = summary()
      const failed = h.txn([...ops, {verb: 'check-index', key: 'a', index: 99}])
      assert.notEqual(failed.errors, null)
      assert.deepEqual(strip(h.sm.snapshot()), strip(before), `step ${step}: rolled back`)
      assert.deepEqual(summary(), beforeSummary, `step ${step}: tag summary rolled back`)
      if (h.txn(ops).errors === null) committed++
      const rebuilt = new Harness()
      rebuilt.sm.restore(h.sm.snapshot())
      assert.deepEqual(summary(), [...rebuilt.sm.catalog.serviceTagSummary()].map(([name, counts]) => [name, [...counts].sort()]).sort(), `step ${step}: summary matches a rebuilt one`)
    }
    assert.ok(committed > 20, `some txns committed (${committed})`)
  })

  it('cas and delete-cas follow Consul: 0 = only if absent, stale index refused with its text', () => {
    const h = seeded()
    assert.equal(h.txn([nodeOp('cas', 'n2', 0)]).errors, null)
    const created = h.sm.catalog.node('n2')!.modifyIndex
    assert.deepEqual(h.txn([nodeOp('cas', 'n2', 0)]).errors, [{opIndex: 0, what: 'failed to set node "n2", index is stale'}])
    assert.deepEqual(h.txn([nodeOp('delete-cas', 'n2', created + 100)]).errors, [{opIndex: 0, what: 'failed to delete node "n2", index is stale'}])
    assert.deepEqual(h.txn([serviceOp('set', 'ghost', 'web')]).errors, [{opIndex: 0, what: 'Missing node registration'}])
    assert.deepEqual(h.txn([checkOp('set', 'n2', 'c', 'passing', 'nosvc')]).errors, [{opIndex: 0, what: 'Missing service registration'}])
    assert.deepEqual(h.txn([serviceOp('get', 'n2', 'nope')]).errors, [{opIndex: 0, what: 'service "nope" on node "n2" doesn\'t exist'}])
    assert.deepEqual(h.txn([{kind: 'session', verb: 'get', id: 's1'}]).errors, [{opIndex: 0, what: 'failed to delete session: unknown Session verb "get"'}])
    assert.equal(h.txn([nodeOp('delete-cas', 'n2', created)]).errors, null)
    assert.equal(h.sm.catalog.node('n2'), undefined)
  })

  it('a Session delete releases its locks; a node delete takes its sessions with it', () => {
    const h = seeded()
    h.kv({verb: 'lock', key: 'held', session: 's1'})
    assert.equal(h.txn([{kind: 'session', verb: 'delete', id: 's1'}]).errors, null)
    assert.equal(h.sm.sessionGet('s1').value, undefined)
    assert.equal(h.sm.kvGet('held').value?.session, '')
    h.createSession('s2')
    assert.equal(h.txn([nodeOp('delete', 'n1')]).errors, null)
    assert.equal(h.sm.sessionGet('s2').value, undefined)
  })

  it('read-only txns may mix kinds; a catalog write makes it a write txn', () => {
    const h = seeded()
    assert.equal(isReadOnlyTxn([nodeOp('get', 'n1'), {verb: 'get', key: 'a'}]), true)
    assert.equal(isReadOnlyTxn([nodeOp('get', 'n1'), checkOp('set', 'n1', 'c', 'passing')]), false)
    const read = h.sm.txnRead([nodeOp('get', 'n1'), {verb: 'get', key: 'a'}])
    assert.equal(read.value.errors, null)
    assert.deepEqual(read.value.results?.map((r) => Object.keys(r)[0]), ['node', 'kv'])
  })

  it('a Check set critical ends the sessions bound to it, unless the txn rolls back', () => {
    const h = seeded()
    h.kv({verb: 'lock', key: 'held', session: 's1'})
    const failed = h.txn([checkOp('set', 'n1', 'serfHealth', 'critical'), {verb: 'check-index', key: 'a', index: 99}])
    assert.notEqual(failed.errors, null)
    assert.notEqual(h.sm.sessionGet('s1').value, undefined, 'rolled back: the session lives')
    assert.equal(h.sm.kvGet('held').value?.session, 's1')
    assert.equal(h.txn([checkOp('set', 'n1', 'serfHealth', 'critical')]).errors, null)
    assert.equal(h.sm.sessionGet('s1').value, undefined)
    assert.equal(h.sm.kvGet('held').value?.session, '', 'its lock released')
  })

  it('an unread apply (a replayed entry) skips the result entries but changes the state as a read one does, and still rolls back on an error', () => {
    const ops: TxnOp[] = [
      {verb: 'set', key: 'x', value: bytes('X')},
      {verb: 'cas', key: 'a', index: 3, value: bytes('A2')},
      {verb: 'get', key: 'dir/1'},
    ]
    const read = seeded()
    const unread = seeded()
    const answered = read.txn(ops)
    assert.equal(answered.results?.length, 3)
    unread.index += 1
    const skipped = unread.sm.apply(unread.index, {type: 'txn', now: unread.now, ops}, true)
    assert.deepEqual(skipped, {type: 'txn', txn: {results: [], errors: null}})
    for (const key of ['x', 'a', 'dir/1']) assert.deepEqual(unread.sm.kvGet(key), read.sm.kvGet(key), key)
    // A failing op: the error is reported and the earlier set rolled back, as in a read apply.
    unread.index += 1
    const failed = unread.sm.apply(unread.index, {type: 'txn', now: unread.now, ops: [{verb: 'set', key: 'y', value: bytes('Y')}, {verb: 'check-index', key: 'a', index: 1}]}, true)
    assert.ok(failed.type === 'txn' && failed.txn.errors?.[0].opIndex === 1, JSON.stringify(failed))
    assert.equal(unread.sm.kvGet('y').value, undefined)
  })
})
