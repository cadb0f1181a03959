// Consul's http_config block, the parts that protect the HTTP API or shape its answers:
// allow_write_http_from (writes only from these CIDRs), block_endpoints (path prefixes answered
// 403) and response_headers (added to every answer). Problems name the key; a bad CIDR refuses the
// start rather than leaving writes open.
import {BlockList, isIP} from 'node:net'
import type {ProblemSink} from './config-problems.js'

export interface HttpConfig {
  /** CIDRs writes (any method but GET, HEAD, OPTIONS) may come from; empty: from anywhere. */
  readonly allowWriteHttpFrom: readonly string[]
  /** Path prefixes every request to is refused with 403 (Consul's http_config.block_endpoints). */
  readonly blockEndpoints: readonly string[]
  /** Headers set on every HTTP answer. */
  readonly responseHeaders: Readonly<Record<string, string>>
}

export const HTTP_CONFIG_KEYS: ReadonlySet<string> = new Set(['allow_write_http_from', 'block_endpoints', 'response_headers'])
/** Consul keys of the block coord accepts without acting on them: neither protects anything. */
export const HTTP_CONFIG_ACCEPTED: ReadonlySet<string> = new Set(['use_cache', 'max_header_bytes'])

/** Reads the block; each problem is kept under its key (`http_config.allow_write_http_from`). */
export function parseHttpConfig(raw: Record<string, unknown>, problems: ProblemSink): HttpConfig {
  const strings = (key: string): string[] => {
    const value = raw[key]
    if (value === undefined) return []
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      problems.add(`http_config.${key}`, `http_config.${key}: expected a list of strings, got ${JSON.stringify(value)}`)
      return []
    }
    return value as string[]
  }
  const allowWriteHttpFrom = strings('allow_write_http_from')
  for (const cidr of allowWriteHttpFrom) {
    if (parseCidr(cidr) === undefined) problems.add('http_config.allow_write_http_from', `http_config.allow_write_http_from: invalid CIDR ${JSON.stringify(cidr)}`)
  }
  const headers = raw.response_headers
  const responseHeaders: Record<string, string> = {}
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      problems.add('http_config.response_headers', `http_config.response_headers: expected an object, got ${JSON.stringify(headers)}`)
    } else {
      for (const [name, value] of Object.entries(headers)) {
        if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(value)) {
          problems.add('http_config.response_headers', `http_config.response_headers: invalid header ${JSON.stringify(name)}: ${JSON.stringify(value)}`)
        } else {
          responseHeaders[name] = value
        }
      }
    }
  }
  return {allowWriteHttpFrom, blockEndpoints: strings('block_endpoints'), responseHeaders}
}

/** "10.0.0.0/8" → [address, prefix, family]; undefined when it is not a CIDR. */
function parseCidr(cidr: string): [string, number, 'ipv4' | 'ipv6'] | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr)
  if (!match) return undefined
  const version = isIP(match[1])
  const prefix = Number(match[2])
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined
  return [match[1], prefix, version === 4 ? 'ipv4' : 'ipv6']
}

/** The allow-list of write sources as a matcher; undefined when writes are allowed from anywhere. */
export function writeAllowList(cidrs: readonly string[]): ((address: string) => boolean) | undefined {
  if (cidrs.length === 0) return undefined
  const list = new BlockList()
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr)
    if (parsed) list.addSubnet(...parsed)
  }
  return (address) => {
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
    const version = isIP(plain)
    return version !== 0 && list.check(plain, version === 4 ? 'ipv4' : 'ipv6')
  }
}
