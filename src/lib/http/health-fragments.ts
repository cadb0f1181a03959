// One health entry ({Node, Service, Checks}) kept per service instance, with its JSON once
// rendered, while the records it came from are unchanged: catalog records are immutable (a change
// replaces the record), so the instance and node records' identity plus the node's checks version
// (catalog.ts nodeChecksVersion) say "unchanged" without visiting anything. A /v1/health/service
// answer for a large service with ?tag, ?node-meta, ?passing, ?near or ACLs (the plain answer is a
// service-list.ts list) is then the changed instances rendered again and the rest joined,
// instead of every instance rebuilt and serialized on the event loop (3,600 instances: ~100 ms
// rebuilt, a few ms joined).
//
// Only services with many instances keep entries (a small answer is cheap to build), and the
// entries of the services read most recently are kept up to a byte bound (about the entry's JSON
// per instance): the memory is spent where it saves time, not on every instance of the catalog.
import type {Catalog} from '../state/catalog.js'
import type {CatalogNode, CatalogService, NodeCheck} from '../state/types.js'
import {renderCheck, renderNode, renderNodeService} from './catalog-render.js'
import {KeptValues, joinJsonArray, warmInSlices} from './kept-json.js'

/** Services with at least this many instances keep per-instance entries. */
export const FRAGMENT_MIN_INSTANCES = 128

/** What one health entry is made of. */
export interface HealthRow {
  service: CatalogService
  node: CatalogNode
  checks: NodeCheck[]
}

interface Fragment {
  node: CatalogNode
  checksVersion: number
  checks: NodeCheck[]
  /** The entry's compact JSON as UTF-8 (joined with Buffer.concat: no multi-MB string to flatten and encode). */
  json?: Buffer
}

/** JSON bytes the kept entries may hold (kept-json.ts: groups are services, evicted whole least recently read first). */
export const MAX_FRAGMENT_BYTES = 16 * 1024 * 1024

/** service name → its entries, keyed weakly by the instance record (a replaced record's entry goes with it). */
const kept = new KeptValues<CatalogService, Fragment>(MAX_FRAGMENT_BYTES)

/**
 * The checks of an instance's health entry (catalog.instanceChecks), from its kept entry while the
 * node record and the node's checks version are unchanged; `keep` stores a freshly read one.
 */
export function entryChecks(catalog: Catalog, service: CatalogService, node: CatalogNode, keep: boolean): NodeCheck[] {
  const checksVersion = catalog.nodeChecksVersion(service.node)
  const entries = kept.group(service.service, keep)?.entries
  const found = entries?.get(service)
  if (found !== undefined && found.node === node && found.checksVersion === checksVersion) return found.checks
  const checks = catalog.instanceChecks(service.node, service.id)
  if (keep) entries?.set(service, {node, checksVersion, checks})
  return checks
}

export function healthEntry(row: HealthRow): Record<string, unknown> {
  return {Node: renderNode(row.node), Service: renderNodeService(row.service), Checks: row.checks.map(renderCheck)}
}

/** The entry's compact JSON as UTF-8 (what JSON.stringify gives for it inside the answer's array). */
function fragmentJson(row: HealthRow): Buffer {
  const group = kept.group(row.service.service, false)
  const found = group?.entries.get(row.service)
  // The same checks array = the entry entryChecks kept for these records.
  if (found === undefined || found.node !== row.node || found.checks !== row.checks) return Buffer.from(JSON.stringify(healthEntry(row)))
  if (found.json === undefined) {
    found.json = Buffer.from(JSON.stringify(healthEntry(row)))
    kept.charge(group!, found.json.length)
  }
  return found.json
}

/** The answer array as compact JSON bytes, joined from the rows' kept entries. */
export function joinFragments(rows: readonly HealthRow[]): Buffer {
  return joinJsonArray(rows.map(fragmentJson))
}

/**
 * Renders the entries of a large service not kept yet, in slices between which the event loop runs
 * other work (kept-json.ts warmInSlices): the first read of a 3,600-instance service would
 * otherwise render them all in one task. The answer is still built inside the read, which then
 * only joins (and renders what changed meanwhile).
 */
export async function warmEntries(catalog: Catalog, name: string): Promise<void> {
  if (catalog.instanceCount(name) < FRAGMENT_MIN_INSTANCES) return
  await warmInSlices(kept, name, catalog.serviceIndex(name), () => catalog.instances(name), (service) => {
    const node = catalog.node(service.node)
    if (node === undefined) return
    fragmentJson({service, node, checks: entryChecks(catalog, service, node, true)})
  })
}
