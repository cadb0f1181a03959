import {FAILOVER_ALLOWANCE_MS} from '../../../src/lib/state/sessions.js'
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {InvariantError} from '../../../src/lib/state/assert.js'
import {CodecError} from '../../../src/lib/state/codec.js'
import {bytes, Harness} from './harness.js'

/** Every read a client can make, for comparing two machines. */
function view(sm: StateMachine): unknown {
  return {
    lastIndex: sm.lastIndex,
    list: sm.kvList(''),
    app: sm.kvList('app/'),
    keys: sm.kvKeys('', '/'),
    missing: sm.kvGet('missing'),
    sessions: sm.sessionList(),
    node: sm.node('n1'),
    checks: sm.nodeChecks('n1'),
  }
}

function busy(): Harness {
  const h = new Harness()
  h.registerNode('n1')
  h.createSession('s1', {lockDelayMs: 10_000})
  h.createSession('s2')
  h.put('app/a', 'A', 18446744073709551615n)
  h.put('app/b', 'B')
  h.kv({verb: 'lock', key: 'app/lock', value: bytes('held'), session: 's1'})
  h.kv({verb: 'lock', key: 'other', value: new Uint8Array([0, 255, 1]), session: 's2'})
  h.kv({verb: 'delete', key: 'app/b'})
  // Past the failover allowance after s1's last sign of life, so its lock-delay alone counts.
  h.now += FAILOVER_ALLOWANCE_MS
  h.destroySession('s1')
  return h
}

describe('StateMachine', () => {
  it('refuses an index that does not increase', () => {
    const h = new Harness()
    h.put('a', '1')
    assert.throws(() => h.sm.apply(1, {type: 'kv', now: 0, op: {verb: 'set', key: 'b'}}), InvariantError)
    assert.throws(() => h.sm.apply(0, {type: 'kv', now: 0, op: {verb: 'set', key: 'b'}}), InvariantError)
    assert.equal(h.sm.kvGet('b').value, undefined)
    assert.equal(h.sm.lastIndex, 1)
  })

  it('indexes may skip (entries of other kinds) and reads report the writing index', () => {
    const sm = new StateMachine()
    sm.apply(10, {type: 'kv', now: 0, op: {verb: 'set', key: 'k'}})
    sm.apply(25, {type: 'kv', now: 0, op: {verb: 'set', key: 'k'}})
    assert.equal(sm.lastIndex, 25)
    assert.equal(sm.kvGet('k').value?.createIndex, 10)
    assert.equal(sm.kvGet('k').index, 25)
  })

  it('watchers fire after the command is fully applied', () => {
    const h = new Harness()
    h.put('t/a', '1')
    const seen: unknown[] = []
    h.sm.watches.watchKey('t/a', () => seen.push(h.sm.kvKeys('t/', '').value))
    h.txn([{verb: 'delete', key: 't/a'}, {verb: 'set', key: 't/b'}, {verb: 'set', key: 't/c'}])
    assert.deepEqual(seen, [['t/b', 't/c']])
  })

  it('a watcher on an untouched key stays parked', () => {
    const h = new Harness()
    let woke = 0
    h.sm.watches.watchKey('quiet', () => woke++)
    h.sm.watches.watchPrefix('loud/', () => woke++)
    h.put('quieter', '1')
    h.put('loud', '1')
    assert.equal(woke, 0)
    assert.equal(h.sm.watches.size, 2)
  })

  it('snapshot/restore round-trip equals', () => {
    const h = busy()
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    assert.deepEqual(view(copy), view(h.sm))
    assert.equal(copy.kvGet('app/a').value?.flags, 18446744073709551615n)
    assert.deepEqual(copy.kvGet('other').value?.value, new Uint8Array([0, 255, 1]))
  })

  it('restore carries lock-delays and tombstones and the machine goes on alike', () => {
    const h = busy()
    const copy = new Harness()
    copy.sm.restore(h.sm.snapshot())
    copy.index = h.index
    copy.now = h.now
    for (const m of [h, copy]) {
      assert.equal(m.kv({verb: 'lock', key: 'app/lock', session: 's2'}), false, 'lock-delay survives the snapshot')
      m.now += 10_000
      assert.equal(m.kv({verb: 'lock', key: 'app/lock', session: 's2'}), true)
      m.cmd('tombstone-reap', {upToIndex: m.index})
    }
    assert.deepEqual(view(copy.sm), view(h.sm))
  })

  it('restore discards prior state and fires every watcher', () => {
    const snapshot = busy().sm.snapshot()
    const h = new Harness()
    for (let i = 0; i < 30; i++) h.put(`old/${i}`, 'x')
    let woke = 0
    h.sm.watches.watchKey('nothing', () => woke++)
    h.sm.watches.watchTable('checks', () => woke++)
    h.sm.restore(snapshot)
    assert.equal(woke, 2)
    assert.deepEqual(h.sm.kvKeys('old/', '').value, [])
    assert.equal(h.sm.lastIndex, 9)
  })

  it('restore rejects bytes that are not a snapshot and keeps state', () => {
    const h = new Harness()
    h.put('k', 'v')
    assert.throws(() => h.sm.restore(new Uint8Array([0xc1])), CodecError)
    assert.throws(() => h.sm.restore(new Uint8Array([0x80])), CodecError)
    assert.equal(h.sm.kvGet('k').value?.key, 'k')
  })

  it('restored values do not alias the snapshot buffer', () => {
    const h = new Harness()
    h.put('k', 'abc')
    const snap = h.sm.snapshot()
    const copy = new StateMachine()
    copy.restore(snap)
    snap.fill(0)
    assert.deepEqual(copy.kvGet('k').value?.value, bytes('abc'))
  })
})
