// A large service's list answer (/v1/health/service/:name, /v1/catalog/service/:name, without
// ?tag, ?node-meta, ?passing, ?near, ?filter, ?pretty or ACLs) kept as its rows' JSON in Consul's
// order (node, then service ID), in blocks of consecutive rows, each block's JSON joined once.
//
// When the service's index moves, the catalog's change log (state/catalog.ts serviceChangesSince)
// names the nodes that changed; only their rows are looked at, rendered again and their blocks
// joined again, and the answer is the ~n/64 block buffers concatenated. So a change costs what
// changed (plus one copy of the answer's bytes), not a walk, sort, render and join of every
// instance. A reader the log no longer covers (a new view, a restored catalog, a long gap)
// resyncs: one walk of the instances, rendering only the rows whose records were replaced.
//
// /v1/catalog/nodes (plain form) is the same kind of list with one row per node, following the
// nodes table's change log (catalog.ts nodeChangesSince): a node written renders that row again.
//
// Row identity is the records themselves: catalog records are immutable (a change replaces the
// record), so a row whose records (and checks) are the same objects has the same JSON.
import type {Catalog} from '../state/catalog.js'
import type {CatalogService} from '../state/types.js'
import {visitInSlices} from './kept-json.js'
import type {Chunks} from './respond.js'

/** What a kind of list (health entries, catalog instances, catalog nodes) needs to build its rows. */
export interface ListKind<R> {
  /** The rows of service `name` on `node`, ordered by service ID. */
  rowsOn(catalog: Catalog, node: string, name: string): R[]
  /** Every row of service `name`, in Consul's order. */
  allRows(catalog: Catalog, name: string): R[]
  /** The node a row belongs to (rows are ordered by node first). */
  nodeOf(row: R): string
  /** The index the list's answer is as of. */
  index(catalog: Catalog, name: string): number
  /** The nodes whose rows may have changed after `index`, or undefined (then every row is looked at). */
  changesSince(catalog: Catalog, name: string, index: number): string[] | undefined
  /** True when the two rows render the same JSON (the same records). */
  same(a: R, b: R): boolean
  /** The row's answer element (JSON.stringify'd). */
  render(row: R): unknown
}

/** How a service's rows (each an instance on a node) are ordered and followed: its index and change log. */
export function serviceRows<R extends {readonly service: CatalogService}>(): Pick<ListKind<R>, 'nodeOf' | 'index' | 'changesSince'> {
  return {
    nodeOf: (row) => row.service.node,
    index: (catalog, name) => catalog.serviceIndex(name),
    changesSince: (catalog, name, index) => catalog.serviceChangesSince(name, index),
  }
}

/** A row with where its JSON is: `src[start, end)` (src undefined: not rendered yet). */
interface Kept<R> {
  row: R
  src: Buffer | undefined
  start: number
  end: number
}

interface Block<R> {
  rows: Array<Kept<R>>
  /** The rows' JSON joined by commas; undefined when a row changed since. */
  bytes: Buffer | undefined
}

/** Rows per block when blocks are made; a block past twice this is split. */
export const BLOCK_ROWS = 64

const OPEN = Buffer.from('[')
const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']')

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export class ServiceList<R> {
  #blocks: Array<Block<R>> = []
  #catalog: Catalog | undefined
  /** The service index the rows are as of; -1: never synced. */
  #asOf = -1
  #body: Chunks | undefined
  /** Bytes of JSON kept in the blocks (about the answer's size). */
  bytes = 0
  /** Rows rendered since made (tests: what a change cost). */
  rendered = 0

  constructor(readonly name: string, readonly kind: ListKind<R>) {}

  /** Brings the rows up to the catalog's current state of the service: O(changed nodes) while the change log covers the gap. */
  sync(catalog: Catalog): void {
    const index = this.kind.index(catalog, this.name)
    if (catalog === this.#catalog && index === this.#asOf) return
    const nodes = catalog === this.#catalog && index > this.#asOf ? this.kind.changesSince(catalog, this.name, this.#asOf) : undefined
    if (nodes === undefined) this.#resync(this.kind.allRows(catalog, this.name))
    else for (const node of new Set(nodes)) this.#replaceNode(node, this.kind.rowsOn(catalog, node, this.name))
    this.#catalog = catalog
    this.#asOf = index
  }

  /**
   * Renders the rows not rendered yet and joins the blocks that changed, in slices between which
   * the event loop runs (kept-json.ts visitInSlices): a first read of a 3,600-instance service
   * would otherwise render and copy its megabytes in one task. The read then only sends.
   */
  async renderInSlices(): Promise<void> {
    const stale = this.#blocks.filter((block) => block.bytes === undefined)
    if (stale.length === 0) return
    await visitInSlices(stale, (block) => {
      // A block a change replaced meanwhile is no longer in the list; joining it is harmless.
      if (block.bytes === undefined) block.bytes = this.#join(block)
    }, undefined, 1)
  }

  /**
   * The answer, in parts (the blocks, sent one after another: respond.ts Chunks): a JSON array of
   * every row, as JSON.stringify of the rendered rows gives it. The same parts until a change.
   */
  body(): Chunks {
    if (this.#body !== undefined) return this.#body
    const parts: Buffer[] = [OPEN]
    let bytes = 0
    for (const block of this.#blocks) {
      if (block.bytes === undefined) block.bytes = this.#join(block)
      if (parts.length > 1) parts.push(COMMA)
      parts.push(block.bytes)
      bytes += block.bytes.length
    }
    parts.push(CLOSE)
    this.bytes = bytes
    this.#body = parts
    return parts
  }

  /** Number of rows (tests). */
  get size(): number {
    let n = 0
    for (const block of this.#blocks) n += block.rows.length
    return n
  }

  #render(kept: Kept<R>): void {
    const json = Buffer.from(JSON.stringify(this.kind.render(kept.row)))
    kept.src = json
    kept.start = 0
    kept.end = json.length
    this.rendered++
  }

  /** The block's rows' JSON joined by commas, each row then pointing into it. */
  #join(block: Block<R>): Buffer {
    let length = Math.max(0, block.rows.length - 1)
    for (const kept of block.rows) {
      if (kept.src === undefined) this.#render(kept)
      length += kept.end - kept.start
    }
    const out = Buffer.allocUnsafe(length)
    let at = 0
    for (let i = 0; i < block.rows.length; i++) {
      const kept = block.rows[i]
      if (i > 0) out[at++] = 0x2c
      const size = kept.src!.copy(out, at, kept.start, kept.end)
      kept.src = out
      kept.start = at
      kept.end = at + size
      at += size
    }
    return out
  }

  #resync(rows: R[]): void {
    const old = new Map<string, Array<Kept<R>>>()
    for (const block of this.#blocks) {
      for (const kept of block.rows) {
        const node = this.kind.nodeOf(kept.row)
        const list = old.get(node)
        if (list === undefined) old.set(node, [kept])
        else list.push(kept)
      }
    }
    const blocks: Array<Block<R>> = []
    let current: Block<R> | undefined
    for (const row of rows) {
      const reused = old.get(this.kind.nodeOf(row))?.find((k) => this.kind.same(k.row, row))
      const kept: Kept<R> = reused !== undefined ? {row, src: reused.src, start: reused.start, end: reused.end} : {row, src: undefined, start: 0, end: 0}
      if (current === undefined || current.rows.length >= BLOCK_ROWS) blocks.push((current = {rows: [], bytes: undefined}))
      current.rows.push(kept)
    }
    this.#blocks = blocks
    this.#body = undefined
  }

  /** The first block whose last row's node is ≥ `node` (blocks.length when none). */
  #blockOf(node: string): number {
    let lo = 0
    let hi = this.#blocks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const rows = this.#blocks[mid].rows
      if (compareStrings(this.kind.nodeOf(rows[rows.length - 1].row), node) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Replaces the rows of `node` with `rows` (ordered by ID), keeping the JSON of the rows that are the same. */
  #replaceNode(node: string, rows: R[]): void {
    let b = this.#blockOf(node)
    if (b === this.#blocks.length) {
      // After every row: append to the last block (or a first one).
      if (rows.length === 0) return
      if (b === 0) this.#blocks.push({rows: [], bytes: undefined})
      b = this.#blocks.length - 1
    }
    const home = this.#blocks[b]
    let at = 0
    while (at < home.rows.length && compareStrings(this.kind.nodeOf(home.rows[at].row), node) < 0) at++
    // Take out the node's current rows (they may run on into the next blocks).
    const removed: Array<Kept<R>> = []
    for (let i = b; i < this.#blocks.length; i++) {
      const block = this.#blocks[i]
      const from = i === b ? at : 0
      let to = from
      while (to < block.rows.length && this.kind.nodeOf(block.rows[to].row) === node) to++
      if (to > from) removed.push(...block.rows.slice(from, to))
      if (to < block.rows.length || to === from) break
    }
    if (removed.length === rows.length && removed.every((k, i) => this.kind.same(k.row, rows[i]))) {
      // Same records: only the row objects move on (their JSON stands).
      removed.forEach((k, i) => { k.row = rows[i] })
      return
    }
    let left = removed.length
    for (let i = b; left > 0; i++) {
      const block = this.#blocks[i]
      const from = i === b ? at : 0
      const count = Math.min(left, block.rows.length - from)
      block.rows.splice(from, count)
      block.bytes = undefined
      left -= count
    }
    const fresh = rows.map((row): Kept<R> => {
      const reused = removed.find((k) => this.kind.same(k.row, row))
      return reused !== undefined ? {row, src: reused.src, start: reused.start, end: reused.end} : {row, src: undefined, start: 0, end: 0}
    })
    home.rows.splice(at, 0, ...fresh)
    home.bytes = undefined
    this.#body = undefined
    // Drop emptied blocks; split an overgrown one.
    this.#blocks = this.#blocks.flatMap((block) => {
      if (block.rows.length === 0) return []
      if (block.rows.length <= 2 * BLOCK_ROWS) return [block]
      const halves: Array<Block<R>> = []
      for (let i = 0; i < block.rows.length; i += BLOCK_ROWS) halves.push({rows: block.rows.slice(i, i + BLOCK_ROWS), bytes: undefined})
      return halves
    })
  }
}

/**
 * The kept lists of the services read most recently, up to a byte bound (about their answers'
 * size); the least recently read list is dropped whole past it (never the last one).
 */
export class ServiceLists<R> {
  readonly #lists = new Map<string, ServiceList<R>>()

  constructor(readonly kind: ListKind<R>, readonly maxBytes: number) {}

  /** The list of service `name` (made when absent), marked most recently read. */
  get(name: string): ServiceList<R> {
    let list = this.#lists.get(name)
    if (list !== undefined) this.#lists.delete(name)
    else list = new ServiceList(name, this.kind)
    this.#lists.set(name, list)
    return list
  }

  /** Brings service `name`'s list up to the catalog and renders its changed blocks in slices (before a read). */
  async warm(name: string, catalog: Catalog): Promise<void> {
    const list = this.get(name)
    list.sync(catalog)
    await list.renderInSlices()
  }

  /** Service `name`'s answer, current with the catalog (then the least recently read lists past the bound go). */
  body(name: string, catalog: Catalog): Chunks {
    const list = this.get(name)
    list.sync(catalog)
    const body = list.body()
    this.trim()
    return body
  }

  /** Drops the least recently read lists while the kept bytes pass the bound. */
  trim(): void {
    let total = 0
    for (const list of this.#lists.values()) total += list.bytes
    for (const [name, list] of this.#lists) {
      if (total <= this.maxBytes || this.#lists.size === 1) break
      this.#lists.delete(name)
      total -= list.bytes
    }
  }

  /** Names kept, least recently read first (tests). */
  names(): string[] {
    return [...this.#lists.keys()]
  }
}
