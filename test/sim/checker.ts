// Cluster-wide invariants, checked as the run goes (TigerBeetle's state_checker), not at the end:
//  - election safety: at most one leader per term (§5.2);
//  - log matching: two logs holding an entry with the same index and term hold the same entry and
//    agree on the term before it, hence (by induction) on the whole prefix (§5.3);
//  - leader completeness: a leader of term T holds every entry committed in a term < T (§5.4);
//  - state machine safety: every node applies the same entry at each index (§5.4.3);
//  - linearizable reads: a read (lease or ReadIndex) reflects every write acknowledged before the
//    read began (diss. §6.4).
import type {RaftCore} from '../../src/lib/raft/core.js'
import type {Entry, NodeId} from '../../src/lib/raft/types.js'
import type {KvValue} from './kv.js'
import {decodeKv} from './kv.js'

/** What the checkers read of a node: the core simulation's SimNode and the driver simulation's DriverNode. */
export interface CheckedNode {
  readonly id: NodeId
  readonly status: 'up' | 'paused' | 'down'
  readonly core: RaftCore
  /** Term of the entry at `index` in the node's log as written now (undefined outside it). */
  logTerm(index: number): number | undefined
}

export class SimFailure extends Error {
  override name = 'SimFailure'
}

const decoder = new TextDecoder()

function identity(entry: Entry): string {
  return `${entry.type}:${decoder.decode(entry.data)}`
}

interface Committed {
  term: number
  identity: string
  /** Smallest term any node had when it applied this entry: an upper bound on when it committed. */
  commitTerm: number
}

export class Checker {
  #leaders = new Map<number, NodeId>()
  #logEntries = new Map<string, {identity: string; prevTerm: number | undefined}>()
  #committed: Committed[] = [] // index i at [i]
  #leaderChecked = new Map<string, number>()
  #acked = new Map<string, Array<{index: number; ev: number}>>()
  stats = {maxTerm: 0, applied: 0, readsChecked: 0, leaseReads: 0, readIndexReads: 0, writesAcked: 0}

  get maxCommitted(): number {
    return this.#committed.length - 1
  }

  electionSafety(nodes: CheckedNode[]): void {
    for (const node of nodes) {
      if (node.status === 'down') continue
      const term = node.core.term
      if (term > this.stats.maxTerm) this.stats.maxTerm = term
      if (node.core.role !== 'leader') continue
      const known = this.#leaders.get(term)
      if (known !== undefined && known !== node.id) throw new SimFailure(`election safety: ${known} and ${node.id} both lead term ${term}`)
      this.#leaders.set(term, node.id)
    }
  }

  logMatching(node: CheckedNode, entries: Entry[]): void {
    for (const e of entries) {
      const prevTerm = node.logTerm(e.index - 1)
      const key = `${e.index}@${e.term}`
      const seen = this.#logEntries.get(key)
      const id = identity(e)
      if (!seen) {
        this.#logEntries.set(key, {identity: id, prevTerm})
        continue
      }
      if (seen.identity !== id) throw new SimFailure(`log matching: ${node.id} holds ${id} at ${key}, another node ${seen.identity}`)
      if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        throw new SimFailure(`log matching: at ${key} ${node.id} has term ${prevTerm} before it, another node ${seen.prevTerm}`)
      }
    }
  }

  stateMachineSafety(node: CheckedNode, entry: Entry): void {
    this.stats.applied++
    const id = identity(entry)
    const term = node.core.status().term
    const known = this.#committed[entry.index]
    if (known) {
      if (known.term !== entry.term || known.identity !== id) {
        throw new SimFailure(`state machine safety: ${node.id} applied ${id}@${entry.term} at ${entry.index}, another node ${known.identity}@${known.term}`)
      }
      known.commitTerm = Math.min(known.commitTerm, term)
      return
    }
    // Nobody applies past a gap: a node that skipped indexes restored a snapshot someone applied them for.
    if (entry.index > Math.max(this.#committed.length, 1)) throw new SimFailure(`state machine safety: ${node.id} applied ${entry.index} before anyone applied ${this.#committed.length}`)
    this.#committed[entry.index] = {term: entry.term, identity: id, commitTerm: term}
  }

  /**
   * An operator's restore installed at `index` (a hole in the log: nobody applies an entry there).
   * Entries after it are then no longer "past a gap".
   */
  restoreInstalled(index: number, term: number): void {
    if (this.#committed[index]) throw new SimFailure(`restore at ${index}: an entry was already applied there (${this.#committed[index].identity})`)
    this.#committed[index] = {term, identity: 'restore', commitTerm: term}
  }

  leaderCompleteness(nodes: CheckedNode[]): void {
    for (const node of nodes) {
      if (node.status === 'down' || node.core.role !== 'leader') continue
      const key = `${node.id}@${node.core.term}`
      let i = (this.#leaderChecked.get(key) ?? 0) + 1
      if (i > this.maxCommitted) continue
      const st = node.core.status()
      for (; i <= this.maxCommitted; i++) {
        const c = this.#committed[i]
        if (!c || c.commitTerm >= st.term) continue
        const term = node.core.termAt(i)
        if (term === c.term) continue
        if (term === undefined && i <= st.lastIndex) continue // compacted into a snapshot
        throw new SimFailure(`leader completeness: ${node.id} leads term ${st.term} without ${c.identity}@${c.term} committed at ${i} (has term ${term})`)
      }
      this.#leaderChecked.set(key, this.maxCommitted)
    }
  }

  writeAcked(index: number, entry: Entry, ev: number): void {
    this.stats.writesAcked++
    const {key} = decodeKv(entry.data)
    const list = this.#acked.get(key) ?? []
    list.push({index, ev})
    this.#acked.set(key, list)
  }

  /** A read of `key` that began at event `startEv` returned `observed`. */
  readServed(node: CheckedNode, key: string, observed: KvValue | undefined, startEv: number, mode: 'lease' | 'readIndex'): void {
    this.stats.readsChecked++
    if (mode === 'lease') this.stats.leaseReads++
    else this.stats.readIndexReads++
    let required = 0
    for (const w of this.#acked.get(key) ?? []) if (w.ev < startEv && w.index > required) required = w.index
    const seen = observed?.index ?? 0
    // The value read is the one the entry at its index carries (a state machine that applied
    // something other than its log entry, e.g. a leader's cached command, shows here).
    const written = observed ? this.#committed[observed.index] : undefined
    if (observed && written && written.identity !== `command:${key}=${observed.value}`) {
      throw new SimFailure(`state machine: ${mode} read of ${key} on ${node.id} saw "${observed.value}" written at ${observed.index}, where the log holds ${written.identity}`)
    }
    if (seen < required) {
      throw new SimFailure(`linearizability: ${mode} read of ${key} on ${node.id} saw the write at ${seen} but the write at ${required} was acknowledged before the read began`)
    }
  }
}
