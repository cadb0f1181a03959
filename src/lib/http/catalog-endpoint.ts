// /v1/catalog/* (Consul docs: api-docs/catalog, api-docs/health): registrations go through consensus as `catalog-register` /
// `catalog-deregister`; reads come from the state machine with Consul's indexes, so
// blocking queries wake on exactly what they read (a /v1/catalog/service/web read parks on the
// `service:web` watch, not on every service).
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {HttpError, badRequest} from '../errors.js'
import {bodyDatacenter} from '../forward/request-route.js'
import {parseJsonBody} from './decode.js'
import {consistentRead} from './read.js'
import {sendBody, sendJson, toJson, type Chunks} from './respond.js'
import {AnswerCache} from './answer-cache.js'
import {knownDatacenters} from './datacenters.js'
import {filterParam, hasTags, matchesNodeMeta, nearSource, nodeMetaParam, nearCacheKey, requireName, sortNear, watchTables} from './catalog-query.js'
import {NODE_SCHEMA, NODE_SERVICE_SCHEMA, SERVICE_NODE_SCHEMA, renderNode, renderNodeService, renderServiceNode} from './catalog-render.js'
import {CatalogRequestError, parseDeregisterRequest, parseRegisterRequest} from '../state/catalog-request.js'
import type {Command} from '../state/types.js'
import {FILTERED_BY_ACLS, filterReadable} from './acl-authorize.js'
import {deregisterNeeds, registerNeeds, requireNeeds} from './catalog-acl.js'
import {KeptValues, joinJsonArray, keptJson, warmInSlices} from './kept-json.js'
import {FRAGMENT_MIN_INSTANCES} from './health-fragments.js'
import type {CatalogNode, CatalogService} from '../state/types.js'
import {ServiceList, ServiceLists, serviceRows, type ListKind} from './service-list.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type CatalogDeps = AgentDeps<'config' | 'consensus' | 'now' | 'state'>


/**
 * Each node's and each large service's instances' JSON, kept while the records stand (kept-json.ts):
 * groups 'nodes' and 'service:<name>', 8 MiB of JSON in all. A node's JSON is a function of its
 * record; an instance's of its record and its node's record.
 */
const MAX_KEPT_JSON_BYTES = 8 * 1024 * 1024
const keptRecords = new KeptValues<CatalogNode | CatalogService, {companion: object | null; json: Buffer}>(MAX_KEPT_JSON_BYTES)

/** Lists at least this long are joined from kept per-record JSON (a short one is cheap to build). */
const JOIN_MIN_RECORDS = FRAGMENT_MIN_INSTANCES

/** An instance row of /v1/catalog/service/:name: the instance and its node's record. */
interface InstanceRow {
  service: CatalogService
  node: CatalogNode | undefined
}

/** Instances as a kept list (service-list.ts). */
export const INSTANCE_LIST: ListKind<InstanceRow> = {
  ...serviceRows<InstanceRow>(),
  rowsOn: (catalog, node, name) => {
    const record = catalog.node(node)
    return catalog.nodeInstances(node, name).map((service) => ({service, node: record}))
  },
  allRows: (catalog, name) => catalog.instances(name).map((service) => ({service, node: catalog.node(service.node)})),
  same: (a, b) => a.service === b.service && a.node === b.node,
  render: (row) => renderServiceNode(row.service, row.node),
}

/**
 * Nodes as a kept list (service-list.ts): one row per node, its record; the list follows the nodes
 * table's index and change log (the service name is unused).
 */
export const NODE_LIST: ListKind<CatalogNode> = {
  rowsOn: (catalog, node) => {
    const record = catalog.node(node)
    return record === undefined ? [] : [record]
  },
  allRows: (catalog) => catalog.nodes(),
  nodeOf: (row) => row.node,
  index: (catalog) => catalog.nodesIndex,
  changesSince: (catalog, _name, index) => catalog.nodeChangesSince(index),
  same: (a, b) => a === b,
  render: renderNode,
}

/** The plain /v1/catalog/nodes answer (one: its JSON is about 400 bytes a node). */
const nodeList = new ServiceList('', NODE_LIST)

/** The plain /v1/catalog/service answers of the large services read most recently, 8 MiB of JSON in all. */
const instanceLists = new ServiceLists(INSTANCE_LIST, MAX_KEPT_JSON_BYTES)

/** consul.catalog.register / deregister, made once (no series lookup per request). */
const catalogRegister = metrics.timer(['catalog', 'register'])
const catalogDeregister = metrics.timer(['catalog', 'deregister'])
const REGISTER_BODY_LIMIT = 512 * 1024

export function catalogRoutes(agent: CatalogDeps): Route[] {
  const register = (ctx: RequestContext) => write(agent, ctx, (body) => ({type: 'catalog-register', now: agent.now(), request: {...parseRegisterRequest(body), Datacenter: agent.config.datacenter}}))
  const deregister = (ctx: RequestContext) => write(agent, ctx, (body) => ({type: 'catalog-deregister', now: agent.now(), request: {...parseDeregisterRequest(body), Datacenter: agent.config.datacenter}}))
  const cache = new AnswerCache()
  return [
    {path: '/v1/catalog/register', exact: true, methods: {PUT: register, POST: register}},
    {path: '/v1/catalog/deregister', exact: true, methods: {PUT: deregister, POST: deregister}},
    {path: '/v1/catalog/datacenters', exact: true, methods: {GET: (ctx) => sendJson(ctx.req, ctx.res, knownDatacenters(agent), ctx.query.pretty)}},
    {path: '/v1/catalog/nodes', exact: true, methods: {GET: (ctx) => listNodes(agent, ctx, cache)}},
    {path: '/v1/catalog/services', exact: true, methods: {GET: (ctx) => listServices(agent, ctx)}},
    {path: '/v1/catalog/service/', methods: {GET: (ctx) => serviceNodes(agent, ctx, cache)}},
    {path: '/v1/catalog/node/', methods: {GET: (ctx) => nodeServices(agent, ctx, 'map')}},
    {path: '/v1/catalog/node-services/', methods: {GET: (ctx) => nodeServices(agent, ctx, 'list')}},
  ]
}

async function write(agent: CatalogDeps, ctx: RequestContext, build: (body: unknown) => Command): Promise<void> {
  const raw = await ctx.body(REGISTER_BODY_LIMIT)
  const body = raw.length === 0 ? {} : parseJsonBody(raw)
  // The body's Datacenter defaults to this agent's; another one is where the write runs (Consul's
  // RPC forwards on it), checked there against that datacenter's rules.
  const elsewhere = bodyDatacenter(body, ctx.params.get('dc') ?? '', agent.config.datacenter)
  if (elsewhere !== undefined) return ctx.forwardToDatacenter(elsewhere, raw)
  let command: Command
  try {
    command = build(body)
  } catch (err) {
    if (!(err instanceof CatalogRequestError)) throw err
    // Consul decodes the body in the HTTP layer (400) and checks the rules in the RPC (500).
    if (err.kind === 'decode') throw badRequest(err.message)
    throw new HttpError(500, err.message, 'CATALOG_INVALID')
  }
  if (agent.config.acl.enabled) {
    const needs = command.type === 'catalog-register' ? registerNeeds(command.request, agent.state.catalog)
      : command.type === 'catalog-deregister' ? deregisterNeeds(command.request, agent.state.catalog) : []
    requireNeeds(ctx.authorize(), needs)
  }
  const start = performance.now()
  const {result} = await agent.consensus.propose(command)
  const timer = command.type === 'catalog-register' ? catalogRegister : catalogDeregister
  timer.measureSince(start)
  if (result.type === 'catalog-register' && result.error !== undefined) throw new HttpError(500, result.error, 'CATALOG_REJECTED')
  sendJson(ctx.req, ctx.res, true, ctx.query.pretty)
}

async function listNodes(agent: CatalogDeps, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const filter = filterParam(ctx, NODE_SCHEMA)
  const meta = nodeMetaParam(ctx)
  // Without ?filter (which works on the rendered objects) or ?pretty a long list is joined from
  // each node's kept JSON: a change renders the changed node again, not every node.
  const joinable = ctx.params.get('filter') === null && !ctx.query.pretty
  let filtered = false
  // Every node, as any token sees it: a kept list brought up to date by the nodes that changed
  // (service-list.ts, catalog.ts nodeChangesSince), its new rows rendered in slices before the read.
  const plain = joinable && meta.length === 0 && nearSource(agent, ctx) === null && !agent.config.acl.enabled
  const listed = (): boolean => plain && agent.state.catalog.nodeCount() >= JOIN_MIN_RECORDS
  if (listed()) {
    nodeList.sync(agent.state.catalog)
    await nodeList.renderInSlices()
  } else if (joinable && agent.state.catalog.nodeCount() >= JOIN_MIN_RECORDS) {
    // Nodes not kept yet are rendered in slices first (kept-json.ts warmInSlices): the read then joins.
    await warmInSlices(keptRecords, 'nodes', agent.state.catalogIndex('nodes'), () => agent.state.catalog.nodes(), (n) => keptJson(keptRecords, 'nodes', n, null, () => renderNode(n)))
  }
  const render = (): string | Buffer | Chunks => {
    if (listed()) {
      nodeList.sync(agent.state.catalog)
      return nodeList.body()
    }
    const readable = filterReadable(agent.config.acl.enabled, ctx, agent.state.catalog.nodes(), 'node', (n) => n.node)
    filtered = readable.filtered
    const nodes = readable.value.filter((n) => matchesNodeMeta(n.meta, meta))
    if (joinable && nodes.length >= JOIN_MIN_RECORDS) {
      return joinJsonArray(sortNear(agent, ctx, nodes, (n) => n.node).map((n) => keptJson(keptRecords, 'nodes', n, null, () => renderNode(n))))
    }
    const value = nodes.map(renderNode).filter(filter)
    return toJson(sortNear(agent, ctx, value, (n) => n.Node as string), ctx.query.pretty)
  }
  const result = await consistentRead(agent, ctx, () => {
    const index = agent.state.catalogIndex('nodes')
    // Rendered once per nodes index (the answer changes only with the nodes table; ?near also
    // with the coordinates); with ACLs on the answer depends on the token: never cached.
    if (agent.config.acl.enabled) return {index, value: render()}
    const key = JSON.stringify(['nodes', meta, ctx.params.get('filter'), nearCacheKey(agent, ctx), ctx.query.pretty])
    return {index, value: cache.get(key, index, render)}
  }, watchTables(agent, 'nodes'))
  if (!result) return
  if (filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

async function listServices(agent: CatalogDeps, ctx: RequestContext): Promise<void> {
  const filter = filterParam(ctx, SERVICE_NODE_SCHEMA)
  const meta = nodeMetaParam(ctx)
  let filtered = false
  // Without ?filter or ?node-meta the answer comes from the catalog's per-service tag summary,
  // kept up to date on every write: O(services + tags), not O(instances).
  const plain = meta.length === 0 && (ctx.params.get('filter') ?? '').trim() === ''
  const result = await consistentRead(agent, ctx, () => {
    const catalog = agent.state.catalog
    if (plain) {
      const summary = catalog.serviceTagSummary()
      const authz = agent.config.acl.enabled ? ctx.authorize().authorizer : undefined
      const out: Record<string, string[]> = {}
      filtered = false
      for (const name of [...summary.keys()].sort()) {
        // With ACLs on, only services the token may read (Consul's filterServices).
        if (authz !== undefined && !authz.allowed('service', name, 'read')) {
          filtered = true
          continue
        }
        out[name] = [...summary.get(name)!.keys()].sort()
      }
      return {index: agent.state.catalogIndex('services'), value: out}
    }
    const tags = new Map<string, Set<string>>()
    // With ACLs on, only services the token may read (Consul's filterServices), re-checked on every wake.
    const readable = filterReadable(agent.config.acl.enabled, ctx, catalog.allServices(), 'service', (s) => s.service)
    filtered = readable.filtered
    for (const service of readable.value) {
      const node = catalog.node(service.node)
      if (!matchesNodeMeta(node?.meta, meta)) continue
      if (!filter(renderServiceNode(service, node))) continue
      const set = tags.get(service.service) ?? new Set<string>()
      tags.set(service.service, set)
      for (const tag of service.tags) set.add(tag)
    }
    const out: Record<string, string[]> = {}
    for (const name of [...tags.keys()].sort()) out[name] = [...tags.get(name)!].sort()
    return {index: meta.length > 0 ? agent.state.catalogIndex('nodes', 'services') : agent.state.catalogIndex('services'), value: out}
  }, meta.length > 0 ? watchTables(agent, 'nodes', 'services') : watchTables(agent, 'services'))
  if (!result) return
  if (filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  sendJson(ctx.req, ctx.res, result.value, ctx.query.pretty)
}

async function serviceNodes(agent: CatalogDeps, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const name = requireName(ctx, 'service')
  const filter = filterParam(ctx, SERVICE_NODE_SCHEMA)
  const meta = nodeMetaParam(ctx)
  const tags = ctx.params.getAll('tag')
  // As /v1/catalog/nodes: a large service's answer is joined from each instance's kept JSON.
  const joinable = ctx.params.get('filter') === null && !ctx.query.pretty
  let filtered = false
  const group = `service:${name}`
  // The whole list, as any token sees it: a kept list brought up to date by what changed (service-list.ts).
  const plain = joinable && tags.length === 0 && meta.length === 0 && nearSource(agent, ctx) === null && !agent.config.acl.enabled
  const listed = (): boolean => plain && agent.state.catalog.instanceCount(name) >= JOIN_MIN_RECORDS
  if (listed()) {
    await instanceLists.warm(name, agent.state.catalog)
  } else if (joinable && agent.state.catalog.instanceCount(name) >= JOIN_MIN_RECORDS) {
    const catalog = agent.state.catalog
    await warmInSlices(keptRecords, group, catalog.serviceIndex(name), () => catalog.instances(name), (s) => {
      const node = catalog.node(s.node)
      if (node !== undefined) keptJson(keptRecords, group, s, node, () => renderServiceNode(s, node))
    })
  }
  const render = (): string | Buffer | Chunks => {
    if (listed()) {
      return instanceLists.body(name, agent.state.catalog)
    }
    const catalog = agent.state.catalog
    // With ACLs on, Consul's filterServiceNodes: node:read on each instance's node and service:read on the service.
    const readable = agent.config.acl.enabled ? (() => {
      const authz = ctx.authorize().authorizer
      const all = catalog.instances(name)
      const kept = all.filter((s) => authz.allowed('node', s.node, 'read') && authz.allowed('service', name, 'read'))
      filtered = kept.length !== all.length
      return kept
    })() : catalog.instances(name)
    const rows = readable
      .filter((s) => hasTags(s.tags, tags))
      .map((s) => ({s, node: catalog.node(s.node)}))
      .filter(({node}) => matchesNodeMeta(node?.meta, meta))
    if (joinable && rows.length >= JOIN_MIN_RECORDS) {
      return joinJsonArray(sortNear(agent, ctx, rows, (r) => r.s.node).map(({s, node}) => node === undefined
        ? Buffer.from(JSON.stringify(renderServiceNode(s, node)))
        : keptJson(keptRecords, group, s, node, () => renderServiceNode(s, node))))
    }
    const value = rows.map(({s, node}) => renderServiceNode(s, node)).filter(filter)
    return toJson(sortNear(agent, ctx, value, (s) => s.Node as string), ctx.query.pretty)
  }
  const result = await consistentRead(agent, ctx, () => {
    const index = agent.state.serviceIndex(name)
    // With ?near the order also depends on the coordinates, which move without the service index.
    // With ACLs on the answer depends on the token: built for this request (re-checked on every wake), never cached.
    if (agent.config.acl.enabled) return {index, value: render()}
    const key = JSON.stringify(['catalog', name, tags, meta, ctx.params.get('filter'), nearCacheKey(agent, ctx), ctx.query.pretty])
    return {index, value: cache.get(key, index, render)}
  }, watchTables(agent, `service:${name}`))
  if (!result) return
  if (filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

async function nodeServices(agent: CatalogDeps, ctx: RequestContext, shape: 'map' | 'list'): Promise<void> {
  const name = requireName(ctx, 'node')
  const filter = filterParam(ctx, NODE_SERVICE_SCHEMA)
  let filtered = false
  const result = await consistentRead(agent, ctx, () => {
    const catalog = agent.state.catalog
    const node = catalog.node(name)
    const index = agent.state.catalogIndex('nodes', 'services')
    if (node === undefined) return {index, value: null}
    // With ACLs on, Consul's filterNodeServices: no node:read, no node (null); services need service:read.
    let own = catalog.nodeServices(name)
    if (agent.config.acl.enabled) {
      const authz = ctx.authorize().authorizer
      if (!authz.allowed('node', name, 'read')) {
        filtered = true
        return {index, value: null}
      }
      const kept = own.filter((s) => authz.allowed('service', s.service, 'read'))
      filtered = kept.length !== own.length
      own = kept
    }
    const services = own.map(renderNodeService).filter(filter)
    const value = shape === 'list'
      ? {Node: renderNode(node), Services: services}
      : {Node: renderNode(node), Services: Object.fromEntries(services.map((s) => [s.ID as string, s]))}
    return {index, value}
  }, watchTables(agent, 'nodes', 'services'))
  if (!result) return
  if (filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  sendJson(ctx.req, ctx.res, result.value, ctx.query.pretty)
}
