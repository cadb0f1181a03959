import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {decodeValue, encodeValue} from '../../../src/lib/state/codec.js'
import {encodeKVRecords} from '../../../src/lib/state/kv-records.js'
import type {KVEntry} from '../../../src/lib/state/types.js'

const entry = (over: Partial<KVEntry>): KVEntry => ({key: 'k', value: new Uint8Array([1, 2, 3]), flags: 0n, createIndex: 5, modifyIndex: 7, lockIndex: 0, session: '', ...over})

// Every size class of every field, and the records that take the generic encoder.
const cases: KVEntry[] = [
  entry({}),
  entry({key: '', value: new Uint8Array(0)}),
  entry({key: 'a'.repeat(31), value: new Uint8Array(255).fill(7)}),
  entry({key: 'b'.repeat(32), value: new Uint8Array(256).fill(8), flags: 42n}),
  entry({key: 'c'.repeat(255), value: new Uint8Array(70_000).fill(9), flags: 2n ** 64n - 1n}),
  entry({key: 'd'.repeat(256), flags: -1n, createIndex: 127, modifyIndex: 128, lockIndex: 255}),
  entry({key: 'e'.repeat(70_000), createIndex: 256, modifyIndex: 65_535, lockIndex: 65_536}),
  entry({createIndex: 2 ** 32 - 1, modifyIndex: 2 ** 32, lockIndex: 2 ** 53 - 1, session: '0b6d5f3c-8d5e-4b7a-9f7e-1c2d3e4f5a6b'}),
  entry({key: 'ключ/日本', session: 'sess-é'}),
  entry({key: 'lone \ud800 surrogate'}),
  entry({value: Buffer.from('a Buffer value')}),
]

describe('KV records written directly', () => {
  it('are byte for byte what the generic msgpack encoder writes for the same records', () => {
    for (const e of cases) {
      const mine = encodeKVRecords([e])
      assert.deepEqual(Buffer.from(mine), Buffer.from(encodeValue(e)), `record with key ${JSON.stringify(e.key.slice(0, 20))}`)
    }
    const all = encodeKVRecords(cases)
    const generic = Buffer.from(encodeValue(cases))
    // The generic array minus its header (fixarray: one byte).
    assert.deepEqual(Buffer.from(all), generic.subarray(1))
  })

  it('decode back to the same records, in a fresh buffer of exactly their size', () => {
    const bytes = encodeKVRecords(cases)
    const header = Uint8Array.of(0x90 | cases.length)
    const back = decodeValue(Buffer.concat([header, bytes])) as KVEntry[]
    assert.equal(back.length, cases.length)
    back.forEach((got, i) => {
      assert.equal(got.key, cases[i].key)
      assert.deepEqual(Buffer.from(got.value), Buffer.from(cases[i].value))
      assert.equal(got.flags, cases[i].flags)
      assert.equal(got.createIndex, cases[i].createIndex)
      assert.equal(got.modifyIndex, cases[i].modifyIndex)
      assert.equal(got.lockIndex, cases[i].lockIndex)
      assert.equal(got.session, cases[i].session)
    })
    // A second batch does not overwrite the first (the writer reuses its scratch space).
    const again = encodeKVRecords([entry({key: 'zzz'})])
    assert.deepEqual(Buffer.from(encodeKVRecords(cases)), Buffer.from(bytes))
    assert.equal(bytes.buffer.byteLength, bytes.length)
    assert.ok(again.length > 0)
  })
})
