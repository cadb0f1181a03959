// KV `Flags` is a uint64 (Consul docs: api-docs/kv) and may exceed 2^53, where JSON.parse would round it.
// Before parsing, every `"Flags": <digits>` member is turned into a string, so the exact digits
// survive; decoders then read it with BigInt. A key that merely contains the text `"Flags":` is
// JSON-escaped (`\"Flags\":`), which the negative lookbehind skips.
const flagsNumber = /(?<!\\)"Flags"(\s*):(\s*)(\d+)/g

export function parseJsonPreservingFlags(text: string): unknown {
  return JSON.parse(text.replace(flagsNumber, '"Flags"$1:$2"$3"'))
}

/** Reads a Flags member (string after the pre-pass, or number from other sources) as a bigint. */
export function toFlags(value: unknown): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value)
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value)
  return 0n
}
