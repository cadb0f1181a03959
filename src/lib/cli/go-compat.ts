// Small pieces of Go behaviour the consul CLI's messages and data handling depend on.
import {readFileSync} from 'node:fs'

/** base64.StdEncoding.DecodeString: strict alphabet and padding; '\r' and '\n' are ignored. */
export function decodeBase64Std(text: string): Buffer {
  const data = text.replace(/[\r\n]/g, '')
  const bad = data.search(/[^A-Za-z0-9+/=]/)
  if (bad >= 0) throw new Error(`illegal base64 data at input byte ${bad}`)
  const pad = data.indexOf('=')
  if (pad >= 0 && (!/^=*$/.test(data.slice(pad)) || data.length - pad > 2)) throw new Error(`illegal base64 data at input byte ${pad}`)
  if (data.length % 4 !== 0) throw new Error(`illegal base64 data at input byte ${data.length - (data.length % 4)}`)
  return Buffer.from(data, 'base64')
}

/** os.ReadFile with Go's error text (`open <path>: no such file or directory`). */
export async function readFileGo(path: string): Promise<Buffer> {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(goFileError('open', path, error))
  }
}

export function goFileError(op: string, path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory',
  }
  const reason = code && reasons[code]
  if (code === 'EISDIR') return `read ${path}: is a directory`
  return `${op} ${path}: ${reason ?? (error as Error).message}`
}

/** Go's path.Join: non-empty elements joined by '/', then path.Clean; "" when all are empty. */
export function goPathJoin(...elements: string[]): string {
  const joined = elements.filter((e) => e !== '').join('/')
  return joined === '' ? '' : goPathClean(joined)
}

export function goPathClean(path: string): string {
  if (path === '') return '.'
  const rooted = path.startsWith('/')
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const cleaned = (rooted ? '/' : '') + out.join('/')
  return cleaned === '' ? '.' : cleaned
}

/** Go's encoding/json escapes <, >, & and U+2028/2029 inside strings. */
export function goJsonEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Consul strips one leading '/' from KEY: pairs cannot start with it (Consul docs: commands/kv). */
export function stripLeadingSlash(key: string): string {
  return key.startsWith('/') ? key.slice(1) : key
}
