// /v1/operator/raft/* and /v1/operator/autopilot/health (Consul docs: api-docs/operator, api-docs/snapshot), over the Consensus seam's
// configuration(), removePeer() and transferLeadership().
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest} from '../errors.js'
import {readMode} from './read.js'
import {sendJson, sendText} from './respond.js'
import {formatDuration} from '../duration.js'
import {clusterHealth} from '../server/autopilot.js'
import {OperatorError, type PeerRef} from '../consensus.js'
import {HttpError} from '../errors.js'
import {parseDuration} from '../duration.js'
import {field, isObject, parseJsonBody, type JsonObject} from './decode.js'
import {parseUint64} from './kv-endpoint.js'
import type {AutopilotConfig} from '../state/autopilot-config.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type OperatorDeps = AgentDeps<'consensus' | 'nodeId' | 'startedAt' | 'version' | 'autopilot' | 'state' | 'now'>


export function operatorRoutes(agent: OperatorDeps): Route[] {
  return [
    {path: '/v1/operator/raft/configuration', exact: true, methods: {GET: (ctx) => raftConfiguration(agent, ctx)}},
    {path: '/v1/operator/raft/peer', exact: true, methods: {DELETE: (ctx) => removePeer(agent, ctx)}},
    {path: '/v1/operator/raft/transfer-leader', exact: true, methods: {POST: (ctx) => transferLeader(agent, ctx)}},
    {path: '/v1/operator/autopilot/health', exact: true, methods: {GET: (ctx) => autopilotHealth(agent, ctx)}},
    {path: '/v1/operator/autopilot/configuration', exact: true, methods: {
      GET: (ctx) => getAutopilotConfiguration(agent, ctx),
      PUT: (ctx) => setAutopilotConfiguration(agent, ctx),
    }},
    {path: '/v1/operator/autopilot/state', exact: true, methods: {GET: (ctx) => autopilotState(agent, ctx)}},
  ]
}

/** Consul's api.AutopilotConfiguration. */
function renderAutopilotConfig(config: AutopilotConfig & {createIndex: number; modifyIndex: number}) {
  return {
    CleanupDeadServers: config.cleanupDeadServers, LastContactThreshold: formatDuration(config.lastContactThresholdMs),
    MaxTrailingLogs: config.maxTrailingLogs, MinQuorum: config.minQuorum, ServerStabilizationTime: formatDuration(config.serverStabilizationTimeMs),
    RedundancyZoneTag: config.redundancyZoneTag, DisableUpgradeMigration: config.disableUpgradeMigration, UpgradeVersionTag: config.upgradeVersionTag,
    CreateIndex: config.createIndex, ModifyIndex: config.modifyIndex,
  }
}

async function getAutopilotConfiguration(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  await agent.consensus.readBarrier(readMode(ctx.query), ctx.query.maxStaleMs)
  // Before the first leader stored it (within a second of its election), the agent's own block with
  // index 0, where Consul answers "autopilot config not initialized yet": a ?cas=0 write still fits.
  const stored = agent.state.autopilotConfig() ?? (agent.autopilot && {...agent.autopilot.config(), createIndex: 0, modifyIndex: 0})
  if (!stored) throw new HttpError(500, 'autopilot config not initialized yet', 'AUTOPILOT_NOT_INITIALIZED')
  sendJson(ctx.req, ctx.res, renderAutopilotConfig(stored), ctx.query.pretty)
}

/** Consul's decode: a missing field is its zero value; durations as Go strings ("10s") or nanoseconds. */
function decodeAutopilotBody(body: JsonObject): AutopilotConfig {
  const fail = (name: string, want: string): never => { throw badRequest(`Error parsing autopilot config: ${name}: expected ${want}`) }
  const bool = (name: string): boolean => {
    const value = field(body, name)
    if (value === undefined || value === null) return false
    return typeof value === 'boolean' ? value : fail(name, 'true or false')
  }
  const count = (name: string): number => {
    const value = field(body, name)
    if (value === undefined || value === null) return 0
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(name, 'a non-negative integer')
  }
  const duration = (name: string): number => {
    const value = field(body, name)
    if (value === undefined || value === null) return 0
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value / 1e6
    if (typeof value === 'string') {
      try {
        const ms = parseDuration(value)
        if (ms >= 0) return ms
      } catch { /* reported below */ }
    }
    return fail(name, 'a duration such as "10s"')
  }
  const text = (name: string): string => {
    const value = field(body, name)
    if (value === undefined || value === null) return ''
    return typeof value === 'string' ? value : fail(name, 'a string')
  }
  return {
    cleanupDeadServers: bool('CleanupDeadServers'), lastContactThresholdMs: duration('LastContactThreshold'),
    maxTrailingLogs: count('MaxTrailingLogs'), minQuorum: count('MinQuorum'), serverStabilizationTimeMs: duration('ServerStabilizationTime'),
    redundancyZoneTag: text('RedundancyZoneTag'), disableUpgradeMigration: bool('DisableUpgradeMigration'), upgradeVersionTag: text('UpgradeVersionTag'),
  }
}

/** PUT: true, or with ?cas= whether the stored ModifyIndex matched (Consul's OperatorAutopilotConfiguration). */
async function setAutopilotConfiguration(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  const raw = parseJsonBody(await ctx.body(64 * 1024), 'autopilot config')
  if (!isObject(raw)) throw badRequest('Error parsing autopilot config: the body must be a JSON object')
  const config = decodeAutopilotBody(raw)
  let cas: number | undefined
  if (ctx.params.has('cas')) {
    try {
      cas = Number(parseUint64(ctx.params.get('cas') ?? '', 'cas'))
    } catch (error) {
      throw badRequest(`Error parsing cas value: ${(error as Error).message}`)
    }
  }
  const {result} = await agent.consensus.propose({type: 'autopilot-set', now: agent.now(), op: {config, cas}})
  if (result.type !== 'autopilot-set') throw new Error(`unexpected apply result ${result.type}`)
  sendJson(ctx.req, ctx.res, cas === undefined ? true : result.ok, ctx.query.pretty)
}

/** Consul's api.AutopilotState from the leader's view (a follower answers from its own gossip and the leader's Raft view). */
async function autopilotState(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  const mode = readMode(ctx.query)
  await agent.consensus.readBarrier(mode, ctx.query.maxStaleMs)
  if (!agent.autopilot) throw new HttpError(500, 'autopilot runs on servers only', 'AUTOPILOT_NOT_SERVER')
  const config = mode === 'stale' ? agent.consensus.configuration() : await agent.consensus.leaderConfiguration()
  sendJson(ctx.req, ctx.res, agent.autopilot.state(config), ctx.query.pretty)
}

async function raftConfiguration(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  const mode = readMode(ctx.query)
  await agent.consensus.readBarrier(mode, ctx.query.maxStaleMs)
  // As Consul: the leader answers unless ?stale (a follower does not know its peers' progress).
  const {servers, index} = mode === 'stale' ? agent.consensus.configuration() : await agent.consensus.leaderConfiguration()
  // Field order of Consul's structs.RaftServer.
  const body = {
    Servers: servers.map((s) => ({ID: s.id, Node: s.node, Address: s.address, Leader: s.leader, ProtocolVersion: '3', Voter: s.voter, LastIndex: s.lastIndex})),
    Index: index,
  }
  sendJson(ctx.req, ctx.res, body, ctx.query.pretty)
}

async function removePeer(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  const {params} = ctx
  const hasId = params.has('id')
  const hasAddress = params.has('address')
  if (!hasId && !hasAddress) throw badRequest('Must specify either ?id with the server\'s ID or ?address with IP:port of peer to remove')
  if (hasId && hasAddress) throw badRequest('Must specify only one of ?id or ?address')
  const peer: PeerRef = hasId ? {id: params.get('id') ?? ''} : {address: params.get('address') ?? ''}
  await operatorCall(() => agent.consensus.removePeer(peer))
  sendText(ctx.req, ctx.res, 200, '')
}

async function transferLeader(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  const id = ctx.params.get('id') ?? undefined
  await operatorCall(() => agent.consensus.transferLeadership(id || undefined))
  sendJson(ctx.req, ctx.res, {Success: true}, ctx.query.pretty)
}

/** 200 when every voter is healthy, 429 (with the same body) when not, as Consul answers. */
async function autopilotHealth(agent: OperatorDeps, ctx: RequestContext): Promise<void> {
  const mode = readMode(ctx.query)
  await agent.consensus.readBarrier(mode, ctx.query.maxStaleMs)
  const config = mode === 'stale' ? agent.consensus.configuration() : await agent.consensus.leaderConfiguration()
  // The thresholds in force (the replicated configuration), and gossip's word on each server.
  const health = agent.autopilot ? agent.autopilot.health(config) : clusterHealth(config)
  // Go's time.Time rounded to the second, UTC: "2024-05-01T12:00:00Z".
  const stableSince = new Date(Math.round(agent.startedAt.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  const body = {
    Healthy: health.healthy,
    FailureTolerance: health.failureTolerance,
    Servers: health.servers.map((s) => ({
      ID: s.id, Name: s.node, Address: s.address, SerfStatus: agent.autopilot ? agent.autopilot.status()(s) : 'alive', Version: s.id === agent.nodeId ? agent.version : '',
      Leader: s.leader, LastContact: formatDuration(s.lastContactMs), LastTerm: s.lastTerm, LastIndex: s.lastIndex,
      Healthy: s.healthy, Voter: s.voter, StableSince: stableSince,
    })),
  }
  sendJson(ctx.req, ctx.res, body, ctx.query.pretty, health.healthy ? 200 : 429)
}

/** An operator request the cluster refuses is the caller's mistake: 400 with the reason. */
async function operatorCall(call: () => Promise<void>): Promise<void> {
  try {
    await call()
  } catch (error) {
    if (error instanceof OperatorError) throw badRequest(error.message)
    throw error
  }
}
