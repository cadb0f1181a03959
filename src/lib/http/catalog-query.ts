// Query parameters shared by the catalog and health endpoints (SPEC-http §1.2, §7): `tag`
// (repeatable, all must match, case-insensitive as Consul's serviceTagsFilter), `node-meta`
// (repeatable `key:value`, all must match), `near`, `filter`, and combined watches.
import type {AgentContext, RequestContext} from './context.js'
import type {Watch} from './blocking.js'
import {badRequest} from './errors.js'
import {FilterError} from '../filter/parse.js'
import {compileFilter, type Filter, type Schema} from '../filter/evaluate.js'
import type {WatchTable} from '../state/watch.js'

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

/**
 * `?near=`: coord keeps no network coordinates, so "nearest first" means the named node (`_agent`
 * = this agent) first, everything else in the endpoint's usual order.
 */
export function sortNear<T>(agent: AgentContext, ctx: RequestContext, items: T[], nodeOf: (item: T) => string): T[] {
  const near = ctx.params.get('near')
  if (near === null || near === '') return items
  const source = near === '_agent' ? agent.config.nodeName : near
  const first = items.filter((item) => nodeOf(item) === source)
  return first.length === 0 ? items : [...first, ...items.filter((item) => nodeOf(item) !== source)]
}

/** A watch on several tables at once: any one firing wakes the reader. */
export function watchTables(agent: AgentContext, ...tables: WatchTable[]): Watch {
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
