// Who a request is, as the ACL system sees it: the secret it presented (identity.ts), else the
// agent's default token, else the anonymous token, resolved against this server's replicated ACL
// tables into an Authorizer (lib/acl). As Consul (agent/consul/acl.go ResolveToken): an unknown or
// expired secret is 403 "ACL not found"; with ACLs off everything is allowed.
//
// On a server, resolution reads only local replicated state, so a token change is seen by this agent
// as soon as its log applies it; resolved authorizers are cached per secret for as long as the ACL
// tables do not move (their three indexes are the cache key), and for at most token_ttl. A client
// agent holds no tables: it asks the servers (client/acl-resolver.ts, token_ttl and down_policy),
// and serve() awaits that answer (prepareToken) before the route's check runs.
//
// The agent_recovery token (acl.tokens.agent_recovery) is checked first on every agent, without
// asking anyone, as Consul's agent does: agent:write on this agent's node and node:read on all nodes.
import {ACLS_DISABLED, mergeRules, policyAuthorizer, type Authorizer} from '../acl/authorizer.js'
import {parseRules} from '../acl/rules.js'
import {tokenAuthorizer} from '../acl/resolve.js'
import type {Need} from '../acl/access.js'
import type {ScalarKind, SegmentKind} from '../acl/rules.js'
import {HttpError} from '../errors.js'
import {ANONYMOUS_TOKEN_ID, ANONYMOUS_TOKEN_SECRET, type AclToken} from '../state/acl.js'
import type {AgentDeps, ResolvedToken} from './context.js'
import type {RequestIdentity} from './identity.js'

export type AuthorizeDeps = AgentDeps<'config' | 'state' | 'now' | 'aclTokens'> & Partial<AgentDeps<'aclResolver'>>

export type {ResolvedToken}

export const ACL_NOT_FOUND = 'ACL not found'
export const aclNotFound = () => new HttpError(403, ACL_NOT_FOUND, 'ACL_NOT_FOUND')
export const aclDisabled = () => new HttpError(401, 'ACL support disabled', 'ACL_DISABLED')

/**
 * Consul's PermissionDeniedError wording (acl/errors.go): who lacks what on which name. The anonymous
 * token gets Consul's reminder that it stands in for a request without a token.
 */
export function permissionDenied(accessorId: string, resource: string, access: Need | 'deny', name?: string): HttpError {
  let message = accessorId === ANONYMOUS_TOKEN_ID ? 'Permission denied: anonymous token' : `Permission denied: token with AccessorID '${accessorId}'`
  message += ` lacks permission '${resource}:${access}'`
  if (name !== undefined && name !== '') message += ` on ${JSON.stringify(name)}`
  if (accessorId === ANONYMOUS_TOKEN_ID) message += '. The anonymous token is used implicitly when a request does not specify a token.'
  return new HttpError(403, message, 'PERMISSION_DENIED')
}

interface CacheEntry {
  readonly resolved: ResolvedToken
  /** The ACL tables' indexes it was resolved at: any change to tokens, policies or roles resolves again. */
  readonly tokensIndex: number
  readonly policiesIndex: number
  readonly rolesIndex: number
  readonly at: number
  /** The token's ExpirationTime in ms (Infinity without one), parsed once. */
  readonly expiresAt: number
}

/**
 * Authorizers compiled per policy set (the token's policy, role and identity links in this datacenter
 * under this default policy), kept while the policy and role tables stay at the indexes they were
 * compiled at: tokens sharing a policy set share one authorizer, and a token change elsewhere
 * (which moves only the tokens index) does not compile them again.
 */
interface CompiledEntry {
  readonly authorizer: Authorizer
  readonly policiesIndex: number
  readonly rolesIndex: number
}
const COMPILED_LIMIT = 1024
const compiled = new WeakMap<object, Map<string, CompiledEntry>>()

function policySetKey(token: AclToken, dc: string, defaultPolicy: string): string {
  return JSON.stringify([dc, defaultPolicy, token.Policies?.map((l) => l.ID) ?? [], token.Roles?.map((l) => l.ID) ?? [], token.ServiceIdentities ?? [], token.NodeIdentities ?? []])
}

/** At most this many secrets are cached; the oldest leaves first (a flood of bad secrets is never cached). */
const CACHE_LIMIT = 4096
const caches = new WeakMap<object, Map<string, CacheEntry>>()

/** The secret a request acts with: its own, else the agent's default token, else the anonymous token's. */
export function effectiveSecret(agent: Pick<AuthorizeDeps, 'aclTokens' | 'config'>, identity: RequestIdentity): string {
  if (identity.token !== '') return identity.token
  const fallback = agent.aclTokens?.get('default') ?? agent.config.acl.tokens.default
  return fallback !== '' ? fallback : ANONYMOUS_TOKEN_SECRET
}

/** Consul's identity name for the agent recovery token. */
export const AGENT_RECOVERY_ACCESSOR = 'agent-recovery'
const recoveryAuthorizers = new Map<string, Authorizer>()

/** The agent recovery token's authorizer (Consul's agentRecoveryAuthorizer), or undefined for any other secret. */
function agentRecovery(agent: Pick<AuthorizeDeps, 'aclTokens' | 'config'>, secret: string): ResolvedToken | undefined {
  const recovery = agent.aclTokens?.get('agentRecovery') ?? agent.config.acl.tokens.agentRecovery
  if (recovery === '' || secret !== recovery) return undefined
  const node = agent.config.nodeName
  let authorizer = recoveryAuthorizers.get(node)
  if (!authorizer) {
    authorizer = policyAuthorizer(mergeRules([parseRules(`agent ${JSON.stringify(node)} {\n  policy = "write"\n}\nnode_prefix "" {\n  policy = "read"\n}`)]), 'deny')
    recoveryAuthorizers.set(node, authorizer)
  }
  return {accessorId: AGENT_RECOVERY_ACCESSOR, authorizer}
}

/**
 * On a client agent: asks the servers about the request's token (or uses the cached answer) so that
 * resolveToken, which cannot wait, has it. A no-op on servers and with ACLs off.
 */
export async function prepareToken(agent: AuthorizeDeps, identity: RequestIdentity): Promise<void> {
  if (!agent.config.acl.enabled || !agent.aclResolver) return
  const secret = effectiveSecret(agent, identity)
  if (agentRecovery(agent, secret)) return
  await agent.aclResolver.resolve(secret)
}

export function resolveToken(agent: AuthorizeDeps, identity: RequestIdentity): ResolvedToken {
  const {acl} = agent.config
  if (!acl.enabled) return {accessorId: '', authorizer: ACLS_DISABLED}
  const secret = effectiveSecret(agent, identity)
  const recovery = agentRecovery(agent, secret)
  if (recovery) return recovery
  if (agent.aclResolver) {
    // Never resolved (prepareToken was not awaited) reads as unknown: refused, never allowed.
    const remote = agent.aclResolver.current(secret)
    if (!remote?.found) throw aclNotFound()
    return {accessorId: remote.accessorId, authorizer: remote.authorizer}
  }
  const tables = agent.state.acl
  const now = agent.now()
  let cache = caches.get(agent.state)
  if (!cache) {
    cache = new Map()
    caches.set(agent.state, cache)
  }
  const hit = cache.get(secret)
  if (hit && hit.tokensIndex === tables.tokensIndex && hit.policiesIndex === tables.policiesIndex && hit.rolesIndex === tables.rolesIndex &&
    now - hit.at < acl.tokenTtlMs && now <= hit.expiresAt) return hit.resolved
  // One map lookup whether or not the secret exists, and the same work after it either way
  // (expiry is checked on a found token and on a stand-in): no timing tells a guess apart.
  const token = tables.tokenBySecret(secret)
  const isExpired = expired(token ?? STAND_IN, now)
  if (!token || isExpired) {
    cache.delete(secret)
    throw aclNotFound()
  }
  const resolved: ResolvedToken = {accessorId: token.AccessorID, token, authorizer: compiledAuthorizer(agent, token)}
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
  const expiresAt = token.ExpirationTime ? Date.parse(token.ExpirationTime) : Infinity
  cache.set(secret, {resolved, tokensIndex: tables.tokensIndex, policiesIndex: tables.policiesIndex, rolesIndex: tables.rolesIndex, at: now, expiresAt})
  return resolved
}

/** The token's authorizer: compiled once per policy set while the policy and role tables hold still. */
function compiledAuthorizer(agent: AuthorizeDeps, token: AclToken): Authorizer {
  const tables = agent.state.acl
  const {datacenter, acl} = agent.config
  let byKey = compiled.get(agent.state)
  if (!byKey) compiled.set(agent.state, byKey = new Map())
  const key = policySetKey(token, datacenter, acl.defaultPolicy)
  const hit = byKey.get(key)
  if (hit && hit.policiesIndex === tables.policiesIndex && hit.rolesIndex === tables.rolesIndex) return hit.authorizer
  const directory = {policy: (id: string) => tables.policy(id), role: (id: string) => tables.role(id)}
  const authorizer = tokenAuthorizer(token, directory, datacenter, acl.defaultPolicy)
  byKey.delete(key)
  if (byKey.size >= COMPILED_LIMIT) byKey.delete(byKey.keys().next().value as string)
  byKey.set(key, {authorizer, policiesIndex: tables.policiesIndex, rolesIndex: tables.rolesIndex})
  return authorizer
}

const STAND_IN = {ExpirationTime: '1970-01-01T00:00:00Z'}
function expired(token: {ExpirationTime?: string} | undefined, now: number): boolean {
  if (!token?.ExpirationTime) return false
  return Date.parse(token.ExpirationTime) < now
}

/** Throws Consul's 403 unless the token may `need` on `kind` `segment`. */
export function requireSegment(resolved: ResolvedToken, kind: SegmentKind, segment: string, need: Need): void {
  if (!resolved.authorizer.allowed(kind, segment, need)) throw permissionDenied(resolved.accessorId, kind, need, segment)
}

/** Throws Consul's 403 unless the token may `need` on acl, keyring or operator. */
export function requireScalar(resolved: ResolvedToken, kind: ScalarKind, need: Need): void {
  if (!resolved.authorizer.allowedScalar(kind, need)) throw permissionDenied(resolved.accessorId, kind, need)
}

/** Consul's header when an answer left out what the caller's token may not see. */
export const FILTERED_BY_ACLS = 'X-Consul-Results-Filtered-By-ACLs'

/**
 * Keeps the items the caller may read (Consul's aclfilter): called inside a blocking read's read
 * function, so each wake re-resolves the token. With ACLs off the list comes back untouched.
 */
export function filterReadable<T>(aclOn: boolean, ctx: {authorize(): ResolvedToken}, items: T[], kind: SegmentKind, nameOf: (item: T) => string): {value: T[]; filtered: boolean} {
  if (!aclOn) return {value: items, filtered: false}
  const authz = ctx.authorize().authorizer
  const value = items.filter((item) => authz.allowed(kind, nameOf(item), 'read'))
  return {value, filtered: value.length !== items.length}
}
