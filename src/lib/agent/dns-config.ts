// DNS settings: Consul's `domain`, `alt_domain`, `recursors` and `dns_config` keys, parsed and
// validated with every problem named (the agent's config.ts collects them), then frozen.
// Defaults are Consul's (agent/config/default.go): see Consul docs: services/discovery/dns-overview
import {isIP} from 'node:net'
import {parseDuration} from '../duration.js'
import type {ProblemSink} from './config-problems.js'

export interface DnsConfig {
  /** Fully qualified, lower case, with the trailing dot: "consul.". */
  readonly domain: string
  /** '' when unset; otherwise as `domain`. */
  readonly altDomain: string
  /** "host:port" of upstream resolvers (port 53 when omitted) for names outside the domain. */
  readonly recursors: readonly string[]
  readonly recursorTimeoutMs: number
  readonly allowStale: boolean
  readonly maxStaleMs: number
  /** TTL (seconds) of node answers. */
  readonly nodeTtlSec: number
  /** Service name → TTL seconds; keys ending in "*" match by prefix ("*" alone: every service). */
  readonly serviceTtlSec: Readonly<Record<string, number>>
  /** Only instances whose checks all pass; by default warning instances are answered too. */
  readonly onlyPassing: boolean
  /** Answer records in a UDP reply without EDNS (Consul caps it at 8 whatever the setting). */
  readonly udpAnswerLimit: number
  /** Instances in an A/AAAA answer over any transport; 0 = unlimited. */
  readonly aRecordLimit: number
  /** Set the TC bit when a UDP answer was trimmed, so clients retry over TCP. */
  readonly enableTruncate: boolean
  /** Node meta as TXT records in the additional section of node and SRV answers. */
  readonly nodeMetaTxt: boolean
  readonly soa: Readonly<{refresh: number; retry: number; expire: number; minTtl: number}>
}

export const defaultDnsConfig: DnsConfig = Object.freeze({
  domain: 'consul.', altDomain: '', recursors: [], recursorTimeoutMs: 2000, allowStale: true,
  maxStaleMs: 87600 * 3600 * 1000, nodeTtlSec: 0, serviceTtlSec: {}, onlyPassing: false, udpAnswerLimit: 3,
  aRecordLimit: 0, enableTruncate: false, nodeMetaTxt: true,
  soa: {refresh: 3600, retry: 600, expire: 86400, minTtl: 0},
})

/** dns_config keys read here (config-schema.ts lists them from this set). */
export const DNS_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'allow_stale', 'max_stale', 'node_ttl', 'service_ttl', 'only_passing', 'udp_answer_limit', 'a_record_limit',
  'enable_truncate', 'recursor_timeout', 'enable_additional_node_meta_txt', 'soa',
])
// Consul keys accepted and ignored: coord has no agent cache, no compression, no namespaces.
export const DNS_CONFIG_IGNORED: ReadonlySet<string> = new Set(['use_cache', 'cache_max_age', 'disable_compression', 'recursor_strategy', 'prefer_namespace'])

/** "consul" → "consul."; lower-cased, as DNS names compare case-insensitively. */
export function fqdn(name: string): string {
  const lower = name.trim().toLowerCase()
  return lower.endsWith('.') ? lower : `${lower}.`
}

/** "8.8.8.8" → "8.8.8.8:53", "::1" → "[::1]:53"; a given port stays. Throws on anything else. */
export function recursorAddress(text: string): string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (bracketed && isIP(bracketed[1]) === 6) return `[${bracketed[1]}]:${bracketed[2] ?? 53}`
  if (isIP(text) === 6) return `[${text}]:53`
  const v4 = /^([^:]+)(?::(\d+))?$/.exec(text)
  if (v4 && isIP(v4[1]) === 4 && (v4[2] === undefined || Number(v4[2]) <= 65535)) return `${v4[1]}:${v4[2] ?? 53}`
  throw new Error(`invalid recursor address ${JSON.stringify(text)} (want an IP address, optionally with :port)`)
}

/** Reads the DNS keys of a merged raw config; each problem is kept under its dotted key (`dns_config.node_ttl`). */
export function parseDnsConfig(raw: Record<string, unknown>, problems: ProblemSink, warn: (msg: string) => void): DnsConfig {
  const d = defaultDnsConfig
  const str = (key: string, fallback: string): string => {
    const v = raw[key]
    if (v === undefined) return fallback
    if (typeof v === 'string' && v.trim() !== '') return v
    problems.add(key, `${key}: expected a domain name, got ${JSON.stringify(v)}`)
    return fallback
  }
  const domain = fqdn(str('domain', d.domain))
  const altDomain = raw.alt_domain === undefined ? '' : fqdn(str('alt_domain', ''))
  const recursors: string[] = []
  const rawRecursors = typeof raw.recursors === 'string' ? [raw.recursors] : raw.recursors ?? []
  if (!Array.isArray(rawRecursors)) problems.add('recursors', `recursors: expected a list of addresses, got ${JSON.stringify(raw.recursors)}`)
  else for (const r of rawRecursors) {
    try {
      recursors.push(recursorAddress(String(r)))
    } catch (error) {
      problems.add('recursors', `recursors: ${(error as Error).message}`)
    }
  }
  const block = raw.dns_config ?? {}
  if (block === null || typeof block !== 'object' || Array.isArray(block)) {
    problems.add('dns_config', `dns_config: expected an object, got ${JSON.stringify(block)}`)
    return Object.freeze({...d, domain, altDomain, recursors})
  }
  const b = block as Record<string, unknown>
  for (const key of Object.keys(b)) {
    if (DNS_CONFIG_IGNORED.has(key)) warn(`config key "dns_config.${key}" is accepted but not acted on by coord`)
    else if (!DNS_CONFIG_KEYS.has(key)) problems.add(`dns_config.${key}`, `invalid config key dns_config.${key}`)
  }
  const bool = (key: string, fallback: boolean): boolean => {
    const v = b[key]
    if (v === undefined) return fallback
    if (typeof v === 'boolean') return v
    problems.add(`dns_config.${key}`, `dns_config.${key}: expected true or false, got ${JSON.stringify(v)}`)
    return fallback
  }
  const durationMs = (where: string, v: unknown, fallback: number): number => {
    if (v === undefined) return fallback
    try {
      if (typeof v !== 'string') throw new Error('not a string')
      const ms = parseDuration(v)
      if (ms < 0) throw new Error('negative')
      return ms
    } catch {
      problems.add(where, `${where}: expected a duration such as "10s", got ${JSON.stringify(v)}`)
      return fallback
    }
  }
  const int = (where: string, v: unknown, fallback: number, min: number, max: number): number => {
    if (v === undefined) return fallback
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v
    problems.add(where, `${where}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`)
    return fallback
  }
  const serviceTtlSec: Record<string, number> = {}
  const rawTtl = b.service_ttl ?? {}
  if (rawTtl === null || typeof rawTtl !== 'object' || Array.isArray(rawTtl)) {
    problems.add('dns_config.service_ttl', `dns_config.service_ttl: expected an object of service name → duration, got ${JSON.stringify(rawTtl)}`)
  } else {
    for (const [name, ttl] of Object.entries(rawTtl)) {
      serviceTtlSec[name.toLowerCase()] = Math.floor(durationMs(`dns_config.service_ttl.${name}`, ttl, 0) / 1000)
    }
  }
  const rawSoa = (b.soa ?? {}) as Record<string, unknown>
  const u32 = 0xffff_ffff
  return Object.freeze({
    domain, altDomain, recursors,
    recursorTimeoutMs: durationMs('dns_config.recursor_timeout', b.recursor_timeout, d.recursorTimeoutMs),
    allowStale: bool('allow_stale', d.allowStale),
    maxStaleMs: durationMs('dns_config.max_stale', b.max_stale, d.maxStaleMs),
    nodeTtlSec: Math.floor(durationMs('dns_config.node_ttl', b.node_ttl, 0) / 1000),
    serviceTtlSec,
    onlyPassing: bool('only_passing', d.onlyPassing),
    udpAnswerLimit: int('dns_config.udp_answer_limit', b.udp_answer_limit, d.udpAnswerLimit, 0, 1 << 16),
    aRecordLimit: int('dns_config.a_record_limit', b.a_record_limit, d.aRecordLimit, 0, 1 << 16),
    enableTruncate: bool('enable_truncate', d.enableTruncate),
    nodeMetaTxt: bool('enable_additional_node_meta_txt', d.nodeMetaTxt),
    soa: {
      refresh: int('dns_config.soa.refresh', rawSoa.refresh, d.soa.refresh, 0, u32),
      retry: int('dns_config.soa.retry', rawSoa.retry, d.soa.retry, 0, u32),
      expire: int('dns_config.soa.expire', rawSoa.expire, d.soa.expire, 0, u32),
      minTtl: int('dns_config.soa.min_ttl', rawSoa.min_ttl, d.soa.minTtl, 0, u32),
    },
  })
}

/** Consul's lookup: an exact key first, then the longest "prefix*" key that matches. */
export function serviceTtl(config: DnsConfig, service: string): number {
  const name = service.toLowerCase()
  const exact = config.serviceTtlSec[name]
  if (exact !== undefined) return exact
  let best: {len: number; ttl: number} | undefined
  for (const [key, ttl] of Object.entries(config.serviceTtlSec)) {
    if (!key.endsWith('*')) continue
    const prefix = key.slice(0, -1)
    if (name.startsWith(prefix) && (best === undefined || prefix.length > best.len)) best = {len: prefix.length, ttl}
  }
  return best?.ttl ?? 0
}
