// sorted-btree's bulk load (extended/bulkLoad.js: leaves of ~80 % of the node size from sorted
// keys, then each level of internal nodes over the one below) done a bounded number of records per
// step, so a restore of a million keys builds its trees while the event loop keeps running
// (ReplicatedState.prepareRestore). The tree it returns is node for node the one bulkLoad builds
// (test/unit/state/btree-bulk.test.ts). This is the one module that reaches into the library's
// node classes (exported by its main module, absent from its typings).
import btree from 'sorted-btree'

const BTree = btree.default
export type BTree<K, V> = InstanceType<typeof btree.default<K, V>>

/** The parts of sorted-btree's nodes this module uses. */
interface BNode<K> {
  keys: K[]
  size(): number
}
interface BNodeInternal<K> extends BNode<K> {
  children: Array<BNode<K>>
  takeFromLeft(lhs: BNodeInternal<K>): void
}
interface Internals<K, V> {
  BNode: new (keys?: K[], values?: V[]) => BNode<K>
  BNodeInternal: new (children: Array<BNode<K>>, size: number) => BNodeInternal<K>
  fixMaxSize(maxNodeSize: number): number
}
const internals = btree as unknown as Internals<string, unknown>

/** bulkLoad's default load factor: leaves and internal nodes are built ~80 % full. */
const LOAD_FACTOR = 0.8

/** The node size a `new BTree()` has (the trees KVStore builds one key at a time). */
export const DEFAULT_NODE_SIZE = new BTree<string, unknown>()._maxNodeSize

/**
 * A tree of `keys[i]` → `values[i]` when the keys are strictly ascending (undefined when not), built
 * a step at a time: each `next()` handles about `stepRecords` keys (or child nodes, for the upper
 * levels). Returns what `bulkLoad(keys, values, DEFAULT_NODE_SIZE, defaultComparator)` returns.
 * The caller must not change the arrays meanwhile.
 */
export function* bulkLoadSteps<V>(keys: readonly string[], values: readonly V[], stepRecords: number): Generator<void, BTree<string, V> | undefined> {
  if (keys.length !== values.length) throw new Error('bulkLoad: keys and values arrays must be the same length')
  const per = Math.max(1, Math.floor(stepRecords))
  const maxNodeSize = internals.fixMaxSize(DEFAULT_NODE_SIZE)
  const total = keys.length
  for (let i = 1; i < total; i++) {
    if (!(keys[i - 1] < keys[i])) return undefined
    if (i % per === 0) yield
  }
  const tree = new BTree<string, V>(undefined, btree.defaultComparator, maxNodeSize)
  if (total === 0) {
    setRoot(tree, new internals.BNode())
    return tree
  }
  // Leaves: as evenly filled as shared.js makeLeavesFrom makes them (each > 50 % full when there are several).
  const targetSize = Math.ceil(maxNodeSize * LOAD_FACTOR)
  let nodes: Array<BNode<string>> = []
  let remaining = total
  let at = 0
  let sinceYield = 0
  for (let leaves = total <= maxNodeSize ? 1 : Math.ceil(total / targetSize); leaves > 0; leaves--) {
    const chunk = Math.ceil(remaining / leaves)
    nodes.push(new internals.BNode(keys.slice(at, at + chunk), values.slice(at, at + chunk) as unknown[]))
    at += chunk
    remaining -= chunk
    sinceYield += chunk
    if (sinceYield >= per) {
      sinceYield = 0
      yield
    }
  }
  // Upper levels, as bulkLoadRoot builds them, a bounded number of children per step.
  const isExactlyHalf = targetSize === maxNodeSize / 2
  const minSize = Math.floor(maxNodeSize / 2)
  while (nodes.length > 1) {
    const count = nodes.length
    if (count <= maxNodeSize && (count !== maxNodeSize || !isExactlyHalf)) {
      nodes = [new internals.BNodeInternal(nodes, sumSizes(nodes, 0, count))]
      break
    }
    const parents = Math.ceil(count / targetSize)
    if (parents <= 1) throw new Error('B+ tree bulk load: a level of one node')
    const level = new Array<BNodeInternal<string>>(parents)
    let left = count
    let child = 0
    for (let p = 0; p < parents; p++) {
      const chunk = Math.ceil(left / (parents - p))
      const children = nodes.slice(child, child + chunk)
      level[p] = new internals.BNodeInternal(children, sumSizes(children, 0, chunk))
      child += chunk
      left -= chunk
      sinceYield += chunk
      if (sinceYield >= per) {
        sinceYield = 0
        yield
      }
    }
    // An underfilled last node takes children from its left sibling.
    const secondLast = level[parents - 2]
    const last = level[parents - 1]
    while (last.children.length < minSize) last.takeFromLeft(secondLast)
    nodes = level
  }
  setRoot(tree, nodes[0])
  return tree
}

function sumSizes(nodes: ReadonlyArray<BNode<string>>, from: number, to: number): number {
  let total = 0
  for (let i = from; i < to; i++) total += nodes[i].size()
  return total
}

function setRoot<V>(tree: BTree<string, V>, root: BNode<string>): void {
  (tree as unknown as {_root: BNode<string>})._root = root
}
