// A client agent's calls to servers: one RPC to the pool's current server, and on a failure another
// server. A call is retried elsewhere only when it is safe: its frame never left this process, or
// the caller says it is idempotent (reads). A write that reached a server and then lost its
// connection may have been applied, so it is reported, not repeated.
//
// With a hold time (Consul's rpc_hold_timeout, as its client's RPC loop in agent/consul/client.go)
// a call whose servers all failed waits a short jittered backoff and tries again until the hold
// has passed, so a client rides through a server dying or restarting instead of answering an
// error; the server it reaches holds the request through a leader election itself. Without one
// (another datacenter's servers) each server is tried once.
import {HttpError} from '../errors.js'
import {RpcRequestError, type RpcTransport} from '../rpc/transport.js'
import type {ServerPool} from './server-pool.js'
import {HoldEpisodes, type HoldEpisode} from './hold-episodes.js'
import {abortableSleep} from '../api/abortable-sleep.js'

/** Consul's structs.ErrNoServers text, answered with HTTP 500. */
export const NO_SERVERS_MESSAGE = 'No known Consul servers'

export class NoServersError extends HttpError {
  constructor() {
    super(500, NO_SERVERS_MESSAGE, 'NO_SERVERS')
  }
}

/**
 * Every server tried failed before the call's frame left this process (refused, unreachable): no
 * server saw it. The client answers it like any RPC failure; a cross-datacenter forward reads it as
 * "no path to that datacenter" (dc-forward.ts).
 */
export class ServersUnreachableError extends HttpError {
  constructor(message: string) {
    super(500, `rpc error making call: ${message}`, 'RPC_FAILED')
  }
}

/** What a server that is shutting down answers a forwarded request it can no longer serve. */
export const SERVER_STOPPING_MESSAGE = 'server is shutting down'
/** The error code a stopping server answers a forwarded request with (carried over the RPC): try another server. */
export const SERVER_STOPPING = 'SERVER_STOPPING'

/** Attempts per call at most, whatever the hold time. */
const MAX_HELD_ATTEMPTS = 24
const FIRST_BACKOFF_MS = 50
const MAX_BACKOFF_MS = 1_000

export interface ServerRpcOptions {
  /** How long a call keeps trying (ms); 0: each server once, no waiting. */
  holdMs?: number
  random?: () => number
  /** Told once per stretch of calls that had to try again (a server died): how many, how long. */
  onEpisode?: (episode: HoldEpisode) => void
}

export interface CallOptions {
  timeoutMs: number
  /** The call may run twice without harm (reads): retry even after it reached a server. */
  idempotent: boolean
  /** Told each server the call is sent to, in turn. */
  onAttempt?: (server: string) => void
}

export class ServerRpc {
  /** Servers tried per call at most (each a different one). */
  static readonly MAX_ATTEMPTS = 3

  readonly #holdMs: number
  readonly #random: () => number
  readonly #episodes: HoldEpisodes
  /** Aborted by close(): no call waits for another round once the agent stops. */
  readonly #closed = new AbortController()

  constructor(readonly pool: ServerPool, readonly transport: RpcTransport, opts: ServerRpcOptions = {}) {
    this.#holdMs = opts.holdMs ?? 0
    this.#random = opts.random ?? Math.random
    this.#episodes = new HoldEpisodes(opts.onEpisode ?? (() => {}))
  }

  /** The agent stops: calls in flight give up instead of waiting out the hold. */
  close(): void {
    this.#closed.abort()
  }

  async call(method: string, body: unknown, opts: CallOptions): Promise<unknown> {
    let leave: ((ok: boolean) => void) | undefined
    let ok = false
    try {
      const answer = await this.#call(method, body, opts, () => { leave ??= this.#episodes.enter() })
      ok = true
      return answer
    } finally {
      leave?.(ok)
    }
  }

  async #call(method: string, body: unknown, opts: CallOptions, retrying: () => void): Promise<unknown> {
    const deadline = performance.now() + this.#holdMs
    let tried = new Set<string>()
    let lastError: Error | undefined
    let reachedOne = false
    let rounds = 0
    for (let attempt = 0; attempt < (this.#holdMs > 0 ? MAX_HELD_ATTEMPTS : ServerRpc.MAX_ATTEMPTS); attempt++) {
      let server = this.pool.pick(tried)
      if (!server || tried.size >= ServerRpc.MAX_ATTEMPTS) {
        // Every server tried once: with time left, wait and start a new round over all of them.
        const waitMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** rounds) * (0.5 + this.#random() / 2)
        if (performance.now() + waitMs >= deadline || this.#closed.signal.aborted) break
        await abortableSleep(waitMs, this.#closed.signal)
        if (this.#closed.signal.aborted) break
        rounds++
        tried = new Set()
        server = this.pool.pick(tried)
        if (!server) continue
      }
      tried.add(server)
      opts.onAttempt?.(server)
      try {
        return await this.transport.request(server, method, body, opts.timeoutMs)
      } catch (error) {
        if (!(error instanceof RpcRequestError)) throw error
        lastError = error
        reachedOne ||= error.sent
        // An error the server itself answered says nothing about the server's health, unless it
        // says the server is going away (then it is one more dead server).
        if (error.remote && error.code !== SERVER_STOPPING) throw error
        this.pool.failed(server)
        // Consul's prefix, then what happened and what it means for the write, on one line.
        if (error.sent && !opts.idempotent) throw new HttpError(500, `rpc error making call: server ${server} failed while the write was in flight (${error.message}); it may or may not have been applied`, 'RPC_FAILED')
        retrying()
      }
    }
    if (!lastError) throw new NoServersError()
    if (!reachedOne) throw new ServersUnreachableError(lastError.message)
    throw new HttpError(500, `rpc error making call: ${lastError.message}`, 'RPC_FAILED')
  }
}
