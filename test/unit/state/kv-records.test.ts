import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {decodeValue, encodeValue} from '../../../src/lib/state/codec.js'
import {decodeKVRecords, decodeSnapshotDocument, encodeKVRecords, kvRecordSize} from '../../../src/lib/state/kv-records.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import type {KVEntry} from '../../../src/lib/state/types.js'
import {Harness} from './harness.js'

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

  it('are sized exactly before they are written, and so is a whole snapshot', () => {
    for (const e of cases) assert.equal(kvRecordSize(e), encodeKVRecords([e]).length, `record with key ${JSON.stringify(e.key.slice(0, 20))}`)
    const h = new Harness()
    h.registerNode('n1')
    for (let i = 0; i < 40_000; i++) h.put(`k/${String(i).padStart(5, '0')}`, `value-${i}`, BigInt(i % 3))
    h.put('ключ', 'é')
    for (let i = 0; i < 20_000; i += 3) h.kv({verb: 'delete', key: `k/${String(i).padStart(5, '0')}`})
    const document = h.sm.snapshotChunks()
    const steps = document.sizeSteps()
    let stepCount = 0
    let step = steps.next()
    for (; !step.done; step = steps.next()) stepCount++
    assert.ok(stepCount >= 2, `${stepCount} steps`)
    assert.equal(step.value, h.sm.snapshot().length)
  })
})

const asPlain = (e: KVEntry): unknown => ({...e, value: Buffer.from(e.value).toString('hex')})

describe('KV records read directly', () => {
  it('read back every record as written, values in one buffer the input may be reused under', () => {
    const bytes = Buffer.from(encodeKVRecords(cases))
    const got = decodeKVRecords(bytes, 0, cases.length)
    assert.ok(got)
    assert.equal(got.end, bytes.length)
    assert.deepEqual(got.entries.map(asPlain), cases.map(asPlain))
    assert.equal(new Set(got.entries.map((e) => e.value.buffer)).size, 1)
    bytes.fill(0)
    assert.deepEqual(got.entries.map(asPlain), cases.map(asPlain))
  })

  it('read records whose fields come in another order, and refuse a record that is not the seven fields', () => {
    const shuffled = {session: 's', lockIndex: 1, modifyIndex: 9, createIndex: 8, flags: 3n, value: new Uint8Array([9]), key: 'x'}
    const got = decodeKVRecords(Buffer.from(encodeValue(shuffled)), 0, 1)
    assert.deepEqual(got?.entries.map(asPlain), [asPlain({key: 'x', value: new Uint8Array([9]), flags: 3n, createIndex: 8, modifyIndex: 9, lockIndex: 1, session: 's'})])
    const {session: _drop, ...six} = shuffled
    assert.equal(decodeKVRecords(Buffer.from(encodeValue(six)), 0, 1), undefined)
    assert.equal(decodeKVRecords(Buffer.from(encodeValue({...six, other: 1})), 0, 1), undefined)
    assert.equal(decodeKVRecords(Buffer.from(encodeValue({...shuffled, flags: 3})), 0, 1), undefined, 'flags as a plain number')
    assert.equal(decodeKVRecords(Buffer.from(encodeValue({...shuffled, value: 'text'})), 0, 1), undefined)
    const whole = Buffer.from(encodeKVRecords(cases))
    assert.equal(decodeKVRecords(whole.subarray(0, whole.length - 1), 0, cases.length), undefined, 'truncated')
  })

  it('a snapshot document reads as the generic decoder reads it, old (one generic encode) and new (chunks) alike', () => {
    const h = new Harness()
    h.registerNode('n1')
    for (let i = 0; i < 1500; i++) h.put(`k/${String(i).padStart(5, '0')}`, `value-${i}`, BigInt(i % 3))
    h.put('ключ', 'é')
    h.kv({verb: 'delete', key: 'k/00007'})
    const chunks = h.sm.snapshot()
    const generic = decodeValue(chunks) as {kv: {entries: KVEntry[]}}
    // What coord wrote before the direct writer: the document through the generic encoder.
    const old = encodeValue(generic)
    for (const bytes of [chunks, old]) {
      const doc = decodeSnapshotDocument(bytes) as {kv: {entries: KVEntry[]}} | undefined
      assert.ok(doc)
      assert.deepEqual({...doc, kv: {...doc.kv, entries: doc.kv.entries.map(asPlain)}}, {...generic, kv: {...generic.kv, entries: generic.kv.entries.map(asPlain)}})
      const copy = new StateMachine()
      copy.restore(bytes)
      assert.deepEqual(copy.kvList('').value.map(asPlain), h.sm.kvList('').value.map(asPlain))
      assert.equal(copy.kvGet('k/00007').value, undefined)
    }
    // Another layout (no kv.entries map) is left to the generic decoder.
    assert.equal(decodeSnapshotDocument(encodeValue({format: 'coord-state', kv: []})), undefined)
    assert.equal(decodeSnapshotDocument(Uint8Array.of(0xc1)), undefined)
  })
})
