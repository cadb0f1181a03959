// User events (Consul docs: api-docs/event): fire one, list the ones this agent kept. The list's index is a
// uint64 hash (not a Raft index), so it is kept as a decimal string end to end.
import {type ApiClient, type QueryOptions, decodeJson} from './client.js'

export interface UserEventEntry {
  ID: string
  Name: string
  /** Base64 as on the wire, or null. */
  Payload: string | null
  NodeFilter: string
  ServiceFilter: string
  TagFilter: string
  Version: number
  LTime: number
}

export interface EventFireOptions {
  node?: string
  service?: string
  tag?: string
  datacenter?: string
  token?: string
}

/** PUT /v1/event/fire/:name; returns the event (its ID) as the agent sent it. */
export async function eventFire(client: ApiClient, name: string, payload: Uint8Array | string | null, o: EventFireOptions = {}): Promise<UserEventEntry> {
  const response = await client.call('PUT', `/v1/event/fire/${name}`, {
    params: {node: o.node || undefined, service: o.service || undefined, tag: o.tag || undefined},
    body: payload ?? undefined, datacenter: o.datacenter, token: o.token,
  })
  const event = decodeJson(response) as UserEventEntry | null
  // Something other than an agent at the address (a proxy, another service) answers 200 too.
  if (typeof event?.ID !== 'string') throw new Error(`unexpected response from the agent: ${response.body.toString('utf8').slice(0, 100) || '(empty)'}`)
  return event
}

/** GET /v1/event/list; `index` (a previous answer's) blocks until a new event or `waitMs`. */
export async function eventList(client: ApiClient, o: {name?: string; index?: string; waitMs?: number; signal?: AbortSignal} & Pick<QueryOptions, 'token'> = {}): Promise<{events: UserEventEntry[]; index: string}> {
  const response = await client.call('GET', '/v1/event/list', {
    params: {name: o.name || undefined, index: o.index && o.index !== '0' ? o.index : undefined},
    waitMs: o.waitMs, token: o.token, signal: o.signal,
  })
  return {events: (decodeJson(response) ?? []) as UserEventEntry[], index: response.headers['x-consul-index'] ?? '1'}
}
