// KV endpoints (Consul docs: api-docs/kv). Values are bytes; Flags are exact uint64 (bigint).
import {type ApiClient, type QueryMeta, type QueryOptions, decodeJson} from './client.js'
import {toFlags} from './json.js'

export interface KVPair {
  key: string
  createIndex: number
  modifyIndex: number
  lockIndex: number
  flags: bigint
  value: Buffer
  /** Holding session, absent when the key is not locked. */
  session?: string
}

export interface KVWriteOptions {
  flags?: bigint | string | number
  /** Check-and-set: 0 = only if absent, N = only if ModifyIndex is N. */
  cas?: bigint | string | number
  acquire?: string
  release?: string
  datacenter?: string
  token?: string
  signal?: AbortSignal
}

export function decodeKVPair(raw: unknown): KVPair {
  const entry = (raw ?? {}) as Record<string, unknown>
  const pair: KVPair = {
    key: String(entry.Key ?? ''),
    createIndex: Number(entry.CreateIndex ?? 0),
    modifyIndex: Number(entry.ModifyIndex ?? 0),
    lockIndex: Number(entry.LockIndex ?? 0),
    flags: toFlags(entry.Flags),
    value: typeof entry.Value === 'string' ? Buffer.from(entry.Value, 'base64') : Buffer.alloc(0),
  }
  if (typeof entry.Session === 'string' && entry.Session !== '') pair.session = entry.Session
  return pair
}

const kvPath = (key: string): string => `/v1/kv/${key}`

/** One key, or null when it does not exist (404). */
export async function kvGet(client: ApiClient, key: string, q: QueryOptions = {}): Promise<{pair: KVPair | null; meta: QueryMeta}> {
  const response = await client.call('GET', kvPath(key), {...q, accept: [404]})
  if (response.status === 404) return {pair: null, meta: response.meta}
  const list = decodeJson(response)
  return {pair: Array.isArray(list) && list.length > 0 ? decodeKVPair(list[0]) : null, meta: response.meta}
}

/** Every pair whose key starts with `prefix`, in key order ([] when none). */
export async function kvList(client: ApiClient, prefix: string, q: QueryOptions = {}): Promise<{pairs: KVPair[]; meta: QueryMeta}> {
  const response = await client.call('GET', kvPath(prefix), {...q, params: {recurse: true}, accept: [404]})
  if (response.status === 404) return {pairs: [], meta: response.meta}
  const list = decodeJson(response)
  return {pairs: Array.isArray(list) ? list.map(decodeKVPair) : [], meta: response.meta}
}

/** Key names under `prefix`, rolled up at `separator` when it is non-empty. */
export async function kvKeys(client: ApiClient, prefix: string, separator = '', q: QueryOptions = {}): Promise<{keys: string[]; meta: QueryMeta}> {
  const response = await client.call('GET', kvPath(prefix), {...q, params: {keys: true, separator: separator || undefined}, accept: [404]})
  if (response.status === 404) return {keys: [], meta: response.meta}
  const list = decodeJson(response)
  return {keys: Array.isArray(list) ? list.map(String) : [], meta: response.meta}
}

/** Writes a value; false when a cas/acquire/release condition did not hold. */
export async function kvPut(client: ApiClient, key: string, value: Uint8Array | string, w: KVWriteOptions = {}): Promise<boolean> {
  const params = {
    flags: w.flags === undefined || String(w.flags) === '0' ? undefined : String(w.flags),
    cas: w.cas === undefined ? undefined : String(w.cas),
    acquire: w.acquire || undefined,
    release: w.release || undefined,
  }
  const response = await client.call('PUT', kvPath(key), {params, body: value, datacenter: w.datacenter, token: w.token, signal: w.signal})
  return decodeJson(response) === true
}

/** Deletes a key (or a prefix with `recurse`); false only when a cas condition did not hold. */
export async function kvDelete(client: ApiClient, key: string, w: {recurse?: boolean; cas?: bigint | string | number; datacenter?: string; token?: string} = {}): Promise<boolean> {
  const params = {recurse: w.recurse === true, cas: w.cas === undefined ? undefined : String(w.cas)}
  const response = await client.call('DELETE', kvPath(key), {params, datacenter: w.datacenter, token: w.token})
  const result = decodeJson(response)
  return result === null ? true : result === true
}
