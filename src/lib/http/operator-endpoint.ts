// /v1/operator/raft/* and /v1/operator/autopilot/health (Consul docs: api-docs/operator, api-docs/snapshot), over the Consensus seam's
// configuration(), removePeer() and transferLeadership().
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest} from '../errors.js'
import {readMode} from './read.js'
import {sendJson, sendText} from './respond.js'
import {formatDuration} from '../duration.js'
import {clusterHealth} from '../server/autopilot.js'
import {OperatorError, type PeerRef} from '../consensus.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type OperatorDeps = AgentDeps<'consensus' | 'nodeId' | 'startedAt' | 'version'>


export function operatorRoutes(agent: OperatorDeps): Route[] {
  return [
    {path: '/v1/operator/raft/configuration', exact: true, methods: {GET: (ctx) => raftConfiguration(agent, ctx)}},
    {path: '/v1/operator/raft/peer', exact: true, methods: {DELETE: (ctx) => removePeer(agent, ctx)}},
    {path: '/v1/operator/raft/transfer-leader', exact: true, methods: {POST: (ctx) => transferLeader(agent, ctx)}},
    {path: '/v1/operator/autopilot/health', exact: true, methods: {GET: (ctx) => autopilotHealth(agent, ctx)}},
  ]
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
  const health = clusterHealth(mode === 'stale' ? agent.consensus.configuration() : await agent.consensus.leaderConfiguration())
  // Go's time.Time rounded to the second, UTC: "2024-05-01T12:00:00Z".
  const stableSince = new Date(Math.round(agent.startedAt.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  const body = {
    Healthy: health.healthy,
    FailureTolerance: health.failureTolerance,
    Servers: health.servers.map((s) => ({
      ID: s.id, Name: s.node, Address: s.address, SerfStatus: 'alive', Version: s.id === agent.nodeId ? agent.version : '',
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
