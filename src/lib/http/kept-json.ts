// Per-record values (a record's rendered JSON, a health entry) kept while the record stands, in
// groups (one per service, or the node list) read most recently first, up to a byte bound.
//
// Catalog records are immutable (a change replaces the record: state/catalog.ts), so a value keyed
// weakly by its record is valid until that record is replaced, and goes with it. A list answer
// (/v1/health/service, /v1/catalog/service, /v1/catalog/nodes) is then its changed records rendered
// again and the rest joined as bytes, instead of every record rebuilt and serialized on the event
// loop. The bound keeps the memory where reads happen: a group is evicted whole, least recently
// read first, once the kept JSON passes `maxBytes` (a replaced record's bytes stay counted until its
// group is evicted).
import {performance} from 'node:perf_hooks'

export interface KeptGroup<K extends object, V> {
  readonly entries: WeakMap<K, V>
  bytes: number
  /** The index (service or table) at which every record of the group was last rendered in slices (warmInSlices); -1: never. */
  warmIndex: number
}

export class KeptValues<K extends object, V> {
  readonly #groups = new Map<string, KeptGroup<K, V>>()
  #bytes = 0

  constructor(readonly maxBytes: number) {}

  /** The group's entries, marked most recently read; made when `create` (else undefined when absent). */
  group(name: string, create: boolean): KeptGroup<K, V> | undefined {
    const found = this.#groups.get(name)
    if (found !== undefined) {
      this.#groups.delete(name)
      this.#groups.set(name, found)
      return found
    }
    if (!create) return undefined
    const made: KeptGroup<K, V> = {entries: new WeakMap(), bytes: 0, warmIndex: -1}
    this.#groups.set(name, made)
    return made
  }

  /** Counts `bytes` more kept in `group`; evicts the least recently read groups (never the last one) past the bound. */
  charge(group: KeptGroup<K, V>, bytes: number): void {
    group.bytes += bytes
    this.#bytes += bytes
    while (this.#bytes > this.maxBytes && this.#groups.size > 1) {
      const [oldest, dropped] = this.#groups.entries().next().value as [string, KeptGroup<K, V>]
      this.#groups.delete(oldest)
      this.#bytes -= dropped.bytes
    }
  }

  /** Bytes counted now (tests). */
  get bytes(): number {
    return this.#bytes
  }

  /** Group names, least recently read first (tests). */
  groupNames(): string[] {
    return [...this.#groups.keys()]
  }
}

/**
 * A record's compact JSON as UTF-8 (what JSON.stringify writes for it inside an array), kept in
 * `group` while the record and its `companion` (the node a service row embeds; null when none) are
 * the same objects.
 */
export function keptJson<K extends object>(store: KeptValues<K, {companion: object | null; json: Buffer}>, groupName: string, record: K, companion: object | null, render: () => unknown): Buffer {
  const group = store.group(groupName, true)!
  const kept = group.entries.get(record)
  if (kept !== undefined && kept.companion === companion) return kept.json
  const json = Buffer.from(JSON.stringify(render()))
  group.entries.set(record, {companion, json})
  store.charge(group, json.length)
  return json
}

/** Longest stretch warmInSlices runs before it lets the event loop take other work. */
export const SLICE_MS = 10

/**
 * Visits `items` in slices of at most ~SLICE_MS, yielding to the event loop (setImmediate) between
 * them: rendering every record of a large list the first time (3,600 instances: ~100 ms on a
 * loaded box) would otherwise hold every other request for that long. The clock is read every
 * `checkEvery` items (1 when each visit is large). Resolves with the number of slices.
 */
export async function visitInSlices<T>(items: readonly T[], visit: (item: T) => void, sliceMs = SLICE_MS, checkEvery: 1 | 32 = 32): Promise<number> {
  let slices = 1
  let sliceStart = performance.now()
  for (let i = 0; i < items.length; i++) {
    visit(items[i])
    if ((i & (checkEvery - 1)) === checkEvery - 1 && performance.now() - sliceStart > sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      slices++
      sliceStart = performance.now()
    }
  }
  return slices
}

/**
 * Renders the records of a group not kept yet, in slices, so the answer built next (synchronously,
 * inside the read) only joins: `index` is what the group's records are as of (a service's index,
 * the nodes table's); a group already warmed at it is not visited again.
 */
export async function warmInSlices<K extends object, V, T>(store: KeptValues<K, V>, groupName: string, index: number, items: () => readonly T[], visit: (item: T) => void): Promise<void> {
  if (store.group(groupName, false)?.warmIndex === index) return
  await visitInSlices(items(), visit)
  const group = store.group(groupName, false)
  if (group !== undefined) group.warmIndex = index
}

const OPEN = Buffer.from('[')
const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']')

/** A JSON array of the parts (each one element's compact JSON), as the bytes JSON.stringify of the array gives. */
export function joinJsonArray(parts: readonly Buffer[]): Buffer {
  const out: Buffer[] = [OPEN]
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out.push(COMMA)
    out.push(parts[i])
  }
  out.push(CLOSE)
  return Buffer.concat(out)
}
