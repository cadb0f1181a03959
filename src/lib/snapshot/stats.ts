// What `snapshot inspect` counts in a state.bin (Consul's command/snapshot/inspect): records per
// type with their encoded size, and with -kvdetails the KV bytes per key prefix. Two formats:
// - coord's: one msgpack document (StateMachine.snapshot()); records are measured re-encoded and
//   named as Consul names the matching records (KVS, Tombstone, Session, Register).
// - Consul's FSM stream (agent/consul/fsm ReadSnapshot): a msgpack header, then records, each one
//   type byte and one msgpack value; a record's size is its bytes in the stream, and (as in Consul,
//   whose counting reader includes the header in the first record) the header is charged there.
import {decodeValue, encodeValue, msgpackEnd, MsgpackWalkError} from '../state/codec.js'

export interface TypeStats {
  Name: string
  Sum: number
  Count: number
}

export interface SnapshotStats {
  Stats: TypeStats[]
  /** Per key prefix (null without kvDetails). */
  StatsKV: TypeStats[] | null
  TotalSize: number
  TotalSizeKV: number
}

export interface StatsOptions {
  kvDetails?: boolean
  /** Key prefix depth in `/`-separated parts (Consul's default 2). */
  kvDepth?: number
  /** Only keys with this prefix count in the KV breakdown. */
  kvFilter?: string
}

/** Consul's structs.MessageType names, by type number (snapshot enhance). */
const CONSUL_TYPES = [
  'Register', 'Deregister', 'KVS', 'Session', 'ACL', 'Tombstone', 'CoordinateBatchUpdate', 'PreparedQuery', 'Txn',
  'Autopilot', 'Area', 'ACLBootstrap', 'Intention', 'ConnectCA', 'ConnectCAProviderState', 'ConnectCAConfig', 'Index',
  'ACLToken', 'ACLTokenDelete', 'ACLPolicy', 'ACLPolicyDelete', 'ConnectCALeaf', 'ConfigEntry', 'ACLRole',
  'ACLRoleDelete', 'ACLBindingRule', 'ACLBindingRuleDelete', 'ACLAuthMethod', 'ACLAuthMethodDelete', 'ChunkingState',
  'FederationState', 'SystemMetadata', 'ServiceVirtualIP', 'FreeVirtualIP', 'KindServiceName', 'Peering',
  'PeeringDelete', '', 'PeeringTrustBundle', 'PeeringTrustBundleDelete', 'PeeringSecret', 'RaftLogVerifierCheckpoint',
  'Resource', 'UpdateManualVirtualIPRequestType',
]

export function consulTypeName(type: number): string {
  return CONSUL_TYPES[type] || `Unknown(${type})`
}

/** Stats for a state.bin in either format; throws Error when it is neither. */
export function snapshotStats(state: Uint8Array, opts: StatsOptions = {}): SnapshotStats {
  const tally = new Tally(opts)
  const coord = decodeCoordBody(state)
  if (coord) countCoord(coord, tally)
  else countConsulStream(state, tally)
  return tally.result(coord ? state.length : undefined)
}

class Tally {
  readonly #types = new Map<string, TypeStats>()
  readonly #kv = new Map<string, TypeStats>()
  #total = 0
  #totalKV = 0

  constructor(private readonly opts: StatsOptions) {}

  add(name: string, size: number, key?: string): void {
    bump(this.#types, name, size)
    this.#total += size
    if (!this.opts.kvDetails || key === undefined) return
    if (this.opts.kvFilter && !key.startsWith(this.opts.kvFilter)) return
    const parts = key.split('/')
    const prefix = parts.slice(0, Math.min(this.opts.kvDepth ?? 2, parts.length)).join('/')
    bump(this.#kv, prefix, size)
    this.#totalKV += size
  }

  result(totalSize?: number): SnapshotStats {
    return {
      Stats: sortStats([...this.#types.values()]),
      StatsKV: this.#kv.size > 0 ? sortStats([...this.#kv.values()]) : null,
      TotalSize: totalSize ?? this.#total,
      TotalSizeKV: this.#totalKV,
    }
  }
}

function bump(map: Map<string, TypeStats>, name: string, size: number): void {
  const stats = map.get(name) ?? {Name: name, Sum: 0, Count: 0}
  stats.Sum += size
  stats.Count++
  map.set(name, stats)
}

/** Largest first; equal sizes by name (Consul's sortTypeStats). */
function sortStats(stats: TypeStats[]): TypeStats[] {
  return stats.sort((a, b) => (a.Sum !== b.Sum ? b.Sum - a.Sum : a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
}

interface CoordBody {
  kv: {entries: Array<{key: string}>; tombstones: Array<[string, number]>}
  sessions: {sessions: unknown[]}
  catalog: {nodes: Array<{node: string}>; checks: Array<{node: string}>; services?: Array<{node: string}>}
  coordinates?: {entries: unknown[]}
  preparedQueries?: {queries: unknown[]}
}

function decodeCoordBody(state: Uint8Array): CoordBody | undefined {
  let body: unknown
  try {
    body = decodeValue(state)
  } catch {
    return undefined
  }
  const b = body as Partial<CoordBody> & {format?: unknown}
  if (b === null || typeof b !== 'object' || b.format !== 'coord-state' || !b.kv || !b.sessions || !b.catalog) return undefined
  return b as CoordBody
}

function countCoord(body: CoordBody, tally: Tally): void {
  for (const entry of body.kv.entries) tally.add('KVS', encodeValue(entry).length, entry.key)
  for (const tombstone of body.kv.tombstones) tally.add('Tombstone', encodeValue(tombstone).length)
  for (const session of body.sessions.sessions) tally.add('Session', encodeValue(session).length)
  // Consul writes one Register record per node, carrying its services and checks.
  for (const node of body.catalog.nodes) {
    const checks = body.catalog.checks.filter((c) => c.node === node.node)
    const services = (body.catalog.services ?? []).filter((s) => s.node === node.node)
    tally.add('Register', encodeValue({node, services, checks}).length)
  }
  // Consul's snapshot stores coordinates as CoordinateBatchUpdate records.
  for (const entry of body.coordinates?.entries ?? []) tally.add('CoordinateBatchUpdate', encodeValue(entry).length)
  for (const query of body.preparedQueries?.queries ?? []) tally.add('PreparedQuery', encodeValue(query).length)
}

function countConsulStream(state: Uint8Array, tally: Tally): void {
  let offset = skipValue(state, 0, 'the snapshot header')
  let charged = offset
  while (offset < state.length) {
    const type = state[offset]
    const start = offset + 1
    const end = skipValue(state, start, `a ${consulTypeName(type)} record`)
    let key: string | undefined
    if (consulTypeName(type) === 'KVS') {
      try {
        const record = decodeValue(state.subarray(start, end)) as {Key?: unknown} | null
        if (record && typeof record.Key === 'string') key = record.Key
      } catch {
        // The size still counts; only the KV breakdown misses this key.
      }
    }
    tally.add(consulTypeName(type), end - offset + charged, key)
    charged = 0
    offset = end
  }
}

/** Offset just past the msgpack value at `offset` (nested values included), without decoding it. */
export function skipValue(bytes: Uint8Array, offset: number, what: string): number {
  try {
    return msgpackEnd(bytes, offset)
  } catch (error) {
    const reason = error instanceof MsgpackWalkError ? error.message : String(error)
    throw new Error(`state.bin is neither a coord nor a Consul snapshot: ${reason} in ${what}`)
  }
}
