// /v1/catalog/* reads (Consul docs: api-docs/catalog, api-docs/health), typed as Consul's api/catalog.go.
import {type ApiClient, type QueryMeta, type QueryOptions} from './client.js'

export interface CatalogNode {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string> | null
  Meta: Record<string, string> | null
  CreateIndex: number
  ModifyIndex: number
}

export interface CatalogServiceNode {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string> | null
  NodeMeta: Record<string, string> | null
  ServiceID: string
  ServiceName: string
  ServiceTags: string[] | null
  ServiceAddress: string
  ServicePort: number
}

export interface CatalogNodeServices {
  Node: CatalogNode
  Services: Record<string, {ID: string; Service: string; Tags: string[] | null}> | null
}

export interface CatalogQuery extends QueryOptions {
  near?: string
  /** `key:value` pairs (Consul's NodeMeta query filter). */
  nodeMeta?: string[]
}

function params(q: CatalogQuery): Record<string, string | string[] | undefined> {
  return {near: q.near || undefined, 'node-meta': q.nodeMeta && q.nodeMeta.length > 0 ? q.nodeMeta : undefined}
}

export async function catalogDatacenters(client: ApiClient): Promise<string[]> {
  const {value} = await client.getJson('/v1/catalog/datacenters')
  return Array.isArray(value) ? value as string[] : []
}

export async function catalogNodes(client: ApiClient, q: CatalogQuery = {}): Promise<{nodes: CatalogNode[]; meta: QueryMeta}> {
  const {value, meta} = await client.getJson('/v1/catalog/nodes', {...q, params: params(q)})
  return {nodes: Array.isArray(value) ? value as CatalogNode[] : [], meta}
}

export async function catalogServices(client: ApiClient, q: CatalogQuery = {}): Promise<{services: Record<string, string[]>; meta: QueryMeta}> {
  const {value, meta} = await client.getJson('/v1/catalog/services', {...q, params: params(q)})
  return {services: (value ?? {}) as Record<string, string[]>, meta}
}

export async function catalogService(client: ApiClient, name: string, q: CatalogQuery & {tags?: string[]} = {}): Promise<{nodes: CatalogServiceNode[]; meta: QueryMeta}> {
  const {value, meta} = await client.getJson(`/v1/catalog/service/${name}`, {...q, params: {...params(q), tag: q.tags && q.tags.length > 0 ? q.tags : undefined}})
  return {nodes: Array.isArray(value) ? value as CatalogServiceNode[] : [], meta}
}

/** null when the node is unknown. */
export async function catalogNode(client: ApiClient, node: string, q: CatalogQuery = {}): Promise<CatalogNodeServices | null> {
  const {value} = await client.getJson(`/v1/catalog/node/${node}`, {...q, params: params(q)})
  return (value ?? null) as CatalogNodeServices | null
}
