// Evaluating a parsed filter (parse.ts) against the JSON records an endpoint returns, with
// go-bexpr's rules:
// - Selectors are checked against the record type's fields before anything runs (a typo is a
//   400, not an empty answer): `Selector "Foo" is not valid`.
// - Values are converted to the field's type once (numbers, booleans); a value that does not
//   convert is an error.
// - A selector that walks through a list of records (ServiceEntry.Checks.Status) matches when ANY
//   element matches, for every operator (so `Checks.Status != passing` means "some check is not
//   passing").
// - A map key that is absent makes ==, in and `is not empty` false, and !=, `not in` and
//   `is empty` true.
// - `in`/`contains`: membership in a list, key of a map, substring of a string.
// Pure: no I/O.

import {FilterError, parseFilter, type FilterExpr, type MatchOp} from './parse.js'

/** A record type's fields, as far as filters can select them. */
export type FieldType =
  | 'string' | 'number' | 'bool'
  /** A list of strings (Tags). */
  | 'strings'
  /** A map of string → string (Meta). */
  | 'map'
  | {fields: Record<string, FieldType>}
  /** A list of records: selection goes through every element (ANY). */
  | {listOf: {fields: Record<string, FieldType>}}
  /** A map of string → record (TaggedAddresses of a service). */
  | {mapOf: {fields: Record<string, FieldType>}}

export type Schema = {fields: Record<string, FieldType>}

type Leaf = 'string' | 'number' | 'bool' | 'strings' | 'map' | 'object'

interface CompiledMatch {
  kind: 'match'
  selector: string[]
  op: MatchOp
  leaf: Leaf
  value?: string | number | boolean
  regex?: RegExp
}

type Compiled =
  | {kind: 'and' | 'or'; left: Compiled; right: Compiled}
  | {kind: 'not'; operand: Compiled}
  | CompiledMatch

export type Filter = (record: unknown) => boolean

const OPS_BY_LEAF: Record<Leaf, ReadonlySet<MatchOp>> = {
  string: new Set<MatchOp>(['equal', 'not-equal', 'in', 'not-in', 'is-empty', 'is-not-empty', 'matches', 'not-matches']),
  number: new Set<MatchOp>(['equal', 'not-equal']),
  bool: new Set<MatchOp>(['equal', 'not-equal']),
  strings: new Set<MatchOp>(['in', 'not-in', 'is-empty', 'is-not-empty']),
  map: new Set<MatchOp>(['in', 'not-in', 'is-empty', 'is-not-empty']),
  object: new Set<MatchOp>(['is-empty', 'is-not-empty']),
}

const OP_NAMES: Record<MatchOp, string> = {
  'equal': '==', 'not-equal': '!=', 'in': 'in', 'not-in': 'not in', 'is-empty': 'is empty',
  'is-not-empty': 'is not empty', 'matches': 'matches', 'not-matches': 'not matches',
}

function leafOf(schema: Schema, selector: string[]): Leaf {
  let type: FieldType = schema
  for (let i = 0; i < selector.length; i++) {
    const part = selector[i]
    if (typeof type === 'string') {
      // Only a string map can be indexed one level further.
      if (type === 'map' && i === selector.length - 1) return 'string'
      throw new FilterError(`Selector "${selector.join('.')}" is not valid`)
    }
    if ('fields' in type) {
      const next: FieldType | undefined = type.fields[part]
      if (next === undefined) throw new FilterError(`Selector "${selector.join('.')}" is not valid`)
      type = next
    } else if ('listOf' in type) {
      const next: FieldType | undefined = type.listOf.fields[part]
      if (next === undefined) throw new FilterError(`Selector "${selector.join('.')}" is not valid`)
      type = next
    } else {
      type = type.mapOf
    }
  }
  if (typeof type === 'string') return type
  return 'listOf' in type ? 'object' : 'fields' in type ? 'object' : 'map'
}

function compileMatch(schema: Schema, expr: Extract<FilterExpr, {kind: 'match'}>): CompiledMatch {
  const leaf = leafOf(schema, expr.selector)
  const name = expr.selector.join('.')
  if (!OPS_BY_LEAF[leaf].has(expr.op)) throw new FilterError(`Invalid match operator "${OP_NAMES[expr.op]}" for selector "${name}"`)
  const out: CompiledMatch = {kind: 'match', selector: expr.selector, op: expr.op, leaf}
  if (expr.value === undefined) return out
  if (leaf === 'number') {
    const n = Number(expr.value)
    if (expr.value.trim() === '' || !Number.isFinite(n)) throw new FilterError(`Failed to convert value "${expr.value}" for selector "${name}" to a number`)
    out.value = n
  } else if (leaf === 'bool') {
    const v = expr.value.toLowerCase()
    if (!['true', 'false', '1', '0', 't', 'f'].includes(v)) throw new FilterError(`Failed to convert value "${expr.value}" for selector "${name}" to a boolean`)
    out.value = v === 'true' || v === '1' || v === 't'
  } else {
    out.value = expr.value
  }
  if (expr.op === 'matches' || expr.op === 'not-matches') {
    try {
      out.regex = new RegExp(expr.value)
    } catch (err) {
      throw new FilterError(`Invalid regular expression "${expr.value}" for selector "${name}": ${(err as Error).message}`)
    }
  }
  return out
}

function compile(schema: Schema, expr: FilterExpr): Compiled {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return {kind: expr.kind, left: compile(schema, expr.left), right: compile(schema, expr.right)}
    case 'not':
      return {kind: 'not', operand: compile(schema, expr.operand)}
    case 'match':
      return compileMatch(schema, expr)
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Missing-key answers, as go-bexpr: nothing equals, contains or is non-empty. */
function missing(op: MatchOp): boolean {
  return op === 'not-equal' || op === 'not-in' || op === 'is-empty' || op === 'not-matches'
}

function atLeaf(m: CompiledMatch, value: unknown): boolean {
  switch (m.op) {
    case 'equal':
    case 'not-equal': {
      const eq = m.leaf === 'string' ? String(value ?? '') === m.value : value === m.value
      return m.op === 'equal' ? eq : !eq
    }
    case 'in':
    case 'not-in': {
      let found: boolean
      if (Array.isArray(value)) found = value.includes(m.value)
      else if (isRecord(value)) found = Object.hasOwn(value, String(m.value))
      else found = String(value ?? '').includes(String(m.value))
      return m.op === 'in' ? found : !found
    }
    case 'is-empty':
    case 'is-not-empty': {
      const empty = value === null || value === undefined || value === '' ||
        (Array.isArray(value) && value.length === 0) || (isRecord(value) && Object.keys(value).length === 0)
      return m.op === 'is-empty' ? empty : !empty
    }
    case 'matches':
    case 'not-matches': {
      const hit = m.regex!.test(String(value ?? ''))
      return m.op === 'matches' ? hit : !hit
    }
  }
}

function walk(m: CompiledMatch, depth: number, value: unknown): boolean {
  if (depth >= m.selector.length) return atLeaf(m, value)
  // A list of records: ANY element (go-bexpr keeps the same depth for each element).
  if (Array.isArray(value)) return value.some((item) => walk(m, depth, item))
  if (!isRecord(value)) return missing(m.op)
  const key = m.selector[depth]
  if (!Object.hasOwn(value, key)) return missing(m.op)
  return walk(m, depth + 1, value[key])
}

function run(c: Compiled, record: unknown): boolean {
  switch (c.kind) {
    case 'and': return run(c.left, record) && run(c.right, record)
    case 'or': return run(c.left, record) || run(c.right, record)
    case 'not': return !run(c.operand, record)
    case 'match': return walk(c, 0, record)
  }
}

/**
 * Compile `?filter=` text for records of `schema` (JSON as the endpoint renders them).
 * Throws FilterError (one line) on a syntax error, an unknown selector, an operator the field
 * type does not support, or a value that does not convert.
 */
export function compileFilter(text: string, schema: Schema): Filter {
  const compiled = compile(schema, parseFilter(text))
  return (record) => run(compiled, record)
}
