// The agent's DNS interface: one UDP+TCP listener per client address on ports.dns (-1: none),
// answering from the agent's state through StateDnsCatalog (a server) or through a server's API
// (RemoteDnsCatalog, a client). Names in another datacenter (web.service.dc2.consul) are read with
// `?dc=` through the agent's request pipeline, forwarded there like any `?dc=` request. `log` is
// the agent's logger.
import type {AgentConfig} from '../agent/config.js'
import type {Logger} from '../logger.js'
import type {Consensus} from '../consensus.js'
import type {StateMachine} from '../state/state-machine.js'
import {DnsResolver} from './resolver.js'
import {startDnsServer, type DnsServerHandle} from './server.js'
import {StateDnsCatalog} from './state-catalog.js'
import {RemoteDnsCatalog, type ServerGet} from './remote-catalog.js'
import {AclDnsCatalog} from './acl-catalog.js'
import type {Authorizer} from '../acl/authorizer.js'

export type {DnsServerHandle}

/**
 * `serverGet`: for an agent without the replicated state (a client agent), how to GET a /v1 path
 * on a server; DNS then reads the catalog through it instead of the local state machine (every
 * datacenter: its server forwards a `?dc=` read). `pipelineGet`: for a server, how to GET a /v1
 * path through its own HTTP pipeline, used only for other datacenters.
 */
/**
 * `authorizer`: with ACLs on, the agent's default token's authorizer (asked on every lookup); DNS then
 * answers only what it may read (acl-catalog.ts).
 */
export async function startAgentDns(opts: {config: AgentConfig; state: StateMachine; consensus: Consensus; log: Logger; serverGet?: ServerGet; pipelineGet?: ServerGet; authorizer?: () => Authorizer | Promise<Authorizer>}): Promise<DnsServerHandle[]> {
  const {config, log} = opts
  if (config.ports.dns < 0) return []
  const plain = opts.serverGet
    ? new RemoteDnsCatalog(opts.serverGet, config.datacenter)
    : new StateDnsCatalog(opts.state, opts.consensus, config.datacenter, opts.pipelineGet && new RemoteDnsCatalog(opts.pipelineGet, config.datacenter))
  const catalog = opts.authorizer ? new AclDnsCatalog(plain, opts.authorizer) : plain
  const dnsLog = log.named('dns')
  const resolver = new DnsResolver({config: config.dns, datacenter: config.datacenter, catalog, log: dnsLog})
  const handles: DnsServerHandle[] = []
  try {
    for (const host of config.clientAddrs) {
      const handle = await startDnsServer({host, port: config.ports.dns, resolver, log: dnsLog})
      handles.push(handle)
      const address = `${host.includes(':') ? `[${host}]` : host}:${handle.port}`
      log.info('Started DNS server', {address, network: 'udp'})
      log.info('Started DNS server', {address, network: 'tcp'})
    }
  } catch (error) {
    await Promise.all(handles.map((h) => h.close()))
    throw new Error(`Error starting DNS server on ${config.clientAddrs.join(' ')} port ${config.ports.dns}: ${(error as Error).message}`)
  }
  return handles
}
