// What executing a prepared query does to a datacenter's health entries, and where it fails over
// (Consul's agent/consul/prepared_query_endpoint.go: execute, tagFilter, nodeMetaFilter,
// serviceMetaFilter, queryFailover; structs.CheckServiceNodes.FilterIgnore). Pure: the entries are
// the JSON shape /v1/health/service answers (the local state's, or another datacenter's answer), so
// local and remote results go through the same filters.
import type {PreparedQueryDef} from '../state/prepared-query.js'

export interface HealthEntry {
  Node: {Node: string; Meta?: Record<string, string> | null}
  Service: {Tags?: string[] | null; Meta?: Record<string, string> | null}
  Checks?: Array<{CheckID: string; Status: string}> | null
}

/** FilterIgnore: drop an instance with a critical check (with OnlyPassing, any non-passing one), ignoring IgnoreCheckIDs. */
function healthy(entry: HealthEntry, onlyPassing: boolean, ignore: ReadonlySet<string>): boolean {
  for (const check of entry.Checks ?? []) {
    if (ignore.has(check.CheckID)) continue
    if (check.Status === 'critical' || (onlyPassing && check.Status !== 'passing')) return false
  }
  return true
}

/** SatisfiesMetaFilters: every pair present with that value. */
function metaMatches(meta: Record<string, string> | null | undefined, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => meta != null && Object.hasOwn(meta, k) && meta[k] === v)
}

/** tagFilter: ALL plain tags and NONE of the `!`-prefixed ones, case-insensitively. */
function tagsMatch(tags: readonly string[] | null | undefined, wanted: readonly string[]): boolean {
  const have = new Set((tags ?? []).map((t) => t.toLowerCase()))
  return wanted.every((raw) => {
    const tag = raw.toLowerCase()
    return tag.startsWith('!') ? !have.has(tag.slice(1)) : have.has(tag)
  })
}

/** The instances a query selects from one datacenter's entries, in their order. */
export function selectEntries<T extends HealthEntry>(entries: readonly T[], q: PreparedQueryDef['Service']): T[] {
  const ignore = new Set(q.IgnoreCheckIDs)
  return entries.filter((e) => healthy(e, q.OnlyPassing, ignore) &&
    metaMatches(e.Node.Meta, q.NodeMeta) && metaMatches(e.Service.Meta, q.ServiceMeta) && tagsMatch(e.Service.Tags, q.Tags))
}

/**
 * queryFailover's candidate list: the NearestN nearest other datacenters (by WAN RTT), then the
 * listed Datacenters not already in it, unknown ones skipped. With Targets (datacenter targets
 * only: peers are refused at definition time), the known targets in their order.
 */
export function failoverDatacenters(failover: PreparedQueryDef['Service']['Failover'], othersByDistance: readonly string[]): string[] {
  const known = new Set(othersByDistance)
  if (failover.Targets.length > 0) return failover.Targets.map((t) => t.Datacenter).filter((dc) => known.has(dc))
  const out = othersByDistance.slice(0, Math.max(0, failover.NearestN))
  for (const dc of failover.Datacenters) if (known.has(dc) && !out.includes(dc)) out.push(dc)
  return out
}

/** Fisher–Yates with an injected source, so tests can pin the order. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = items[i]
    items[i] = items[j]
    items[j] = tmp
  }
  return items
}
