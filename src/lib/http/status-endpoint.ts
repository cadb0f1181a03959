// /v1/status/leader and /v1/status/peers (Consul docs: api-docs/agent).
import type {AgentContext, Route} from './context.js'
import {sendJson} from './respond.js'

export function statusRoutes(agent: AgentContext): Route[] {
  return [
    {path: '/v1/status/leader', exact: true, methods: {GET: (ctx) => sendJson(ctx.req, ctx.res, agent.consensus.leaderAddress(), ctx.query.pretty)}},
    {path: '/v1/status/peers', exact: true, methods: {GET: (ctx) => sendJson(ctx.req, ctx.res, agent.consensus.peers(), ctx.query.pretty)}},
  ]
}
