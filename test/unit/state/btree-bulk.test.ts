// The stepped bulk load (state/btree-bulk.ts) and KVStore.loadSteps: node for node the tree
// sorted-btree's bulkLoad builds, the table KVStore.load builds, each step touching a bounded
// number of records.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import btree from 'sorted-btree'
import bulk from 'sorted-btree/extended/bulkLoad.js'
import {bulkLoadSteps, DEFAULT_NODE_SIZE} from '../../../src/lib/state/btree-bulk.js'
import {KVStore, type KVDump} from '../../../src/lib/state/kv-table.js'
import type {KVEntry} from '../../../src/lib/state/types.js'

/** Runs the steps to the end; returns the result and how many steps it took. */
function run<T>(steps: Generator<void, T>): {value: T; steps: number} {
  for (let n = 0; ; n++) {
    const step = steps.next()
    if (step.done) return {value: step.value, steps: n}
  }
}

interface Node {
  keys: string[]
  values?: unknown[]
  children?: Node[]
}

/** The tree's nodes as plain data: keys at every level, values at the leaves. */
function shape(tree: unknown): unknown {
  const walk = (node: Node): unknown => node.children
    ? {keys: [...node.keys], children: node.children.map(walk)}
    : {keys: [...node.keys], values: [...(node.values ?? [])]}
  return walk((tree as {_root: Node})._root)
}

/**
 * `items` behind a proxy counting the elements read; `reads()` gives the count since the last call.
 * Every element a step touches (order check, copy into a leaf) is one read.
 */
function counted<T>(items: T[]): {array: T[]; reads: () => number} {
  let n = 0
  const array = new Proxy(items, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) n++
      return Reflect.get(target, prop, receiver) as unknown
    },
  })
  return {array, reads: () => { const r = n; n = 0; return r }}
}

/** Runs the steps; `worst`: the most elements of `reads` one step read. */
function runBounded<T>(steps: Generator<void, T>, reads: () => number): {value: T; steps: number; worst: number} {
  let worst = 0
  for (let n = 0; ; n++) {
    const step = steps.next()
    worst = Math.max(worst, reads())
    if (step.done) return {value: step.value, steps: n, worst}
  }
}

const keyOf = (i: number): string => `k/${String(i).padStart(7, '0')}`

describe('stepped bulk load', () => {
  it('builds the tree bulkLoad builds, node for node, at sizes around the node boundaries', () => {
    const sizes = [0, 1, 2, 31, 32, 51, 52, 53, 63, 64, 65, 104, 105, 3327, 3328, 3329, 52 * 64, 52 * 64 + 1, 64 * 64 + 1, 20_000, 170_000]
    for (const size of sizes) {
      const keys = Array.from({length: size}, (_, i) => keyOf(i))
      const values = keys.map((_, i) => i)
      const reference = bulk.bulkLoad(keys, values, DEFAULT_NODE_SIZE, btree.defaultComparator)
      for (const per of [1, 7, 1024]) {
        if (size > 20_000 && per < 1024) continue
        const {value} = run(bulkLoadSteps(keys, values, per))
        assert.ok(value, `${size} keys load`)
        assert.deepEqual(shape(value), shape(reference), `${size} keys, ${per} per step: same nodes`)
        assert.equal(value.size, size)
        assert.deepEqual(value.keysArray(), keys)
        if (size > 0) assert.equal(value.get(keyOf(size - 1)), size - 1)
        value.set('zz', -1) // a tree that accepts writes afterwards
        value.delete(keyOf(0))
        assert.equal(value.size, size === 0 ? 1 : size)
      }
    }
  })

  it('each step reads a bounded number of records', () => {
    const size = 100_000
    const keys = counted(Array.from({length: size}, (_, i) => keyOf(i)))
    const values = counted(Array.from({length: size}, (_, i) => i))
    const per = 1024
    const reads = (): number => keys.reads() + values.reads()
    const {value, steps, worst} = runBounded(bulkLoadSteps(keys.array, values.array, per), reads)
    assert.equal(value?.size, size)
    // Order check: 2 reads per key; a leaf copies ≤ 52 keys and values past the bound.
    assert.ok(worst <= 4 * per, `worst step read ${worst} records (bound ${4 * per})`)
    assert.ok(steps >= size / per, `${steps} steps`)
  })

  it('refuses keys out of order or repeated (undefined: the caller inserts them one by one)', () => {
    assert.equal(run(bulkLoadSteps(['a', 'c', 'b'], [1, 2, 3], 1)).value, undefined)
    assert.equal(run(bulkLoadSteps(['a', 'a'], [1, 2], 1)).value, undefined)
    assert.throws(() => run(bulkLoadSteps(['a'], [], 1)), /same length/)
  })
})

function entry(key: string, i: number, session = ''): KVEntry {
  return {key, value: new Uint8Array([i & 0xff, (i >> 8) & 0xff]), flags: BigInt(i), session, createIndex: i + 1, modifyIndex: i + 2, lockIndex: session ? 1 : 0}
}

function dumpOf(size: number, order: 'sorted' | 'shuffled'): KVDump {
  const entries = Array.from({length: size}, (_, i) => entry(keyOf(i), i, i % 97 === 0 ? `s${i % 3}` : ''))
  if (order === 'shuffled') entries.reverse()
  const tombstones: Array<[string, number]> = Array.from({length: Math.floor(size / 3)}, (_, i) => [`t/${String(i).padStart(7, '0')}`, i + 5])
  if (order === 'shuffled') tombstones.reverse()
  return {entries, tombstones, lockDelays: [['k/0000001', 12345]], index: size + 10}
}

describe('KVStore.loadSteps', () => {
  for (const order of ['sorted', 'shuffled'] as const) {
    it(`builds the table load builds (${order} records), a bounded number of records per step`, () => {
      const size = 30_000
      const oneShot = KVStore.load(dumpOf(size, order))
      const dump = dumpOf(size, order)
      const entries = counted(dump.entries)
      const tombstones = counted(dump.tombstones)
      const per = 512
      const {value: stepped, steps, worst} = runBounded(KVStore.loadSteps({...dump, entries: entries.array, tombstones: tombstones.array}, per),
        () => entries.reads() + tombstones.reads())
      assert.deepEqual(stepped.dump(), oneShot.dump(), 'same entries in the same order, same tombstones, lock delays and index')
      assert.equal(stepped.size, size)
      assert.equal(stepped.index, size + 10)
      assert.equal(stepped.lockDelayUntil('k/0000001'), 12345)
      assert.equal(stepped.maxTombstoneIndex('t/'), Math.floor(size / 3) + 4)
      assert.deepEqual(stepped.heldBy('s0').sort(), oneShot.heldBy('s0').sort())
      assert.ok(stepped.heldBy('s0').length > 0, 'session holders indexed')
      assert.ok(worst <= 2 * per, `worst step read ${worst} records (bound ${2 * per})`)
      assert.ok(steps >= (size * 2) / per, `${steps} steps`)
    })
  }
})
