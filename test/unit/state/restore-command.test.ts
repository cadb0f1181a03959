// The `restore` command (PUT /v1/snapshot through the log): same outcome at the same index on
// every server, indexes never behind the entry, every watcher woken.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness, bytes, text} from './harness.js'
import {decodeCommand, encodeCommand} from '../../../src/lib/state/codec.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import type {Command} from '../../../src/lib/state/types.js'

/** A machine with a node, a session holding a lock, two keys and a tombstone, at index 7. */
function source(): Harness {
  const h = new Harness()
  h.registerNode('n1')
  h.createSession('s1', {ttl: '30s'})
  h.put('app/config', 'v1')
  h.kv({verb: 'lock', key: 'app/lock', value: bytes('me'), session: 's1'})
  h.put('gone', 'x')
  h.kv({verb: 'delete', key: 'gone'})
  h.put('other', 'y')
  return h
}

const restoreCmd = (data: Uint8Array, now = 1): Command => ({type: 'restore', now, data})

describe('restore command', () => {
  it('replaces state and moves every table index to the entry index', () => {
    const snapshot = source().sm.snapshot()
    const target = new Harness()
    for (let i = 0; i < 20; i++) target.put(`t/${i}`, 'z')
    target.index += 1
    assert.deepEqual(target.sm.apply(target.index, restoreCmd(snapshot)), {type: 'restore'})
    const at = target.index
    assert.equal(target.sm.lastIndex, at)
    assert.equal(target.sm.kvGet('t/1').value, undefined, 'prior state is gone')
    assert.equal(text(target.sm.kvGet('app/config').value!.value), 'v1')
    assert.equal(target.sm.kvGet('app/lock').value!.session, 's1')
    assert.equal(target.sm.sessionList().index, at)
    assert.equal(target.sm.node('n1').index, at)
    assert.equal(target.sm.nodeChecks('n1').index, at)
    assert.equal(target.sm.kvList('').index, at)
    // Record indexes from the (older) snapshot are kept...
    assert.equal(target.sm.kvGet('app/config').value!.modifyIndex, 3)
    // ...but the index a read reports never falls behind the restore.
    assert.equal(target.sm.kvGet('app/config').index, at)
    assert.equal(target.sm.kvList('app/').index, at)
    assert.equal(target.sm.kvKeys('gone', '').index, at)
  })

  it('clamps indexes from a snapshot taken further along than this log', () => {
    const big = source()
    for (let i = 0; i < 50; i++) big.put('late', String(i))
    const target = new Harness()
    target.index = 3
    target.sm.apply(target.index, restoreCmd(big.sm.snapshot()))
    const late = target.sm.kvGet('late').value!
    assert.equal(late.modifyIndex, 3)
    assert.ok(late.createIndex <= 3)
    // The next write is newer than everything restored.
    target.put('late', 'after')
    assert.equal(target.sm.kvGet('late').value!.modifyIndex, 4)
    assert.equal(target.sm.kvList('').index, 4)
  })

  it('wakes every parked watcher', () => {
    const target = source()
    const woken: string[] = []
    target.sm.watches.watchKey('app/config', () => woken.push('key'))
    target.sm.watches.watchPrefix('nothing/', () => woken.push('prefix'))
    target.sm.watches.watchTable('sessions', () => woken.push('sessions'))
    target.index += 1
    target.sm.apply(target.index, restoreCmd(source().sm.snapshot()))
    assert.deepEqual(woken.sort(), ['key', 'prefix', 'sessions'])
  })

  it('bytes that are not a snapshot: an error result, state untouched, index consumed', () => {
    const target = source()
    const before = target.sm.snapshot()
    target.index += 1
    const result = target.sm.apply(target.index, restoreCmd(bytes('not msgpack at all \u00c1')))
    assert.equal(result.type, 'restore')
    assert.ok(result.type === 'restore' && typeof result.error === 'string')
    assert.equal(target.sm.lastIndex, target.index)
    const after = new StateMachine()
    after.restore(target.sm.snapshot())
    const expected = new StateMachine()
    expected.restore(before)
    assert.deepEqual(after.kvList('').value, expected.kvList('').value)
  })

  it('checkSnapshot accepts snapshots and rejects anything else', () => {
    StateMachine.checkSnapshot(source().sm.snapshot())
    assert.throws(() => StateMachine.checkSnapshot(bytes('{}')), {code: 'STATE_CODEC'})
  })

  it('the read floor survives a snapshot of the restored machine (boot from it reads alike)', () => {
    const target = new Harness()
    target.index = 40
    target.sm.apply(target.index, restoreCmd(source().sm.snapshot()))
    const rebooted = new StateMachine()
    rebooted.restore(target.sm.snapshot())
    assert.equal(rebooted.kvGet('app/config').index, 40)
    assert.equal(rebooted.lastIndex, 40)
  })

  it('replaying the log (decode + apply) gives the same state', () => {
    const snapshot = source().sm.snapshot()
    const cmd = decodeCommand(encodeCommand(restoreCmd(snapshot, 5)))
    assert.equal(cmd.type, 'restore')
    const a = new StateMachine()
    const b = new StateMachine()
    a.apply(9, restoreCmd(snapshot, 5))
    b.apply(9, cmd)
    assert.deepEqual(Buffer.from(a.snapshot()), Buffer.from(b.snapshot()))
  })
})
