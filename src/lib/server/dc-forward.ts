// Cross-datacenter forwarding on a server (Consul's forwardDC): a request whose `?dc=` names another
// datacenter goes whole to an alive server of that datacenter, found in the WAN pool (its address
// and the `port` tag: its server RPC port), over the same 'http-forward' RPC client agents use
// (client/forward.ts: timeouts that cover a blocking query's wait, retries on another server only
// when safe, cancel when the caller leaves). The remote server runs it as a local request.
import {createForwarder} from '../forward/forward.js'
import {serverAddresses} from '../forward/server-pool.js'
import {ServerPool} from '../forward/server-pool.js'
import {NoServersError, ServerRpc, ServersUnreachableError} from '../forward/server-rpc.js'
import type {Logger} from '../logger.js'
import type {AgentMember as MemberInfo} from '../api/agent.js'
import {noPathToDatacenter} from '../errors.js'
import type {ForwardedRequest, ForwardedResponse} from '../forward/forwarded.js'
import type {RpcTransport} from '../rpc/transport.js'

export interface DcForwarderOptions {
  /** This server's RPC transport (its connections to other datacenters' servers live there too). */
  transport: RpcTransport
  /** The WAN pool's members (servers of every datacenter, tagged with their dc and RPC port). */
  wanMembers: () => readonly MemberInfo[]
  datacenter: string
  /** Fills a session's Node on create, as the receiving agent does for any forwarded request. */
  nodeName: string
  log: Logger
}

export type DcForward = (dc: string, request: ForwardedRequest, closed?: Promise<void>) => Promise<ForwardedResponse>

/** Datacenters with at least one server in the WAN pool, whatever its state. */
function knownDatacenters(members: readonly MemberInfo[]): Set<string> {
  return new Set(members.filter((m) => m.Tags.role === 'consul' && m.Tags.dc).map((m) => m.Tags.dc!))
}

export function createDcForwarder(opts: DcForwarderOptions): DcForward {
  // One server pool per datacenter, kept for its sticky choice and failure cool-downs; made only
  // for a datacenter the WAN pool knows, so the map is bounded by the datacenters that ever joined.
  const forwarders = new Map<string, ReturnType<typeof createForwarder>>()
  const forwarderFor = (dc: string) => {
    let forward = forwarders.get(dc)
    if (!forward) {
      const pool = new ServerPool({servers: () => {
        const addresses = serverAddresses(opts.wanMembers(), dc)
        // With verify_server_hostname their certificates must name server.<dc>.<domain>.
        for (const address of addresses) opts.transport.expectDatacenter(address, dc)
        return addresses
      }})
      forward = createForwarder(new ServerRpc(pool, opts.transport), opts.nodeName, () => {})
      forwarders.set(dc, forward)
    }
    return forward
  }
  return async (dc, request, closed) => {
    const wanted = dc.toLowerCase()
    if (wanted === opts.datacenter || !knownDatacenters(opts.wanMembers()).has(wanted)) throw noPathToDatacenter()
    try {
      return await forwarderFor(wanted)({...request, fromDc: opts.datacenter}, closed)
    } catch (error) {
      // No alive server, or none of them reachable before the request left: Consul's ErrNoDCPath.
      if (error instanceof NoServersError || error instanceof ServersUnreachableError) {
        opts.log.warn('no path to datacenter', {datacenter: wanted, error: error.message})
        throw noPathToDatacenter()
      }
      throw error
    }
  }
}
