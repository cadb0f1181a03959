// Query parameters shared by the catalog and health endpoints (Consul docs: api-docs/features/consistency, api-docs/catalog, api-docs/health): `tag`
// (repeatable, all must match, case-insensitive as Consul's serviceTagsFilter), `node-meta`
// (repeatable `key:value`, all must match), `near` (RTT order from network coordinates), `filter`,
// and combined watches.
import type {AgentDeps, RequestContext} from './context.js'
import type {Watch} from './blocking.js'
import {badRequest} from '../errors.js'
import {FilterError} from '../filter/parse.js'
import {compileFilter, type Filter, type Schema} from '../filter/evaluate.js'
import type {WatchTable} from '../state/watch.js'
import {sortByDistanceFrom} from '../coordinate/order.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type CatalogQueryDeps = AgentDeps<'config' | 'state'>


/** `?filter=` compiled for `schema`; every record passes when absent. A bad expression is a 400. */
export function filterParam(ctx: RequestContext, schema: Schema): Filter {
  const text = ctx.params.get('filter')
  if (text === null || text.trim() === '') return () => true
  try {
    return compileFilter(text, schema)
  } catch (err) {
    if (err instanceof FilterError) throw badRequest(err.message)
    throw err
  }
}

export function nodeMetaParam(ctx: RequestContext): Array<[string, string]> {
  return ctx.params.getAll('node-meta').map((pair) => {
    const at = pair.indexOf(':')
    return at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]
  })
}

export function matchesNodeMeta(meta: Record<string, string> | undefined, wanted: ReadonlyArray<[string, string]>): boolean {
  return wanted.every(([key, value]) => meta !== undefined && Object.hasOwn(meta, key) && meta[key] === value)
}

export function hasTags(tags: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((tag) => tags.some((t) => t.toLowerCase() === tag.toLowerCase()))
}

/** The node `?near=` names (`_agent` = this agent, as Consul's parseSource); null when absent. */
export function nearSource(agent: CatalogQueryDeps, ctx: RequestContext): string | null {
  const near = ctx.params.get('near')
  if (near === null || near === '') return null
  return near === '_agent' ? agent.config.nodeName : near
}

/**
 * `?near=`: nearest first by estimated RTT from the named node's LAN coordinate (the coordinates
 * table the agents fill), the node itself first, nodes without a coordinate last, ties in the
 * endpoint's usual order. A source with no coordinate (unknown node, not synced yet): unsorted,
 * as Consul answers.
 */
export function sortNear<T>(agent: CatalogQueryDeps, ctx: RequestContext, items: T[], nodeOf: (item: T) => string): T[] {
  const source = nearSource(agent, ctx)
  if (source === null) return items
  const table = agent.state.coordinates
  return sortByDistanceFrom(source, items, nodeOf, (node) => table.get(node))
}

/**
 * A client agent forwards reads to a server, where `_agent` would mean the server: name this
 * agent instead (Consul resolves `_agent` in the HTTP layer, before the RPC). Other URLs unchanged.
 */
export function resolveNearAgent(url: string, nodeName: string): string {
  const at = url.indexOf('?')
  if (at === -1 || !/(^|&)near=_agent(&|$)/.test(url.slice(at + 1))) return url
  const params = new URLSearchParams(url.slice(at + 1))
  params.set('near', nodeName)
  return `${url.slice(0, at)}?${params.toString()}`
}

/** The part of an answer-cache key that `?near` adds: the source and the coordinates' index. */
export function nearCacheKey(agent: CatalogQueryDeps, ctx: RequestContext): string | null {
  const source = nearSource(agent, ctx)
  return source === null ? null : `${source}@${agent.state.coordinatesIndex()}`
}

/** A watch on several tables at once: any one firing wakes the reader. */
export function watchTables(agent: CatalogQueryDeps, ...tables: WatchTable[]): Watch {
  return (wake) => {
    const cancels = tables.map((table) => agent.state.watches.watchTable(table, wake))
    return () => { for (const cancel of cancels) cancel() }
  }
}

/** The name after the route prefix, or a 400 with Consul's text. */
export function requireName(ctx: RequestContext, what: 'service' | 'node'): string {
  if (ctx.tail === '') throw badRequest(`Missing ${what} name`)
  return ctx.tail
}
