// What `snapshot decode` prints (Consul 1.18's command/snapshot/decode): the snapshot header, then
// one object per record, each `{"Data": ..., "Type": "<Consul message type>"}` (Go encodes a map's
// keys sorted), byte values as base64 as Go's encoding/json writes []byte. Two formats, as
// stats.ts reads them:
// - coord's state document: records in Consul's shapes and names, in the order Consul's FSM
//   persists them: a Register per node, then per service and per check (SkipNodeUpdate), Session,
//   KVS, Tombstone, PreparedQuery, CoordinateBatchUpdate.
// - Consul's FSM stream: each record's msgpack value decoded as it is.
import {decodeValue} from '../state/codec.js'
import {consulTypeName, skipValue} from './stats.js'

export interface DecodedRecord {
  Data: unknown
  Type: string
}

/** Uint8Array → base64 (Go's []byte), Map → object, recursively; everything else as is. */
export function goJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), goJsonValue(v)]))
  if (Array.isArray(value)) return value.map(goJsonValue)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, goJsonValue(v)]))
  return value
}

type Obj = Record<string, unknown>

/** Every record of a state.bin (either format); throws Error when it is neither. */
export function* decodeRecords(state: Uint8Array): Generator<DecodedRecord> {
  let body: unknown
  try {
    body = decodeValue(state)
  } catch {
    body = undefined
  }
  const b = body as Obj | undefined
  if (b && typeof b === 'object' && b.format === 'coord-state') {
    yield* coordRecords(b)
    return
  }
  yield* consulRecords(state)
}

function* coordRecords(body: Obj): Generator<DecodedRecord> {
  const catalog = (body.catalog ?? {}) as {nodes?: Obj[]; services?: Obj[]; checks?: Obj[]}
  for (const n of catalog.nodes ?? []) {
    yield {Type: 'Register', Data: {
      ID: n.id, Node: n.node, Address: n.address, Datacenter: n.datacenter, TaggedAddresses: n.taggedAddresses ?? {},
      NodeMeta: n.meta ?? {}, RaftIndex: {CreateIndex: n.createIndex, ModifyIndex: n.modifyIndex},
    }}
  }
  for (const s of catalog.services ?? []) {
    yield {Type: 'Register', Data: {Node: s.node, SkipNodeUpdate: true, Service: {
      Kind: s.kind, ID: s.id, Service: s.service, Tags: s.tags, Address: s.address, TaggedAddresses: s.taggedAddresses,
      Meta: s.meta, Port: s.port, Weights: s.weights, EnableTagOverride: s.enableTagOverride,
      RaftIndex: {CreateIndex: s.createIndex, ModifyIndex: s.modifyIndex},
    }}}
  }
  for (const c of catalog.checks ?? []) {
    yield {Type: 'Register', Data: {Node: c.node, SkipNodeUpdate: true, Check: {
      Node: c.node, CheckID: c.checkId, Name: c.name, Status: c.status, Notes: c.notes, Output: c.output,
      ServiceID: c.serviceId ?? '', ServiceName: c.serviceName ?? '', ServiceTags: c.serviceTags ?? [], Type: c.type ?? '',
      Interval: c.interval ?? '', Timeout: c.timeout ?? '', RaftIndex: {CreateIndex: c.createIndex, ModifyIndex: c.modifyIndex},
    }}}
  }
  for (const s of ((body.sessions as {sessions?: Obj[]} | undefined)?.sessions ?? [])) {
    yield {Type: 'Session', Data: {
      ID: s.id, Name: s.name, Node: s.node, NodeChecks: s.nodeChecks, ServiceChecks: s.serviceChecks,
      LockDelay: Number(s.lockDelayMs ?? 0) * 1_000_000, Behavior: s.behavior, TTL: s.ttl,
      RaftIndex: {CreateIndex: s.createIndex, ModifyIndex: s.modifyIndex},
    }}
  }
  const kv = (body.kv ?? {}) as {entries?: Obj[]; tombstones?: Array<[string, number]>}
  for (const e of kv.entries ?? []) {
    yield {Type: 'KVS', Data: {
      LockIndex: e.lockIndex, Key: e.key, Flags: e.flags, Value: e.value, Session: e.session,
      RaftIndex: {CreateIndex: e.createIndex, ModifyIndex: e.modifyIndex},
    }}
  }
  for (const [key, index] of kv.tombstones ?? []) yield {Type: 'Tombstone', Data: {Key: key, Index: index}}
  for (const q of ((body.preparedQueries as {queries?: Obj[]} | undefined)?.queries ?? [])) yield {Type: 'PreparedQuery', Data: q}
  for (const c of ((body.coordinates as {entries?: Obj[]} | undefined)?.entries ?? [])) {
    yield {Type: 'CoordinateBatchUpdate', Data: [{Node: c.node, Segment: c.segment, Coord: c.coord}]}
  }
}

function* consulRecords(state: Uint8Array): Generator<DecodedRecord> {
  let offset = skipValue(state, 0, 'the snapshot header')
  while (offset < state.length) {
    const type = consulTypeName(state[offset])
    const end = skipValue(state, offset + 1, `a ${type} record`)
    let data: unknown
    try {
      data = decodeValue(state.subarray(offset + 1, end))
    } catch (error) {
      throw new Error(`failed to decode msg type ${type}, error ${(error as Error).message}`)
    }
    yield {Type: type, Data: data}
    offset = end
  }
}
