// `coord rtt`'s choice of coordinates and its wording (Consul's command/rtt).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {lanPair, rttLine, wanPair} from '../../../src/lib/cli/rtt.js'
import type {Coordinate} from '../../../src/lib/coordinate/coordinate.js'

const at = (x: number): Coordinate => ({Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.2, Adjustment: 0, Height: 0})

describe('coord rtt: coordinates and output', () => {
  it('words the estimate as Consul, in ms with three decimals', () => {
    assert.equal(rttLine('a', 'b', at(0), at(0.000412), 'LAN'), 'Estimated a <-> b rtt: 0.412 ms (using LAN coordinates)')
    assert.equal(rttLine('a.dc1', 'b.dc2', at(0), at(0.0215), 'WAN'), 'Estimated a.dc1 <-> b.dc2 rtt: 21.500 ms (using WAN coordinates)')
  })

  it('LAN: matches names case-insensitively; a missing node is named as Consul does', () => {
    const entries = [{Node: 'Alpha', Segment: '', Coord: at(1)}, {Node: 'beta', Segment: '', Coord: at(2)}]
    assert.deepEqual(lanPair(entries, ['alpha', 'BETA']), [at(1), at(2)])
    assert.throws(() => lanPair(entries, ['alpha', 'gamma']), {message: 'Could not find a coordinate for node "gamma"'})
    assert.throws(() => lanPair(entries, ['gamma', 'alpha']), {message: 'Could not find a coordinate for node "gamma"'})
  })

  it('WAN: needs <node>.<dc> names and finds them in their datacenter', () => {
    const maps = [
      {Datacenter: 'dc1', AreaID: 'wan', Coordinates: [{Node: 's1', Coord: at(1)}]},
      {Datacenter: 'dc2', AreaID: 'wan', Coordinates: [{Node: 's1', Coord: at(3)}]},
    ]
    assert.deepEqual(wanPair(maps, ['s1.dc1', 's1.dc2']), [at(1), at(3)])
    assert.throws(() => wanPair(maps, ['s1', 's1.dc2']), {message: 'Node names must be specified as <node name>.<datacenter> with -wan'})
    assert.throws(() => wanPair(maps, ['s1.dc1', 's9.dc2']), {message: 'Could not find a coordinate for node "s9.dc2"'})
  })
})
