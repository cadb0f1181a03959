import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {isReadOnlyTxn} from '../../../src/lib/state/txn.js'
import type {KVOp} from '../../../src/lib/state/types.js'
import {bytes, Harness, text} from './harness.js'

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
    assert.deepEqual(result.results?.map((e) => [e.key, e.modifyIndex]), [['x', index], ['a', index], ['l', index], ['x', index]])
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
    assert.deepEqual(result.results?.map((e) => [e.key, text(e.value)]), [['x', ''], ['a', 'A'], ['dir/1', 'one'], ['dir/2', 'two'], ['a', '']])
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
    const read = h.sm.kvTxnRead(ops)
    assert.equal(read.index, 5)
    assert.deepEqual(read.value.results?.map((e) => e.key), ['a', 'dir/1', 'dir/2', 'a'])
    assert.equal(h.sm.lastIndex, 5)
  })

  it('a read-only txn path refuses write verbs instead of applying them', () => {
    const h = seeded()
    const ops: KVOp[] = [{verb: 'get', key: 'a'}, {verb: 'delete', key: 'a'}]
    assert.equal(isReadOnlyTxn(ops), false)
    const read = h.sm.kvTxnRead(ops)
    assert.equal(read.value.results, null)
    assert.equal(read.value.errors?.[0].opIndex, 1)
    assert.notEqual(h.sm.kvGet('a').value, undefined)
  })
})
