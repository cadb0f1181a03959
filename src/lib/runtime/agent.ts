// The agent process: builds the pieces from a validated config, starts them in order, and stops
// them in reverse on SIGINT/SIGTERM. Everything a request needs is in the AgentContext it builds.
import {prepareToken, resolveToken} from '../http/acl-authorize.js'
import {AgentTokens} from '../agent/agent-tokens.js'
import {randomUUID} from 'node:crypto'
import {ensureDataDir, loadNodeId} from '../agent/data-dir.js'
import type {AgentConfig} from '../agent/config.js'
import {reloadChanges} from '../agent/config-schema.js'
import {LogHub} from '../logger.js'
import {printBanner} from '../agent/banner.js'
import {StateMachine} from '../state/state-machine.js'
import {commandCodec} from '../state/codec.js'
import {startServerRole} from '../server/server-role.js'
import {holdForClientAgent} from '../server/client-agent-hold.js'
import type {AgentContext, MemberInfo} from '../http/context.js'
import {buildRoutes, startHttpServer, type HttpServerHandle, type HttpsOptions} from '../http/server.js'
import type {ClientConfig} from '../api/client.js'
import {RpcTls} from '../tls/rpc-tls.js'
import {memberTags, startLanGossip, toMemberInfo, type LanGossip} from '../agent/gossip.js'
import {AgentWatches} from '../agent/watches.js'
import {setupGossipKeyring, SERF_LAN_KEYRING, SERF_WAN_KEYRING} from '../agent/gossip-keyring.js'
import {keyringOperation} from '../agent/keyring-ops.js'
import {floodJoinWan, startWanGossip, wanMemberName, wanSeeds, type WanGossip} from '../agent/gossip-wan.js'
import {UserEvents} from '../agent/user-events.js'
import {handleRemoteExec} from '../agent/remote-exec.js'
import {startClientRole} from '../client/client-role.js'
import {getFromServer, putToServer, serveForwardedRequests, withToken} from '../forward/forward.js'
import {serveAclRpc} from '../server/acl-rpc.js'
import {ensureInitialManagement} from '../server/acl-initial-management.js'
import {dispatch} from '../http/dispatch.js'
import {createDcForwarder} from '../server/dc-forward.js'
import {LocalAgent} from '../agent/local-agent.js'
import {startCheckAdapter} from '../agent/check-runners.js'
import {catalogSyncAdapter} from '../agent/catalog-sync.js'
import {startAgentDns, type DnsServerHandle} from '../dns/agent-dns.js'
import {startAgentCoordinates} from './agent-coordinates.js'
import {startTelemetry} from './telemetry.js'
import {metrics} from '../metrics/metrics.js'
import {LogFile} from '../agent/log-file.js'
import {watchConfigPaths} from './config-watch.js'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'

/** Consul's pid_file: the agent's PID, written at start (its directory made), removed at exit. */
function writePidFile(path: string): void {
  try {
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(path, `${process.pid}`)
  } catch (error) {
    throw new Error(`Could not write PID file ${path}: ${(error as Error).message}`)
  }
}

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
  /** The -config-file and -config-dir paths (watched with auto_reload_config). */
  configPaths?: readonly string[]
}

/** Run after a successful reload with the new config (e.g. the agent's watches). */
export type ReloadHook = (next: AgentConfig, previous: AgentConfig) => void | Promise<void>

/**
 * The agent's stop steps in the order they run, whatever stops it (a failed start, a signal, a
 * leave, a fatal error): the local work first (coordinates, checks, watches), then the listeners and the forwarded requests they held,
 * then the gossip pools (WAN before LAN), the role (Raft or the client's RPC) last. Each piece adds
 * its step once it has started, so a failed start stops exactly what it started.
 */
const STOP_ORDER = ['configWatch', 'coordinates', 'local', 'watches', 'listeners', 'forwarded', 'wan', 'gossip', 'role', 'telemetry', 'pidFile', 'logFile'] as const
type StopStep = typeof STOP_ORDER[number]

class StopSteps {
  readonly #steps = new Map<StopStep, () => unknown>()

  add(step: StopStep, stop: () => unknown): void {
    this.#steps.set(step, stop)
  }

  /** Runs every added step once, in STOP_ORDER; a step that fails does not keep the later ones from running. */
  async run(): Promise<void> {
    let failure: unknown
    for (const step of STOP_ORDER) {
      const stop = this.#steps.get(step)
      if (!stop) continue
      this.#steps.delete(step)
      try {
        await stop()
      } catch (error) {
        failure ??= error
      }
    }
    if (failure !== undefined) throw failure
  }
}

export async function startAgent(config: AgentConfig, io: AgentIO): Promise<RunningAgent> {
  const stops = new StopSteps()
  /** A start that fails part-way stops what it started (so the process can exit) and reports why. */
  const abandonStart = async (error: unknown): Promise<never> => {
    await stops.run().catch(() => {})
    throw error
  }
  // log_file: every log line also goes to the file (rotated as Consul's); the banner stays on stdout.
  const logFile = config.logFile.path === '' ? undefined : new LogFile(config.logFile)
  if (logFile) stops.add('logFile', () => logFile.close())
  const logs = new LogHub(config.logLevel, logFile ? (line) => { io.stdout(line); logFile.write(line) } : io.stdout, config.logJson)
  const log = logs.logger('agent')
  const telemetry = startTelemetry(config)
  stops.add('telemetry', () => telemetry.stop())
  if (config.dataDir) ensureDataDir(config.dataDir)
  const nodeId = config.nodeId || (config.dataDir ? loadNodeId(config.dataDir) : randomUUID())
  // The agent's ACL tokens (config, then /v1/agent/token/<kind>; kept in the data dir with
  // enable_token_persistence).
  const aclTokens = new AgentTokens(config.acl.tokens, config.acl.enableTokenPersistence && config.dataDir ? config.dataDir : undefined)
  // A client agent keeps an empty state machine: every request that reads it is forwarded.
  const state = new StateMachine()
  let gossip: LanGossip | undefined
  if (config.pidFile !== '') {
    writePidFile(config.pidFile)
    stops.add('pidFile', () => rmSync(config.pidFile, {force: true}))
  }
  let fatalResolve: (error: Error) => void = () => {}
  const fatal = new Promise<Error>((resolve) => { fatalResolve = resolve })
  let onFatal = (error: Error) => fatalResolve(error)
  let serverRole: Awaited<ReturnType<typeof startServerRole>> | undefined
  let clientRole: ReturnType<typeof startClientRole> | undefined
  try {
    serverRole = config.server ? await startServerRole({config, nodeId, state, codec: commandCodec, logger: log.named('server'), version: io.version, onFatal: (error) => onFatal(error)}) : undefined
    clientRole = serverRole ? undefined : startClientRole({config, nodeId, members: () => gossip?.members() ?? [], logger: log.named('client')})
  } catch (error) {
    return abandonStart(error)
  }
  const role = (serverRole ?? clientRole)!
  stops.add('role', () => role.stop())
  const consensus = serverRole?.raft ?? clientRole!.consensus
  const serverPort = serverRole ? Number(serverRole.address.replace(/^.*:/, '')) : config.ports.server
  /** Consul's AgentToken(): the agent token, else the default token. */
  const agentSecret = () => config.acl.enabled ? aclTokens.get('agent') || aclTokens.get('default') : ''
  /** The agent's own requests to a server carry its agent token (with ACLs on). */
  const agentForward = clientRole && withToken(clientRole.forward, agentSecret)
  /** Client agents read server state through a server's /v1 API (anti-entropy, DNS). */
  const serverGet = agentForward ? (url: string) => getFromServer(agentForward, url) : undefined
  /** DNS asks with the default token, as Consul's DNS server does. */
  const dnsServerGet = clientRole ? (url: string) => getFromServer(withToken(clientRole.forward, () => config.acl.enabled ? aclTokens.get('default') : ''), url) : undefined
  /** With ACLs on a client's registrations go through /v1/catalog/* with the agent token (server/acl-rpc.ts refuses raw proposals). */
  const serverWrite = agentForward && config.acl.enabled
    ? (command: {type: 'catalog-register' | 'catalog-deregister'; request: unknown}) => putToServer(agentForward, command.type === 'catalog-register' ? '/v1/catalog/register' : '/v1/catalog/deregister', command.request)
    : undefined
  if (serverRole) {
    serveAclRpc(serverRole.transport, state, {enabled: config.acl.enabled, now: () => Date.now()})
    if (config.acl.enabled && config.acl.tokens.initialManagement !== '') {
      const secret = config.acl.tokens.initialManagement
      serverRole.onLeader(() => { void ensureInitialManagement(serverRole.raft, state, secret, log.named('acl')) })
    }
  }
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
      const lan = gossip
      stops.add('gossip', () => lan.close())
    }
    // Servers only: the WAN pool (ports.serf_wan = -1 disables it).
    if (config.server && config.ports.serfWan >= 0) {
      wan = await startWanGossip({config, nodeId, version: io.version, serverPort, log: log.named('serf.wan'), onFatal: (error) => onFatal(error), keyring: keyringFor(SERF_WAN_KEYRING, 'WAN')})
      const wanPool = wan
      stops.add('wan', () => wanPool.close())
      if (gossip) floodJoinWan(gossip, wan, config, log.named('serf.wan'))
    }
  } catch (error) {
    await abandonStart(error)
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
      self: {node: config.nodeName, id: nodeId, address: config.advertiseAddr, datacenter: config.datacenter, meta: config.nodeMeta, wanAddress: config.advertiseAddrWan},
      ...catalogSyncAdapter(consensus, state, serverGet, serverWrite),
    })
  } catch (error) {
    return abandonStart(error)
  }
  stops.add('local', () => local.stop())
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
      // What a reload cannot apply (the table's reloadable flag) is said, not silently dropped.
      // Compared with the config the agent started with: a key a reload cannot apply still has that value.
      const atRestart = reloadChanges(config.raw, next.raw)
      if (atRestart.length > 0) log.warn('changed config keys take effect at the next restart', {keys: atRestart.join(', ')})
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
        // Its reads and writes under _rexec/ carry the agent token, as Consul's remote exec does.
        const token = agentSecret()
        void handleRemoteExec(event, {nodeName: config.nodeName, httpAddress: selfHttpAddress, tls: {...selfApiTls, ...(token ? {token} : {})}, log: log.named('rexec')})
      }
    },
  })
  gossip?.node.on('userEvent', (event) => userEvents.receive(event))
  if (serverRole) {
    const sessionTimers = serverRole.sessionTimers
    telemetry.addCollector(() => {
      metrics.setGauge(['sessions', 'count'], state.sessionList().value.length)
      // Leases: the TTL timers this server runs (only the leader has any).
      metrics.setGauge(['session_ttl', 'active'], sessionTimers.size)
    })
  }
  const coordinates = startAgentCoordinates({config, lan: gossip?.node, wan: wan?.node, consensus, forward: agentForward, now: () => Date.now(), log})
  stops.add('coordinates', () => coordinates?.stop())
  const context: AgentContext = {
    coordinates, telemetry, autopilot: serverRole?.autopilot,
    aclTokens, aclResolver: clientRole?.aclResolver,
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
      // This server's own WAN member (node.dc) is alive and refutes it, as on the LAN below.
      if (name === wanMemberName(config)) {
        log.named('serf.wan').info('force-leave of this server\'s own member refuted: the node is alive', {node: name})
        return
      }
      if (!wan.forceLeave(name, prune)) throw new Error(`agent: No node found with name '${name}'`)
    },
    requestShutdown: () => requestStop(),
    forceLeave: (name, prune) => {
      if (!gossip) throw new Error('gossip is disabled (ports.serf_lan = -1)')
      // This agent's own node is alive: serf refutes a leave intent for itself (handleNodeLeaveIntent)
      // and Consul's force-leave answers success; it is not "No node found".
      if (name === config.nodeName) {
        log.named('serf.lan').info('force-leave of this agent\'s own node refuted: the node is alive', {node: name})
        return
      }
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
  const forwarded = serverRole && serverRoutes
    ? serveForwardedRequests(serverRole.transport, (request, cancelled) => holdForClientAgent(() => dispatch(context, serverRoutes, request, cancelled)), () => serverRole.raft.closed)
    : undefined
  // Held forwarded requests are answered (refused) once the listeners stop taking new ones.
  stops.add('forwarded', () => forwarded?.cancelAll())
  /** A server's DNS reads other datacenters as an HTTP client would: `?dc=` through its own pipeline. */
  const pipelineGet = serverRoutes && ((url: string) => getFromServer((request) => dispatch(context, serverRoutes, request), url))

  const servers: HttpServerHandle[] = []
  let dnsServers: DnsServerHandle[] = []
  stops.add('listeners', () => Promise.all([...dnsServers, ...servers].map((s) => s.close())))
  const httpsTls = (c: AgentConfig): HttpsOptions | undefined => c.tls.https && {material: c.tls.https, verifyIncoming: c.tls.settings.https.verifyIncoming}
  // ports.http = -1 turns plain HTTP off; ports.https ≥ 0 adds the HTTPS listener (its own port).
  const listeners: Array<{port: number; tls?: HttpsOptions; what: string}> = [
    ...(config.ports.http >= 0 ? [{port: config.ports.http, what: 'HTTP'}] : []),
    ...(config.ports.https >= 0 ? [{port: config.ports.https, tls: httpsTls(config), what: 'HTTPS'}] : []),
  ]
  for (const listener of listeners) {
    try {
      for (const host of config.clientAddrs) servers.push(await startHttpServer(context, host, listener.port, listener.tls))
    } catch (error) {
      await abandonStart(new Error(`Error starting ${listener.what} server on ${config.clientAddrs.join(' ')} port ${listener.port}: ${(error as Error).message}`))
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
  try {
    // With ACLs on, DNS answers with the agent's default token (else the anonymous token), as Consul.
    const dnsAuthorizer = config.acl.enabled
      ? async () => {
        await prepareToken(context, {token: '', source: 'none'})
        return resolveToken(context, {token: '', source: 'none'}).authorizer
      }
      : undefined
    dnsServers = await startAgentDns({config, state, consensus, log, serverGet: dnsServerGet, pipelineGet, authorizer: dnsAuthorizer})
  } catch (error) {
    await abandonStart(error)
  }

  const watches = new AgentWatches(selfHttpAddress ?? '', log, selfApiTls)
  watches.start(config.watches)
  stops.add('watches', () => watches.stop())
  // A reload restarts only the watches whose definition changed.
  reloadHooks.push(async (next) => { await watches.reload(next.watches) })
  // ui_config (enabled, dir, content_path) takes effect on reload, as in Consul.
  reloadHooks.push((next) => { for (const server of servers) server.reloadUi(next) })
  // Renewed certificates: new connections use them; the listeners and open connections stay.
  // The RPC port's TLS can be turned on or off as well; listeners (ports.http, ports.https) cannot.
  reloadHooks.push((next) => {
    const nextHttps = httpsTls(next)
    if (nextHttps) for (const server of servers) server.updateTls(nextHttps)
    const rpc = serverRole?.transport ?? clientRole?.transport
    const current = rpc?.tls
    if (next.tls.rpc && current) current.update(next.tls.settings, next.tls.rpc, next.datacenter, next.dns.domain)
    else if (next.tls.rpc) rpc?.setTls(new RpcTls(next.tls.settings, next.tls.rpc, next.datacenter, next.dns.domain))
    else if (current) rpc?.setTls(undefined)
    if (nextHttps || next.tls.rpc || current) log.info('TLS certificates reloaded', {https: nextHttps !== undefined, rpc: next.tls.rpc !== undefined})
  })
  if (config.autoReloadConfig && io.configPaths && io.configPaths.length > 0) {
    const configWatch = watchConfigPaths(io.configPaths, reload, log.named('auto_config'))
    stops.add('configWatch', () => configWatch.stop())
  }
  log.info('Consul agent running!')

  let stopping: Promise<void> | undefined
  let leftResolve: () => void = () => {}
  const left = new Promise<void>((resolve) => { leftResolve = resolve })
  // Signals skip the leave (Consul's skip_leave_on_interrupt for servers): peers see us `failed`
  // and welcome us back on restart. A leave (coord leave) has already been spread by then.
  const stop = () => {
    stopping ??= (async () => {
      await stops.run()
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
