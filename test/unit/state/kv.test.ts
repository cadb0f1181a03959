import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {FAILOVER_ALLOWANCE_MS} from '../../../src/lib/state/sessions.js'
import {bytes, Harness, text} from './harness.js'

/** A harness with node n1 registered and sessions s1, s2 created (indexes 1–3). */
function withSessions(): Harness {
  const h = new Harness()
  h.registerNode('n1')
  h.createSession('s1')
  h.createSession('s2')
  return h
}

describe('KV set and cas', () => {
  it('set creates with CreateIndex = ModifyIndex and later sets keep CreateIndex', () => {
    const h = new Harness()
    assert.equal(h.put('k', 'v1', 7n), true)
    assert.deepEqual(h.sm.kvGet('k').value, {key: 'k', value: bytes('v1'), flags: 7n, createIndex: 1, modifyIndex: 1, lockIndex: 0, session: ''})
    h.put('other', 'x')
    h.put('k', 'v2')
    const entry = h.sm.kvGet('k')
    assert.equal(entry.index, 3)
    assert.equal(entry.value?.createIndex, 1)
    assert.equal(entry.value?.modifyIndex, 3)
    assert.equal(entry.value?.flags, 0n)
    assert.equal(text(entry.value!.value), 'v2')
  })

  const casCases = [
    {name: 'cas 0 on a missing key creates it', exists: false, index: 0, ok: true},
    {name: 'cas 0 on an existing key fails', exists: true, index: 0, ok: false},
    {name: 'cas N with the current ModifyIndex writes', exists: true, index: 1, ok: true},
    {name: 'cas N with a stale ModifyIndex fails', exists: true, index: 9, ok: false},
    {name: 'cas N on a missing key fails', exists: false, index: 1, ok: false},
  ]
  for (const c of casCases) {
    it(c.name, () => {
      const h = new Harness()
      if (c.exists) h.put('k', 'old')
      else h.put('unrelated', 'x')
      assert.equal(h.kv({verb: 'cas', key: 'k', value: bytes('new'), index: c.index}), c.ok)
      const value = h.sm.kvGet('k').value
      assert.equal(value === undefined ? undefined : text(value.value), c.ok ? 'new' : c.exists ? 'old' : undefined)
    })
  }

  it('a failed cas changes no index', () => {
    const h = new Harness()
    h.put('k', 'v')
    h.kv({verb: 'cas', key: 'k', value: bytes('x'), index: 0})
    assert.equal(h.sm.kvGet('k').index, 1)
    assert.equal(h.sm.kvList('').index, 1)
  })
})

describe('KV locks', () => {
  it('first acquire sets Session and LockIndex 1; re-acquire by the holder keeps LockIndex', () => {
    const h = withSessions()
    assert.equal(h.kv({verb: 'lock', key: 'L', value: bytes('a'), session: 's1'}), true)
    assert.equal(h.sm.kvGet('L').value?.lockIndex, 1)
    assert.equal(h.sm.kvGet('L').value?.session, 's1')
    assert.equal(h.kv({verb: 'lock', key: 'L', value: bytes('b'), session: 's1'}), true)
    const entry = h.sm.kvGet('L').value!
    assert.equal(entry.lockIndex, 1)
    assert.equal(text(entry.value), 'b')
    assert.equal(entry.modifyIndex, h.index)
  })

  it('acquire by a second session fails while held', () => {
    const h = withSessions()
    h.kv({verb: 'lock', key: 'L', session: 's1'})
    const before = h.sm.kvGet('L').value
    assert.equal(h.kv({verb: 'lock', key: 'L', value: bytes('mine'), session: 's2'}), false)
    assert.equal(h.sm.kvGet('L').value, before)
  })

  it('release by the holder clears Session and keeps LockIndex; the next holder bumps it', () => {
    const h = withSessions()
    h.kv({verb: 'lock', key: 'L', session: 's1'})
    assert.equal(h.kv({verb: 'unlock', key: 'L', value: bytes('done'), session: 's1'}), true)
    assert.equal(h.sm.kvGet('L').value?.session, '')
    assert.equal(h.sm.kvGet('L').value?.lockIndex, 1)
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 's2'}), true)
    assert.equal(h.sm.kvGet('L').value?.lockIndex, 2)
  })

  it('release by a non-holder or on a missing key answers false', () => {
    const h = withSessions()
    h.kv({verb: 'lock', key: 'L', session: 's1'})
    assert.equal(h.kv({verb: 'unlock', key: 'L', session: 's2'}), false)
    assert.equal(h.kv({verb: 'unlock', key: 'missing', session: 's1'}), false)
    assert.equal(h.sm.kvGet('L').value?.session, 's1')
  })

  it('acquire with an unknown session is an error, not false', () => {
    const h = withSessions()
    assert.deepEqual(h.kvResult({verb: 'lock', key: 'L', session: 'nope'}), {type: 'kv', ok: false, error: 'invalid session "nope"'})
    assert.equal(h.sm.kvGet('L').value, undefined)
  })

  it('a plain set keeps the lock holder and LockIndex', () => {
    const h = withSessions()
    h.kv({verb: 'lock', key: 'L', session: 's1'})
    h.put('L', 'overwritten')
    assert.equal(h.sm.kvGet('L').value?.session, 's1')
    assert.equal(h.sm.kvGet('L').value?.lockIndex, 1)
  })

  it('lock-delay blocks acquire after invalidation but not after explicit release', () => {
    const h = withSessions()
    h.kv({verb: 'lock', key: 'invalidated', session: 's1'})
    h.kv({verb: 'lock', key: 'released', session: 's1'})
    h.kv({verb: 'unlock', key: 'released', session: 's1'})
    h.now += FAILOVER_ALLOWANCE_MS
    h.destroySession('s1')
    assert.equal(h.sm.kvGet('invalidated').value?.session, '')
    h.now += 14_999
    assert.equal(h.kv({verb: 'lock', key: 'invalidated', session: 's2'}), false)
    assert.equal(h.kv({verb: 'lock', key: 'released', session: 's2'}), true)
    h.now += 1
    assert.equal(h.kv({verb: 'lock', key: 'invalidated', session: 's2'}), true)
  })
})

describe('KV delete', () => {
  it('delete removes the key and bumps the table index; deleting a missing key changes nothing', () => {
    const h = new Harness()
    h.put('a', '1')
    assert.equal(h.kv({verb: 'delete', key: 'a'}), true)
    assert.equal(h.sm.kvGet('a').value, undefined)
    assert.equal(h.sm.kvGet('a').index, 2)
    assert.equal(h.kv({verb: 'delete', key: 'a'}), true)
    assert.equal(h.sm.kvGet('a').index, 2)
  })

  const deleteCas = [
    {name: 'delete-cas with the current index deletes', index: 1, ok: true, gone: true},
    {name: 'delete-cas with a stale index fails', index: 5, ok: false, gone: false},
  ]
  for (const c of deleteCas) {
    it(c.name, () => {
      const h = new Harness()
      h.put('a', '1')
      assert.equal(h.kv({verb: 'delete-cas', key: 'a', index: c.index}), c.ok)
      assert.equal(h.sm.kvGet('a').value === undefined, c.gone)
    })
  }

  it('delete-cas on a missing key answers true, as Consul does', () => {
    const h = new Harness()
    assert.equal(h.kv({verb: 'delete-cas', key: 'ghost', index: 3}), true)
  })

  it('delete-tree deletes only keys with the prefix', () => {
    const h = new Harness()
    for (const k of ['a/1', 'a/2', 'a', 'ab', 'b']) h.put(k, k)
    h.kv({verb: 'delete-tree', key: 'a/'})
    assert.deepEqual(h.sm.kvKeys('', '').value, ['a', 'ab', 'b'])
  })

  it('delete-tree leaves tombstones so prefix index does not go backwards', () => {
    const h = new Harness()
    h.put('app/x', '1')
    h.put('app/y', '2')
    h.put('other', '3')
    assert.equal(h.sm.kvList('app/').index, 2)
    h.kv({verb: 'delete-tree', key: 'app/'})
    const afterDelete = h.sm.kvList('app/')
    assert.deepEqual(afterDelete.value, [])
    assert.equal(afterDelete.index, 4)
    h.put('unrelated', '4')
    assert.equal(h.sm.kvList('app/').index, 4, 'a write elsewhere does not move the prefix index')
    assert.equal(h.sm.kvKeys('app/', '/').index, 4)
  })

  it('reaping tombstones drops them but the table index still does not go backwards', () => {
    const h = new Harness()
    h.put('app/x', '1')
    h.kv({verb: 'delete', key: 'app/x'})
    h.cmd('tombstone-reap', {upToIndex: 2})
    assert.equal(h.sm.kvList('app/').index, 3, 'falls back to the table index, moved by the reap')
    assert.equal(h.sm.kvList('').index, 3)
  })
})

describe('KV reads', () => {
  it('a missing key reports the KV table index so a client can block on it', () => {
    const h = new Harness()
    h.put('a', '1')
    h.put('b', '2')
    assert.deepEqual(h.sm.kvGet('zzz'), {index: 2, value: undefined})
    assert.equal(h.sm.kvGet('a').index, 1)
  })

  it('list is in key order and indexed by the highest ModifyIndex under the prefix', () => {
    const h = new Harness()
    h.put('p/b', '1')
    h.put('p/a', '2')
    h.put('q', '3')
    const listed = h.sm.kvList('p/')
    assert.deepEqual(listed.value.map((e) => e.key), ['p/a', 'p/b'])
    assert.equal(listed.index, 2)
    assert.equal(h.sm.kvList('none/').index, 3, 'an empty prefix falls back to the table index')
  })

  const keyCases = [
    {name: 'keys with separator roll up folders', prefix: '', sep: '/', want: ['a', 'foo.b', 'foo/', 'zed/']},
    {name: 'keys with separator below a prefix roll up relative to it', prefix: 'foo/', sep: '/', want: ['foo/bar/', 'foo/baz', 'foo/qux/']},
    {name: 'keys without separator list every key', prefix: 'foo/', sep: '', want: ['foo/bar/1', 'foo/bar/2', 'foo/baz', 'foo/qux/deep/x']},
    {name: 'a multi-character separator is kept whole', prefix: '', sep: 'o/', want: ['a', 'foo.b', 'foo/', 'zed/z']},
  ]
  for (const c of keyCases) {
    it(c.name, () => {
      const h = new Harness()
      for (const k of ['foo/bar/1', 'foo/bar/2', 'foo/baz', 'foo/qux/deep/x', 'foo.b', 'a', 'zed/z']) h.put(k, '')
      assert.deepEqual(h.sm.kvKeys(c.prefix, c.sep).value, c.want)
    })
  }
})
