// The agent process: builds the pieces from a validated config, starts them in order, and stops
// them in reverse on SIGINT/SIGTERM. Everything a request needs is in the AgentContext it builds.
import {mkdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {randomUUID} from 'node:crypto'
import type {AgentConfig} from './config.js'
import {LogHub} from './logger.js'
import {printBanner} from './banner.js'
import {StateMachine} from '../state/state-machine.js'
import {startServerRole} from '../server/server-role.js'
import type {AgentContext, MemberInfo} from '../http/context.js'
import {startHttpServer, type HttpServerHandle} from '../http/server.js'
import {memberTags, startLanGossip, toMemberInfo, type LanGossip} from './gossip.js'
import {LocalAgent} from './local-agent.js'
import {startCheckAdapter} from './check-runners.js'
import {catalogSyncAdapter} from './catalog-sync.js'
import {startAgentDns, type DnsServerHandle} from '../dns/agent-dns.js'

export interface RunningAgent {
  context: AgentContext
  httpAddresses: string[]
  stop(): Promise<void>
  /** Resolves once a graceful leave (PUT /v1/agent/leave) has stopped the agent. */
  left: Promise<void>
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

/** Reads the node ID persisted in the data dir, or creates one (stable across restarts). */
function loadNodeId(config: AgentConfig): string {
  if (config.nodeId) return config.nodeId
  if (!config.dataDir) return randomUUID()
  const path = join(config.dataDir, 'node-id')
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim()
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return id
    throw new Error(`${path}: does not hold a node ID (UUID); fix or remove the file`)
  }
  const id = randomUUID()
  writeFileSync(path, id)
  return id
}

export async function startAgent(config: AgentConfig, io: AgentIO): Promise<RunningAgent> {
  const logs = new LogHub(config.logLevel, io.stdout, config.logJson)
  const log = logs.logger('agent')
  if (config.dataDir) mkdirSync(config.dataDir, {recursive: true})
  const nodeId = loadNodeId(config)
  const state = new StateMachine()
  const role = await startServerRole({config, nodeId, state, logger: log.named('server')})
  const consensus = role.raft
  const serverPort = Number(role.address.replace(/^.*:/, ''))
  // ports.serf_lan = -1 disables gossip: the agent then lists only itself, as before gossip.
  let gossip: LanGossip | undefined
  if (config.ports.serfLan >= 0) {
    try {
      gossip = await startLanGossip({
        config, nodeId, version: io.version, serverPort, log: log.named('serf.lan'),
        onServer: config.server ? role.noteGossipServer : undefined,
      })
    } catch (error) {
      await role.stop()
      throw error
    }
  }
  if (gossip) {
    const node = gossip.node
    role.attachMembers({members: () => node.members(), onChange: (cb) => node.on('member', (event) => cb(event.member.name))})
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
      ...catalogSyncAdapter(role.raft, state),
    })
  } catch (error) {
    await gossip?.close()
    await role.stop()
    throw error
  }
  const reloadHooks: ReloadHook[] = []
  let currentConfig = config
  const reload = async () => {
    if (!io.reloadConfig) throw new Error('this agent was started without config files to reload')
    const next = io.reloadConfig()
    local.reload(next)
    logs.level = next.logLevel
    for (const hook of reloadHooks) await hook(next, currentConfig)
    currentConfig = next
    log.info('configuration reloaded', {services: next.services.length, checks: next.checks.length, log_level: next.logLevel})
  }
  const context: AgentContext = {
    local, localServices: () => local.localServices(), reload,
    config, nodeId, version: io.version, state, consensus, sessionTimers: role.sessionTimers, logs, log,
    startedAt: new Date(), members: () => gossip?.members() ?? [lone], now: () => Date.now(), registerSelf: role.registerSelf,
    renewSession: role.renewSession,
    join: async (address) => {
      if (!gossip) throw new Error('gossip is disabled (ports.serf_lan = -1)')
      await gossip.join([address])
    },
    leave: async () => {
      log.info('requesting a graceful leave of the LAN pool')
      await gossip?.leave()
    },
    requestShutdown: () => requestStop(),
    forceLeave: (name, prune) => {
      if (!gossip) throw new Error('gossip is disabled (ports.serf_lan = -1)')
      if (!gossip.forceLeave(name, prune)) throw new Error(`agent: No node found with name '${name}'`)
    },
  }

  const servers: HttpServerHandle[] = []
  try {
    for (const host of config.clientAddrs) {
      const handle = await startHttpServer(context, host, config.ports.http)
      servers.push(handle)
    }
  } catch (error) {
    for (const server of servers) await server.close()
    local.stop()
    await gossip?.close()
    await role.stop()
    throw new Error(`Error starting HTTP server on ${config.clientAddrs.join(' ')} port ${config.ports.http}: ${(error as Error).message}`)
  }
  const httpAddresses = servers.map((s) => `${s.address.address.includes(':') ? `[${s.address.address}]` : s.address.address}:${s.address.port}`)
  printBanner(io.stdout, config, {nodeId, version: io.version, httpPort: servers[0]?.address.port ?? config.ports.http})
  for (const address of httpAddresses) log.info('Started HTTP server', {address, network: 'tcp'})
  let dnsServers: DnsServerHandle[] = []
  try {
    dnsServers = await startAgentDns({config, state, consensus, log})
  } catch (error) {
    for (const server of servers) await server.close()
    local.stop()
    await gossip?.close()
    await role.stop()
    throw error
  }

  log.info('Consul agent running!')

  let stopping: Promise<void> | undefined
  let leftResolve: () => void = () => {}
  const left = new Promise<void>((resolve) => { leftResolve = resolve })
  // Signals skip the leave (Consul's skip_leave_on_interrupt for servers): peers see us `failed`
  // and welcome us back on restart. A leave (coord leave) has already been spread by then.
  const stop = () => {
    stopping ??= (async () => {
      local.stop()
      await Promise.all([...dnsServers, ...servers].map((s) => s.close()))
      await gossip?.close()
      await role.stop()
      log.info('shutdown complete')
    })()
    return stopping
  }
  requestStop = () => { stop().then(leftResolve, leftResolve) }
  return {context, httpAddresses, stop, left, onReload: (hook) => { reloadHooks.push(hook) }}
}
