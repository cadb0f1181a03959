// /v1/agent/health/service/name|id (local service health with Consul's status codes),
// /v1/agent/maintenance, /v1/agent/service/maintenance/:id and /v1/agent/reload (Consul docs: api-docs/agent, api-docs/agent/service).
import type {AgentDeps, RequestContext, Route} from './context.js'
import {headerValue, sendBody, sendJson, sendText} from './respond.js'
import {HttpError, badRequest} from '../errors.js'
import {aggregateStatus, type LocalService} from '../agent/local-state.js'
import {renderCheck, renderService, translating} from './agent-local-render.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type AgentHealthDeps = AgentDeps<'config' | 'local' | 'log' | 'reload'>


const codeOf = {passing: 200, warning: 429, critical: 503, maintenance: 503} as const

function wantsText(ctx: RequestContext): boolean {
  if (ctx.params.get('format') === 'text') return true
  return /^text\/plain/.test(ctx.req.headers.accept ?? '')
}

/** Go's strconv.ParseBool, as Consul parses ?enable=. */
function parseEnable(ctx: RequestContext): boolean {
  const text = ctx.params.get('enable')
  if (text === null || text === '') throw badRequest('Missing value for enable')
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false
  throw badRequest(`Invalid value for enable: "${text}"`)
}

export function agentHealthRoutes(agent: AgentHealthDeps): Route[] {
  const local = agent.local
  const dc = agent.config.datacenter
  const node = agent.config.nodeName
  // The service's checks plus the node's (node maintenance makes every instance unavailable).
  const health = (service: LocalService) => {
    const checks = local.state.checks().filter((c) => c.def.ServiceID === service.def.ID || c.def.ServiceID === '')
    return {
      status: aggregateStatus(checks),
      body: {AggregatedStatus: aggregateStatus(checks), Service: renderService(service, dc), Checks: checks.map((c) => renderCheck(c, local.state, node))},
    }
  }
  const answer = (ctx: RequestContext, code: number, reason: string, json: unknown) => {
    ctx.res.setHeader('X-Consul-Reason', headerValue(reason))
    if (wantsText(ctx)) sendBody(ctx.req, ctx.res, code, reason, 'text/plain')
    else sendJson(ctx.req, ctx.res, json, ctx.query.pretty, code)
  }
  return [
    {path: '/v1/agent/health/service/name/', methods: {GET: (ctx) => {
      const name = ctx.tail
      if (name === '') throw badRequest('Missing service Name')
      const found = local.state.services().filter((s) => s.def.Service === name).map(health)
      if (found.length === 0) {
        answer(ctx, 404, `ServiceName ${name} Not Found`, [])
        return
      }
      // Worst over all instances: maintenance > critical > warning > passing.
      const order = ['passing', 'warning', 'critical', 'maintenance'] as const
      const worst = found.reduce((w, f) => (order.indexOf(f.status) > order.indexOf(w) ? f.status : w), 'passing' as (typeof order)[number])
      answer(ctx, codeOf[worst], worst, found.map((f) => f.body))
    }}},
    {path: '/v1/agent/health/service/id/', methods: {GET: (ctx) => {
      const id = ctx.tail
      if (id === '') throw badRequest('Missing serviceID')
      const service = local.state.service(id)
      if (!service) {
        answer(ctx, 404, `ServiceId ${id} not found`, {AggregatedStatus: 'critical', Service: null, Checks: null})
        return
      }
      const found = health(service)
      answer(ctx, codeOf[found.status], found.status, found.body)
    }}},
    {path: '/v1/agent/maintenance', exact: true, methods: {PUT: (ctx) => {
      const enable = parseEnable(ctx)
      local.setNodeMaintenance(enable, ctx.params.get('reason') ?? '')
      agent.log.info(enable ? 'Node entered maintenance mode' : 'Node left maintenance mode')
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/service/maintenance/', methods: {PUT: (ctx) => {
      const id = ctx.tail
      if (id === '') throw badRequest('Missing service ID')
      const enable = parseEnable(ctx)
      translating(() => local.setServiceMaintenance(id, enable, ctx.params.get('reason') ?? ''))
      agent.log.info(enable ? 'Service entered maintenance mode' : 'Service left maintenance mode', {service: id})
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/reload', exact: true, methods: {PUT: async (ctx) => {
      try {
        await agent.reload()
      } catch (error) {
        throw new HttpError(500, (error as Error).message, 'RELOAD_FAILED')
      }
      sendText(ctx.req, ctx.res, 200, '')
    }}},
  ]
}
