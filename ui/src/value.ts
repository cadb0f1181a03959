// A KV value as the page shows it: UTF-8 text when it decodes cleanly, otherwise bytes (shown as a
// hex dump, never as text). JSON view is a reading of the text, with the parse error when it is not JSON.

export type Decoded = {kind: 'text'; text: string; size: number} | {kind: 'binary'; bytes: Uint8Array; size: number}

export function decodeValue(base64: string | null): Decoded {
  if (base64 === null || base64 === '') return {kind: 'text', text: '', size: 0}
  let bytes: Uint8Array
  try {
    const raw = atob(base64)
    bytes = new Uint8Array(raw.length)
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i)
  } catch {
    throw new Error('The agent sent a value that is not valid base64.')
  }
  try {
    const text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
    // Control characters other than tab/newline/CR make "text" misleading: treat it as bytes.
    if (hasControlCharacters(text)) return {kind: 'binary', bytes, size: bytes.length}
    return {kind: 'text', text, size: bytes.length}
  } catch {
    return {kind: 'binary', bytes, size: bytes.length}
  }
}

/** C0 controls other than tab, newline, vertical tab, form feed and carriage return, and DEL. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && (c < 0x09 || c > 0x0d)) || c === 0x7f) return true
  }
  return false
}

/** Hex dump lines (offset, 16 bytes, printable ASCII) of at most `limit` bytes. */
export function hexDump(bytes: Uint8Array, limit = 4096): string {
  const lines: string[] = []
  const end = Math.min(bytes.length, limit)
  for (let offset = 0; offset < end; offset += 16) {
    const chunk = bytes.slice(offset, Math.min(offset + 16, end))
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`)
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes`)
  return lines.join('\n')
}

export function jsonView(text: string): {ok: true; pretty: string} | {ok: false; error: string} {
  try {
    return {ok: true, pretty: JSON.stringify(JSON.parse(text), null, 2)}
  } catch (error) {
    return {ok: false, error: (error as Error).message}
  }
}

/** The exact Flags of a KV answer (a uint64; JSON.parse would round values above 2^53). */
export function exactFlags(rawAnswer: string): string {
  return /"Flags"\s*:\s*(\d+)/.exec(rawAnswer)?.[1] ?? '0'
}

export function isUint64(text: string): boolean {
  return /^\d{1,20}$/.test(text) && BigInt(text) <= 0xffffffffffffffffn
}
