// /v1/agent/service*, /v1/agent/check*, /v1/agent/services, /v1/agent/checks (Consul docs: api-docs/agent/service):
// the agent's own services and checks. They answer from the local registry, never from Raft:
// they work with no leader, as Consul's do.
import type {AgentDeps, RequestContext, Route} from './context.js'
import {sendJson, sendText} from './respond.js'
import {badRequest} from '../errors.js'
import {parseJsonBody} from './decode.js'
import {flag} from './query.js'
import type {CheckStatus} from '../agent/definitions.js'
import {lookup, parseCheckDefinition, parseServiceDefinition} from '../agent/definitions.js'
import {FILTERED_BY_ACLS, filterReadable, requireSegment} from './acl-authorize.js'
import {contentHash, renderCheck, renderService, translating} from './agent-local-render.js'
import {filterParam} from './catalog-query.js'
import {CHECK_SCHEMA, NODE_SERVICE_SCHEMA} from './catalog-render.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type AgentLocalDeps = AgentDeps<'config' | 'local'>


const BODY_LIMIT = 1024 * 1024
const statuses = new Set(['passing', 'warning', 'critical'])

async function jsonBody(ctx: RequestContext): Promise<unknown> {
  const body = await ctx.body(BODY_LIMIT)
  if (body.length === 0) throw badRequest('Request decode failed: empty body')
  try {
    return parseJsonBody(body)
  } catch {
    throw badRequest(`Request decode failed: ${body.length > 0 ? 'invalid JSON' : 'empty body'}`)
  }
}

function requireId(tail: string, what: string): string {
  if (tail === '') throw badRequest(`Missing ${what} ID`)
  return tail
}

/** Parks until the local registry changes or `waitMs` passes (hash-based blocking on /v1/agent/service/:id). */
function waitForLocalChange(agent: AgentLocalDeps, ctx: RequestContext, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
    const timer = setTimeout(done, waitMs + Math.random() * waitMs / 16)
    const unsubscribe = agent.local.state.onChange(done)
    void ctx.closed.then(done)
  })
}

export function agentLocalRoutes(agent: AgentLocalDeps): Route[] {
  const local = agent.local
  const dc = agent.config.datacenter
  const node = agent.config.nodeName
  const ttl = (status: CheckStatus) => (ctx: RequestContext) => {
    translating(() => local.updateTtl(requireId(ctx.tail, 'check'), status, ctx.params.get('note') ?? ''))
    sendText(ctx.req, ctx.res, 200, '')
  }
  return [
    {path: '/v1/agent/services', exact: true, methods: {GET: (ctx) => {
      const filter = filterParam(ctx, {fields: {...NODE_SERVICE_SCHEMA.fields, Datacenter: 'string'}})
      const out: Record<string, unknown> = {}
      // With ACLs on, only services the token may read (Consul's filterServicesWithAuthorizer).
      const readable = filterReadable(agent.config.acl.enabled, ctx, local.state.services(), 'service', (s) => s.def.Service)
      if (readable.filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
      for (const service of readable.value) {
        const rendered = renderService(service, dc)
        if (filter(rendered)) out[service.def.ID] = rendered
      }
      sendJson(ctx.req, ctx.res, out, ctx.query.pretty)
    }}},
    {path: '/v1/agent/service/register', exact: true, methods: {PUT: async (ctx) => {
      const body = await jsonBody(ctx)
      // Consul: service:write on the service registered (a malformed body is the parser's 400, from registerService).
      if (agent.config.acl.enabled) {
        let name: string | undefined
        try {
          name = parseServiceDefinition(body).service.Service
        } catch {
          name = undefined
        }
        if (name !== undefined) requireSegment(ctx.authorize(), 'service', name, 'write')
      }
      translating(() => local.registerService(body, flag(ctx.params, 'replace-existing-checks')))
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/service/deregister/', methods: {PUT: (ctx) => {
      translating(() => local.deregisterService(requireId(ctx.tail, 'service')))
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/service/', methods: {GET: async (ctx) => {
      const id = requireId(ctx.tail, 'service')
      const render = () => {
        const service = local.state.service(id)
        if (!service) return undefined
        const rendered = renderService(service, dc)
        return {...rendered, ContentHash: contentHash(rendered)}
      }
      let current = render()
      const hash = ctx.params.get('hash')
      // Hash-based blocking (Consul's ?hash=): wait while the service still has that hash.
      if (hash && current && current.ContentHash === hash) {
        const deadline = Date.now() + ctx.query.waitMs
        for (let i = 0; i < 1000 && current && current.ContentHash === hash && Date.now() < deadline; i++) {
          await waitForLocalChange(agent, ctx, deadline - Date.now())
          current = render()
        }
      }
      if (!current) {
        sendText(ctx.req, ctx.res, 404, `unknown service ID: ${id}`)
        return
      }
      ctx.res.setHeader('X-Consul-ContentHash', String(current.ContentHash))
      sendJson(ctx.req, ctx.res, current, ctx.query.pretty)
    }}},
    {path: '/v1/agent/checks', exact: true, methods: {GET: (ctx) => {
      const filter = filterParam(ctx, CHECK_SCHEMA)
      const out: Record<string, unknown> = {}
      // With ACLs on, only checks the token may read: node:read for node checks, service:read for service checks.
      const authz = agent.config.acl.enabled ? ctx.authorize().authorizer : undefined
      const every = local.state.checks()
      const readable = every.filter((c) => {
        if (!authz) return true
        if (c.def.ServiceID === '') return authz.allowed('node', node, 'read')
        const name = local.state.service(c.def.ServiceID)?.def.Service
        return name !== undefined && authz.allowed('service', name, 'read')
      })
      if (readable.length !== every.length) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
      for (const check of readable) {
        const rendered = renderCheck(check, local.state, node)
        if (filter(rendered)) out[check.def.CheckID] = rendered
      }
      sendJson(ctx.req, ctx.res, out, ctx.query.pretty)
    }}},
    {path: '/v1/agent/check/register', exact: true, methods: {PUT: async (ctx) => {
      const body = await jsonBody(ctx)
      // Consul: a service check needs service:write on its service, a node check node:write on this node.
      if (agent.config.acl.enabled) {
        let serviceId: string | undefined
        try {
          serviceId = parseCheckDefinition(body).ServiceID
        } catch {
          serviceId = undefined
        }
        if (serviceId !== undefined) {
          const service = serviceId === '' ? undefined : local.state.service(serviceId)
          requireSegment(ctx.authorize(), service ? 'service' : 'node', service ? service.def.Service : node, 'write')
        }
      }
      translating(() => local.registerCheck(body))
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/check/deregister/', methods: {PUT: (ctx) => {
      translating(() => local.deregisterCheck(requireId(ctx.tail, 'check')))
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/check/pass/', methods: {PUT: ttl('passing')}},
    {path: '/v1/agent/check/warn/', methods: {PUT: ttl('warning')}},
    {path: '/v1/agent/check/fail/', methods: {PUT: ttl('critical')}},
    {path: '/v1/agent/check/update/', methods: {PUT: async (ctx) => {
      const id = requireId(ctx.tail, 'check')
      const body = await jsonBody(ctx)
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Request decode failed: expected {"Status", "Output"}')
      const status = lookup(body as Record<string, unknown>, 'Status')
      const output = lookup(body as Record<string, unknown>, 'Output') ?? ''
      if (typeof status !== 'string' || !statuses.has(status)) throw badRequest(`Invalid check status: '${String(status ?? '')}'`)
      if (typeof output !== 'string') throw badRequest('Request decode failed: Output must be a string')
      translating(() => local.updateTtl(id, status as CheckStatus, output))
      sendText(ctx.req, ctx.res, 200, '')
    }}},
  ]
}
