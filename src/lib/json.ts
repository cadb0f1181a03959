// JSON as Consul's Go encoder writes it, shared by the CLI's output and watch handlers' input.

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
