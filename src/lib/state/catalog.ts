// A minimal catalog: nodes and their node-level health checks, just enough for sessions to be
// bound to registered nodes and checks (SPEC-http §4). Services come later (SPEC-http §7).
//
// As Consul's ensureNodeTxn/ensureCheckTxn do, re-registering an unchanged node or check writes
// nothing: anti-entropy re-sends the same registration often, and a no-op must not bump indexes
// or wake blocking queries.

import type {CatalogNode, NodeCheck} from './types.js'
import type {ChangeSet} from './watch.js'

export type NodeInput = Omit<CatalogNode, 'createIndex' | 'modifyIndex'>
export type CheckInput = Omit<NodeCheck, 'createIndex' | 'modifyIndex'>

export interface CatalogDump {
  nodes: CatalogNode[]
  checks: NodeCheck[]
  nodesIndex: number
  checksIndex: number
}

export class Catalog {
  readonly #nodes = new Map<string, CatalogNode>()
  /** node name → check ID → check. */
  readonly #checks = new Map<string, Map<string, NodeCheck>>()
  #nodesIndex = 0
  #checksIndex = 0

  get nodesIndex(): number {
    return this.#nodesIndex
  }

  get checksIndex(): number {
    return this.#checksIndex
  }

  node(name: string): CatalogNode | undefined {
    return this.#nodes.get(name)
  }

  check(node: string, checkId: string): NodeCheck | undefined {
    return this.#checks.get(node)?.get(checkId)
  }

  /** The node's checks ordered by check ID. */
  checks(node: string): NodeCheck[] {
    const checks = [...(this.#checks.get(node)?.values() ?? [])]
    return checks.sort((a, b) => (a.checkId < b.checkId ? -1 : a.checkId > b.checkId ? 1 : 0))
  }

  /**
   * Upsert a node and its checks at Raft index `index`. Returns the checks this command wrote
   * in `critical` state: the caller invalidates sessions bound to them (SPEC-http §4).
   */
  register(index: number, node: NodeInput, checks: readonly CheckInput[], change: ChangeSet): NodeCheck[] {
    const existing = this.#nodes.get(node.node)
    if (existing === undefined || !sameNode(existing, node)) {
      this.#nodes.set(node.node, {...node, createIndex: existing?.createIndex ?? index, modifyIndex: index})
      this.#nodesIndex = index
      change.tables.add('nodes')
    }
    const critical: NodeCheck[] = []
    for (const input of checks) {
      // A check always belongs to the node it is registered with, whatever its own field says.
      const check = {...input, node: node.node}
      const byId = this.#checks.get(check.node) ?? new Map<string, NodeCheck>()
      this.#checks.set(check.node, byId)
      const prior = byId.get(check.checkId)
      if (prior !== undefined && sameCheck(prior, check)) continue
      const stored: NodeCheck = {...check, createIndex: prior?.createIndex ?? index, modifyIndex: index}
      byId.set(check.checkId, stored)
      this.#checksIndex = index
      change.tables.add('checks')
      if (stored.status === 'critical') critical.push(stored)
    }
    return critical
  }

  dump(): CatalogDump {
    return {
      nodes: [...this.#nodes.values()],
      checks: [...this.#checks.values()].flatMap((byId) => [...byId.values()]),
      nodesIndex: this.#nodesIndex,
      checksIndex: this.#checksIndex,
    }
  }

  static load(dump: CatalogDump): Catalog {
    const catalog = new Catalog()
    for (const node of dump.nodes) catalog.#nodes.set(node.node, node)
    for (const check of dump.checks) {
      const byId = catalog.#checks.get(check.node) ?? new Map<string, NodeCheck>()
      catalog.#checks.set(check.node, byId)
      byId.set(check.checkId, check)
    }
    catalog.#nodesIndex = dump.nodesIndex
    catalog.#checksIndex = dump.checksIndex
    return catalog
  }
}

function sameNode(a: CatalogNode, b: NodeInput): boolean {
  return a.id === b.id && a.node === b.node && a.address === b.address && a.datacenter === b.datacenter
}

function sameCheck(a: NodeCheck, b: CheckInput): boolean {
  return a.node === b.node && a.checkId === b.checkId && a.name === b.name && a.status === b.status &&
    a.notes === b.notes && a.output === b.output
}
