// Orders by estimated RTT, as Consul does with network coordinates: `?near=` sorting of catalog and
// health answers (Consul's rtt.go sortNodesByDistanceFrom) and the datacenter list of
// /v1/catalog/datacenters (its router's GetDatacentersByDistance). Pure functions of coordinates.
import {distanceSeconds, isCompatible, type Coordinate} from './coordinate.js'

/** RTT estimate in seconds; +Infinity when either coordinate is missing or they do not match. */
export function computeDistance(a: Coordinate | undefined, b: Coordinate | undefined): number {
  if (!a || !b || !isCompatible(a, b)) return Infinity
  return distanceSeconds(a, b)
}

/**
 * `items` by estimated RTT from `source`'s coordinate, nearest first; the source node itself is
 * distance 0; items whose node has no coordinate go last; ties keep their order (a stable sort).
 * No coordinate for the source: `items` as they were (Consul: no meaning for the sort).
 */
export function sortByDistanceFrom<T>(source: string, items: readonly T[], nodeOf: (item: T) => string, coordinateOf: (node: string) => Coordinate | undefined): T[] {
  const from = coordinateOf(source)
  if (!from) return [...items]
  const distance = new Map<string, number>()
  const of = (node: string): number => {
    let d = distance.get(node)
    if (d === undefined) {
      d = node === source ? 0 : computeDistance(from, coordinateOf(node))
      distance.set(node, d)
    }
    return d
  }
  return items.map((item, at) => ({item, at, d: of(nodeOf(item))}))
    .sort((x, y) => (x.d === y.d ? x.at - y.at : x.d < y.d ? -1 : 1))
    .map((x) => x.item)
}

export interface WanServer {
  datacenter: string
  /** Its WAN coordinate as this server last saw it; undefined when none yet. */
  coordinate: Coordinate | undefined
}

/**
 * Every datacenter with a server in `servers`, nearest first by the median estimated RTT from
 * `own` to its servers; the local datacenter counts as 0; equal medians (no coordinates at all
 * included, +Infinity) by name.
 */
export function datacentersByDistance(localDatacenter: string, own: Coordinate | undefined, servers: readonly WanServer[]): string[] {
  const rtts = new Map<string, number[]>()
  rtts.set(localDatacenter, [0])
  for (const s of servers) {
    const list = rtts.get(s.datacenter) ?? []
    list.push(s.datacenter === localDatacenter ? 0 : computeDistance(own, s.coordinate))
    rtts.set(s.datacenter, list)
  }
  const median = new Map<string, number>()
  for (const [dc, list] of rtts) {
    list.sort((a, b) => a - b)
    median.set(dc, list[Math.floor(list.length / 2)])
  }
  const names = [...median.keys()].sort()
  return names.map((dc, at) => ({dc, at, d: median.get(dc) as number}))
    .sort((x, y) => (x.d === y.d ? x.at - y.at : x.d < y.d ? -1 : 1))
    .map((x) => x.dc)
}
