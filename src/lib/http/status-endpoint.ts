// /v1/status/leader and /v1/status/peers (Consul docs: api-docs/agent).
import type {AgentDeps, Route} from './context.js'
import {sendJson} from './respond.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type StatusDeps = AgentDeps<'consensus'>


export function statusRoutes(agent: StatusDeps): Route[] {
  return [
    {path: '/v1/status/leader', exact: true, methods: {GET: (ctx) => sendJson(ctx.req, ctx.res, agent.consensus.leaderAddress(), ctx.query.pretty)}},
    {path: '/v1/status/peers', exact: true, methods: {GET: (ctx) => sendJson(ctx.req, ctx.res, agent.consensus.peers(), ctx.query.pretty)}},
  ]
}
