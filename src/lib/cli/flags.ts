// Flag definitions for Consul-style commands. Each definition carries what our Go-`flag` parser
// needs (kind, parse) and the fields oclif's manifest/help read (type, description, helpValue,
// multiple, default), so `oclif manifest` and `coord <cmd> -h` list every flag with its text.
import {formatDuration, parseDuration} from '../duration.js'

export type FlagKind = 'bool' | 'string' | 'uint64' | 'int' | 'duration' | 'list'

export interface FlagDef<V = unknown> {
  kind: FlagKind
  /** oclif's flag type: booleans take no value. */
  type: 'boolean' | 'option'
  description: string
  default: V
  helpValue?: string
  multiple?: boolean
  hidden?: boolean
  /** What help shows as the default when the value itself would mislead (a duration's milliseconds). */
  defaultHelp?: () => Promise<string>
  /** Converts one raw value; throws an Error whose message is Go's reason text. (A method, so
   * FlagDef<boolean> is assignable to FlagDef<unknown>.) */
  parse(raw: string, previous: V): V
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a set of mixed flags; FlagValues<typeof X.flags> is exact
export type FlagSet = Record<string, FlagDef<any>>
export type FlagValues<F extends FlagSet> = {[K in keyof F]: F[K]['default']}

interface Common {description: string; hidden?: boolean; helpValue?: string}

export function boolFlag(o: Common & {default?: boolean}): FlagDef<boolean> {
  return {kind: 'bool', type: 'boolean', description: o.description, hidden: o.hidden, default: o.default ?? false, parse: parseBool}
}

export function stringFlag(o: Common & {default?: string}): FlagDef<string> {
  return {kind: 'string', type: 'option', description: o.description, hidden: o.hidden, helpValue: o.helpValue ?? '<string>', default: o.default ?? '', parse: (raw) => raw}
}

/** uint64 kept as a canonical decimal string (values above 2^53 stay exact). */
export function uint64Flag(o: Common & {default?: string}): FlagDef<string> {
  return {kind: 'uint64', type: 'option', description: o.description, hidden: o.hidden, helpValue: o.helpValue ?? '<uint>', default: o.default ?? '0', parse: parseUint64}
}

export function intFlag(o: Common & {default?: number}): FlagDef<number> {
  return {kind: 'int', type: 'option', description: o.description, hidden: o.hidden, helpValue: o.helpValue ?? '<int>', default: o.default ?? 0, parse: parseInt64}
}

/** Go duration (`500ms`, `1m30s`) as milliseconds; help shows the default as a duration (`2s`), not milliseconds. */
export function durationFlag(o: Common & {default?: number}): FlagDef<number> {
  const fallback = o.default ?? 0
  return {
    kind: 'duration', type: 'option', description: o.description, hidden: o.hidden, helpValue: o.helpValue ?? '<duration>', default: fallback,
    ...(fallback !== 0 ? {defaultHelp: async () => formatDuration(fallback)} : {}),
    parse: (raw) => {
      try {
        return parseDuration(raw)
      } catch {
        throw new Error('parse error')
      }
    },
  }
}

/** Repeatable string flag: every occurrence appends. */
export function listFlag(o: Common): FlagDef<string[]> {
  return {kind: 'list', type: 'option', description: o.description, hidden: o.hidden, helpValue: o.helpValue ?? '<string>', multiple: true, default: [], parse: (raw, previous) => [...previous, raw]}
}

/** Go's strconv.ParseBool. */
export function parseBool(raw: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false
  throw new Error('parse error')
}

/** Go's strconv.ParseUint(s, 0, 64): decimal, 0x, 0o, 0b, leading-0 octal, `_` separators. */
export function parseUint64(raw: string): string {
  const value = parseGoInteger(raw)
  if (value === null || value < 0n) throw new Error('parse error')
  if (value > 0xffff_ffff_ffff_ffffn) throw new Error('value out of range')
  return value.toString()
}

function parseInt64(raw: string): number {
  const value = parseGoInteger(raw)
  if (value === null) throw new Error('parse error')
  if (value > 0x7fff_ffff_ffff_ffffn || value < -0x8000_0000_0000_0000n) throw new Error('value out of range')
  return Number(value)
}

function parseGoInteger(raw: string): bigint | null {
  const match = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(raw)
  if (!match || /__|_$/.test(match[2])) return null
  let digits = match[2].replace(/_/g, '')
  if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`
  const magnitude = BigInt(digits)
  return match[1] === '-' ? -magnitude : magnitude
}
