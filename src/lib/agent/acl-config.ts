// Consul's `acl` config block (Consul docs: agent/config/config-files#acl-parameters): whether ACLs
// are on, the default and down policies, how long resolved tokens, policies and roles are cached,
// and the agent's own tokens. Problems name the key. `enabled = true` is acted on by the authorizer
// on every route and DNS (acl/, http/), client agents included.
import {parseDuration} from '../duration.js'
import type {ProblemSink} from './config-problems.js'

export type AclDownPolicy = 'allow' | 'deny' | 'extend-cache' | 'async-cache'

export interface AclTokens {
  /** acl.tokens.initial_management (older name: master): the management token's secret, set at first leadership. */
  readonly initialManagement: string
  /** acl.tokens.agent: the agent's token for its own internal operations (catalog sync, coordinates). */
  readonly agent: string
  /** acl.tokens.agent_recovery (older name: agent_master): local agent endpoints even without servers. */
  readonly agentRecovery: string
  /** acl.tokens.default: what a request that presents no token uses (before the anonymous token); DNS uses it. */
  readonly default: string
  /** acl.tokens.replication: unused by coord (one datacenter's servers share one Raft log). */
  readonly replication: string
}

export interface AclConfig {
  readonly enabled: boolean
  readonly defaultPolicy: 'allow' | 'deny'
  readonly downPolicy: AclDownPolicy
  readonly enableTokenPersistence: boolean
  readonly tokenTtlMs: number
  readonly policyTtlMs: number
  readonly roleTtlMs: number
  readonly tokens: AclTokens
}

export const ACL_KEYS: ReadonlySet<string> = new Set([
  'enabled', 'default_policy', 'down_policy', 'enable_token_persistence', 'token_ttl', 'policy_ttl', 'role_ttl', 'tokens',
])
/** Consul keys of the block with nothing to act on in coord (legacy ACLs, replication across datacenters, Enterprise). */
export const ACL_ACCEPTED: ReadonlySet<string> = new Set(['enable_token_replication', 'enable_key_list_policy', 'msp_disable_bootstrap'])
const TOKEN_KEYS: Record<string, keyof AclTokens> = {
  initial_management: 'initialManagement', master: 'initialManagement',
  agent: 'agent', agent_recovery: 'agentRecovery', agent_master: 'agentRecovery',
  default: 'default', replication: 'replication',
}

/** Consul's defaults: ACLs off, default allow, extend-cache, 30 s caches. */
export const DEFAULT_ACL_CONFIG: AclConfig = {
  enabled: false, defaultPolicy: 'allow', downPolicy: 'extend-cache', enableTokenPersistence: false,
  tokenTtlMs: 30_000, policyTtlMs: 30_000, roleTtlMs: 30_000,
  tokens: {initialManagement: '', agent: '', agentRecovery: '', default: '', replication: ''},
}

/** Reads the block; each problem is kept under its key (`acl.tokens.agent`), never with a secret in it. */
export function parseAclConfig(raw: Record<string, unknown>, problems: ProblemSink): AclConfig {
  const bool = (key: string, fallback: boolean): boolean => {
    const value = raw[key]
    if (value === undefined) return fallback
    if (typeof value === 'boolean') return value
    if (typeof value === 'string' && /^(1|t|T|TRUE|true|True)$/.test(value)) return true
    if (typeof value === 'string' && /^(0|f|F|FALSE|false|False)$/.test(value)) return false
    problems.add(`acl.${key}`, `acl.${key}: expected a boolean, got ${JSON.stringify(value)}`)
    return fallback
  }
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = raw[key]
    if (value === undefined) return fallback
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
    problems.add(`acl.${key}`, `acl.${key}: must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`)
    return fallback
  }
  const duration = (key: string, fallback: number): number => {
    const value = raw[key]
    if (value === undefined) return fallback
    if (typeof value === 'string') {
      try {
        const ms = parseDuration(value)
        if (ms >= 0) return ms
      } catch {
        // reported below
      }
    }
    problems.add(`acl.${key}`, `acl.${key}: expected a duration such as "30s", got ${JSON.stringify(value)}`)
    return fallback
  }
  const tokens: Record<keyof AclTokens, string> = {...DEFAULT_ACL_CONFIG.tokens}
  const rawTokens = raw.tokens
  if (rawTokens !== undefined) {
    if (typeof rawTokens !== 'object' || rawTokens === null || Array.isArray(rawTokens)) {
      problems.add('acl.tokens', 'acl.tokens: expected an object')
    } else {
      for (const [key, value] of Object.entries(rawTokens)) {
        const name = TOKEN_KEYS[key]
        // Secrets never reach a message: a bad value is named by its key only.
        if (name === undefined) problems.add(`acl.tokens.${key}`, `acl.tokens.${key}: unknown token kind`)
        else if (typeof value !== 'string') problems.add(`acl.tokens.${key}`, `acl.tokens.${key}: expected a string`)
        else tokens[name] = value
      }
    }
  }
  return {
    enabled: bool('enabled', false),
    defaultPolicy: oneOf('default_policy', ['allow', 'deny'] as const, 'allow'),
    downPolicy: oneOf('down_policy', ['allow', 'deny', 'extend-cache', 'async-cache'] as const, 'extend-cache'),
    enableTokenPersistence: bool('enable_token_persistence', false),
    tokenTtlMs: duration('token_ttl', 30_000),
    policyTtlMs: duration('policy_ttl', 30_000),
    roleTtlMs: duration('role_ttl', 30_000),
    tokens,
  }
}
