// GET/PUT /v1/snapshot (Consul docs: api-docs/operator, api-docs/snapshot). The archive is opaque here: lib/snapshot/archive.ts reads it.
import {type ApiClient, type QueryMeta, type QueryOptions} from './client.js'

/** The archive bytes and the index they were taken at (X-Consul-Index). */
export async function snapshotSave(client: ApiClient, q: QueryOptions = {}): Promise<{archive: Buffer; meta: QueryMeta}> {
  const response = await client.call('GET', '/v1/snapshot', q)
  return {archive: response.body, meta: response.meta}
}

export async function snapshotRestore(client: ApiClient, archive: Uint8Array, q: Pick<QueryOptions, 'datacenter' | 'token'> = {}): Promise<void> {
  await client.call('PUT', '/v1/snapshot', {...q, body: archive})
}
