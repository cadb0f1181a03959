// Session endpoints (Consul docs: api-docs/session).
import {type ApiClient, type QueryMeta, type QueryOptions} from './client.js'

export interface SessionEntry {
  ID: string
  Name: string
  Node: string
  /** Nanoseconds on the wire. */
  LockDelay: number
  Behavior: 'release' | 'delete'
  TTL: string
  NodeChecks?: string[] | null
  ServiceChecks?: Array<{ID: string; Namespace?: string}> | null
  Checks?: string[] | null
  CreateIndex: number
  ModifyIndex: number
}

export interface SessionCreateRequest {
  Name?: string
  Node?: string
  /** Go duration string (`15s`) or nanoseconds. */
  LockDelay?: string | number
  Behavior?: 'release' | 'delete'
  /** Go duration string (`10s`), within [10s, 24h]. */
  TTL?: string
  Checks?: string[]
  NodeChecks?: string[]
  ServiceChecks?: Array<{ID: string; Namespace?: string}>
}

export async function sessionCreate(client: ApiClient, request: SessionCreateRequest = {}, q: QueryOptions = {}): Promise<string> {
  const {value} = await jsonPut(client, '/v1/session/create', JSON.stringify(request), q)
  return String((value as {ID?: string} | null)?.ID ?? '')
}

export async function sessionDestroy(client: ApiClient, id: string, q: QueryOptions = {}): Promise<boolean> {
  const {value} = await jsonPut(client, `/v1/session/destroy/${id}`, '', q)
  return value === true
}

/** Renews a TTL session; null when the session no longer exists (404). */
export async function sessionRenew(client: ApiClient, id: string, q: QueryOptions = {}): Promise<SessionEntry | null> {
  const response = await client.call('PUT', `/v1/session/renew/${id}`, {...q, accept: [404]})
  if (response.status === 404) return null
  const list = JSON.parse(response.body.toString('utf8') || 'null') as SessionEntry[] | null
  return list?.[0] ?? null
}

export async function sessionInfo(client: ApiClient, id: string, q: QueryOptions = {}): Promise<{session: SessionEntry | null; meta: QueryMeta}> {
  const {value, meta} = await client.getJson(`/v1/session/info/${id}`, q)
  const list = (value ?? []) as SessionEntry[]
  return {session: list[0] ?? null, meta}
}

export async function sessionList(client: ApiClient, q: QueryOptions = {}): Promise<{sessions: SessionEntry[]; meta: QueryMeta}> {
  const {value, meta} = await client.getJson('/v1/session/list', q)
  return {sessions: (value ?? []) as SessionEntry[], meta}
}

export async function sessionNode(client: ApiClient, node: string, q: QueryOptions = {}): Promise<{sessions: SessionEntry[]; meta: QueryMeta}> {
  const {value, meta} = await client.getJson(`/v1/session/node/${node}`, q)
  return {sessions: (value ?? []) as SessionEntry[], meta}
}

async function jsonPut(client: ApiClient, path: string, body: string, q: QueryOptions): Promise<{value: unknown}> {
  const response = await client.call('PUT', path, {...q, body})
  const text = response.body.toString('utf8')
  return {value: text.trim() === '' ? null : JSON.parse(text)}
}
