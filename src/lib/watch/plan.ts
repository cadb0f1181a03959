// Watch plans: what one watch type reads, as Consul's watch package (api/watch/funcs.go) defines
// them. A plan is parsed from Consul's parameter map (the `watches` config entry or the CLI flags)
// and reads one blocking endpoint; the result is the API's JSON exactly, so handlers written for
// Consul read the same stdin.
import {type ApiClient, decodeJson, type QueryMeta, type QueryParams} from '../api/client.js'
import {toFlags} from '../api/json.js'

export type WatchType = 'key' | 'keyprefix' | 'services' | 'nodes' | 'service' | 'checks' | 'event' | 'agent_service'
export const WATCH_TYPES: readonly WatchType[] = ['key', 'keyprefix', 'services', 'nodes', 'service', 'checks', 'event', 'agent_service']

/** Consul's watch types coord cannot serve, with the reason (no service mesh, so no CA roots or leaf certificates). */
const REFUSED_WATCH_TYPES: Readonly<Record<string, string>> = {
  connect_roots: 'Unsupported watch type: connect_roots: coord has no service mesh, so there are no Connect CA roots to watch',
  connect_leaf: 'Unsupported watch type: connect_leaf: coord has no service mesh, so there are no Connect leaf certificates to watch',
}

/** Why `type` cannot be watched (one line), or undefined for a type coord runs. */
export function watchTypeProblem(type: string): string | undefined {
  if ((WATCH_TYPES as readonly string[]).includes(type)) return undefined
  return REFUSED_WATCH_TYPES[type] ?? `Unsupported watch type: ${type}`
}

/** Consul's watch parameters (snake_case keys of a `watches` entry, or the CLI flags mapped to them). */
export interface WatchParams {
  type: WatchType
  datacenter?: string
  token?: string
  stale?: boolean
  key?: string
  prefix?: string
  service?: string
  tag?: string[]
  passingonly?: boolean
  state?: string
  name?: string
  /** agent_service: the local agent's service ID (Consul's `service_id`). */
  service_id?: string
}

export class WatchParamError extends Error {
  readonly code = 'WATCH_PARAMS'
}

export interface WatchPlan {
  params: WatchParams
  /** One (blocking) read; `value` is the API's JSON. */
  fetch(client: ApiClient, q: {waitIndex: number | bigint; waitMs: number; signal?: AbortSignal}): Promise<{value: unknown; meta: QueryMeta}>
  /** Event watches deliver only events newer than the last delivered one (Consul's event plan). */
  select?(value: unknown): unknown
}

const STATES = new Set(['any', 'passing', 'warning', 'critical'])

/**
 * A KV entry as Consul's watch hands it over: the decoded api.KVPair marshalled again, so its
 * fields in the struct's order (Key, CreateIndex, ModifyIndex, LockIndex, Flags, Value, Session;
 * Namespace and Partition only when set) and Flags a JSON number. decodeJson keeps a uint64 Flags
 * exact as a digit string; as a bigint, stringifyJson writes it back as bare digits.
 */
function asKvPair(entry: unknown): unknown {
  if (entry === null || typeof entry !== 'object') return entry
  const e = entry as Record<string, unknown>
  return {
    Key: e.Key, CreateIndex: e.CreateIndex, ModifyIndex: e.ModifyIndex, LockIndex: e.LockIndex,
    Flags: toFlags(e.Flags), Value: e.Value ?? null, Session: e.Session ?? '',
    ...(e.Namespace ? {Namespace: e.Namespace} : {}), ...(e.Partition ? {Partition: e.Partition} : {}),
  }
}

/** Validates a parameter set with Consul's messages and builds its plan. */
export function buildPlan(params: WatchParams): WatchPlan {
  const base = {datacenter: params.datacenter || undefined, token: params.token || undefined, stale: params.stale === true}
  const get = (path: string, extra: QueryParams = {}, accept404 = false) =>
    async (client: ApiClient, q: {waitIndex: number | bigint; waitMs: number; signal?: AbortSignal}) => {
      const response = await client.call('GET', path, {...base, ...q, params: extra, accept: accept404 ? [404] : []})
      return {value: response.status === 404 ? null : decodeJson(response), meta: response.meta}
    }
  switch (params.type) {
    case 'key': {
      if (!params.key) throw new WatchParamError('Must specify a single key to watch')
      const read = get(`/v1/kv/${params.key.replace(/^\/+/, '')}`, {}, true)
      return {params, fetch: async (client, q) => {
        const {value, meta} = await read(client, q)
        return {value: Array.isArray(value) ? asKvPair(value[0] ?? null) : null, meta}
      }}
    }
    case 'keyprefix': {
      if (params.prefix === undefined) throw new WatchParamError('Must specify a single prefix to watch')
      const read = get(`/v1/kv/${params.prefix.replace(/^\/+/, '')}`, {recurse: true}, true)
      return {params, fetch: async (client, q) => {
        const {value, meta} = await read(client, q)
        return {value: Array.isArray(value) ? value.map(asKvPair) : value, meta}
      }}
    }
    case 'services':
      return {params, fetch: get('/v1/catalog/services')}
    case 'nodes':
      return {params, fetch: get('/v1/catalog/nodes')}
    case 'service': {
      if (!params.service) throw new WatchParamError('Must specify a single service to watch')
      // Every tag goes as its own ?tag= (an instance must carry them all), as Consul's
      // ServiceMultipleTags sends them.
      const tags = params.tag ?? []
      const read = get(`/v1/health/service/${params.service}`, {tag: tags.length > 0 ? tags : undefined, passing: params.passingonly === true})
      return {params, fetch: read}
    }
    case 'checks': {
      if (params.service && params.state) throw new WatchParamError('Cannot specify service and state')
      if (params.state && !STATES.has(params.state)) throw new WatchParamError(`Invalid state: ${params.state}`)
      return {params, fetch: params.service ? get(`/v1/health/checks/${params.service}`) : get(`/v1/health/state/${params.state || 'any'}`)}
    }
    case 'event': {
      // The list's index is a uint64 hash of the newest event ID; the API client carries it exactly.
      let lastId: string | undefined
      return {
        params,
        fetch: get('/v1/event/list', {name: params.name || undefined}),
        select: (value) => {
          const events = Array.isArray(value) ? (value as Array<{ID?: string}>) : []
          const seen = lastId === undefined ? -1 : events.findIndex((e) => e.ID === lastId)
          const fresh = events.slice(seen + 1)
          if (events.length > 0) lastId = events[events.length - 1].ID
          return fresh
        },
      }
    }
    case 'agent_service': {
      // Consul's agentServiceWatch: /v1/agent/service/<id> blocks on the service's ContentHash
      // (?hash=), not on a Raft index. The loop around plans blocks on indexes, so this plan turns
      // each new hash into the next step of a counter it reports as the index.
      if (!params.service_id) throw new WatchParamError('Must specify a service_id to watch')
      const path = `/v1/agent/service/${params.service_id}`
      let hash = ''
      let step = 0
      return {params, fetch: async (client, q) => {
        const response = await client.call('GET', path, {token: base.token, waitMs: hash === '' ? undefined : q.waitMs, signal: q.signal, params: {hash: hash || undefined}})
        const value = decodeJson(response) as {ContentHash?: string} | null
        const next = String(value?.ContentHash ?? response.headers['x-consul-contenthash'] ?? '')
        if (next !== hash) {
          hash = next
          step++
        }
        return {value, meta: {...response.meta, lastIndex: step, lastIndexExact: BigInt(step)}}
      }}
    }
    default:
      throw new WatchParamError(watchTypeProblem((params as {type: string}).type) ?? 'Unsupported watch type')
  }
}
