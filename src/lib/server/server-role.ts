// The server role of an agent: the RPC port, Raft storage and driver, how servers find each other
// and bootstrap, and the duties only the leader performs (session TTL timers, tombstone GC, keeping
// servers in the catalog, adding new servers to the configuration).
import {AutopilotRunner} from './autopilot-runner.js'
import {join} from 'node:path'
import {mkdirSync} from 'node:fs'
import type {AgentConfig} from '../agent/config.js'
import type {Logger} from '../logger.js'
import {FileRaftStorage, MemoryDurableStorage, type DurableRaftStorage} from '../raft/file-storage.js'
import type {RaftConfig} from '../raft/config.js'
import {DEFAULT_MAX_FRAME_BYTES, RpcTransport} from '../rpc/transport.js'
import {DEFAULT_SNAPSHOT_CHUNK_BYTES, MIN_SNAPSHOT_CHUNK_BYTES} from './snapshot-transfer.js'
import {DEFAULT_UPLOAD_IDLE_MS} from './restore-upload.js'
import {RpcTls} from '../tls/rpc-tls.js'
import type {StateMachine} from '../state/state-machine.js'
import type {Command, Session} from '../state/types.js'
import type {CommandCodec} from './driver-ports.js'
import {bootstrapMembership, hasMembership, startJoinLoop, type ServerInfo} from './bootstrap.js'
import {RaftServer} from './raft-server.js'
import {NoLeaderError} from '../consensus.js'
import {SessionTimers} from './session-timers.js'
import {raftMetrics} from './raft-metrics.js'
import {TombstoneGc} from './tombstone-gc.js'
import {CatalogReconciler, taggedAddresses, type MemberSource} from './catalog-reconcile.js'

export interface ServerRole {
  raft: RaftServer
  sessionTimers: SessionTimers
  /** Server RPC address peers use (advertise address and the bound port). */
  address: string
  /** The server RPC transport (client agents' forwarded requests are served on it too). */
  transport: RpcTransport
  /** Re-registers this server's node (after a snapshot restore brought another catalog). */
  registerSelf(): Promise<void>
  /**
   * A server seen through gossip (role `consul`, alive): its ID, node name and RPC address. It
   * becomes a Raft candidate and gets an address, as one found through -retry-join does; gossip
   * does not tell whether it belongs to a cluster, so it alone never triggers a bootstrap (see below).
   */
  noteGossipServer(info: {id: string; name: string; address: string}): void
  /** The LAN gossip pool, once started: while leader, its members are mirrored into the catalog. */
  attachMembers(source: MemberSource): void
  /** Runs `duty` each time this server becomes leader (at once if it already is). */
  onLeader(duty: () => void): void
  /** Autopilot: health, dead-server cleanup, promotion gate, and its state for the operator API. */
  autopilot: AutopilotRunner
  /** Renews a session on the leader (forwarded when this server follows). */
  renewSession(id: string): Promise<Session | undefined>
  stop(): Promise<void>
}

export interface ServerRoleOptions {
  config: AgentConfig
  nodeId: string
  state: StateMachine
  /** How commands become log entries (state/codec.ts, injected by the composition root). */
  codec: CommandCodec<Command>
  logger: Logger
  raft?: Partial<RaftConfig>
  /** The agent's version (autopilot's server state). */
  version?: string
  /** Raft storage failed beyond repair in place (raft-driver.ts onFatal): the agent stops. */
  onFatal?: (error: Error) => void
}

export async function startServerRole(opts: ServerRoleOptions): Promise<ServerRole> {
  const {config, nodeId, state} = opts
  const log = opts.logger
  // TLS on the RPC port (tls/rpc-tls.ts): certificates swapped on reload through `tls.update`.
  const rpcTls = config.tls.rpc ? new RpcTls(config.tls.settings, config.tls.rpc, config.datacenter, config.dns.domain) : undefined
  const transfer = transferKnobs(process.env)
  const transport = new RpcTransport({
    localId: nodeId,
    maxFrameBytes: transfer.maxFrameBytes,
    localAddress: config.bindAddr === '0.0.0.0' || config.bindAddr === '::' ? undefined : config.bindAddr,
    onError: (peer, error) => log.debug('rpc connection error', {peer, error: error.message}),
    tls: rpcTls,
    onRefused: (peer, reason) => log.warn('rpc connection refused', {peer, reason}),
  })
  let port: number
  try {
    port = await transport.listen(config.bindAddr, config.ports.server)
  } catch (error) {
    await transport.close()
    throw new Error(`Error starting the server RPC listener on ${config.bindAddr}:${config.ports.server}: ${(error as Error).message}`)
  }
  const address = `${config.advertiseAddr}:${port}`
  let storage: DurableRaftStorage
  if (config.dataDir) {
    const dir = join(config.dataDir, 'raft')
    try {
      mkdirSync(dir, {recursive: true})
      storage = await FileRaftStorage.open(dir, (bytes) => log.warn('log ended in a torn record (a write cut off by a crash before it was acknowledged); dropped it', {bytes}))
    } catch (error) {
      // The RPC listener is open by now: closed, so the refused start exits instead of hanging.
      await transport.close()
      throw error
    }
  } else {
    storage = new MemoryDurableStorage()
  }

  const known = new Map<string, ServerInfo>()
  const self = (): ServerInfo => {
    const snapshot = storage.snapshot()
    const bootstrapConf = snapshot.index === 0 && snapshot.conf.voters.length > 0 ? snapshot.conf : undefined
    return {id: nodeId, name: config.nodeName, address, member: hasMembership(storage), bootstrapConf}
  }
  known.set(nodeId, self())

  const registerNode = async (info: {id: string; name: string; address: string}) => {
    // SkipNodeUpdate keeps a node record gossip reconcile (or anti-entropy) already wrote, with
    // its meta and tagged addresses, instead of overwriting it with this bare one.
    const exists = state.node(info.name).value !== undefined
    const host = info.address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
    await raft.propose({
      type: 'catalog-register', now: Date.now(),
      request: {
        Node: info.name, ID: info.id, Address: host, Datacenter: config.datacenter, SkipNodeUpdate: exists,
        TaggedAddresses: taggedAddresses(host), NodeMeta: {'consul-network-segment': '', ...(info.name === config.nodeName ? config.nodeMeta : {})},
        Checks: [{CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Output: 'Agent alive and reachable'}],
      },
    })
  }
  // Without gossip (ports.serf_lan = -1) the leader keeps registering the servers it knows.
  let gossipAttached = false
  const reconciler = new CatalogReconciler({
    state, datacenter: config.datacenter, selfName: config.nodeName, log: log.named('reconcile'),
    propose: (cmd) => raft.propose(cmd), isLeader: () => raft.isLeader(), now: () => Date.now(),
  })
  const sessionTimers = new SessionTimers(async (id) => {
    await raft.propose({type: 'session-destroy', now: Date.now(), id})
  }, log.named('session'))
  const tombstoneGc = new TombstoneGc({
    ttlMs: 15 * 60_000, granularityMs: 30_000, lastIndex: () => state.lastIndex,
    reap: async (upToIndex) => { await raft.propose({type: 'tombstone-reap', now: Date.now(), upToIndex}) },
    onError: (error) => log.warn('tombstone reap failed', {error}),
  })

  const leaderDuties: Array<() => void> = []
  const raft: RaftServer = new RaftServer({
    id: nodeId, name: config.nodeName, address, state, codec: opts.codec, storage, transport, logger: log.named('raft'), raft: opts.raft,
    snapshotThreshold: config.snapshotThreshold, rpcHoldTimeoutMs: config.rpcHoldTimeoutMs,
    snapshotChunkBytes: transfer.snapshotChunkBytes, maxFrameBytes: transfer.maxFrameBytes, uploadIdleMs: transfer.uploadIdleMs,
    uploadDir: config.dataDir ? join(config.dataDir, 'raft') : undefined,
    mayPromote: (id) => autopilot.mayPromote(id), onFatal: opts.onFatal,
    metrics: raftMetrics(),
    onLeadershipChange: (leader) => {
      reconciler.setLeader(leader)
      if (!leader) {
        sessionTimers.stop()
        tombstoneGc.stop()
        return
      }
      for (const duty of leaderDuties) duty()
      // As Consul: every session TTL restarts from its full window when a leader takes over.
      sessionTimers.resetAll(state.sessionList().value)
      tombstoneGc.start()
      // The leader registers itself at once (sessions bind to its serfHealth by default); gossip
      // reconcile (catalog-reconcile.ts) mirrors every member. Without gossip, the servers it knows.
      for (const info of gossipAttached ? [self()] : known.values()) {
        registerNode(info).catch((error: Error) => log.warn('failed to register a server in the catalog', {node: info.name, error: error.message}))
      }
    },
  })

  const autopilot = new AutopilotRunner({
    settings: config.autopilot, state, isLeader: () => raft.isLeader(), configuration: () => raft.configuration(),
    propose: (cmd) => raft.propose(cmd), removeDeadServer: (id) => raft.removeDeadServer(id), version: opts.version ?? '',
    log: log.named('autopilot'),
  })
  autopilot.start()

  const noteServer = (info: ServerInfo) => {
    if (!info?.id || info.id === nodeId) return
    const isNew = !known.has(info.id)
    known.set(info.id, info)
    raft.addresses.set(info.id, info.address)
    raft.names.set(info.id, info.name)
    raft.noteServer(info.id)
    if (isNew && raft.isLeader() && !gossipAttached) registerNode(info).catch(() => {})
    if (!hasMembership(storage)) {
      const conf = bootstrapMembership(nodeId, new Map([...known, [nodeId, self()]]), config.bootstrapExpect)
      if (conf) raft.bootstrap(conf).catch((error: Error) => log.error('bootstrap failed', {error: error.message}))
    }
  }
  // Gossip says only who is alive where. A server not yet heard over RPC counts as a cluster
  // member, which blocks bootstrapMembership (never bootstrap a second cluster because of gossip);
  // the RPC retry-join loop, still running until this server is a voter, brings the real answer.
  // With verify_server_hostname gossip (which TLS does not cover) is not proof of being a server:
  // a member is noted only once it answered server-info over TLS with a server.<dc>.<domain>
  // certificate, so a client certificate never becomes a Raft candidate.
  const verifying = new Set<string>()
  const noteGossipServer = (info: {id: string; name: string; address: string}) => {
    if (!info.id || info.id === nodeId) return
    const prior = known.get(info.id)
    if (prior && prior.address === info.address && prior.name === info.name) {
      // A known server (gossip says it joined again): as Consul's leader reconciles an alive server
      // member into Raft, it is a candidate again, so one autopilot removed while it restarted or
      // stalled is added back without its own retry-join (which may not run, or not get through).
      raft.noteServer(info.id)
      return
    }
    if (!transport.tls?.state.verifyServerHostname) {
      noteServer(prior ? {...prior, name: info.name, address: info.address} : {...info, member: true})
      return
    }
    if (verifying.has(info.id)) return
    verifying.add(info.id)
    transport.request(info.address, 'server-info', self(), 5_000).then(
      (answer) => { if ((answer as ServerInfo)?.id === info.id) noteServer(answer as ServerInfo) },
      (error: Error) => log.debug('gossip server not verified over TLS', {node: info.name, error: error.message}),
    ).finally(() => verifying.delete(info.id))
  }
  transport.onRequest('server-info', async (_from, body) => {
    noteServer(body as ServerInfo)
    return self()
  })
  // Only the leader's timers count: a server that lost leadership refuses, and the caller retries
  // on the new leader (RaftServer.onLeader).
  transport.onRequest('session-renew', async (_from, body) => {
    if (!raft.isLeader()) throw new NoLeaderError()
    return renewLocally(String(body))
  })

  const renewLocally = (id: string): Session | undefined => {
    const session = state.sessionGet(id).value
    if (session) sessionTimers.reset(session)
    return session
  }

  const lone = config.dev || config.bootstrap || config.bootstrapExpect === 1
  if (!hasMembership(storage) && lone) await raft.bootstrap({voters: [nodeId], learners: []})
  const soleVoter = () => {
    const voters = storage.snapshot().conf.voters
    return voters.length === 1 && voters[0] === nodeId
  }
  raft.start(soleVoter())
  if (!hasMembership(storage) && !lone && config.bootstrapExpect === 0) {
    log.warn('no -bootstrap or -bootstrap-expect: this server waits to be added to an existing cluster through -retry-join')
  }
  const joinLoop = config.retryJoin.length > 0
    ? startJoinLoop({
      // A round every 500 ms until this server is a voter: discovery, not Consul's 30 s gossip join retry.
      self, transport, retryJoin: [...config.retryJoin], intervalMs: 500, maxAttempts: 0,
      logger: log.named('join'), onServer: noteServer,
      // Keep asking until this server is a voter: the leader adds servers it hears from.
      done: () => raft.core.status().conf.voters.includes(nodeId) && raft.knownLeader(),
      onChange: (wake) => raft.driver.progress.on(wake),
    })
    : undefined

  return {
    raft, sessionTimers, address, noteGossipServer, transport, autopilot,
    onLeader: (duty) => {
      leaderDuties.push(duty)
      if (raft.isLeader()) duty()
    },
    attachMembers: (source) => {
      gossipAttached = true
      reconciler.attach(source)
      autopilot.attachMembers(() => source.members())
    },
    registerSelf: async () => {
      await registerNode({id: nodeId, name: config.nodeName, address})
      reconciler.full()
    },
    // Consul's Session.Renew runs on the leader: held through an election like a read.
    renewSession: (id) => raft.onLeader(
      async () => renewLocally(id),
      async (leader, timeoutMs) => await transport.request(leader, 'session-renew', id, timeoutMs) as Session | undefined,
    ),
    stop: async () => {
      joinLoop?.stop()
      autopilot.stop()
      reconciler.stop()
      sessionTimers.stop()
      tombstoneGc.stop()
      await raft.close()
      await transport.close()
    },
  }
}

/**
 * Test knobs, not configuration: COORD_TEST_SNAPSHOT_CHUNK_BYTES and COORD_TEST_RPC_MAX_FRAME_BYTES
 * make a test move a few-MiB snapshot in many chunks past a small frame bound;
 * COORD_TEST_RESTORE_UPLOAD_IDLE_MS lets it see a cut restore upload dropped. Each may only lower
 * its default (a chunk never below MIN_SNAPSHOT_CHUNK_BYTES, a frame never below 2 MiB).
 */
function transferKnobs(env: NodeJS.ProcessEnv): {snapshotChunkBytes?: number; maxFrameBytes?: number; uploadIdleMs?: number} {
  const read = (name: string, min: number, max: number): number | undefined => {
    const value = Number(env[name])
    return env[name] && Number.isSafeInteger(value) ? Math.min(max, Math.max(min, value)) : undefined
  }
  const snapshotChunkBytes = read('COORD_TEST_SNAPSHOT_CHUNK_BYTES', MIN_SNAPSHOT_CHUNK_BYTES, DEFAULT_SNAPSHOT_CHUNK_BYTES)
  // AppendEntries carry up to 1 MiB of entries (raft/config.ts maxSizePerMsgBytes): 2 MiB at least.
  const maxFrameBytes = read('COORD_TEST_RPC_MAX_FRAME_BYTES', 2 << 20, DEFAULT_MAX_FRAME_BYTES)
  // A follower's restore upload dropped on the leader after this quiet spell (restore-upload.ts).
  const uploadIdleMs = read('COORD_TEST_RESTORE_UPLOAD_IDLE_MS', 1000, DEFAULT_UPLOAD_IDLE_MS)
  return {snapshotChunkBytes, maxFrameBytes, uploadIdleMs}
}
