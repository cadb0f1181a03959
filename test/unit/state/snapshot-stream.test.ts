import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {decodeValue} from '../../../src/lib/state/codec.js'
import {arrayHeader, concat, mapHeader, SNAPSHOT_CHUNK_RECORDS} from '../../../src/lib/state/snapshot-stream.js'
import {Harness} from './harness.js'

function filled(keys: number): Harness {
  const h = new Harness()
  h.registerNode('n1')
  for (let i = 0; i < keys; i++) h.put(`k/${String(i).padStart(6, '0')}`, `value-${i}`)
  h.kv({verb: 'delete', key: 'k/000003'})
  return h
}

describe('snapshot chunks', () => {
  it('are many for a large table and concatenate to a snapshot restore reads back whole', () => {
    const keys = SNAPSHOT_CHUNK_RECORDS * 3 + 17
    const h = filled(keys)
    const chunks = [...h.sm.snapshotChunks()]
    assert.ok(chunks.length >= 4, `${chunks.length} chunks`)
    const copy = new StateMachine()
    copy.restore(concat(chunks))
    assert.equal(copy.lastIndex, h.sm.lastIndex)
    assert.deepEqual(copy.kvList('k/').value, h.sm.kvList('k/').value)
    assert.equal(copy.kvList('k/').value.length, keys - 1)
    assert.equal(copy.kvGet('k/000003').value, undefined)
    assert.deepEqual(copy.node('n1'), h.sm.node('n1'))
    // One msgpack document, as it always was (snapshot inspect/decode read it).
    const body = decodeValue(Buffer.concat(chunks)) as {format: string; kv: {entries: unknown[]; tombstones: unknown[]}}
    assert.equal(body.format, 'coord-state')
    assert.equal(body.kv.entries.length, keys - 1)
    assert.equal(body.kv.tombstones.length, 1)
  })

  it('describe the state when taken, whatever is applied while they are consumed', () => {
    const h = filled(SNAPSHOT_CHUNK_RECORDS * 2)
    const at = h.sm.lastIndex
    const before = h.sm.kvList('').value
    const iterator = h.sm.snapshotChunks()[Symbol.iterator]()
    const first = iterator.next()
    // Writes between chunks: overwrite, delete and add keys on both sides of what is done.
    h.put('k/000000', 'changed')
    h.kv({verb: 'delete', key: `k/${String(SNAPSHOT_CHUNK_RECORDS + 5).padStart(6, '0')}`})
    for (let i = 0; i < 50; i++) h.put(`z/${i}`, 'late')
    const rest: Uint8Array[] = []
    for (let next = iterator.next(); !next.done; next = iterator.next()) rest.push(next.value)
    const copy = new StateMachine()
    copy.restore(concat([first.value as Uint8Array, ...rest]))
    assert.equal(copy.lastIndex, at)
    assert.deepEqual(copy.kvList('').value, before)
    assert.equal(h.sm.kvList('z/').value.length, 50, 'the live state took the writes')
  })

  it('headers match msgpack for every size class', () => {
    for (const n of [0, 15, 16, 65535, 65536]) {
      assert.ok(Array.isArray(decodeValue(Buffer.concat([arrayHeader(n), Buffer.alloc(n, 0xc0)]))))
      assert.equal((decodeValue(Buffer.concat([arrayHeader(n), Buffer.alloc(n, 0xc0)])) as unknown[]).length, n)
      const pairs = Buffer.concat(Array.from({length: n}, (_, i) => Buffer.from([0xce, i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff, 0xc0])))
      assert.equal(Object.keys(decodeValue(Buffer.concat([mapHeader(n), pairs])) as object).length, n)
    }
  })
})
