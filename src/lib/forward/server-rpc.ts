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
//
// A server that answers that it did not carry the request out (no leader, or its disk is full, or
// the write was refused before it was applied: NEVER_APPLIED_CODES) is treated as Consul's client
// treats ErrNoLeader (agent/consul/rpc.go canRetry: "always safe to retry since no state could have
// been changed"): the call moves on to another server, writes included. A server cut off from the
// others keeps no client stuck behind it that way; when no server does better until the hold ends
// (the others refuse too, or cannot be reached), the caller gets the last such answer.
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

/**
 * Answers that prove the server did not carry the request out: no leader to take it, a server
 * whose disk is full (it left Raft), a write refused or replaced before it was applied.
 */
export const NEVER_APPLIED_CODES: ReadonlySet<string> = new Set(['NO_LEADER', 'DISK_FULL', 'WRITE_NOT_APPLIED'])

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
  /**
   * True when an answer is the server's word that it did not carry the request out (a forwarded
   * request's NEVER_APPLIED_CODES error answer): another server is tried, and this answer is what
   * the caller gets if none does better.
   */
  notCarriedOut?: (answer: unknown) => boolean
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
    /**
     * The latest server's own word that it did not carry the call out (an answer or an error): what
     * the caller gets when no server does better, rather than a later server's connection failure.
     */
    let refusal: {answer: unknown} | {error: Error} | undefined
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
        const answer = await this.transport.request(server, method, body, opts.timeoutMs)
        if (!opts.notCarriedOut?.(answer)) return answer
        refusal = {answer}
        this.pool.failed(server)
        retrying()
      } catch (error) {
        if (!(error instanceof RpcRequestError)) throw error
        if (error.remote && NEVER_APPLIED_CODES.has(error.code)) {
          refusal = {error}
          this.pool.failed(server)
          retrying()
          continue
        }
        // A refusal heard before stays the answer: a dead server tried after it says nothing new.
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
    if (refusal && 'answer' in refusal) return refusal.answer
    if (refusal) throw refusal.error
    if (!lastError) throw new NoServersError()
    if (!reachedOne) throw new ServersUnreachableError(lastError.message)
    throw new HttpError(500, `rpc error making call: ${lastError.message}`, 'RPC_FAILED')
  }
}
