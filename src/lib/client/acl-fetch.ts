// The client's half of the 'acl-resolve' RPC (server/acl-rpc.ts): which answers mean "no such
// token" and which mean "no server could be asked" (then down_policy decides, acl-resolver.ts).
import {ACL_NOT_FOUND_CODE, ACL_RESOLVE_METHOD, parseResolution, type AclResolution} from '../forward/acl-resolution.js'
import {NoServersError, ServersUnreachableError, type ServerRpc} from '../forward/server-rpc.js'
import {RpcRequestError} from '../rpc/transport.js'
import {CoordError} from '../errors.js'

/** Short: a token lookup holds the caller's request, and down_policy exists for servers that do not answer. */
const RESOLVE_TIMEOUT_MS = 2_000

export async function fetchResolution(rpc: ServerRpc, secret: string): Promise<AclResolution | undefined> {
  try {
    return parseResolution(await rpc.call(ACL_RESOLVE_METHOD, secret, {timeoutMs: RESOLVE_TIMEOUT_MS, idempotent: true}))
  } catch (error) {
    if (error instanceof RpcRequestError && error.remote && error.code === ACL_NOT_FOUND_CODE) return undefined
    throw error
  }
}

/** No server took the question, or every one tried failed before answering (ServerRpc's errors). */
export function serversDown(error: unknown): boolean {
  if (error instanceof NoServersError || error instanceof ServersUnreachableError) return true
  if (error instanceof RpcRequestError) return !error.remote
  // ServerRpc's "rpc error making call" after a server took the frame and then failed (no answer).
  return error instanceof CoordError && error.code === 'RPC_FAILED'
}
