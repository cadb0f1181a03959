// A client agent's token resolution (it holds no ACL tables): the servers are asked over the
// 'acl-resolve' RPC and the answer is cached, as Consul's client ACLResolver does
// (agent/consul/acl.go): a token for token_ttl, and no longer than policy_ttl / role_ttl when it
// carries policies / roles (coord fetches all three in one answer, so one entry lives for the
// shortest TTL that applies). An unknown secret is cached too ("ACL not found" for token_ttl).
//
// When no server answers (down_policy, Consul's ACLResolverSettings.ACLDownPolicy):
//   extend-cache  a cached answer, even an expired one, keeps being used; nothing cached → deny all
//   async-cache   as extend-cache, and an expired answer is used at once while a refresh runs behind
//   allow         allow all (never ACL management or snapshots, as Consul's AllowAll)
//   deny          deny all
// An error a server itself answered (other than "not found") is not "servers down": it is passed on.
import {mergeRules, policyAuthorizer, type Authorizer, type DefaultPolicy} from '../acl/authorizer.js'
import {tokenAuthorizer} from '../acl/resolve.js'
import type {AclDownPolicy} from '../agent/acl-config.js'
import {resolutionDirectory, type AclResolution} from '../forward/acl-resolution.js'

/** What a secret resolves to: a token's authorizer, or "no such token". */
export type Resolution =
  | {readonly found: true; readonly accessorId: string; readonly authorizer: Authorizer; readonly expiresAt?: number}
  | {readonly found: false}

export interface RemoteResolverOptions {
  /** Asks a server; resolves undefined for a secret no server knows; throws when none could answer (or one answered another error). */
  fetch(secret: string): Promise<AclResolution | undefined>
  /** True for an error meaning no server could be asked (down_policy applies), false for one a server answered. */
  serversDown(error: unknown): boolean
  datacenter: string
  defaultPolicy: DefaultPolicy
  downPolicy: AclDownPolicy
  tokenTtlMs: number
  policyTtlMs: number
  roleTtlMs: number
  now(): number
  /** Told once per stretch of lookups the down policy answered (servers unreachable), and when they answer again. */
  onDown?(down: boolean, error?: unknown): void
}

interface Entry {
  readonly resolution: Resolution
  readonly at: number
  readonly ttlMs: number
}

/** At most this many secrets are cached; the oldest leaves first. */
const CACHE_LIMIT = 4096

/** Consul's identity name for a request the down policy answered. */
export const DOWN_ACCESSOR = 'primary-dc-down'

export class RemoteAclResolver {
  readonly #o: RemoteResolverOptions
  readonly #cache = new Map<string, Entry>()
  readonly #inFlight = new Map<string, Promise<Resolution>>()
  readonly #down: Resolution
  #reportedDown = false

  constructor(options: RemoteResolverOptions) {
    this.#o = options
    this.#down = {found: true, accessorId: DOWN_ACCESSOR, authorizer: policyAuthorizer(mergeRules([]), options.downPolicy === 'allow' ? 'allow' : 'deny')}
  }

  /** Resolves `secret` (asking a server when the cache has nothing fresh). */
  async resolve(secret: string): Promise<Resolution> {
    const entry = this.#cache.get(secret)
    const now = this.#o.now()
    if (entry && now - entry.at < entry.ttlMs) return this.#live(entry.resolution, now)
    if (entry && this.#o.downPolicy === 'async-cache') {
      void this.#refresh(secret, entry).catch(() => {})
      return this.#live(entry.resolution, now)
    }
    return this.#live(await this.#refresh(secret, entry), now)
  }

  /**
   * The last answer for `secret` without waiting (a blocking read's wake, DNS): undefined when it was
   * never resolved. A stale answer starts a refresh, which the next call sees.
   */
  current(secret: string): Resolution | undefined {
    const entry = this.#cache.get(secret)
    if (!entry) {
      void this.#refresh(secret, undefined).catch(() => {})
      return undefined
    }
    const now = this.#o.now()
    if (now - entry.at >= entry.ttlMs) void this.#refresh(secret, entry).catch(() => {})
    return this.#live(entry.resolution, now)
  }

  /** A cached token that expired since (ExpirationTime) is "not found" from then on. */
  #live(resolution: Resolution, now: number): Resolution {
    return resolution.found && resolution.expiresAt !== undefined && resolution.expiresAt < now ? {found: false} : resolution
  }

  /** One question per secret at a time (Consul's singleflight group). */
  #refresh(secret: string, stale: Entry | undefined): Promise<Resolution> {
    let pending = this.#inFlight.get(secret)
    if (!pending) {
      pending = this.#ask(secret, stale).finally(() => this.#inFlight.delete(secret))
      this.#inFlight.set(secret, pending)
    }
    return pending
  }

  async #ask(secret: string, stale: Entry | undefined): Promise<Resolution> {
    let answer: AclResolution | undefined
    try {
      answer = await this.#o.fetch(secret)
    } catch (error) {
      if (!this.#o.serversDown(error)) throw error
      this.#noteDown(true, error)
      if ((this.#o.downPolicy === 'extend-cache' || this.#o.downPolicy === 'async-cache') && stale) {
        // Extended: kept for another TTL without asking again meanwhile.
        this.#store(secret, {...stale, at: this.#o.now()})
        return stale.resolution
      }
      // Cached like an answer (Consul caches the down policy's authorizer for the token's TTL), so a
      // later synchronous look (current) sees the same decision, never an older allowing answer.
      this.#store(secret, {resolution: this.#down, at: this.#o.now(), ttlMs: this.#o.tokenTtlMs})
      return this.#down
    }
    this.#noteDown(false)
    const resolution = answer === undefined ? {found: false as const} : this.#authorize(answer)
    const ttlMs = answer === undefined ? this.#o.tokenTtlMs : Math.min(
      this.#o.tokenTtlMs,
      answer.policies.length > 0 ? this.#o.policyTtlMs : Infinity,
      answer.roles.length > 0 ? this.#o.roleTtlMs : Infinity,
    )
    this.#store(secret, {resolution, at: this.#o.now(), ttlMs})
    return resolution
  }

  #authorize(answer: AclResolution): Resolution {
    const expiresAt = answer.token.ExpirationTime ? Date.parse(answer.token.ExpirationTime) : undefined
    return {
      found: true, accessorId: answer.token.AccessorID,
      authorizer: tokenAuthorizer(answer.token, resolutionDirectory(answer), this.#o.datacenter, this.#o.defaultPolicy),
      ...(expiresAt !== undefined && Number.isFinite(expiresAt) ? {expiresAt} : {}),
    }
  }

  #store(secret: string, entry: Entry): void {
    this.#cache.delete(secret)
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(secret, entry)
  }

  #noteDown(down: boolean, error?: unknown): void {
    if (down === this.#reportedDown) return
    this.#reportedDown = down
    this.#o.onDown?.(down, error)
  }
}
