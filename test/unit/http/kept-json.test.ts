// Per-record JSON kept while the record stands (http/kept-json.ts): joined bytes equal
// JSON.stringify of the array, a kept value is reused only for the same record and companion, and
// the byte bound evicts whole groups, least recently read first.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {KeptValues, joinJsonArray, keptJson, visitInSlices, warmInSlices} from '../../../src/lib/http/kept-json.js'
import {performance} from 'node:perf_hooks'

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

  it('visits a long list in slices, letting the event loop run between them', async () => {
    // Each visit busy-waits 0.1 ms: 2,000 of them are ~200 ms of work, which must not run as one task.
    const items = Array.from({length: 2000}, (_, i) => i)
    let longest = 0
    let ticks = 0
    let last = performance.now()
    const probe = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
      ticks++
    }, 1)
    const seen: number[] = []
    const slices = await visitInSlices(items, (i) => {
      const until = performance.now() + 0.1
      while (performance.now() < until) { /* work */ }
      seen.push(i)
    }, 10)
    clearInterval(probe)
    console.log(`2,000 visits in ${slices} slices; a 1 ms timer ran ${ticks} times, its longest gap ${longest.toFixed(1)} ms`)
    assert.deepEqual(seen, items, 'every item, in order')
    assert.ok(slices >= 5, `${slices} slices`)
    // One task would let the timer run at most once; slices let it run between them (a loaded box may coalesce a few).
    assert.ok(ticks >= slices / 2, `timers ran between slices (${ticks} runs)`)
  })

  it('warms a group once per index', async () => {
    const store = new KeptValues<object, {companion: object | null; json: Buffer}>(1 << 20)
    const records = Array.from({length: 10}, (_, i) => ({i}))
    let visits = 0
    const warm = (index: number) => warmInSlices(store, 'g', index, () => records, (r) => { visits++; keptJson(store, 'g', r, null, () => r) })
    await warm(7)
    await warm(7)
    assert.equal(visits, 10, 'not visited again at the same index')
    await warm(8)
    assert.equal(visits, 20)
    assert.equal(store.group('g', false)?.warmIndex, 8)
  })
})
