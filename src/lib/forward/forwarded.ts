// The shape of an HTTP request a client agent forwards whole to a server over one RPC, and of the
// server's answer : plain data, so it travels as msgpack on the server RPC port.
import type {IncomingMessage} from 'node:http'

export interface ForwardedRequest {
  method: string
  /** Path and query exactly as the client sent them (still percent-encoded). */
  url: string
  /** The request headers a handler may look at (FORWARDED_HEADERS), lower-case names. */
  headers: Record<string, string>
  body: Uint8Array
  /**
   * Set on blocking queries: names the request for a later cancel (the caller went away), so the
   * server stops holding it instead of waiting out its whole wait.
   */
  cancelId?: string
  /**
   * Set by a server that forwards the request to another datacenter (dc-forward.ts): the sending
   * datacenter. Such a request is answered where it lands, never forwarded again (no loops).
   */
  fromDc?: string
}

export interface ForwardedResponse {
  status: number
  headers: Record<string, string | string[]>
  body: Uint8Array
  /** For an error answer: the error's code (errors.ts), so the asking agent branches on it, not on the text. */
  errorCode?: string
}

/**
 * Largest body a client agent forwards (a server RPC frame holds at most 64 MiB). Every API body is
 * far below it except snapshot archives: restore a larger snapshot through a server.
 */
export const FORWARD_BODY_MAX = 32 * 1024 * 1024

/** Headers handlers read (gzip, JSON bodies, ACL tokens): the rest describe the client's own connection. */
const FORWARDED_HEADERS = ['accept-encoding', 'content-type', 'content-encoding', 'x-consul-token', 'authorization', 'cache-control', 'user-agent']

/** Connection-level response headers that belong to the hop, not to the answer. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'trailer'])

export function forwardedHeaders(req: Pick<IncomingMessage, 'headers'>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}
