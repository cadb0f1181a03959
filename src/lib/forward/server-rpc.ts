// A client agent's calls to servers: one RPC to the pool's current server, and on a failure another
// server, a bounded number of times. A call is retried elsewhere only when it is safe: its frame
// never left this process, or the caller says it is idempotent (reads). A write that reached a
// server and then lost its connection may have been applied, so it is reported, not repeated.
import {HttpError} from '../errors.js'
import {RpcRequestError, type RpcTransport} from '../rpc/transport.js'
import type {ServerPool} from './server-pool.js'

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

  constructor(readonly pool: ServerPool, readonly transport: RpcTransport) {}

  async call(method: string, body: unknown, opts: CallOptions): Promise<unknown> {
    const tried = new Set<string>()
    let lastError: Error | undefined
    let reachedOne = false
    for (let attempt = 0; attempt < ServerRpc.MAX_ATTEMPTS; attempt++) {
      const server = this.pool.pick(tried)
      if (!server) break
      tried.add(server)
      opts.onAttempt?.(server)
      try {
        return await this.transport.request(server, method, body, opts.timeoutMs)
      } catch (error) {
        if (!(error instanceof RpcRequestError)) throw error
        lastError = error
        reachedOne ||= error.sent
        // An error the server itself answered says nothing about the server's health.
        if (error.remote) throw error
        this.pool.failed(server)
        if (error.sent && !opts.idempotent) throw new HttpError(500, `rpc error making call: ${error.message}`, 'RPC_FAILED')
      }
    }
    if (!lastError) throw new NoServersError()
    if (!reachedOne) throw new ServersUnreachableError(lastError.message)
    throw new HttpError(500, `rpc error making call: ${lastError.message}`, 'RPC_FAILED')
  }
}
