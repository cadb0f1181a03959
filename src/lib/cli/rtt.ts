// `coord rtt` (Consul's command/rtt): finds the two nodes' coordinates, LAN (from
// /v1/coordinate/nodes, matched case-insensitively, in a segment both share) or WAN (from
// /v1/coordinate/datacenters, `<node>.<dc>` names, in one area), and words the estimate as Consul.
import {distanceSeconds, type Coordinate} from '../coordinate/coordinate.js'
import type {CoordinateDatacenterMap, CoordinateEntry} from '../api/coordinate.js'
import {CommandError} from './errors.js'

/** Consul's line: `Estimated a <-> b rtt: 0.412 ms (using LAN coordinates)`. */
export function rttLine(node1: string, node2: string, a: Coordinate, b: Coordinate, source: 'LAN' | 'WAN'): string {
  return `Estimated ${node1} <-> ${node2} rtt: ${(distanceSeconds(a, b) * 1000).toFixed(3)} ms (using ${source} coordinates)`
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** Go's %q for the names Consul quotes in its errors. */
const quoted = (name: string) => JSON.stringify(name)

/** Consul names the first node when it has no coordinate, else the second. */
function missing(firstFound: boolean, nodes: [string, string]): never {
  throw new CommandError(`Could not find a coordinate for node ${quoted(firstFound ? nodes[1] : nodes[0])}`)
}

/** The two LAN coordinates in a segment both nodes have (the default segment first). */
export function lanPair(entries: readonly CoordinateEntry[], nodes: [string, string]): [Coordinate, Coordinate] {
  const bySegment = (node: string) => new Map(entries.filter((e) => same(e.Node, node)).map((e) => [e.Segment, e.Coord]))
  const cs1 = bySegment(nodes[0])
  const cs2 = bySegment(nodes[1])
  const segments = [...cs1.keys()].filter((s) => cs2.has(s)).sort()
  if (segments.length > 0) return [cs1.get(segments[0])!, cs2.get(segments[0])!]
  return missing(cs1.size > 0, nodes)
}

/** The two WAN coordinates, from `<node>.<dc>` names, in the same area. */
export function wanPair(maps: readonly CoordinateDatacenterMap[], nodes: [string, string]): [Coordinate, Coordinate] {
  const parts = nodes.map((n) => n.split('.'))
  if (parts.some((p) => p.length !== 2)) throw new CommandError('Node names must be specified as <node name>.<datacenter> with -wan')
  const find = ([node, dc]: string[]) => {
    const found = new Map<string, Coordinate>()
    for (const map of maps) {
      if (map.Datacenter !== dc) continue
      const entry = map.Coordinates.find((c) => same(c.Node, node))
      if (entry) found.set(map.AreaID, entry.Coord)
    }
    return found
  }
  const a = find(parts[0])
  const b = find(parts[1])
  for (const [area, coord] of a) if (b.has(area)) return [coord, b.get(area)!]
  return missing(a.size > 0, nodes)
}
