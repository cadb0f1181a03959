// /v1/health/* (Consul docs: api-docs/catalog, api-docs/health): checks by node, by service and by state, and service instances
// with their node and checks. Never 404: unknown names answer []. A blocking
// /v1/health/service/web parks on `service:web`, which moves when an instance of web, one of its
// checks, its node or a node check of its node changes — not when another service changes.
import {FILTERED_BY_ACLS} from './acl-authorize.js'
import type {Authorizer} from '../acl/authorizer.js'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest} from '../errors.js'
import {consistentRead} from './read.js'
import {flag} from './query.js'
import {sendBody, sendJson, toJson, type Chunks} from './respond.js'
import {AnswerCache} from './answer-cache.js'
import {filterParam, hasTags, matchesNodeMeta, nearSource, nodeMetaParam, nearCacheKey, requireName, sortNear, watchTables} from './catalog-query.js'
import {CHECK_SCHEMA, SERVICE_ENTRY_SCHEMA, renderCheck} from './catalog-render.js'
import {FRAGMENT_MIN_INSTANCES, entryChecks, healthEntry, joinFragments, warmEntries, type HealthRow} from './health-fragments.js'
import type {NodeCheck} from '../state/types.js'
import type {Catalog} from '../state/catalog.js'
import {ServiceLists, serviceRows, type ListKind} from './service-list.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type HealthDeps = AgentDeps<'config' | 'consensus' | 'state'>


const STATES: ReadonlySet<string> = new Set(['any', 'passing', 'warning', 'critical'])

function healthRowsOn(catalog: Catalog, node: string, name: string): HealthRow[] {
  const record = catalog.node(node)
  if (record === undefined) return []
  return catalog.nodeInstances(node, name).map((service) => ({service, node: record, checks: catalog.instanceChecks(node, service.id)}))
}

/** Health entries as a kept list (service-list.ts): a row is the instance, its node and its checks. */
export const HEALTH_LIST: ListKind<HealthRow> = {
  ...serviceRows<HealthRow>(),
  rowsOn: healthRowsOn,
  allRows: (catalog, name) => {
    const rows: HealthRow[] = []
    for (const service of catalog.instances(name)) {
      const node = catalog.node(service.node)
      if (node !== undefined) rows.push({service, node, checks: catalog.instanceChecks(service.node, service.id)})
    }
    return rows
  },
  same: (a, b) => a.service === b.service && a.node === b.node && a.checks.length === b.checks.length && a.checks.every((c, i) => c === b.checks[i]),
  render: healthEntry,
}

/** The plain health answers of the large services read most recently, 16 MiB of JSON in all. */
const healthLists = new ServiceLists(HEALTH_LIST, 16 * 1024 * 1024)

export function healthRoutes(agent: HealthDeps): Route[] {
  const cache = new AnswerCache()
  return [
    {path: '/v1/health/node/', methods: {GET: (ctx) => nodeHealth(agent, ctx)}},
    {path: '/v1/health/checks/', methods: {GET: (ctx) => serviceChecks(agent, ctx)}},
    {path: '/v1/health/service/', methods: {GET: (ctx) => serviceHealth(agent, ctx, cache)}},
    {path: '/v1/health/state/', methods: {GET: (ctx) => checksInState(agent, ctx)}},
  ]
}

function sendChecks(agent: HealthDeps, ctx: RequestContext, checks: Array<Record<string, unknown>>): void {
  sendJson(ctx.req, ctx.res, sortNear(agent, ctx, checks, (c) => c.Node as string), ctx.query.pretty)
}

/**
 * With ACLs on, the checks the token may read (Consul's filterHealthChecks): node:read on the check's
 * node and, for a service check, service:read on its service. Called inside the read function, so a
 * blocking read re-checks the token on every wake; `filtered` says whether any check was left out.
 */
function readableChecks(agent: HealthDeps, ctx: RequestContext, checks: NodeCheck[], seen: {filtered: boolean}): NodeCheck[] {
  if (!agent.config.acl.enabled) return checks
  const authz = ctx.authorize().authorizer
  const kept = checks.filter((c) => authz.allowed('node', c.node, 'read') && (c.serviceId === '' || authz.allowed('service', c.serviceName, 'read')))
  seen.filtered = kept.length !== checks.length
  return kept
}

function markFiltered(ctx: RequestContext, seen: {filtered: boolean}): void {
  if (seen.filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
}

async function nodeHealth(agent: HealthDeps, ctx: RequestContext): Promise<void> {
  const name = requireName(ctx, 'node')
  const filter = filterParam(ctx, CHECK_SCHEMA)
  const seen = {filtered: false}
  const result = await consistentRead(agent, ctx, () => ({
    index: agent.state.catalogIndex('checks'),
    value: readableChecks(agent, ctx, agent.state.catalog.checks(name), seen).map(renderCheck).filter(filter),
  }), watchTables(agent, 'checks'))
  if (!result) return
  markFiltered(ctx, seen)
  sendJson(ctx.req, ctx.res, result.value, ctx.query.pretty)
}

async function serviceChecks(agent: HealthDeps, ctx: RequestContext): Promise<void> {
  const name = requireName(ctx, 'service')
  const filter = filterParam(ctx, CHECK_SCHEMA)
  const meta = nodeMetaParam(ctx)
  const seen = {filtered: false}
  const result = await consistentRead(agent, ctx, () => {
    const catalog = agent.state.catalog
    const value = readableChecks(agent, ctx, catalog.serviceChecks(name), seen)
      .filter((c) => matchesNodeMeta(catalog.node(c.node)?.meta, meta))
      .map(renderCheck)
      .filter(filter)
    return {index: agent.state.serviceIndex(name), value}
  }, watchTables(agent, `service:${name}`))
  if (!result) return
  markFiltered(ctx, seen)
  sendChecks(agent, ctx, result.value)
}

async function checksInState(agent: HealthDeps, ctx: RequestContext): Promise<void> {
  const state = ctx.tail
  if (!STATES.has(state)) throw badRequest('Invalid check state')
  const filter = filterParam(ctx, CHECK_SCHEMA)
  const meta = nodeMetaParam(ctx)
  const seen = {filtered: false}
  const result = await consistentRead(agent, ctx, () => {
    const catalog = agent.state.catalog
    const value = readableChecks(agent, ctx, catalog.allChecks(), seen)
      .filter((c) => state === 'any' || c.status === state)
      .filter((c) => matchesNodeMeta(catalog.node(c.node)?.meta, meta))
      .map(renderCheck)
      .filter(filter)
    return {index: agent.state.catalogIndex('checks'), value}
  }, watchTables(agent, 'checks'))
  if (!result) return
  markFiltered(ctx, seen)
  sendChecks(agent, ctx, result.value)
}

async function serviceHealth(agent: HealthDeps, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const name = requireName(ctx, 'service')
  const filter = filterParam(ctx, SERVICE_ENTRY_SCHEMA)
  const meta = nodeMetaParam(ctx)
  const tags = ctx.params.getAll('tag')
  const passing = flag(ctx.params, 'passing')
  // Without ?filter (which works on the entry objects) or ?pretty the answer is joined from
  // per-instance JSON fragments (health-fragments.ts) kept for large services.
  const joinable = ctx.params.get('filter') === null && !ctx.query.pretty
  // The whole list, as any token sees it: a large service's answer is a kept list brought up to
  // date by what changed (service-list.ts), its new rows rendered in slices before the read.
  const plain = joinable && tags.length === 0 && meta.length === 0 && !passing && nearSource(agent, ctx) === null && !agent.config.acl.enabled
  const listed = (): boolean => plain && agent.state.catalog.instanceCount(name) >= FRAGMENT_MIN_INSTANCES
  const seen = {filtered: false}
  if (listed()) {
    await healthLists.warm(name, agent.state.catalog)
  } else if (joinable) await warmEntries(agent.state.catalog, name)
  const result = await consistentRead(agent, ctx, () => {
    const index = agent.state.serviceIndex(name)
    // With ACLs on the answer depends on the token: built for this request (re-checked on every wake), never cached.
    const authz = agent.config.acl.enabled ? ctx.authorize().authorizer : undefined
    const render = (): string | Buffer | Chunks => {
      if (listed()) {
        return healthLists.body(name, agent.state.catalog)
      }
      const rows = sortNear(agent, ctx, healthRows(agent, name, {tags, meta, passing, authz, seen}), (r) => r.node.node)
      if (joinable && rows.length >= FRAGMENT_MIN_INSTANCES) return joinFragments(rows)
      return toJson(rows.map(healthEntry).filter(filter), ctx.query.pretty)
    }
    if (authz) return {index, value: render()}
    // With ?near the order also depends on the coordinates, which move without the service index.
    const key = JSON.stringify(['health', name, passing, tags, meta, ctx.params.get('filter'), nearCacheKey(agent, ctx), ctx.query.pretty])
    return {index, value: cache.get(key, index, render)}
  }, watchTables(agent, `service:${name}`))
  if (!result) return
  markFiltered(ctx, seen)
  sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

/**
 * The instances of service `name` a health answer shows, each with its node and checks, in Consul's
 * order (node, then service ID): ACLs, ?tag, ?node-meta and ?passing applied.
 */
function healthRows(agent: HealthDeps, name: string, q: {tags: string[]; meta: Array<[string, string]>; passing: boolean; authz?: Authorizer; seen?: {filtered: boolean}}): HealthRow[] {
  const catalog = agent.state.catalog
  const rows: HealthRow[] = []
  const keep = catalog.instanceCount(name) >= FRAGMENT_MIN_INSTANCES
  for (const service of catalog.instances(name)) {
    // Consul's filterCheckServiceNodes: node:read on the instance's node and service:read on the service.
    if (q.authz && !(q.authz.allowed('node', service.node, 'read') && q.authz.allowed('service', name, 'read'))) {
      if (q.seen) q.seen.filtered = true
      continue
    }
    if (!hasTags(service.tags, q.tags)) continue
    const node = catalog.node(service.node)
    if (node === undefined || !matchesNodeMeta(node.meta, q.meta)) continue
    // Node checks first, then this instance's checks, as Consul's CheckServiceNodes.
    const checks = entryChecks(catalog, service, node, keep)
    if (q.passing && checks.some((c) => c.status !== 'passing')) continue
    rows.push({service, node, checks})
  }
  return rows
}

/** Health entries of service `name` (Consul's CheckServiceNodes, rendered); also what prepared queries execute over. */
export function buildEntries(agent: HealthDeps, name: string, q: {tags: string[]; meta: Array<[string, string]>; passing: boolean; filter: (r: unknown) => boolean; authz?: Authorizer; seen?: {filtered: boolean}}): Array<Record<string, unknown>> {
  return healthRows(agent, name, q).map(healthEntry).filter(q.filter)
}
