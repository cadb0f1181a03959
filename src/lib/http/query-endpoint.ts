// /v1/query — prepared queries (Consul's agent/prepared_query_endpoint.go over its PreparedQuery
// RPCs): create and list, read/update/delete one by ID, execute and explain by ID or name.
//
// Execute runs where the request lands (a client forwards it to a server; `?dc=` sends it to a
// server of that datacenter): the query is resolved (templates rendered for the name asked), run
// over the local health entries (query-execute.ts filters), shuffled, sorted by `?near=` or the
// query's Near, cut to `?limit=`; with no instance left it fails over: each candidate datacenter
// (query-execute.ts failoverDatacenters) is asked for the service's health entries through
// `forwardToDatacenter`, the same filters applied, until one has some. `Failovers` counts the
// datacenters tried, as Consul's queryFailover.
//
// ACLs (Consul's agent/consul/prepared_query_endpoint.go): a query's ACL prefix is its Name (or a
// template's name prefix); a query with neither is managed by whoever holds its ID. Writing needs
// query:write on the new and on the existing prefix; reading one (get, explain) query:read on its
// prefix, listing keeps those the token may read; only an ACL-management token sees a query's Token
// (else "<hidden>"). Execute reads the service's instances with the query's Token when it has one,
// else the caller's, and keeps those whose node and service that token may read.
import {randomUUID} from 'node:crypto'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest, methodNotAllowed, notFound} from '../errors.js'
import {parseJsonBody} from './decode.js'
import {consistentRead, readMode} from './read.js'
import {sendJson, sendText, setQueryMeta} from './respond.js'
import {buildEntries} from './health-endpoint.js'
import {knownDatacenters} from './datacenters.js'
import {failoverDatacenters, selectEntries, shuffle, type HealthEntry} from './query-execute.js'
import {sortByDistanceFrom} from '../coordinate/order.js'
import {effectiveSecret, FILTERED_BY_ACLS, permissionDenied, resolveToken, type ResolvedToken} from './acl-authorize.js'
import {REDACTED} from './acl-endpoint.js'
import {decodePreparedQuery, PreparedQueryError, validatePreparedQuery, compileTemplate, type PreparedQuery, type PreparedQueryDef} from '../state/prepared-query.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type QueryDeps = AgentDeps<'config' | 'consensus' | 'coordinates' | 'forwardToDatacenter' | 'log' | 'now' | 'state' | 'wanMembers' | 'aclTokens'>

/** Consul's PreparedQuery.GetACLPrefix: the name (a template's name prefix), or none for an unnamed query. */
function aclPrefix(q: Pick<PreparedQueryDef, 'Name' | 'Template'>): string | undefined {
  return q.Name !== '' || q.Template.Type !== '' ? q.Name : undefined
}

/** query:write on the query's prefix, when it has one (Consul's PreparedQueryWriteAllowed). */
function requireQueryWrite(agent: QueryDeps, ctx: RequestContext, q: Pick<PreparedQueryDef, 'Name' | 'Template'>): void {
  const prefix = aclPrefix(q)
  if (!agent.config.acl.enabled || prefix === undefined) return
  const who = ctx.authorize()
  if (!who.authorizer.allowed('query', prefix, 'write')) throw permissionDenied(who.accessorId, 'query', 'write', prefix)
}

/** Whether the token may see this query (Consul's filterPreparedQueries): management all; else query:read on a prefix. */
function mayReadQuery(who: ResolvedToken, q: PreparedQuery): boolean {
  if (who.authorizer.allowedScalar('acl', 'write')) return true
  const prefix = aclPrefix(q)
  return prefix !== undefined && who.authorizer.allowed('query', prefix, 'read')
}

/** The query as this caller may see it: its Token only for ACL management (Consul's redactPreparedQueryTokens). */
function visibleQuery(agent: QueryDeps, who: ResolvedToken | undefined, q: PreparedQuery): PreparedQuery {
  if (!agent.config.acl.enabled || q.Token === '' || who?.authorizer.allowedScalar('acl', 'write')) return q
  return {...q, Token: REDACTED}
}

/** Get and explain: an unnamed query is readable by whoever has its ID; a named one needs query:read. */
function readOne(agent: QueryDeps, ctx: RequestContext, q: PreparedQuery): PreparedQuery {
  if (!agent.config.acl.enabled) return q
  const who = ctx.authorize()
  const prefix = aclPrefix(q)
  if (prefix !== undefined && !mayReadQuery(who, q)) throw permissionDenied(who.accessorId, 'query', 'read', prefix)
  return visibleQuery(agent, who, q)
}


const BODY_LIMIT = 512 * 1024
/** Consul's ErrQueryNotFound text (the HTTP layer matches on it for 404). */
const QUERY_NOT_FOUND = 'Query not found'

export function queryRoutes(agent: QueryDeps): Route[] {
  return [
    {path: '/v1/query', exact: true, methods: {
      GET: (ctx) => listQueries(agent, ctx),
      POST: (ctx) => createQuery(agent, ctx),
    }},
    {path: '/v1/query/', methods: {
      GET: (ctx) => {
        const [id, action] = splitTail(ctx.tail)
        if (action === 'execute') return executeQuery(agent, ctx, id)
        if (action === 'explain') return explainQuery(agent, ctx, id)
        return getQuery(agent, ctx, id)
      },
      PUT: (ctx) => updateQuery(agent, ctx, onlyId(ctx, 'PUT')),
      DELETE: (ctx) => deleteQuery(agent, ctx, onlyId(ctx, 'DELETE')),
    }},
  ]
}

function splitTail(tail: string): [string, string] {
  for (const action of ['execute', 'explain']) if (tail.endsWith(`/${action}`)) return [tail.slice(0, -action.length - 1), action]
  return [tail, '']
}

function onlyId(ctx: RequestContext, method: string): string {
  const [id, action] = splitTail(ctx.tail)
  if (action !== '') throw methodNotAllowed(method, ['GET'])
  return id
}

/** Decode + Consul's parseQuery + the template compile its state store runs: every definition error is a 400 before Raft. */
async function readDefinition(ctx: RequestContext, optional: boolean): Promise<PreparedQueryDef> {
  const body = await ctx.body(BODY_LIMIT)
  try {
    return decodePreparedQuery(optional && body.length === 0 ? {} : parseJsonBody(body, 'body'))
  } catch (err) {
    if (err instanceof PreparedQueryError) throw badRequest(err.message)
    throw err
  }
}

function checkDefinition(agent: QueryDeps, def: PreparedQueryDef): void {
  try {
    validatePreparedQuery(def)
  } catch (err) {
    if (err instanceof PreparedQueryError) throw badRequest(err.message)
    throw err
  }
  // Consul accepts a failover datacenter it has never heard of and skips it at every execution, so a
  // typo silently disables failover. coord refuses it when the query is written.
  const known = new Set(knownDatacenters(agent).map((dc) => dc.toLowerCase()))
  const named = [...def.Service.Failover.Datacenters, ...def.Service.Failover.Targets.map((t) => t.Datacenter).filter((dc) => dc !== '')]
  const unknown = named.find((dc) => !known.has(dc.toLowerCase()))
  if (unknown !== undefined) throw badRequest(`Invalid prepared query: failover datacenter "${unknown}" is not a known datacenter (known: ${[...known].join(', ')})`)
  if (def.Template.Type !== '') {
    try {
      compileTemplate(def)
    } catch (err) {
      throw badRequest(`failed compiling template: ${(err as Error).message}`)
    }
  }
}

async function apply(agent: QueryDeps, def: PreparedQueryDef): Promise<void> {
  const {result} = await agent.consensus.propose({type: 'prepared-query-set', now: agent.now(), query: def})
  if (result.type !== 'prepared-query-set') throw new Error(`unexpected apply result ${result.type}`)
  // The state store's integrity rules (name taken, session missing): the definition's fault.
  if (result.error !== undefined) throw badRequest(result.error)
}

async function createQuery(agent: QueryDeps, ctx: RequestContext): Promise<void> {
  const def = await readDefinition(ctx, false)
  if (def.ID !== '') throw badRequest('ID must be empty when creating a new prepared query')
  requireQueryWrite(agent, ctx, def)
  checkDefinition(agent, def)
  // The ID is chosen before Raft (apply stays deterministic), as Consul's Apply does.
  let id = randomUUID()
  while (agent.state.preparedQuery(id).value !== undefined) id = randomUUID()
  await apply(agent, {...def, ID: id})
  sendJson(ctx.req, ctx.res, {ID: id}, ctx.query.pretty)
}

function requireExisting(agent: QueryDeps, id: string): void {
  if (id === '' || agent.state.preparedQuery(id).value === undefined) throw notFound(`Cannot modify non-existent prepared query: '${id}'`)
}

async function updateQuery(agent: QueryDeps, ctx: RequestContext, id: string): Promise<void> {
  const def = await readDefinition(ctx, true)
  requireExisting(agent, id)
  requireQueryWrite(agent, ctx, def)
  requireQueryWrite(agent, ctx, agent.state.preparedQuery(id).value!)
  // The ID comes from the URL, not the body (Consul's preparedQueryUpdate).
  const withId = {...def, ID: id}
  checkDefinition(agent, withId)
  await apply(agent, withId)
  sendText(ctx.req, ctx.res, 200, '')
}

async function deleteQuery(agent: QueryDeps, ctx: RequestContext, id: string): Promise<void> {
  requireExisting(agent, id)
  requireQueryWrite(agent, ctx, agent.state.preparedQuery(id).value!)
  await agent.consensus.propose({type: 'prepared-query-delete', now: agent.now(), id})
  sendText(ctx.req, ctx.res, 200, '')
}

const watchQueries = (agent: QueryDeps) => (wake: () => void) => agent.state.watches.watchTable('prepared-queries', wake)

async function listQueries(agent: QueryDeps, ctx: RequestContext): Promise<void> {
  const result = await consistentRead(agent, ctx, () => {
    const all = agent.state.preparedQueries()
    if (!agent.config.acl.enabled) return all
    // Inside the read: a blocking list re-resolves the token each time it wakes.
    const who = ctx.authorize()
    const kept = all.value.filter((q) => mayReadQuery(who, q)).map((q) => visibleQuery(agent, who, q))
    if (kept.length !== all.value.length) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
    return {...all, value: kept}
  }, watchQueries(agent))
  if (result) sendJson(ctx.req, ctx.res, result.value.map(renderQuery), ctx.query.pretty)
}

async function getQuery(agent: QueryDeps, ctx: RequestContext, id: string): Promise<void> {
  const result = await consistentRead(agent, ctx, () => agent.state.preparedQuery(id), watchQueries(agent))
  if (!result) return
  if (result.value === undefined) throw notFound(QUERY_NOT_FOUND)
  sendJson(ctx.req, ctx.res, [renderQuery(readOne(agent, ctx, result.value))], ctx.query.pretty)
}

/** Consul's JSON field order (structs.PreparedQuery). */
function renderQuery(q: PreparedQuery): Record<string, unknown> {
  return {
    ID: q.ID, Name: q.Name, Session: q.Session, Token: q.Token,
    Template: q.Template,
    Service: {...q.Service, Failover: {...q.Service.Failover, Datacenters: q.Service.Failover.Datacenters, Targets: q.Service.Failover.Targets.length > 0 ? q.Service.Failover.Targets : null}},
    DNS: q.DNS,
    CreateIndex: q.CreateIndex, ModifyIndex: q.ModifyIndex,
  }
}

async function resolve(agent: QueryDeps, ctx: RequestContext, idOrName: string): Promise<{index: number; query: PreparedQuery}> {
  await agent.consensus.readBarrier(readMode(ctx.query), ctx.query.maxStaleMs)
  const {index, value} = agent.state.resolvePreparedQuery(idOrName)
  if (value === undefined) throw notFound(QUERY_NOT_FOUND)
  if ('error' in value) throw badRequest(value.error)
  return {index, query: value.query}
}

async function explainQuery(agent: QueryDeps, ctx: RequestContext, idOrName: string): Promise<void> {
  parseLimit(ctx)
  const {index, query} = await resolve(agent, ctx, idOrName)
  setQueryMeta(ctx.res, {index, knownLeader: agent.consensus.knownLeader(), lastContactMs: agent.consensus.lastContactMs()})
  sendJson(ctx.req, ctx.res, {Query: renderQuery(readOne(agent, ctx, query))}, ctx.query.pretty)
}

function parseLimit(ctx: RequestContext): number {
  const raw = ctx.params.get('limit')
  if (raw === null || raw === '') return 0
  if (!/^[-+]?\d+$/.test(raw)) throw badRequest(`Bad limit: strconv.Atoi: parsing ${JSON.stringify(raw)}: invalid syntax`)
  return Number(raw)
}

async function executeQuery(agent: QueryDeps, ctx: RequestContext, idOrName: string): Promise<void> {
  const limit = parseLimit(ctx)
  if (ctx.params.has('connect')) throw badRequest('connect=true cannot be used: coord has no service mesh (no Connect-capable instances exist)')
  const {index, query} = await resolve(agent, ctx, idOrName)
  const service = query.Service
  const local = agent.config.datacenter
  // The instances are read with the query's token when it has one, else the caller's (Consul's Execute).
  const secret = agent.config.acl.enabled ? (query.Token !== '' ? query.Token : effectiveSecret(agent, ctx.identity)) : ''
  const readable = agent.config.acl.enabled ? readableEntries(resolveToken(agent, {token: secret, source: 'header'}), service.Service) : (entries: HealthEntry[]) => entries
  let nodes = shuffle(selectEntries(readable(buildEntries(agent, service.Service, {tags: [], meta: [], passing: false, filter: () => true}) as unknown as HealthEntry[]), service), Math.random)
  // ?near= wins over the query's Near; `_agent` is the agent that ran the request.
  let near = ctx.params.get('near') || service.Near
  if (near === '_agent') near = agent.config.nodeName
  if (near !== '' && near !== '_ip') nodes = sortByDistanceFrom(near, nodes, (e) => e.Node.Node, (node) => agent.state.coordinates.get(node))
  if (limit > 0) nodes = nodes.slice(0, limit)
  let datacenter = local
  let failovers = 0
  if (nodes.length === 0 && agent.forwardToDatacenter !== undefined) {
    const others = knownDatacenters(agent).filter((dc) => dc !== local)
    for (const dc of failoverDatacenters(service.Failover, others)) {
      failovers++
      const remote = await remoteEntries(agent, ctx, dc, service.Service, secret)
      if (remote === undefined) continue
      nodes = shuffle(selectEntries(readable(remote), service), Math.random)
      if (limit > 0) nodes = nodes.slice(0, limit)
      if (nodes.length > 0) {
        datacenter = dc
        break
      }
    }
  }
  setQueryMeta(ctx.res, {index, knownLeader: agent.consensus.knownLeader(), lastContactMs: agent.consensus.lastContactMs()})
  sendJson(ctx.req, ctx.res, {Service: service.Service, Nodes: nodes, DNS: query.DNS, Datacenter: datacenter, Failovers: failovers}, ctx.query.pretty)
}

/** The service's health entries in datacenter `dc`; undefined when it could not be asked (logged, as Consul's). */
async function remoteEntries(agent: QueryDeps, ctx: RequestContext, dc: string, service: string, secret: string): Promise<HealthEntry[] | undefined> {
  const url = `/v1/health/service/${encodeURIComponent(service)}${ctx.query.stale ? '?stale' : ''}`
  try {
    const answer = await agent.forwardToDatacenter!(dc, {method: 'GET', url, headers: secret !== '' ? {'x-consul-token': secret} : {}, body: new Uint8Array(0)}, ctx.closed)
    if (answer.status !== 200) throw new Error(`${answer.status} ${Buffer.from(answer.body).toString('utf8').slice(0, 200)}`)
    const parsed = JSON.parse(Buffer.from(answer.body).toString('utf8')) as unknown
    return Array.isArray(parsed) ? parsed as HealthEntry[] : []
  } catch (err) {
    agent.log.warn('Failed querying for service in datacenter', {service, datacenter: dc, error: (err as Error).message})
    return undefined
  }
}

/** Instances whose node and service the token may read (Consul's filterCheckServiceNodes). */
function readableEntries(who: ResolvedToken, service: string): (entries: HealthEntry[]) => HealthEntry[] {
  const serviceReadable = who.authorizer.allowed('service', service, 'read')
  return (entries) => serviceReadable ? entries.filter((e) => who.authorizer.allowed('node', e.Node.Node, 'read')) : []
}
