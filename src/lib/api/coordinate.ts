// GET /v1/coordinate/* (Consul's api/coordinate.go): network coordinates, as Consul's JSON.
import {type ApiClient, type QueryMeta, type QueryOptions} from './client.js'
import type {Coordinate} from '../coordinate/coordinate.js'

export interface CoordinateEntry {
  Node: string
  Segment: string
  Coord: Coordinate
}

export interface CoordinateDatacenterMap {
  Datacenter: string
  AreaID: string
  Coordinates: Array<{Node: string; Coord: Coordinate}>
}

export async function coordinateDatacenters(client: ApiClient): Promise<CoordinateDatacenterMap[]> {
  const {value} = await client.getJson('/v1/coordinate/datacenters')
  return Array.isArray(value) ? value as CoordinateDatacenterMap[] : []
}

export async function coordinateNodes(client: ApiClient, q: QueryOptions = {}): Promise<{entries: CoordinateEntry[]; meta: QueryMeta}> {
  const {value, meta} = await client.getJson('/v1/coordinate/nodes', q)
  return {entries: Array.isArray(value) ? value as CoordinateEntry[] : [], meta}
}
