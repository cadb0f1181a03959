// Which server a client agent talks to: one picked at random among the servers gossip says are
// alive, kept while it works (its connection and any blocking queries stay put), and replaced by
// another at random when a call to it fails. A failed server sits out a cool-down so the next pick
// avoids it even before gossip has declared it failed. As Consul's router, it also rebalances: every
// few minutes (rebalanceIntervalMs) the next call picks afresh, so servers added after the clients
// started get their share. Calls in flight (blocking queries) finish where they are.
import type {AgentMember as MemberInfo} from '../api/agent.js'

/** Consul's clientRPCMinReuseDuration: never rebalance more often than this (plus up to half again). */
export const MIN_REUSE_MS = 120_000
/** Consul's newRebalanceConnsPerSecPerServer: the cluster-wide pace rebalancing may not exceed. */
const REBALANCES_PER_SECOND_PER_SERVER = 64

/**
 * How long a client keeps its server before the next rebalance (Consul's refreshServerRebalanceTimer):
 * 120 s plus a random stagger of up to 60 s, stretched so the whole LAN pool stays under 64
 * rebalances per second per server.
 */
export function rebalanceIntervalMs(servers: number, members: number, random: () => number = Math.random): number {
  const lowWatermark = MIN_REUSE_MS + random() * (MIN_REUSE_MS / 2)
  const ratePerSecond = Math.max(1, servers) * REBALANCES_PER_SECOND_PER_SERVER
  return Math.max(lowWatermark, (members / ratePerSecond) * 1000)
}

export interface ServerPoolOptions {
  /** RPC addresses (host:port) of the servers gossip currently sees alive. */
  servers: () => string[]
  cooldownMs?: number
  random?: () => number
  now?: () => number
}

export class ServerPool {
  #current: string | undefined
  readonly #failedAt = new Map<string, number>()
  readonly #cooldownMs: number
  readonly #random: () => number
  readonly #now: () => number

  constructor(private readonly opts: ServerPoolOptions) {
    this.#cooldownMs = opts.cooldownMs ?? 10_000
    this.#random = opts.random ?? Math.random
    this.#now = opts.now ?? Date.now
  }

  /** Servers alive now (for known_servers and /v1/status/peers-like displays). */
  known(): string[] {
    return this.opts.servers()
  }

  /**
   * The server to call: the current one while it is alive, else a random alive one that has not
   * failed lately (any alive one when all have), never one in `exclude`. Undefined when none is left.
   */
  pick(exclude: ReadonlySet<string> = new Set()): string | undefined {
    const alive = this.opts.servers().filter((address) => !exclude.has(address))
    if (this.#current && alive.includes(this.#current)) return this.#current
    const now = this.#now()
    for (const [address, at] of this.#failedAt) if (now - at >= this.#cooldownMs) this.#failedAt.delete(address)
    const healthy = alive.filter((address) => !this.#failedAt.has(address))
    const choices = healthy.length > 0 ? healthy : alive
    if (choices.length === 0) return undefined
    const chosen = choices[Math.min(choices.length - 1, Math.floor(this.#random() * choices.length))]
    if (!exclude.has(chosen)) this.#current = chosen
    return chosen
  }

  /** A call to `address` failed: stop using it and let it sit out the cool-down. */
  failed(address: string): void {
    this.#failedAt.set(address, this.#now())
    if (this.#current === address) this.#current = undefined
  }

  /** The next call picks a server afresh (at random among the healthy ones). */
  rebalance(): void {
    this.#current = undefined
  }

  /** The server in use now, if one is picked. */
  current(): string | undefined {
    return this.#current
  }
}

/** Server RPC addresses of the alive servers of this datacenter among `members`. */
export function serverAddresses(members: readonly MemberInfo[], datacenter: string): string[] {
  return members
    .filter((m) => m.Status === 1 && m.Tags.role === 'consul' && /^\d+$/.test(m.Tags.port ?? '') && (m.Tags.dc ?? datacenter) === datacenter)
    .map((m) => `${m.Addr.includes(':') ? `[${m.Addr}]` : m.Addr}:${m.Tags.port}`)
}
