// Consul's user event (agent/user_event.go): what `coord event`, /v1/event/fire and remote exec send
// over the LAN gossip pool. The gossip layer carries (Lamport time, name, payload); Consul puts its
// own envelope in that payload: a msgpack map {ID, n, p, nf, sf, tf, v} under the serf event name
// "consul:event:<name>". Receivers decode it and apply the filters themselves (filter.ts).
// Pure: no I/O, the ID comes from the caller.
import {decode, encode} from '@msgpack/msgpack'
import {CoordError} from '../errors.js'

/** The newest envelope version we understand (Consul's userEventMaxVersion). */
export const USER_EVENT_VERSION = 1

/** Serf event names carrying a Consul user event start with this; others are not ours. */
export const SERF_EVENT_PREFIX = 'consul:event:'

/**
 * Serf's UserEventSizeLimit, which Consul keeps at its default: the serf event name plus the
 * encoded envelope may not exceed 512 bytes (serf/serf.go UserEvent, checked before encoding).
 */
export const USER_EVENT_SIZE_LIMIT = 512

/** Remote exec rides on a user event with this name (agent/user_event.go remoteExecName). */
export const REMOTE_EXEC_EVENT = '_rexec'

export interface UserEvent {
  ID: string
  Name: string
  Payload: Uint8Array | null
  NodeFilter: string
  ServiceFilter: string
  TagFilter: string
  Version: number
  /** Serf Lamport time; 0 in the fire response (not known until gossip stamps it). */
  LTime: number
}

export interface UserEventParams {
  name: string
  payload?: Uint8Array | null
  nodeFilter?: string
  serviceFilter?: string
  tagFilter?: string
}

/** A user event refused before it is sent: the message is Consul's wording. */
export class UserEventError extends CoordError {
  constructor(message: string) {
    super('USER_EVENT_INVALID', message, {httpStatus: 400})
    this.name = 'UserEventError'
  }
}

/** Compiles a filter as Go's regexp.MatchString uses it (unanchored search); throws on a bad one. */
export function compileFilter(source: string): RegExp {
  return new RegExp(source)
}

/** Consul's validateUserEventParams: a name, tag only with service, every filter compiles. */
export function validateUserEvent(params: UserEventParams): void {
  if (!params.name) throw new UserEventError('User event missing name')
  if (params.tagFilter && !params.serviceFilter) throw new UserEventError('Cannot provide tag filter without service filter')
  for (const [what, source] of [['node', params.nodeFilter], ['service', params.serviceFilter], ['tag', params.tagFilter]] as const) {
    if (!source) continue
    try {
      compileFilter(source)
    } catch (error) {
      throw new UserEventError(`Invalid ${what} filter: ${(error as Error).message}`)
    }
  }
}

/** Builds the event a fire sends (validated; `id` is a fresh UUID from the caller). */
export function newUserEvent(params: UserEventParams, id: string): UserEvent {
  validateUserEvent(params)
  const payload = params.payload && params.payload.length > 0 ? params.payload : null
  return {
    ID: id, Name: params.name, Payload: payload, NodeFilter: params.nodeFilter ?? '', ServiceFilter: params.serviceFilter ?? '',
    TagFilter: params.tagFilter ?? '', Version: USER_EVENT_VERSION, LTime: 0,
  }
}

/** The msgpack envelope (Consul's codec tags; empty optional fields omitted as `omitempty` does). */
export function encodeEnvelope(event: UserEvent): Uint8Array {
  const map: Record<string, unknown> = {ID: event.ID, n: event.Name}
  if (event.Payload && event.Payload.length > 0) map.p = event.Payload
  if (event.NodeFilter) map.nf = event.NodeFilter
  if (event.ServiceFilter) map.sf = event.ServiceFilter
  if (event.TagFilter) map.tf = event.TagFilter
  map.v = event.Version
  return encode(map)
}

/** Decodes an envelope received by gossip at Lamport time `ltime`; throws a one-line reason. */
export function decodeEnvelope(bytes: Uint8Array, ltime: number): UserEvent {
  let raw: unknown
  try {
    raw = decode(bytes)
  } catch (error) {
    throw new UserEventError(`Failed to decode event: ${(error as Error).message}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserEventError('Failed to decode event: not a map')
  const m = raw as Record<string, unknown>
  const text = (key: string, required = false): string => {
    const value = m[key]
    if (value === undefined || value === null) {
      if (required) throw new UserEventError(`Failed to decode event: missing ${key}`)
      return ''
    }
    if (typeof value !== 'string') throw new UserEventError(`Failed to decode event: ${key} is not a string`)
    return value
  }
  const payload = m.p
  if (payload !== undefined && payload !== null && !(payload instanceof Uint8Array)) throw new UserEventError('Failed to decode event: p is not bytes')
  const version = m.v ?? 0
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new UserEventError('Failed to decode event: v is not an integer')
  return {
    ID: text('ID', true), Name: text('n', true), Payload: payload instanceof Uint8Array && payload.length > 0 ? payload : null,
    NodeFilter: text('nf'), ServiceFilter: text('sf'), TagFilter: text('tf'), Version: version, LTime: ltime,
  }
}

/** The serf event name an event travels under. */
export function serfEventName(name: string): string {
  return SERF_EVENT_PREFIX + name
}

/** Serf's size check on (serf name, envelope); throws Consul's message when over the limit. */
export function checkEventSize(serfName: string, envelope: Uint8Array, limit = USER_EVENT_SIZE_LIMIT): void {
  const size = Buffer.byteLength(serfName) + envelope.length
  if (size > limit) throw new UserEventError(`user event exceeds configured limit of ${limit} bytes before encoding (${size} bytes)`)
}

/**
 * X-Consul-Index of an event list: the newest event's UUID as a 128-bit number, its two 64-bit
 * halves XORed (event_endpoint.go uuidToUint64). Not monotonic: blocking compares for equality.
 * A decimal string, because a uint64 does not fit a JS number.
 */
export function eventIndex(id: string): string {
  const hex = id.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return '1'
  return (BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`)).toString()
}

/** The JSON shape of /v1/event/fire and /v1/event/list entries (Payload base64 or null). */
export function userEventJson(event: UserEvent): Record<string, unknown> {
  return {
    ID: event.ID, Name: event.Name, Payload: event.Payload ? Buffer.from(event.Payload).toString('base64') : null,
    NodeFilter: event.NodeFilter, ServiceFilter: event.ServiceFilter, TagFilter: event.TagFilter, Version: event.Version, LTime: event.LTime,
  }
}
