// The prepared-queries table (Consul's state/prepared_query.go): queries by ID, with Consul's
// integrity rules on set (a name is unique case-insensitively and never another query's ID, at
// most one template with an empty name, a bound session must exist, a template must compile) and
// its resolution order (an ID, then an exact name, then the template with the longest name prefix
// of what was asked, rendered for it). A query bound to a session goes when the session does.
//
// Watch table fired per change: 'prepared-queries'.

import {compileTemplate, renderTemplate, type CompiledTemplate, type PreparedQuery, type PreparedQueryDef} from './prepared-query.js'
import type {ChangeSet} from './watch.js'

export interface PreparedQueriesDump {
  queries: PreparedQuery[]
  index: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A resolution: the (rendered) query, or Consul's error text; undefined when nothing matches. */
export type Resolved = {query: PreparedQuery} | {error: string} | undefined

export class PreparedQueryTable {
  readonly #byId = new Map<string, PreparedQuery>()
  readonly #templates = new Map<string, CompiledTemplate>()
  #index = 0

  get index(): number {
    return this.#index
  }

  get(id: string): PreparedQuery | undefined {
    return this.#byId.get(id)
  }

  /** Every query ordered by ID (Consul's memdb "id" index order). */
  list(): PreparedQuery[] {
    return [...this.#byId.values()].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))
  }

  /** Consul's preparedQuerySetTxn; returns its error text, nothing changed, on a rule broken. */
  set(index: number, def: PreparedQueryDef, sessionExists: (id: string) => boolean, change: ChangeSet): string | undefined {
    if (def.ID === '') return 'Missing prepared query ID'
    const existing = this.#byId.get(def.ID)
    if (def.Name !== '') {
      const other = this.#byName(def.Name)
      if (other !== undefined && other.ID !== def.ID) return `name '${def.Name}' aliases an existing query name`
    } else if (def.Template.Type !== '') {
      const other = this.list().find((q) => q.Template.Type !== '' && q.Name === '')
      if (other !== undefined && other.ID !== def.ID) return 'a query template with an empty name already exists'
    }
    if (UUID.test(def.Name) && this.#byId.has(def.Name)) return `name '${def.Name}' aliases an existing query ID`
    if (def.Session !== '' && !sessionExists(def.Session)) return `invalid session ${JSON.stringify(def.Session)}`
    let compiled: CompiledTemplate | undefined
    if (def.Template.Type !== '') {
      try {
        compiled = compileTemplate(def)
      } catch (err) {
        return `failed compiling template: ${(err as Error).message}`
      }
    }
    const stored: PreparedQuery = {...def, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index}
    this.#byId.set(def.ID, stored)
    if (compiled !== undefined) this.#templates.set(def.ID, {...compiled, prototype: stored})
    else this.#templates.delete(def.ID)
    this.#index = index
    change.tables.add('prepared-queries')
    return undefined
  }

  /** Deleting an unknown ID is a no-op, as Consul's. */
  delete(index: number, id: string, change: ChangeSet): void {
    if (!this.#byId.delete(id)) return
    this.#templates.delete(id)
    this.#index = index
    change.tables.add('prepared-queries')
  }

  /** Drops every query bound to a session that no longer exists (Consul deletes them with the session). */
  dropOrphans(index: number, sessionExists: (id: string) => boolean, change: ChangeSet): void {
    for (const q of [...this.#byId.values()]) if (q.Session !== '' && !sessionExists(q.Session)) this.delete(index, q.ID, change)
  }

  /** Consul's PreparedQueryResolve. */
  resolve(idOrName: string): Resolved {
    if (idOrName === '') return {error: 'Missing prepared query ID'}
    if (UUID.test(idOrName)) {
      const byId = this.#byId.get(idOrName.toLowerCase()) ?? this.#byId.get(idOrName)
      if (byId !== undefined) {
        if (byId.Template.Type !== '') return {error: 'prepared query templates can only be resolved up by name, not by ID'}
        return {query: byId}
      }
    }
    const exact = this.#byName(idOrName)
    if (exact !== undefined) return this.#prep(exact, idOrName)
    const wanted = idOrName.toLowerCase()
    let best: PreparedQuery | undefined
    for (const q of this.#byId.values()) {
      if (q.Template.Type === '' || !wanted.startsWith(q.Name.toLowerCase())) continue
      if (best === undefined || q.Name.length > best.Name.length) best = q
    }
    return best === undefined ? undefined : this.#prep(best, idOrName)
  }

  #prep(q: PreparedQuery, name: string): Resolved {
    const compiled = this.#templates.get(q.ID)
    if (q.Template.Type === '' || compiled === undefined) return {query: q}
    try {
      return {query: {...renderTemplate(compiled, name), CreateIndex: q.CreateIndex, ModifyIndex: q.ModifyIndex}}
    } catch (err) {
      return {error: (err as Error).message}
    }
  }

  #byName(name: string): PreparedQuery | undefined {
    const wanted = name.toLowerCase()
    for (const q of this.#byId.values()) if (q.Name !== '' && q.Name.toLowerCase() === wanted) return q
    return undefined
  }

  dump(): PreparedQueriesDump {
    return {queries: this.list(), index: this.#index}
  }

  /** `dump` absent: a snapshot written before prepared queries existed, restored as an empty table. */
  static load(dump: PreparedQueriesDump | undefined, indexAt: (n: number) => number = (n) => n): PreparedQueryTable {
    const table = new PreparedQueryTable()
    if (!dump) return table
    for (const q of dump.queries) {
      table.#byId.set(q.ID, q)
      if (q.Template.Type !== '') {
        try {
          table.#templates.set(q.ID, compileTemplate(q))
        } catch {
          // Stored only after compiling once; a template that no longer compiles resolves as a plain query.
        }
      }
    }
    table.#index = indexAt(dump.index)
    return table
  }
}
