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
import {AgentWatches} from './watches.js'

export interface RunningAgent {
  context: AgentContext
  httpAddresses: string[]
  stop(): Promise<void>
  /** Resolves once a graceful leave (PUT /v1/agent/leave) has stopped the agent. */
  left: Promise<void>
  /** The configured `watches`; on reload call `watches.reload(newConfig.watches)` (only changed ones restart). */
  watches: AgentWatches
}

export interface AgentIO {
  stdout: (line: string) => void
  version: string
}

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
  const lone: MemberInfo = toMemberInfo({
    name: config.nodeName, address: config.advertiseAddr, port: config.ports.serfLan,
    tags: memberTags(config, nodeId, io.version, serverPort), state: 'alive',
  })
  let requestStop: () => void = () => {}
  const context: AgentContext = {
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
    await gossip?.close()
    await role.stop()
    throw new Error(`Error starting HTTP server on ${config.clientAddrs.join(' ')} port ${config.ports.http}: ${(error as Error).message}`)
  }
  const httpAddresses = servers.map((s) => `${s.address.address.includes(':') ? `[${s.address.address}]` : s.address.address}:${s.address.port}`)
  printBanner(io.stdout, config, {nodeId, version: io.version, httpPort: servers[0]?.address.port ?? config.ports.http})
  for (const address of httpAddresses) log.info('Started HTTP server', {address, network: 'tcp'})

  const watches = new AgentWatches(httpAddresses[0], log)
  watches.start(config.watches)
  log.info('Consul agent running!')

  let stopping: Promise<void> | undefined
  let leftResolve: () => void = () => {}
  const left = new Promise<void>((resolve) => { leftResolve = resolve })
  // Signals skip the leave (Consul's skip_leave_on_interrupt for servers): peers see us `failed`
  // and welcome us back on restart. A leave (coord leave) has already been spread by then.
  const stop = () => {
    stopping ??= (async () => {
      await watches.stop()
      await Promise.all(servers.map((s) => s.close()))
      await gossip?.close()
      await role.stop()
      log.info('shutdown complete')
    })()
    return stopping
  }
  requestStop = () => { stop().then(leftResolve, leftResolve) }
  return {context, httpAddresses, stop, left, watches}
}
