// Consul's `gossip_lan` / `gossip_wan` config blocks (agent/config: GossipLAN*/GossipWAN*) mapped
// onto the gossip core's config. Each block overrides only the keys it names, on top of the pool's
// base profile: coord's own for the LAN (gossip/config.ts: coordGossipConfig), memberlist's WAN
// profile for the WAN. Values are checked here, against the merged result, so an error names the
// Consul key (e.g. `gossip_lan.probe_timeout`), not a field of the core.
import {coordGossipConfig, validateGossipConfig, wanGossipConfig, type GossipConfig} from '../gossip/config.js'
import {parseDuration} from '../duration.js'
import type {ProblemSink} from './config-problems.js'

export type GossipPool = 'lan' | 'wan'

/** The knobs Consul exposes, as the core's fields. */
export type GossipTiming = Readonly<Partial<Pick<GossipConfig, 'probeIntervalMs' | 'probeTimeoutMs' | 'suspicionMult' | 'retransmitMult' | 'gossipIntervalMs' | 'gossipNodes'>>>

/** Consul key → core field, and whether the value is a duration (else a positive integer). */
const KEYS = {
  probe_interval: {field: 'probeIntervalMs', duration: true},
  probe_timeout: {field: 'probeTimeoutMs', duration: true},
  suspicion_mult: {field: 'suspicionMult', duration: false},
  retransmit_mult: {field: 'retransmitMult', duration: false},
  gossip_interval: {field: 'gossipIntervalMs', duration: true},
  gossip_nodes: {field: 'gossipNodes', duration: false},
} as const

export const gossipTimingKeys: ReadonlySet<string> = new Set(Object.keys(KEYS))

/** The pool's base profile before any config block. */
export function baseGossipConfig(pool: GossipPool): GossipConfig {
  return pool === 'lan' ? coordGossipConfig() : wanGossipConfig()
}

/** The pool's gossip config: its base profile with the block's overrides applied. */
export function gossipConfigFor(pool: GossipPool, timing: GossipTiming): GossipConfig {
  const config = {...baseGossipConfig(pool), ...timing}
  // The stall detector must stay well above the tick period, which follows the gossip interval.
  if (timing.gossipIntervalMs !== undefined && config.localStallThresholdMs > 0) {
    config.localStallThresholdMs = Math.max(config.localStallThresholdMs, 4 * config.gossipIntervalMs)
  }
  return config
}

/**
 * Reads one block (already checked for unknown keys); problems are kept under `<block>.<key>`, a
 * rule between keys under the first key it names (else the block).
 */
export function readGossipTiming(raw: Record<string, unknown>, block: string, pool: GossipPool, problems: ProblemSink): GossipTiming {
  const timing: Record<string, number> = {}
  for (const [key, {field, duration}] of Object.entries(KEYS)) {
    const value = raw[key]
    if (value === undefined) continue
    const parsed = duration ? durationMs(value) : positiveInt(value)
    if (parsed === undefined) problems.add(`${block}.${key}`, `${block}.${key}: expected ${duration ? 'a positive duration such as "1s"' : 'a positive integer'}, got ${JSON.stringify(value)}`)
    else timing[field] = parsed
  }
  const fieldToKey = new Map<string, string>(Object.entries(KEYS).map(([key, {field}]) => [field, `${block}.${key}`]))
  const fields = /\b(probeIntervalMs|probeTimeoutMs|suspicionMult|retransmitMult|gossipIntervalMs|gossipNodes)\b/g
  for (const problem of validateGossipConfig(gossipConfigFor(pool, timing))) {
    // The core names its fields; the user wrote Consul's keys.
    const named = [...problem.matchAll(fields)].map((match) => fieldToKey.get(match[1]) ?? block)
    problems.add(named[0] ?? block, `${block}: ${problem.replace(fields, (f) => fieldToKey.get(f) ?? f)}`)
  }
  return Object.freeze(timing)
}

function durationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  try {
    const ms = parseDuration(value)
    return Number.isInteger(ms) && ms > 0 ? ms : undefined
  } catch {
    return undefined
  }
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined
}
