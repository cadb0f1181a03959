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

export interface RunningAgent {
  context: AgentContext
  httpAddresses: string[]
  stop(): Promise<void>
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
  const bootstrap = config.bootstrap || config.bootstrapExpect === 1
  const member: MemberInfo = {
    Name: config.nodeName, Addr: config.advertiseAddr, Port: config.ports.serfLan,
    Tags: {
      acls: '0', build: `${io.version}:coord`, dc: config.datacenter, ft_fs: '1', ft_si: '1', id: nodeId,
      port: role.address.replace(/^.*:/, ''), raft_vsn: '3', role: config.server ? 'consul' : 'node', segment: '',
      vsn: '2', vsn_max: '3', vsn_min: '2', wan_join_port: String(config.ports.serfWan),
      ...(bootstrap ? {bootstrap: '1'} : {}),
    },
    Status: 1, ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  }
  const context: AgentContext = {
    config, nodeId, version: io.version, state, consensus, sessionTimers: role.sessionTimers, logs, log,
    startedAt: new Date(), members: () => [member], now: () => Date.now(), registerSelf: role.registerSelf,
    renewSession: role.renewSession,
  }

  const servers: HttpServerHandle[] = []
  try {
    for (const host of config.clientAddrs) {
      const handle = await startHttpServer(context, host, config.ports.http)
      servers.push(handle)
    }
  } catch (error) {
    for (const server of servers) await server.close()
    await role.stop()
    throw new Error(`Error starting HTTP server on ${config.clientAddrs.join(' ')} port ${config.ports.http}: ${(error as Error).message}`)
  }
  const httpAddresses = servers.map((s) => `${s.address.address.includes(':') ? `[${s.address.address}]` : s.address.address}:${s.address.port}`)
  printBanner(io.stdout, config, {nodeId, version: io.version, httpPort: servers[0]?.address.port ?? config.ports.http})
  for (const address of httpAddresses) log.info('Started HTTP server', {address, network: 'tcp'})

  log.info('Consul agent running!')

  let stopping: Promise<void> | undefined
  return {
    context,
    httpAddresses,
    stop: () => {
      stopping ??= (async () => {
        await Promise.all(servers.map((s) => s.close()))
        await role.stop()
        log.info('shutdown complete')
      })()
      return stopping
    },
  }
}
