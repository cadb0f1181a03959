// Ordering by estimated RTT: ?near= sorting (source first, nodes without coordinates last, stable,
// unsorted for a source without one) and the datacenter list (median RTT, local first, ties by name).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {datacentersByDistance, sortByDistanceFrom} from '../../../src/lib/coordinate/order.js'
import type {Coordinate} from '../../../src/lib/coordinate/coordinate.js'

const at = (x: number, adjustment = 0): Coordinate => ({Vec: [x, 0], Error: 0.2, Adjustment: adjustment, Height: 1e-5})

describe('coordinate order: ?near=', () => {
  const coords = new Map<string, Coordinate>([['a', at(0)], ['b', at(0.010)], ['c', at(0.003)], ['d', at(0.010)]])
  const items = ['e', 'b', 'a', 'd', 'c', 'f']
  const sort = (source: string) => sortByDistanceFrom(source, items, (n) => n, (n) => coords.get(n))

  it('sorts nearest first from the source, without coordinates last, ties in input order', () => {
    assert.deepEqual(sort('a'), ['a', 'c', 'b', 'd', 'e', 'f'])
    assert.deepEqual(sort('b'), ['b', 'd', 'c', 'a', 'e', 'f'])
  })

  it('puts the source first even when a neighbour\'s negative adjustment undercuts its own estimate', () => {
    const skewed = new Map<string, Coordinate>([['a', at(0, 0.001)], ['b', at(0.0001, -0.002)]])
    assert.deepEqual(sortByDistanceFrom('a', ['b', 'a'], (n) => n, (n) => skewed.get(n)), ['a', 'b'])
  })

  it('leaves the order alone for a source without a coordinate', () => {
    assert.deepEqual(sort('nobody'), items)
    assert.deepEqual(sort('e'), items)
  })
})

describe('coordinate order: datacenters', () => {
  it('orders by median RTT from this server; the local datacenter first; no coordinates last, by name', () => {
    const servers = [
      {datacenter: 'dc1', coordinate: undefined},
      {datacenter: 'far', coordinate: at(0.080)},
      {datacenter: 'near', coordinate: at(0.020)},
      {datacenter: 'near', coordinate: at(0.500)},
      {datacenter: 'near', coordinate: at(0.010)},
      {datacenter: 'mid', coordinate: at(0.040)},
      {datacenter: 'zz-unknown', coordinate: undefined},
      {datacenter: 'aa-unknown', coordinate: undefined},
    ]
    assert.deepEqual(datacentersByDistance('dc1', at(0), servers), ['dc1', 'near', 'mid', 'far', 'aa-unknown', 'zz-unknown'])
  })

  it('lists the local datacenter alone when the WAN pool knows nothing', () => {
    assert.deepEqual(datacentersByDistance('dc1', undefined, []), ['dc1'])
    assert.deepEqual(datacentersByDistance('dc1', undefined, [{datacenter: 'b', coordinate: at(1)}, {datacenter: 'a', coordinate: at(2)}]), ['dc1', 'a', 'b'])
  })
})
