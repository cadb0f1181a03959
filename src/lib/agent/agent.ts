// The agent process: builds the pieces from a validated config, starts them in order, and stops
// them in reverse on SIGINT/SIGTERM. Everything a request needs is in the AgentContext it builds.
import {mkdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {randomUUID} from 'node:crypto'
import type {AgentConfig} from './config.js'
import {LogHub, type Logger} from './logger.js'
import {printBanner} from './banner.js'
import {StateMachine} from '../state/state-machine.js'
import {FileLogStore, MemoryLogStore, type LogStore} from '../raft/log-store.js'
import {FileSnapshotStore} from '../raft/snapshot-store.js'
import {SingleServer} from '../server/single-server.js'
import {SessionTimers} from '../server/session-timers.js'
import {TombstoneGc} from '../server/tombstone-gc.js'
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

async function openStorage(config: AgentConfig, state: StateMachine, log: Logger): Promise<{store: LogStore; snapshots?: FileSnapshotStore; snapshotIndex: number}> {
  if (!config.dataDir) return {store: new MemoryLogStore(), snapshotIndex: 0}
  const dir = join(config.dataDir, 'raft')
  mkdirSync(dir, {recursive: true})
  const snapshots = new FileSnapshotStore(dir)
  const snapshot = snapshots.load()
  const store = await FileLogStore.open(dir, snapshot?.meta.index ?? 0, (bytes) => {
    log.warn('log ended in a torn record (a write cut off by a crash before it was acknowledged); dropped it', {bytes})
  })
  const replayed = SingleServer.restore(state, store, snapshot)
  log.info('restored state', {snapshot_index: snapshot?.meta.index ?? 0, replayed, last_index: state.lastIndex})
  return {store, snapshots, snapshotIndex: snapshot?.meta.index ?? 0}
}

export async function startAgent(config: AgentConfig, io: AgentIO): Promise<RunningAgent> {
  const logs = new LogHub(config.logLevel, io.stdout, config.logJson)
  const log = logs.logger('agent')
  if (config.dataDir) mkdirSync(config.dataDir, {recursive: true})
  const nodeId = loadNodeId(config)
  const state = new StateMachine()
  const storage = await openStorage(config, state, log.named('server.raft'))
  const serverAddress = `${config.advertiseAddr}:${config.ports.server}`
  const bootstrap = config.bootstrap || config.bootstrapExpect === 1
  const consensus = new SingleServer({
    state, log: storage.store, snapshots: storage.snapshots, logger: log.named('server.raft'),
    address: serverAddress, serverId: nodeId, nodeName: config.nodeName, bootstrap, snapshotThreshold: config.snapshotThreshold,
  })
  consensus.snapshotIndex = storage.snapshotIndex
  if (!bootstrap) log.warn('no -bootstrap or -bootstrap-expect=1: this server will not elect itself; writes answer "No cluster leader"')
  const sessionTimers = new SessionTimers(async (id) => {
    await consensus.propose({type: 'session-destroy', now: Date.now(), id})
  }, log.named('server.session'))

  const member: MemberInfo = {
    Name: config.nodeName, Addr: config.advertiseAddr, Port: config.ports.serfLan,
    Tags: {
      acls: '0', build: `${io.version}:coord`, dc: config.datacenter, ft_fs: '1', ft_si: '1', id: nodeId,
      port: String(config.ports.server), raft_vsn: '3', role: config.server ? 'consul' : 'node', segment: '',
      vsn: '2', vsn_max: '3', vsn_min: '2', wan_join_port: String(config.ports.serfWan),
      ...(bootstrap ? {bootstrap: '1'} : {}),
    },
    Status: 1, ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  }
  // The leader keeps this node in the catalog with a passing serfHealth check, which sessions
  // bind to by default (gossip will drive that check's status once it exists). Also re-run after a
  // snapshot restore, which may bring a catalog without this node.
  const registerSelf = async (): Promise<void> => {
    await consensus.propose({
      type: 'node-register', now: Date.now(),
      node: {id: nodeId, node: config.nodeName, address: config.advertiseAddr, datacenter: config.datacenter},
      checks: [{node: config.nodeName, checkId: 'serfHealth', name: 'Serf Health Status', status: 'passing', notes: '', output: 'Agent alive and reachable'}],
    })
  }
  const context: AgentContext = {
    config, nodeId, version: io.version, state, consensus, sessionTimers, logs, log,
    startedAt: new Date(), members: () => [member], now: () => Date.now(), registerSelf,
  }

  const servers: HttpServerHandle[] = []
  try {
    for (const host of config.clientAddrs) {
      const handle = await startHttpServer(context, host, config.ports.http)
      servers.push(handle)
    }
  } catch (error) {
    for (const server of servers) await server.close()
    await consensus.close()
    throw new Error(`Error starting HTTP server on ${config.clientAddrs.join(' ')} port ${config.ports.http}: ${(error as Error).message}`)
  }
  const httpAddresses = servers.map((s) => `${s.address.address.includes(':') ? `[${s.address.address}]` : s.address.address}:${s.address.port}`)
  printBanner(io.stdout, config, {nodeId, version: io.version, httpPort: servers[0]?.address.port ?? config.ports.http})
  for (const address of httpAddresses) log.info('Started HTTP server', {address, network: 'tcp'})

  if (bootstrap) {
    await registerSelf()
    // As Consul: every session TTL timer restarts from its full window when a leader takes over.
    sessionTimers.resetAll(state.sessionList().value)
    log.named('server').info('cluster leadership acquired')
  }
  const tombstoneGc = new TombstoneGc({
    ttlMs: 15 * 60_000, granularityMs: 30_000, lastIndex: () => state.lastIndex,
    reap: async (upToIndex) => { await consensus.propose({type: 'tombstone-reap', now: Date.now(), upToIndex}) },
    onError: (error) => log.named('server').warn('tombstone reap failed', {error}),
  })
  if (bootstrap) tombstoneGc.start()
  log.info('Consul agent running!')

  let stopping: Promise<void> | undefined
  return {
    context,
    httpAddresses,
    stop: () => {
      stopping ??= (async () => {
        sessionTimers.stop()
        tombstoneGc.stop()
        await Promise.all(servers.map((s) => s.close()))
        await consensus.close()
        log.info('shutdown complete')
      })()
      return stopping
    },
  }
}
