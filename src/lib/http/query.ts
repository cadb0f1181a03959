// The query parameters every Consul read shares (Consul docs: api-docs/features/consistency): blocking (index, wait),
// consistency (stale, consistent, max_stale), dc, pretty. Parsed and validated once per request.
import {DEFAULT_WAIT_MS, MAX_WAIT_MS, parseDuration} from '../duration.js'
import {badRequest} from '../errors.js'


export interface QueryOptions {
  index: number
  waitMs: number
  stale: boolean
  consistent: boolean
  maxStaleMs: number
  dc: string
  pretty: boolean
}

/** Presence flags: `?recurse`, `?recurse=`, `?recurse=true` all mean true; `=false` means false. */
export function flag(params: URLSearchParams, name: string): boolean {
  if (!params.has(name)) return false
  const value = params.get(name)?.toLowerCase()
  return value !== 'false' && value !== '0'
}

export function parseUint(params: URLSearchParams, name: string, what = name): number | undefined {
  const text = params.get(name)
  if (text === null) return undefined
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw badRequest(`Invalid ${what}: "${text}" is not an unsigned integer`)
  return Number(text)
}

export function parseQueryOptions(params: URLSearchParams, forcePretty: boolean): QueryOptions {
  const indexText = params.get('index')
  let index = 0
  if (indexText !== null && indexText !== '') {
    if (!/^\d+$/.test(indexText)) throw badRequest('Invalid index')
    index = Number(indexText)
  }
  let waitMs = DEFAULT_WAIT_MS
  const waitText = params.get('wait')
  if (waitText !== null && waitText !== '') {
    try {
      waitMs = parseDuration(waitText)
    } catch {
      throw badRequest('Invalid wait time')
    }
    if (waitMs < 0) throw badRequest('Invalid wait time')
    waitMs = Math.min(waitMs, MAX_WAIT_MS)
  }
  let maxStaleMs = 0
  const maxStaleText = params.get('max_stale')
  if (maxStaleText !== null && maxStaleText !== '') {
    try {
      maxStaleMs = parseDuration(maxStaleText)
    } catch {
      throw badRequest(`Invalid max_stale value "${maxStaleText}"`)
    }
  }
  const stale = flag(params, 'stale') || maxStaleMs > 0
  const consistent = flag(params, 'consistent')
  if (stale && consistent) throw badRequest('Cannot specify ?stale with ?consistent, conflicting semantics.')
  if (flag(params, 'cached') && consistent) throw badRequest('Cannot specify ?cached with ?consistent, conflicting semantics.')
  for (const name of ['ns', 'partition']) {
    const value = params.get(name)
    if (value && value !== 'default') throw badRequest(`Invalid ${name === 'ns' ? 'namespace' : 'partition'} "${value}": namespaces and partitions are Consul Enterprise features`)
  }
  return {index, waitMs, stale, consistent, maxStaleMs, dc: params.get('dc') ?? '', pretty: forcePretty || params.has('pretty')}
}
