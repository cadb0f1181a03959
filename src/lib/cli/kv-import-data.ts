// `coord kv import` DATA: the JSON `kv export` writes, decoded with Go's encoding/json rules as
// Consul's import does: every entry is checked before anything is written, and a wrong type gets
// Go's message instead of a JavaScript one ("Cannot read properties of null").

export interface ImportEntry {
  key: string
  /** uint64 as decimal digits (kept exact). */
  flags: string
  /** base64, decoded by the caller (its error names the key). */
  value: string
}

/** Go's name for a JSON value's kind, as in "cannot unmarshal number into ...". */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'boolean') return 'bool'
  return typeof value
}

/** Parses DATA; throws an Error whose message is Go's json error text. */
export function parseImportData(text: string): ImportEntry[] {
  // flags are uint64: quote their digits before JSON.parse so values above 2^53 stay exact.
  const parsed = JSON.parse(text.replace(/(?<!\\)"flags"(\s*):(\s*)(\d+)/gi, '"flags"$1:$2"$3"')) as unknown
  if (parsed === null) return [] // Go decodes null into an empty slice
  if (!Array.isArray(parsed)) throw new Error(`json: cannot unmarshal ${jsonKind(parsed)} into Go value of type []*kv.Entry`)
  return parsed.map((entry: unknown) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new Error(`json: cannot unmarshal ${entry === null ? 'null' : jsonKind(entry)} into Go value of type kv.Entry`)
    }
    const {key = '', flags = '0', value = ''} = entry as Record<string, unknown>
    for (const [field, got, want] of [['key', key, 'string'], ['value', value, 'string']] as const) {
      if (typeof got !== 'string') throw new Error(`json: cannot unmarshal ${jsonKind(got)} into Go struct field Entry.${field} of type ${want}`)
    }
    if (typeof flags !== 'string' || !/^\d+$/.test(flags)) throw new Error(`json: cannot unmarshal ${jsonKind(flags)} into Go struct field Entry.flags of type uint64`)
    return {key: key as string, flags, value: value as string}
  })
}
