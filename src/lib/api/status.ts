// GET /v1/status/leader and /v1/status/peers (Consul docs: api-docs/agent).
import {type ApiClient, type QueryOptions} from './client.js'

/** The leader's server RPC address, or "" when there is none. */
export async function statusLeader(client: ApiClient, q: QueryOptions = {}): Promise<string> {
  const {value} = await client.getJson('/v1/status/leader', q)
  return typeof value === 'string' ? value : ''
}

export async function statusPeers(client: ApiClient, q: QueryOptions = {}): Promise<string[]> {
  const {value} = await client.getJson('/v1/status/peers', q)
  return Array.isArray(value) ? value.map(String) : []
}
