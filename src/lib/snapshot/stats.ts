// What `snapshot inspect` counts in a state.bin (Consul's command/snapshot/inspect): records per
// type with their encoded size, and with -kvdetails the KV bytes per key prefix. Two formats:
// - coord's: one msgpack document (StateMachine.snapshot()); records are measured re-encoded and
//   named as Consul names the matching records (KVS, Tombstone, Session, Register).
// - Consul's FSM stream (agent/consul/fsm ReadSnapshot): a msgpack header, then records, each one
//   type byte and one msgpack value; a record's size is its bytes in the stream, and (as in Consul,
//   whose counting reader includes the header in the first record) the header is charged there.
import {decodeValue, encodeValue} from '../state/codec.js'

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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const need = (n: number): void => {
    if (offset + n > bytes.length) throw new Error(`state.bin is neither a coord nor a Consul snapshot: truncated in ${what}`)
  }
  let pending = 1
  while (pending > 0) {
    need(1)
    const b = bytes[offset]
    pending--
    let head = 1
    let body = 0
    let children = 0
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) head = 1
    else if (b <= 0x8f) children = 2 * (b & 0x0f)
    else if (b <= 0x9f) children = b & 0x0f
    else if (b <= 0xbf) body = b & 0x1f
    else {
      const u8 = (): number => { need(2); return view.getUint8(offset + 1) }
      const u16 = (): number => { need(3); return view.getUint16(offset + 1) }
      const u32 = (): number => { need(5); return view.getUint32(offset + 1) }
      switch (b) {
        case 0xc4: case 0xd9: head = 2; body = u8(); break
        case 0xc5: case 0xda: head = 3; body = u16(); break
        case 0xc6: case 0xdb: head = 5; body = u32(); break
        case 0xc7: head = 3; body = u8(); break
        case 0xc8: head = 4; body = u16(); break
        case 0xc9: head = 6; body = u32(); break
        case 0xca: head = 5; break
        case 0xcb: head = 9; break
        case 0xcc: case 0xd0: head = 2; break
        case 0xcd: case 0xd1: head = 3; break
        case 0xce: case 0xd2: head = 5; break
        case 0xcf: case 0xd3: head = 9; break
        case 0xd4: head = 3; break
        case 0xd5: head = 4; break
        case 0xd6: head = 6; break
        case 0xd7: head = 10; break
        case 0xd8: head = 18; break
        case 0xdc: head = 3; children = u16(); break
        case 0xdd: head = 5; children = u32(); break
        case 0xde: head = 3; children = 2 * u16(); break
        case 0xdf: head = 5; children = 2 * u32(); break
        default: throw new Error(`state.bin is neither a coord nor a Consul snapshot: bad msgpack byte 0x${b.toString(16)} in ${what}`)
      }
    }
    need(head + body)
    offset += head + body
    pending += children
  }
  return offset
}
