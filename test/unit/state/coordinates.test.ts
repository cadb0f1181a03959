// The coordinates table in the state machine: batched updates (unknown nodes dropped, as Consul's
// CoordinateBatchUpdate), removal with the node, the watch it fires, snapshot round trips, and
// restoring a snapshot written before coordinates existed.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness} from './harness.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {decodeCommand, encodeCommand, encodeValue} from '../../../src/lib/state/codec.js'
import type {Coordinate} from '../../../src/lib/coordinate/coordinate.js'

const at = (x: number): Coordinate => ({Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5})

function withNodes(...nodes: string[]): Harness {
  const h = new Harness()
  for (const node of nodes) h.cmd('catalog-register', {request: {Node: node, Address: '10.0.0.1'}})
  return h
}

describe('state: coordinates', () => {
  it('stores a batch, dropping updates for nodes not in the catalog and malformed coordinates', () => {
    const h = withNodes('a', 'b')
    const result = h.cmd('coordinate-batch-update', {updates: [
      {node: 'b', segment: '', coord: at(0.002)},
      {node: 'ghost', segment: '', coord: at(0.003)},
      {node: 'a', segment: '', coord: at(0.001)},
      {node: 'a', segment: '', coord: {...at(0), Height: NaN}},
    ]})
    assert.deepEqual(result, {type: 'coordinate-batch-update', stored: 2})
    assert.deepEqual(h.sm.coordinates.list(), [{node: 'a', segment: '', coord: at(0.001)}, {node: 'b', segment: '', coord: at(0.002)}])
    assert.equal(h.sm.coordinatesIndex(), h.index)
    assert.equal(h.sm.coordinates.get('ghost'), undefined)
  })

  it('wakes coordinate watchers on a stored update, not on a batch of unknown nodes', () => {
    const h = withNodes('a')
    let woken = 0
    h.sm.watches.watchTable('coordinates', () => woken++)
    h.cmd('coordinate-batch-update', {updates: [{node: 'ghost', segment: '', coord: at(1)}]})
    assert.equal(woken, 0)
    const before = h.sm.coordinatesIndex()
    h.cmd('coordinate-batch-update', {updates: [{node: 'a', segment: '', coord: at(1)}]})
    assert.equal(woken, 1)
    assert.ok(h.sm.coordinatesIndex() > before)
  })

  it('goes with its node on deregistration', () => {
    const h = withNodes('a', 'b')
    h.cmd('coordinate-batch-update', {updates: [{node: 'a', segment: '', coord: at(1)}, {node: 'b', segment: '', coord: at(2)}]})
    h.cmd('catalog-deregister', {request: {Node: 'a'}})
    assert.deepEqual(h.sm.coordinates.list().map((e) => e.node), ['b'])
    assert.equal(h.sm.coordinatesIndex(), h.index)
  })

  it('survives a snapshot round trip and the command codec', () => {
    const h = withNodes('a')
    h.cmd('coordinate-batch-update', {updates: [{node: 'a', segment: '', coord: at(0.25)}]})
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    assert.deepEqual(copy.coordinates.list(), h.sm.coordinates.list())
    assert.equal(copy.coordinatesIndex(), h.sm.coordinatesIndex())
    const cmd = {type: 'coordinate-batch-update' as const, now: 1, updates: [{node: 'a', segment: '', coord: at(0.5)}]}
    assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd)
  })

  it('restores a snapshot written before coordinates existed, with an empty table', () => {
    const old = encodeValue({
      format: 'coord-state', version: 1, lastIndex: 5,
      kv: {entries: [], tombstones: [], lockDelays: [], index: 0},
      sessions: {sessions: [], index: 0},
      catalog: {nodes: [], checks: [], nodesIndex: 0, checksIndex: 0},
    })
    const sm = new StateMachine()
    sm.restore(old)
    assert.deepEqual(sm.coordinates.list(), [])
    assert.equal(sm.lastIndex, 5)
  })
})
