// The agent process: builds the pieces from a validated config, starts them in order, and stops
// them in reverse on SIGINT/SIGTERM. Everything a request needs is in the AgentContext it builds.
import {resolveToken} from '../http/acl-authorize.js'
import {AgentTokens} from '../agent/agent-tokens.js'
import {randomUUID} from 'node:crypto'
import {ensureDataDir, loadNodeId} from '../agent/data-dir.js'
import type {AgentConfig} from '../agent/config.js'
import {LogHub} from '../logger.js'
import {printBanner} from '../agent/banner.js'
import {StateMachine} from '../state/state-machine.js'
import {commandCodec} from '../state/codec.js'
import {startServerRole} from '../server/server-role.js'
import type {AgentContext, MemberInfo} from '../http/context.js'
import {buildRoutes, startHttpServer, type HttpServerHandle, type HttpsOptions} from '../http/server.js'
import type {ClientConfig} from '../api/client.js'
import {RpcTls} from '../tls/rpc-tls.js'
import {memberTags, startLanGossip, toMemberInfo, type LanGossip} from '../agent/gossip.js'
import {AgentWatches} from '../agent/watches.js'
import {setupGossipKeyring, SERF_LAN_KEYRING, SERF_WAN_KEYRING} from '../agent/gossip-keyring.js'
import {keyringOperation} from '../agent/keyring-ops.js'
import {floodJoinWan, startWanGossip, wanSeeds, type WanGossip} from '../agent/gossip-wan.js'
import {UserEvents} from '../agent/user-events.js'
import {handleRemoteExec} from '../agent/remote-exec.js'
import {startClientRole} from '../client/client-role.js'
import {getFromServer, serveForwardedRequests} from '../forward/forward.js'
import {dispatch} from '../http/dispatch.js'
import {createDcForwarder} from '../server/dc-forward.js'
import {LocalAgent} from '../agent/local-agent.js'
import {startCheckAdapter} from '../agent/check-runners.js'
import {catalogSyncAdapter} from '../agent/catalog-sync.js'
import {startAgentDns, type DnsServerHandle} from '../dns/agent-dns.js'
import {startAgentCoordinates} from './agent-coordinates.js'
import {startTelemetry} from './telemetry.js'
import {metrics} from '../metrics/metrics.js'

export interface RunningAgent {
  context: AgentContext
  httpAddresses: string[]
  stop(): Promise<void>
  /** Resolves once a graceful leave (PUT /v1/agent/leave) has stopped the agent. */
  left: Promise<void>
  /** The configured `watches` (a reload restarts only the changed ones). */
  watches: AgentWatches
  /** Resolves when the agent must exit with an error (retry_max exhausted); it is stopping by then. */
  fatal: Promise<Error>
  /** Adds a step to every successful reload (watches from config, ...). */
  onReload(hook: ReloadHook): void
}

export interface AgentIO {
  stdout: (line: string) => void
  version: string
  /** Re-reads the config files and flags into a new config (reload); throws with the reason. */
  reloadConfig?: () => AgentConfig
}

/** Run after a successful reload with the new config (e.g. the `locks` branch's watches). */
export type ReloadHook = (next: AgentConfig, previous: AgentConfig) => void | Promise<void>

export async function startAgent(config: AgentConfig, io: AgentIO): Promise<RunningAgent> {
  const logs = new LogHub(config.logLevel, io.stdout, config.logJson)
  const log = logs.logger('agent')
  const telemetry = startTelemetry(config)
  if (config.dataDir) ensureDataDir(config.dataDir)
  const nodeId = config.nodeId || (config.dataDir ? loadNodeId(config.dataDir) : randomUUID())
  // A client agent keeps an empty state machine: every request that reads it is forwarded.
  const state = new StateMachine()
  let gossip: LanGossip | undefined
  const serverRole = config.server ? await startServerRole({config, nodeId, state, codec: commandCodec, logger: log.named('server'), version: io.version}) : undefined
  const clientRole = serverRole ? undefined : startClientRole({config, nodeId, members: () => gossip?.members() ?? [], logger: log.named('client')})
  const role = (serverRole ?? clientRole)!
  const consensus = serverRole?.raft ?? clientRole!.consensus
  const serverPort = serverRole ? Number(serverRole.address.replace(/^.*:/, '')) : config.ports.server
  /** Client agents read server state through a server's /v1 API (anti-entropy, DNS). */
  const serverGet = clientRole ? (url: string) => getFromServer(clientRole.forward, url) : undefined
  let fatalResolve: (error: Error) => void = () => {}
  const fatal = new Promise<Error>((resolve) => { fatalResolve = resolve })
  let onFatal = (error: Error) => fatalResolve(error)
  // ports.serf_lan = -1 disables gossip: the agent then lists only itself, as before gossip.
  let wan: WanGossip | undefined
  let gossipEncrypted = false
  const keyringFor = (file: string, pool: string) => setupGossipKeyring({
    dataDir: config.dataDir, encrypt: config.encrypt, verifyIncoming: config.encryptVerifyIncoming,
    verifyOutgoing: config.encryptVerifyOutgoing, disableKeyringFile: config.disableKeyringFile, file, pool, log,
  })
  try {
    if (config.ports.serfLan >= 0) {
      const keyring = keyringFor(SERF_LAN_KEYRING, 'LAN')
      gossipEncrypted = keyring !== null
      gossip = await startLanGossip({
        config, nodeId, version: io.version, serverPort, log: log.named('serf.lan'),
        onServer: serverRole?.noteGossipServer, onFatal: (error) => onFatal(error), keyring,
      })
    }
    // Servers only: the WAN pool (ports.serf_wan = -1 disables it).
    if (config.server && config.ports.serfWan >= 0) {
      wan = await startWanGossip({config, nodeId, version: io.version, serverPort, log: log.named('serf.wan'), onFatal: (error) => onFatal(error), keyring: keyringFor(SERF_WAN_KEYRING, 'WAN')})
      if (gossip) floodJoinWan(gossip, wan, config, log.named('serf.wan'))
    }
  } catch (error) {
    await wan?.close()
    await gossip?.close()
    await role.stop()
    throw error
  }
  if (gossip) {
    const node = gossip.node
    serverRole?.attachMembers({members: () => node.members(), onChange: (cb) => node.on('member', (event) => cb(event.member.name))})
  }
  const lone: MemberInfo = toMemberInfo({
    name: config.nodeName, address: config.advertiseAddr, port: config.ports.serfLan,
    tags: memberTags(config, nodeId, io.version, serverPort), state: 'alive',
  })
  let requestStop: () => void = () => {}
  let local: LocalAgent
  try {
    local = new LocalAgent({
      config, log: log.named('local'), startCheck: startCheckAdapter,
      self: {node: config.nodeName, id: nodeId, address: config.advertiseAddr, datacenter: config.datacenter},
      ...catalogSyncAdapter(consensus, state, serverGet),
    })
  } catch (error) {
    await wan?.close()
    await gossip?.close()
    await role.stop()
    throw error
  }
  const reloadHooks: ReloadHook[] = []
  let currentConfig = config
  // Whatever asks (HTTP, SIGHUP), a refused reload is logged with its reason and the running config stays.
  const reload = async () => {
    try {
      if (!io.reloadConfig) throw new Error('this agent was started without config files to reload')
      const next = io.reloadConfig()
      local.reload(next)
      logs.level = next.logLevel
      for (const hook of reloadHooks) await hook(next, currentConfig)
      currentConfig = next
      log.info('configuration reloaded', {services: next.services.length, checks: next.checks.length, log_level: next.logLevel})
    } catch (error) {
      log.error('Failed to reload configs', {error: (error as Error).message})
      throw error
    }
  }
  /** Where remote exec reaches this agent's own HTTP API (set once the listeners are up). */
  let selfHttpAddress: string | undefined = undefined
  let selfApiTls: Omit<ClientConfig, 'address'> = {}
  // User events ride the LAN pool; every one gossip delivers (ours too) comes back through receive().
  const userEvents = new UserEvents({
    nodeName: config.nodeName, log: log.named('events'),
    broadcast: gossip && ((name, payload) => gossip.node.userEvent(name, payload)),
    localServices: () => context.localServices?.() ?? [],
    onRemoteExec: (event) => {
      if (config.disableRemoteExec) {
        log.info('agent: ignoring remote exec event, disabled (disable_remote_exec = true)', {id: event.ID})
      } else if (!selfHttpAddress) {
        log.warn('agent: ignoring remote exec event: the HTTP API is not up yet', {id: event.ID})
      } else {
        void handleRemoteExec(event, {nodeName: config.nodeName, httpAddress: selfHttpAddress, tls: selfApiTls, log: log.named('rexec')})
      }
    },
  })
  gossip?.node.on('userEvent', (event) => userEvents.receive(event))
  if (serverRole) {
    telemetry.addCollector(() => {
      metrics.setGauge(['sessions', 'count'], state.sessionList().value.length)
      // Leases: the TTL timers this server runs (only the leader has any).
      metrics.setGauge(['session_ttl', 'active'], serverRole.sessionTimers.size)
    })
  }
  const coordinates = startAgentCoordinates({config, lan: gossip?.node, wan: wan?.node, consensus, forward: clientRole?.forward, now: () => Date.now(), log})
  const context: AgentContext = {
    coordinates, telemetry, autopilot: serverRole?.autopilot,
    aclTokens: new AgentTokens(config.acl.tokens),
    userEvents, local, localServices: () => local.localServices(), reload,
    config, nodeId, version: io.version, state, consensus, sessionTimers: role.sessionTimers, logs, log,
    startedAt: new Date(), members: () => gossip?.members() ?? [lone], now: () => Date.now(), registerSelf: role.registerSelf,
    renewSession: role.renewSession,
    join: async (address) => {
      if (!gossip) throw new Error('gossip is disabled (ports.serf_lan = -1)')
      await gossip.join([address])
    },
    leave: async () => {
      // Consul leaves the WAN pool first, then the LAN pool.
      if (wan) log.info('requesting a graceful leave of the WAN pool')
      await wan?.leave()
      log.info('requesting a graceful leave of the LAN pool')
      await gossip?.leave()
    },
    wanMembers: () => (wan ? wan.members() : undefined),
    joinWan: async (address) => {
      if (!config.server) throw new Error('Must be a server to join WAN cluster')
      if (!wan) throw new Error('the WAN pool is disabled (ports.serf_wan = -1)')
      // No port: the serf WAN port (never the LAN default of the gossip node).
      await wan.join(wanSeeds([address], config.ports.serfWan))
    },
    forceLeaveWan: (name, prune) => {
      if (!wan) throw new Error(config.server ? 'the WAN pool is disabled (ports.serf_wan = -1)' : 'Must be a server to force-leave in the WAN pool')
      if (!wan.forceLeave(name, prune)) throw new Error(`agent: No node found with name '${name}'`)
    },
    requestShutdown: () => requestStop(),
    forceLeave: (name, prune) => {
      if (!gossip) throw new Error('gossip is disabled (ports.serf_lan = -1)')
      if (!gossip.forceLeave(name, prune)) throw new Error(`agent: No node found with name '${name}'`)
    },
    gossipEncrypted,
    // Both pools, as Consul's keyring operations affect the LAN and WAN keyrings in lock-step.
    keyringOperation: gossip && ((op, key, opts) => keyringOperation([
      {node: (gossip as LanGossip).node, wan: false, datacenter: config.datacenter, segment: ''},
      ...(wan ? [{node: wan.node, wan: true, datacenter: config.datacenter, segment: ''}] : []),
    ], op, key, opts)),
    forwardToServer: clientRole?.forward,
    // Servers in a WAN pool: `?dc=<another datacenter>` goes to a server there.
    forwardToDatacenter: serverRole && wan ? createDcForwarder({
      transport: serverRole.transport, wanMembers: () => wan?.members() ?? [], datacenter: config.datacenter,
      nodeName: config.nodeName, log: log.named('dc-forward'),
    }) : undefined,
  }
  // Servers answer client agents' forwarded requests through the same routes a socket reaches.
  const serverRoutes = serverRole ? buildRoutes(context) : undefined
  if (serverRole && serverRoutes) {
    serveForwardedRequests(serverRole.transport, (request, cancelled) => dispatch(context, serverRoutes, request, cancelled), () => serverRole.raft.closed)
  }
  /** A server's DNS reads other datacenters as an HTTP client would: `?dc=` through its own pipeline. */
  const pipelineGet = serverRoutes && ((url: string) => getFromServer((request) => dispatch(context, serverRoutes, request), url))

  const servers: HttpServerHandle[] = []
  const httpsTls = (c: AgentConfig): HttpsOptions | undefined => c.tls.https && {material: c.tls.https, verifyIncoming: c.tls.settings.https.verifyIncoming}
  /** A start that fails after the listeners opened closes everything it started, so the process can exit. */
  const abandonStart = async (): Promise<void> => {
    for (const server of servers) await server.close()
    coordinates?.stop()
    local.stop()
    await wan?.close()
    await gossip?.close()
    await role.stop()
    telemetry.stop()
  }
  // ports.http = -1 turns plain HTTP off; ports.https ≥ 0 adds the HTTPS listener (its own port).
  const listeners: Array<{port: number; tls?: HttpsOptions; what: string}> = [
    ...(config.ports.http >= 0 ? [{port: config.ports.http, what: 'HTTP'}] : []),
    ...(config.ports.https >= 0 ? [{port: config.ports.https, tls: httpsTls(config), what: 'HTTPS'}] : []),
  ]
  for (const listener of listeners) {
    try {
      for (const host of config.clientAddrs) servers.push(await startHttpServer(context, host, listener.port, listener.tls))
    } catch (error) {
      await abandonStart()
      throw new Error(`Error starting ${listener.what} server on ${config.clientAddrs.join(' ')} port ${listener.port}: ${(error as Error).message}`)
    }
  }
  const hostPort = (s: HttpServerHandle) => `${s.address.address.includes(':') ? `[${s.address.address}]` : s.address.address}:${s.address.port}`
  const httpAddresses = servers.filter((s) => !s.tls).map(hostPort)
  const httpsAddresses = servers.filter((s) => s.tls).map(hostPort)
  printBanner(io.stdout, config, {
    nodeId, version: io.version, gossipEncrypted, rpcTls: (serverRole?.transport ?? clientRole?.transport)?.tls !== undefined,
    httpPort: config.ports.http < 0 ? -1 : servers.find((s) => !s.tls)?.address.port ?? config.ports.http,
    httpsPort: config.ports.https < 0 ? -1 : servers.find((s) => s.tls)?.address.port ?? config.ports.https,
  })
  const loopback = (address: string) => address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:')
  // The agent's own API calls (watches, remote exec) use plain HTTP when it is on, else HTTPS with
  // the agent's own certificate (which `coord tls cert create` makes valid for localhost).
  const httpsSettings = config.tls.settings.https
  const selfTls = httpAddresses.length === 0 && httpsAddresses.length > 0
    ? {caFile: httpsSettings.caFile || undefined, caPath: httpsSettings.caPath || undefined, clientCert: httpsSettings.certFile, clientKey: httpsSettings.keyFile, tlsServerName: 'localhost'}
    : {}
  selfHttpAddress = httpAddresses[0] ? loopback(httpAddresses[0]) : httpsAddresses[0] ? `https://${loopback(httpsAddresses[0])}` : undefined
  selfApiTls = selfTls
  for (const address of httpAddresses) log.info('Started HTTP server', {address, network: 'tcp'})
  if (config.ui || config.uiDir !== '') log.info('Web UI served', {url: `http://${selfHttpAddress ?? '127.0.0.1'}${config.uiContentPath}`, dir: config.uiDir || 'built-in'})
  for (const address of httpsAddresses) log.info('Started HTTPS server', {address, network: 'tcp'})
  let dnsServers: DnsServerHandle[] = []
  try {
    // With ACLs on, DNS answers with the agent's default token (else the anonymous token), as Consul.
    const dnsAuthorizer = config.acl.enabled ? () => resolveToken(context, {token: '', source: 'none'}).authorizer : undefined
    dnsServers = await startAgentDns({config, state, consensus, log, serverGet, pipelineGet, authorizer: dnsAuthorizer})
  } catch (error) {
    await abandonStart()
    throw error
  }

  const watches = new AgentWatches(selfHttpAddress ?? '', log, selfApiTls)
  watches.start(config.watches)
  // A reload restarts only the watches whose definition changed.
  reloadHooks.push(async (next) => { await watches.reload(next.watches) })
  // ui_config (enabled, dir, content_path) takes effect on reload, as in Consul.
  reloadHooks.push((next) => { for (const server of servers) server.reloadUi(next) })
  // Renewed certificates: new connections use them; the listeners and open connections stay.
  // The RPC port's TLS can be turned on or off as well; listeners (ports.http, ports.https) cannot.
  reloadHooks.push((next, previous) => {
    if (next.ports.http !== previous.ports.http || next.ports.https !== previous.ports.https) {
      log.warn('ports.http and ports.https take effect at the next restart; the HTTP and HTTPS listeners stay as they are')
    }
    const nextHttps = httpsTls(next)
    if (nextHttps) for (const server of servers) server.updateTls(nextHttps)
    const rpc = serverRole?.transport ?? clientRole?.transport
    const current = rpc?.tls
    if (next.tls.rpc && current) current.update(next.tls.settings, next.tls.rpc, next.datacenter, next.dns.domain)
    else if (next.tls.rpc) rpc?.setTls(new RpcTls(next.tls.settings, next.tls.rpc, next.datacenter, next.dns.domain))
    else if (current) rpc?.setTls(undefined)
    if (nextHttps || next.tls.rpc || current) log.info('TLS certificates reloaded', {https: nextHttps !== undefined, rpc: next.tls.rpc !== undefined})
  })
  log.info('Consul agent running!')

  let stopping: Promise<void> | undefined
  let leftResolve: () => void = () => {}
  const left = new Promise<void>((resolve) => { leftResolve = resolve })
  // Signals skip the leave (Consul's skip_leave_on_interrupt for servers): peers see us `failed`
  // and welcome us back on restart. A leave (coord leave) has already been spread by then.
  const stop = () => {
    stopping ??= (async () => {
      coordinates?.stop()
      local.stop()
      await watches.stop()
      await Promise.all([...dnsServers, ...servers].map((s) => s.close()))
      await wan?.close()
      await gossip?.close()
      await role.stop()
      telemetry.stop()
      log.info('shutdown complete')
    })()
    return stopping
  }
  requestStop = () => { stop().then(leftResolve, leftResolve) }
  onFatal = (error) => {
    log.error(error.message)
    stop().then(() => fatalResolve(error), () => fatalResolve(error))
  }
  return {context, httpAddresses, stop, left, fatal, watches, onReload: (hook) => { reloadHooks.push(hook) }}
}
