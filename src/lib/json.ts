// JSON as Consul's Go encoder writes it, shared by the CLI's output and watch handlers' input; and
// JSON fields found by name as Consul's decoders find them (request bodies, state commands).

/** JSON.stringify that writes bigints as bare digits (uint64 Flags) and Buffers as base64. */
export function stringifyJson(value: unknown, indent: string | number = 4): string {
  const marker = '\u0000bigint:'
  const text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const original = (this as Record<string, unknown>)[key]
    if (Buffer.isBuffer(original)) return original.toString('base64')
    if (typeof v === 'bigint') return `${marker}${v.toString()}`
    return v
  }, indent)
  return text.replace(/"\\u0000bigint:(\d+)"/g, '$1')
}

/**
 * A field of a decoded JSON object as Consul's lenient decoders find it: the exact name, else a key
 * equal to it ignoring case and underscores (`LockDelay` finds `lockdelay`, `lock_delay`...).
 */
export function jsonField(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name]
  const wanted = name.toLowerCase()
  for (const key of Object.keys(obj)) {
    // Only underscores are dropped, so a shorter key never matches: the absent fields a decoder
    // looks up on every object (a txn op's Flags, Index, Session...) cost no lowercased copies.
    if (key.length >= wanted.length && key.toLowerCase().replace(/_/g, '') === wanted) return obj[key]
  }
  return undefined
}
