// Consul's ACL rule language (the current syntax, not the pre-1.4 legacy one), in its HCL and JSON
// forms: hashicorp/consul acl/policy.go (PolicyRules, Validate). Parsed with js-hcl-parser, a build
// of hashicorp/hcl v1, the parser Consul decodes rules with, so what Consul reads coord reads alike.
// An invalid rule is an AclRulesError naming its line (the HTTP edge answers it with 400).
import {createRequire} from 'node:module'
import {CoordError} from '../errors.js'
import type {Access} from './access.js'

/** The resources a segment rule can name; each has an exact form and a `_prefix` form. */
export const SEGMENT_KINDS = ['agent', 'event', 'key', 'node', 'query', 'service', 'session'] as const
export type SegmentKind = typeof SEGMENT_KINDS[number]
/** Resources with one rule for the whole cluster (no segment). */
export const SCALAR_KINDS = ['acl', 'keyring', 'operator'] as const
export type ScalarKind = typeof SCALAR_KINDS[number]
/**
 * Rule words Consul accepts for features coord does not have (service mesh, cluster peering,
 * workload identities): validated like Consul validates them, and they grant nothing here.
 */
const CONSUL_ONLY_SCALARS = ['mesh', 'peering'] as const
const CONSUL_ONLY_SEGMENTS = ['identity'] as const

export interface SegmentRule {
  /** The node, key, service... name (exact) or prefix ('' = everything). */
  readonly segment: string
  readonly access: Access
  /** service / service_prefix only: Consul's intentions grant (kept for round trips; coord has no intentions). */
  readonly intentions?: Access
}

/** One policy's rules: per resource, the exact rules and the prefix rules. */
export interface PolicyRules {
  readonly exact: Readonly<Record<SegmentKind, readonly SegmentRule[]>>
  readonly prefix: Readonly<Record<SegmentKind, readonly SegmentRule[]>>
  readonly scalar: Readonly<Partial<Record<ScalarKind, Access>>>
}

export const AclRulesErrorCode = 'ACL_RULES_INVALID'

/** Consul words it "Failed to parse ACL rules: ..."; coord adds the line. HTTP 400. */
export class AclRulesError extends CoordError {
  readonly line: number
  constructor(line: number, reason: string) {
    super(AclRulesErrorCode, `Failed to parse ACL rules: line ${line}: ${reason}`, {httpStatus: 400})
    this.name = 'AclRulesError'
    this.line = line
  }
}

export function emptyRules(): PolicyRules {
  const lists = () => Object.fromEntries(SEGMENT_KINDS.map((kind) => [kind, []])) as unknown as Record<SegmentKind, SegmentRule[]>
  return {exact: lists(), prefix: lists(), scalar: {}}
}

type HclParser = {parse(input: string): string}
let parser: HclParser | undefined
/** The GopherJS bundle is 1.5 MB: loaded on the first policy parsed, not at every CLI start. */
function hcl(): HclParser {
  parser ??= createRequire(import.meta.url)('js-hcl-parser') as HclParser
  return parser
}

/** Parses and validates `text` (HCL or JSON). '' is a policy with no rules, as in Consul. */
export function parseRules(text: string): PolicyRules {
  const rules = emptyRules()
  if (text.trim() === '') return rules
  let output: string
  try {
    output = hcl().parse(text)
  } catch (error) {
    throw new AclRulesError(1, error instanceof Error ? error.message : String(error))
  }
  if (!output.startsWith('{')) throw syntaxError(output)
  const document = JSON.parse(output) as Record<string, unknown>
  const locate = new Locator(text)
  for (const [word, value] of Object.entries(document)) {
    const scalar = (SCALAR_KINDS as readonly string[]).includes(word) || (CONSUL_ONLY_SCALARS as readonly string[]).includes(word)
    if (scalar) {
      const access = accessOf(value, false)
      if (access === undefined) throw new AclRulesError(locate.line(word), `invalid ${word} policy ${show(value)} (read, write or deny)`)
      if ((SCALAR_KINDS as readonly string[]).includes(word)) (rules.scalar as Record<string, Access>)[word] = access
      continue
    }
    const isPrefix = word.endsWith('_prefix')
    const kind = isPrefix ? word.slice(0, -'_prefix'.length) : word
    const known = (SEGMENT_KINDS as readonly string[]).includes(kind)
    if (!known && !(CONSUL_ONLY_SEGMENTS as readonly string[]).includes(kind)) {
      throw new AclRulesError(locate.line(word), `unknown rule ${JSON.stringify(word)}`)
    }
    for (const [segment, body] of blocks(value, word, locate)) {
      const fields = body
      const line = locate.line(word, segment)
      for (const field of Object.keys(fields)) {
        if (field !== 'policy' && !(field === 'intentions' && (kind === 'service' || kind === 'identity'))) {
          throw new AclRulesError(locate.line(word, segment, field), `unknown field ${JSON.stringify(field)} in ${word} ${JSON.stringify(segment)}`)
        }
      }
      const allowList = kind === 'key'
      const access = accessOf(fields.policy, allowList)
      if (access === undefined) {
        const words = allowList ? 'read, write, list or deny' : 'read, write or deny'
        throw new AclRulesError(fields.policy === undefined ? line : locate.line(word, segment, 'policy'), `invalid ${word} policy ${show(fields.policy)} for ${JSON.stringify(segment)} (${words})`)
      }
      let intentions: Access | undefined
      if (fields.intentions !== undefined) {
        intentions = accessOf(fields.intentions, false)
        if (intentions === undefined) throw new AclRulesError(locate.line(word, segment, 'intentions'), `invalid ${word} intentions policy ${show(fields.intentions)} for ${JSON.stringify(segment)}`)
      }
      if (!known) continue
      const list = (isPrefix ? rules.prefix : rules.exact)[kind as SegmentKind] as SegmentRule[]
      list.push(intentions === undefined ? {segment, access} : {segment, access, intentions})
    }
  }
  return rules
}

/** "unable to parse JSON: At 4:2: reason" (hcl's error, returned as text) → an error on line 4. */
function syntaxError(output: string): AclRulesError {
  const reason = output.replace(/^unable to (parse|print) JSON: /, '')
  const at = /^At (\d+):(\d+): (.*)$/s.exec(reason)
  if (at) return new AclRulesError(Number(at[1]), `column ${at[2]}: ${at[3].trim()}`)
  return new AclRulesError(1, reason.trim())
}

/** The `name { ... }` blocks of one rule word: hcl answers a list of {name: [fields]} objects. */
function blocks(value: unknown, word: string, locate: Locator): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = []
  const bad = () => new AclRulesError(locate.line(word), `${word} must be a block: ${word} "<name>" { policy = "read" }`)
  if (!Array.isArray(value)) throw bad()
  for (const item of value) {
    if (!isObject(item)) throw bad()
    for (const [segment, bodies] of Object.entries(item)) {
      const list = Array.isArray(bodies) ? bodies : [bodies]
      for (const body of list) {
        if (!isObject(body)) throw new AclRulesError(locate.line(word, segment), `${word} ${JSON.stringify(segment)} must be a block with a policy`)
        // A second label (key "a" "b" { }) nests one level deeper: not a rule Consul knows.
        for (const inner of Object.values(body)) {
          if (Array.isArray(inner) && inner.some(isObject)) throw new AclRulesError(locate.line(word, segment), `${word} takes one name: ${word} ${JSON.stringify(segment)} { policy = "..." }`)
        }
        out.push([segment, body])
      }
    }
  }
  return out
}

function accessOf(value: unknown, allowList: boolean): Access | undefined {
  if (value === 'read' || value === 'write' || value === 'deny') return value
  if (value === 'list' && allowList) return 'list'
  return undefined
}

const show = (value: unknown) => value === undefined ? '(missing)' : JSON.stringify(value)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Finds the line of a rule in the source: hcl's decoded document carries no positions, so the
 * line is that of the first occurrence of the rule word, then (after it) of its quoted name, then
 * of the field. Same answer for HCL and JSON sources, which both quote names.
 */
class Locator {
  private readonly lines: string[]
  constructor(text: string) {
    this.lines = text.split('\n')
  }

  line(word: string, segment?: string, field?: string): number {
    const wordRe = new RegExp(`(^|[^A-Za-z0-9_])"?${word}"?([^A-Za-z0-9_]|$)`)
    let at = this.find(0, (line) => wordRe.test(stripComment(line)))
    if (at === -1) return 1
    if (segment !== undefined) {
      const quoted = JSON.stringify(segment)
      const found = this.find(at, (line) => line.includes(quoted))
      if (found !== -1) at = found
    }
    if (field !== undefined) {
      const fieldRe = new RegExp(`(^|[^A-Za-z0-9_])"?${field}"?\\s*[=:]`)
      const found = this.find(at, (line) => fieldRe.test(line))
      if (found !== -1) at = found
    }
    return at + 1
  }

  private find(from: number, test: (line: string) => boolean): number {
    for (let i = from; i < this.lines.length; i++) if (test(this.lines[i])) return i
    return -1
  }
}

const stripComment = (line: string) => line.replace(/^\s*(#|\/\/).*$/, '')
