// GET/PUT /v1/snapshot (Consul docs: api-docs/operator, api-docs/snapshot). The archive is opaque here: lib/snapshot/archive.ts reads it.
import {type ApiClient, type QueryMeta, type QueryOptions} from './client.js'

/** The archive bytes and the index they were taken at (X-Consul-Index). */
/** GET /v1/snapshot: the archive as it streams in (read it to the end), and the query metadata. */
export async function snapshotSave(client: ApiClient, q: QueryOptions = {}): Promise<{archive: AsyncIterable<Uint8Array>; meta: QueryMeta}> {
  const {body, meta} = await client.open('/v1/snapshot', q)
  return {archive: body as AsyncIterable<Uint8Array>, meta}
}

export async function snapshotRestore(client: ApiClient, archive: Uint8Array, q: Pick<QueryOptions, 'datacenter' | 'token'> = {}): Promise<void> {
  await client.call('PUT', '/v1/snapshot', {...q, body: archive})
}
