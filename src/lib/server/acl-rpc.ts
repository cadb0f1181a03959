// The servers' side of ACLs for client agents, on the server RPC port:
// - 'acl-resolve': a token secret → its grants, policies and roles (forward/acl-resolution.ts), read
//   from this server's replicated tables (Consul's ACL.TokenRead with AllowStale: a follower answers
//   from its own copy). Unknown or expired → ACL_NOT_FOUND, which the client answers 403 "ACL not found".
// - with ACLs on, a client's raw 'propose' (a Raft command with no token to check) is refused: client
//   agents then send their writes as /v1 requests carrying their agent token, which the route table
//   (http/route-acl.ts) checks like any other request. Servers forward to the leader with
//   'propose-on-leader' and 'propose-batch-on-leader' (server-only methods), which this does not touch.
import type {RpcTransport} from '../rpc/transport.js'
import type {StateMachine} from '../state/state-machine.js'
import {CoordError} from '../errors.js'
import {ACL_NOT_FOUND_CODE, ACL_RESOLVE_METHOD, resolutionFor, type AclResolution} from '../forward/acl-resolution.js'

export const PROPOSE_REFUSED_CODE = 'PROPOSE_NEEDS_TOKEN'

export function serveAclRpc(transport: RpcTransport, state: StateMachine, opts: {enabled: boolean; now: () => number}): void {
  transport.onRequest(ACL_RESOLVE_METHOD, async (_from, body): Promise<AclResolution> => {
    if (!opts.enabled) throw new CoordError('ACL_DISABLED', 'ACL support disabled', {httpStatus: 401})
    if (typeof body !== 'string' || body === '') throw new CoordError('BAD_REQUEST', 'acl-resolve: the body must be a token secret', {httpStatus: 400})
    const resolution = resolutionFor(state.acl, body, opts.now())
    if (!resolution) throw new CoordError(ACL_NOT_FOUND_CODE, 'ACL not found', {httpStatus: 403})
    return resolution
  }, 'any')
  if (opts.enabled) {
    // Registered after the Raft driver's own 'propose' handler, which this replaces.
    transport.onRequest('propose', async () => {
      throw new CoordError(PROPOSE_REFUSED_CODE, 'Permission denied: with ACLs on, a client agent writes through the /v1 API with its agent token', {httpStatus: 403})
    }, 'any')
  }
}
