// One health entry ({Node, Service, Checks}) kept per service instance, with its JSON once
// rendered, while the records it came from are unchanged: catalog records are immutable (a change
// replaces the record), so the instance and node records' identity plus the node's checks version
// (catalog.ts nodeChecksVersion) say "unchanged" without visiting anything. A /v1/health/service
// answer for a large service is then the changed instances rendered again and the rest joined,
// instead of every instance rebuilt and serialized on the event loop (3,600 instances: ~100 ms
// rebuilt, a few ms joined).
//
// Only services with many instances keep entries (a small answer is cheap to build), and the
// entries of the services read most recently are kept up to a byte bound (about the entry's JSON
// per instance): the memory is spent where it saves time, not on every instance of the catalog.
import type {Catalog} from '../state/catalog.js'
import type {CatalogNode, CatalogService, NodeCheck} from '../state/types.js'
import {renderCheck, renderNode, renderNodeService} from './catalog-render.js'

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

/** JSON bytes the kept entries may hold (counted as written; a replaced record's entry is dropped with it but stays counted until its service is evicted). */
export const MAX_FRAGMENT_BYTES = 16 * 1024 * 1024

/**
 * service name → its entries, keyed weakly by the instance record (a replaced record's entry goes
 * with it); a Map in least-recently-read order, evicted whole from the front beyond the bound.
 */
const byService = new Map<string, {entries: WeakMap<CatalogService, Fragment>; bytes: number}>()
let keptBytes = 0

function entriesOf(name: string, create: boolean): {entries: WeakMap<CatalogService, Fragment>; bytes: number} | undefined {
  const found = byService.get(name)
  if (found !== undefined) {
    byService.delete(name)
    byService.set(name, found)
    return found
  }
  if (!create) return undefined
  const made = {entries: new WeakMap<CatalogService, Fragment>(), bytes: 0}
  byService.set(name, made)
  return made
}

function account(service: {bytes: number}, bytes: number): void {
  service.bytes += bytes
  keptBytes += bytes
  while (keptBytes > MAX_FRAGMENT_BYTES && byService.size > 1) {
    const [oldest, dropped] = byService.entries().next().value as [string, {bytes: number}]
    byService.delete(oldest)
    keptBytes -= dropped.bytes
  }
}

/**
 * The checks of an instance's health entry (catalog.instanceChecks), from its kept entry while the
 * node record and the node's checks version are unchanged; `keep` stores a freshly read one.
 */
export function entryChecks(catalog: Catalog, service: CatalogService, node: CatalogNode, keep: boolean): NodeCheck[] {
  const checksVersion = catalog.nodeChecksVersion(service.node)
  const entries = entriesOf(service.service, keep)?.entries
  const kept = entries?.get(service)
  if (kept !== undefined && kept.node === node && kept.checksVersion === checksVersion) return kept.checks
  const checks = catalog.instanceChecks(service.node, service.id)
  if (keep) entries?.set(service, {node, checksVersion, checks})
  return checks
}

export function healthEntry(row: HealthRow): Record<string, unknown> {
  return {Node: renderNode(row.node), Service: renderNodeService(row.service), Checks: row.checks.map(renderCheck)}
}

/** The entry's compact JSON as UTF-8 (what JSON.stringify gives for it inside the answer's array). */
function fragmentJson(row: HealthRow): Buffer {
  const service = byService.get(row.service.service)
  const kept = service?.entries.get(row.service)
  // The same checks array = the entry entryChecks kept for these records.
  if (kept === undefined || kept.node !== row.node || kept.checks !== row.checks) return Buffer.from(JSON.stringify(healthEntry(row)))
  if (kept.json === undefined) {
    kept.json = Buffer.from(JSON.stringify(healthEntry(row)))
    account(service!, kept.json.length)
  }
  return kept.json
}

const OPEN = Buffer.from('[')
const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']')

/** The answer array as compact JSON bytes, joined from the rows' kept entries. */
export function joinFragments(rows: readonly HealthRow[]): Buffer {
  const parts: Buffer[] = [OPEN]
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) parts.push(COMMA)
    parts.push(fragmentJson(rows[i]))
  }
  parts.push(CLOSE)
  return Buffer.concat(parts)
}
