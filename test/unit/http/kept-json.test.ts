// Per-record JSON kept while the record stands (http/kept-json.ts): joined bytes equal
// JSON.stringify of the array, a kept value is reused only for the same record and companion, and
// the byte bound evicts whole groups, least recently read first.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {KeptValues, joinJsonArray, keptJson} from '../../../src/lib/http/kept-json.js'

describe('kept per-record JSON', () => {
  it('joins parts into the bytes JSON.stringify gives for the array', () => {
    const values = [{a: 1, s: 'ü "q"'}, [1, 2], 'x', null, {nested: {m: {}}}]
    for (let n = 0; n <= values.length; n++) {
      const slice = values.slice(0, n)
      assert.equal(joinJsonArray(slice.map((v) => Buffer.from(JSON.stringify(v)))).toString(), JSON.stringify(slice))
    }
  })

  it('reuses a record\'s JSON only while the record and its companion are the same objects', () => {
    const store = new KeptValues<object, {companion: object | null; json: Buffer}>(1 << 20)
    const record = {id: 'a'}
    const node = {address: '10.0.0.1'}
    let renders = 0
    const render = (): unknown => { renders++; return {...record, ...node} }
    const first = keptJson(store, 'g', record, node, render)
    assert.equal(keptJson(store, 'g', record, node, render), first)
    assert.equal(renders, 1)
    const movedNode = {address: '10.0.0.2'}
    assert.equal(keptJson(store, 'g', record, movedNode, () => { renders++; return {...record, ...movedNode} }).toString(), '{"id":"a","address":"10.0.0.2"}')
    assert.equal(renders, 2)
    const replaced = {id: 'a2'}
    assert.equal(keptJson(store, 'g', replaced, movedNode, () => { renders++; return replaced }).toString(), '{"id":"a2"}')
    assert.equal(renders, 3)
  })

  it('evicts whole groups, least recently read first, past the byte bound (never the last one)', () => {
    const records = Array.from({length: 8}, (_, i) => ({v: 'x'.repeat(20), i}))
    const size = JSON.stringify(records[0]).length
    const store = new KeptValues<object, {companion: object | null; json: Buffer}>(4.5 * size)
    for (const r of records.slice(0, 3)) keptJson(store, 'a', r, null, () => r)
    assert.deepEqual(store.groupNames(), ['a'])
    keptJson(store, 'b', records[3], null, () => records[3])
    store.group('a', false) // read again: b is now the least recently read
    assert.equal(store.bytes, 4 * size)
    keptJson(store, 'c', records[4], null, () => records[4])
    assert.deepEqual(store.groupNames(), ['a', 'c'], 'b, the least recently read, evicted whole')
    assert.equal(store.bytes, 4 * size)
    // One group larger than the bound stays (the one being read).
    const big = new KeptValues<object, {companion: object | null; json: Buffer}>(10)
    keptJson(big, 'only', records[7], null, () => records[7])
    assert.deepEqual(big.groupNames(), ['only'])
    assert.equal(big.group('nothing', false), undefined)
  })
})
