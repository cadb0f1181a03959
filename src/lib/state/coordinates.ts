// The coordinates table (Consul's state store `coordinates`): each node's LAN network coordinate,
// per network segment (coord has only the default segment, ''), as its agent last sent it. Writes
// come in batches (the servers' CoordinateBatcher, one Raft entry per batch); an update for a node
// not in the catalog is dropped, as Consul's CoordinateBatchUpdate does, so a node deregistered
// while its update waited in a batch does not come back as a coordinate without a node. A node's
// coordinates go when the node is deregistered. Watch table fired: 'coordinates'.
import {parseCoordinate, type Coordinate} from '../coordinate/coordinate.js'
import type {ChangeSet} from './watch.js'

export interface CoordinateEntry {
  node: string
  segment: string
  coord: Coordinate
}

export interface CoordinatesDump {
  entries: CoordinateEntry[]
  index: number
}

function compare(a: CoordinateEntry, b: CoordinateEntry): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0
}

export class CoordinateTable {
  readonly #byNode = new Map<string, Map<string, Coordinate>>()
  #index = 0

  get index(): number {
    return this.#index
  }

  /**
   * Applies what it can of a batch: entries for unknown nodes, or whose coordinate does not parse
   * (the proposer checked; a log written by a buggy one must still apply the same everywhere),
   * are skipped. Returns how many were stored.
   */
  batchUpdate(index: number, updates: readonly CoordinateEntry[], nodeExists: (node: string) => boolean, change: ChangeSet): number {
    let stored = 0
    for (const update of updates) {
      if (typeof update?.node !== 'string' || !nodeExists(update.node)) continue
      let coord: Coordinate
      try {
        coord = parseCoordinate(update.coord)
      } catch {
        continue
      }
      const segments = this.#byNode.get(update.node) ?? new Map<string, Coordinate>()
      segments.set(typeof update.segment === 'string' ? update.segment : '', coord)
      this.#byNode.set(update.node, segments)
      stored++
    }
    if (stored > 0) {
      this.#index = index
      change.tables.add('coordinates')
    }
    return stored
  }

  /** The node was deregistered: its coordinates go with it. */
  removeNode(index: number, node: string, change: ChangeSet): void {
    if (!this.#byNode.delete(node)) return
    this.#index = index
    change.tables.add('coordinates')
  }

  /** Every coordinate, ordered by node then segment (Consul's ListNodes order). */
  list(): CoordinateEntry[] {
    const out: CoordinateEntry[] = []
    for (const [node, segments] of this.#byNode) for (const [segment, coord] of segments) out.push({node, segment, coord})
    return out.sort(compare)
  }

  forNode(node: string): CoordinateEntry[] {
    const segments = this.#byNode.get(node)
    if (!segments) return []
    return [...segments].map(([segment, coord]) => ({node, segment, coord})).sort(compare)
  }

  get(node: string, segment = ''): Coordinate | undefined {
    return this.#byNode.get(node)?.get(segment)
  }

  dump(): CoordinatesDump {
    return {entries: this.list(), index: this.#index}
  }

  /** `dump` absent: a snapshot written before coordinates existed, restored as an empty table. */
  static load(dump: CoordinatesDump | undefined, indexAt: (n: number) => number = (n) => n): CoordinateTable {
    const table = new CoordinateTable()
    if (!dump) return table
    for (const entry of dump.entries) {
      const segments = table.#byNode.get(entry.node) ?? new Map<string, Coordinate>()
      segments.set(entry.segment, parseCoordinate(entry.coord))
      table.#byNode.set(entry.node, segments)
    }
    table.#index = indexAt(dump.index)
    return table
  }
}
