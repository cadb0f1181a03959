// PUT /v1/txn (Consul docs: api-docs/txn): all-or-nothing batches. 409 = rolled back, with per-op errors.
import {type ApiClient, type QueryOptions, decodeJson} from './client.js'
import {type KVPair, decodeKVPair} from './kv.js'

export type KVTxnVerb = 'set' | 'cas' | 'lock' | 'unlock' | 'get' | 'get-tree' | 'check-index' | 'check-session' |
  'check-not-exists' | 'delete' | 'delete-tree' | 'delete-cas'

export interface KVTxnOp {
  verb: KVTxnVerb
  key: string
  value?: Uint8Array | string
  flags?: bigint | string | number
  index?: number
  session?: string
}

export interface TxnResult {
  /** True when the transaction committed (200); false when rolled back (409). */
  ok: boolean
  results: KVPair[]
  errors: Array<{opIndex: number; what: string}>
}

export async function txn(client: ApiClient, ops: KVTxnOp[], q: QueryOptions = {}): Promise<TxnResult> {
  // Flags are spliced in as bare digits so values above 2^53 stay exact.
  const body = `[${ops.map((op) => {
    const kv = JSON.stringify({
      Verb: op.verb, Key: op.key,
      Value: op.value === undefined ? undefined : Buffer.from(op.value).toString('base64'),
      Index: op.index, Session: op.session,
    })
    return op.flags === undefined ? `{"KV":${kv}}` : `{"KV":${kv.slice(0, -1)},"Flags":${String(op.flags)}}}`
  }).join(',')}]`
  const response = await client.call('PUT', '/v1/txn', {...q, body, accept: [409]})
  const decoded = (decodeJson(response) ?? {}) as {Results?: Array<{KV?: unknown}> | null; Errors?: Array<{OpIndex: number; What: string}> | null}
  return {
    ok: response.status === 200,
    results: (decoded.Results ?? []).filter((r) => r.KV !== undefined).map((r) => decodeKVPair(r.KV)),
    errors: (decoded.Errors ?? []).map((e) => ({opIndex: e.OpIndex, what: e.What})),
  }
}
