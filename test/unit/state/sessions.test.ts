import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {FAILOVER_ALLOWANCE_MS, lockFreeAfterSeen} from '../../../src/lib/state/sessions.js'
import {bytes, Harness, text} from './harness.js'

describe('session create', () => {
  const rejects: Array<{name: string; setup: (h: Harness) => void; fields: Parameters<Harness['createSession']>[1]; error: string}> = [
    {name: 'on an unregistered node', setup: () => {}, fields: {}, error: 'Missing node registration'},
    {name: 'bound to a check the node lacks', setup: (h) => h.registerNode('n1'), fields: {nodeChecks: ['disk']}, error: "Missing check 'disk' registration"},
    {
      name: 'bound to a critical check',
      setup: (h) => h.registerNode('n1', [{checkId: 'serfHealth', status: 'critical'}]),
      fields: {},
      error: "Check 'serfHealth' is in critical state",
    },
    {name: 'with an unknown behavior', setup: (h) => h.registerNode('n1'), fields: {behavior: 'explode' as 'release'}, error: "Invalid Behavior setting 'explode'"},
  ]
  for (const c of rejects) {
    it(`is refused ${c.name}`, () => {
      const h = new Harness()
      c.setup(h)
      assert.deepEqual(h.createSession('s1', c.fields), {type: 'session-create', error: c.error})
      assert.deepEqual(h.sm.sessionList().value, [])
    })
  }

  it('succeeds on a warning check and records both indexes', () => {
    const h = new Harness()
    h.registerNode('n1', [{checkId: 'serfHealth', status: 'warning'}])
    assert.deepEqual(h.createSession('s1', {name: 'web'}), {type: 'session-create', id: 's1'})
    const got = h.sm.sessionGet('s1')
    assert.equal(got.index, 2)
    assert.equal(got.value?.name, 'web')
    assert.equal(got.value?.createIndex, 2)
    assert.equal(got.value?.modifyIndex, 2)
  })

  it('sessions are listed by ID and filtered by node', () => {
    const h = new Harness()
    h.registerNode('n1')
    h.registerNode('n2')
    h.createSession('b', {node: 'n2'})
    h.createSession('a')
    h.createSession('c')
    assert.deepEqual(h.sm.sessionList().value.map((s) => s.id), ['a', 'b', 'c'])
    assert.deepEqual(h.sm.sessionsForNode('n1').value.map((s) => s.id), ['a', 'c'])
    assert.equal(h.sm.sessionsForNode('n1').index, 5)
  })

  it('destroying an unknown session is a no-op that moves no index', () => {
    const h = new Harness()
    h.registerNode('n1')
    h.createSession('s1')
    h.destroySession('ghost')
    assert.equal(h.sm.sessionList().index, 2)
    assert.equal(h.sm.sessionList().value.length, 1)
  })
})

describe('session invalidation', () => {
  it('release behavior clears Session, keeps value and LockIndex, bumps ModifyIndex', () => {
    const h = new Harness()
    h.registerNode('n1')
    h.createSession('s1')
    h.kv({verb: 'lock', key: 'L', value: bytes('v'), session: 's1'})
    h.destroySession('s1')
    const entry = h.sm.kvGet('L').value!
    assert.equal(entry.session, '')
    assert.equal(entry.lockIndex, 1)
    assert.equal(text(entry.value), 'v')
    assert.equal(entry.modifyIndex, h.index)
    assert.equal(h.sm.sessionGet('s1').value, undefined)
    assert.equal(h.sm.sessionGet('s1').index, h.index)
  })

  it('delete behavior deletes held keys and leaves others alone', () => {
    const h = new Harness()
    h.registerNode('n1')
    h.createSession('s1', {behavior: 'delete'})
    h.kv({verb: 'lock', key: 'app/L', session: 's1'})
    h.put('app/free', 'x')
    h.destroySession('s1')
    assert.deepEqual(h.sm.kvKeys('app/', '').value, ['app/free'])
    assert.equal(h.sm.kvList('app/').index, h.index, 'the tombstone carries the invalidation index')
  })

  it('a zero lock-delay lets another session acquire at once; a huge one is capped at 60s', () => {
    const h = new Harness()
    h.registerNode('n1')
    h.createSession('quick', {lockDelayMs: 0})
    h.createSession('slow', {lockDelayMs: 3_600_000})
    h.createSession('next')
    h.kv({verb: 'lock', key: 'q', session: 'quick'})
    h.kv({verb: 'lock', key: 's', session: 'slow'})
    h.now += FAILOVER_ALLOWANCE_MS
    h.destroySession('quick')
    h.destroySession('slow')
    assert.equal(h.kv({verb: 'lock', key: 'q', session: 'next'}), true)
    h.now += 59_999
    assert.equal(h.kv({verb: 'lock', key: 's', session: 'next'}), false)
    h.now += 1
    assert.equal(h.kv({verb: 'lock', key: 's', session: 'next'}), true)
  })

  it('a check turning critical invalidates the sessions bound to it, and only those', () => {
    const h = new Harness()
    h.registerNode('n1', [{checkId: 'serfHealth', status: 'passing'}, {checkId: 'disk', status: 'passing'}])
    h.createSession('onDisk', {nodeChecks: ['disk']})
    h.createSession('onSerf', {nodeChecks: ['serfHealth']})
    h.kv({verb: 'lock', key: 'L', session: 'onDisk'})
    let woke = 0
    h.sm.watches.watchTable('sessions', () => woke++)
    h.sm.watches.watchKey('L', () => woke++)
    h.registerNode('n1', [{checkId: 'disk', status: 'critical'}])
    assert.deepEqual(h.sm.sessionList().value.map((s) => s.id), ['onSerf'])
    assert.equal(h.sm.kvGet('L').value?.session, '')
    assert.equal(woke, 2)
    assert.equal(h.sm.nodeChecks('n1').value.find((c) => c.checkId === 'disk')?.status, 'critical')
  })

  it('re-registering an unchanged node writes nothing', () => {
    const h = new Harness()
    h.registerNode('n1')
    const node = h.sm.node('n1')
    h.registerNode('n1')
    assert.deepEqual(h.sm.node('n1'), node)
    assert.equal(h.sm.nodeChecks('n1').index, 1)
  })
})

describe('session renewals and the failover allowance (ARCHITECTURE.md, lock safety across failover)', () => {
  function held(lockDelayMs = 2000): Harness {
    const h = new Harness()
    h.registerNode('n1')
    h.createSession('holder', {lockDelayMs})
    h.createSession('other', {lockDelayMs})
    h.kv({verb: 'lock', key: 'L', session: 'holder'})
    return h
  }

  it('a key stays blocked until the last renewal + lock-delay + allowance, even when invalidated at once after it', () => {
    const h = held()
    h.now += 10_000
    const renewedAt = h.now
    assert.deepEqual(h.cmd('session-renew', {id: 'holder'}), {type: 'session-renew', found: true})
    h.now += 100
    h.destroySession('holder')
    assert.equal(lockFreeAfterSeen(renewedAt, 2000), renewedAt + 2000 + FAILOVER_ALLOWANCE_MS)
    h.now = renewedAt + 2000 + FAILOVER_ALLOWANCE_MS - 1
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 'other'}), false, 'one ms before the bound')
    h.now += 1
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 'other'}), true)
  })

  it('a session not renewed for longer than the allowance is bound by lock-delay from its invalidation alone (Consul)', () => {
    const h = held()
    h.now += 60_000
    const invalidatedAt = h.now
    h.destroySession('holder')
    h.now = invalidatedAt + 1999
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 'other'}), false)
    h.now += 1
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 'other'}), true)
  })

  it('a renewal ordered after the invalidation is refused; a late clock never moves the mark back; no table index moves', () => {
    const h = held()
    h.now += 10_000
    const renewedAt = h.now
    h.cmd('session-renew', {id: 'holder'})
    const sessionsIndex = h.sm.sessionList().index
    h.now -= 5000
    assert.deepEqual(h.cmd('session-renew', {id: 'holder'}), {type: 'session-renew', found: true})
    assert.equal(h.sm.sessionList().index, sessionsIndex, 'a renewal changes no table index')
    h.destroySession('holder')
    assert.deepEqual(h.cmd('session-renew', {id: 'holder'}), {type: 'session-renew', found: false})
    h.now = renewedAt + 2000 + FAILOVER_ALLOWANCE_MS - 1
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 'other'}), false, 'the earlier clock did not shorten the block')
  })

  it('a session without lock-delay gets no allowance', () => {
    const h = held(0)
    h.destroySession('holder')
    assert.equal(h.kv({verb: 'lock', key: 'L', session: 'other'}), true)
  })

  it('the last renewal survives a snapshot', () => {
    const h = held()
    h.now += 30_000
    const renewedAt = h.now
    h.cmd('session-renew', {id: 'holder'})
    const copy = new Harness()
    copy.sm.restore(h.sm.snapshot())
    copy.index = h.index
    copy.now = renewedAt + 500
    copy.destroySession('holder')
    copy.now = renewedAt + 2000 + FAILOVER_ALLOWANCE_MS - 1
    assert.equal(copy.kv({verb: 'lock', key: 'L', session: 'other'}), false)
    copy.now += 1
    assert.equal(copy.kv({verb: 'lock', key: 'L', session: 'other'}), true)
  })
})
