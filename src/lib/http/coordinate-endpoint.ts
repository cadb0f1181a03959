// /v1/coordinate/* (Consul's coordinate_endpoint.go): the servers' WAN coordinates by datacenter
// (from this server's WAN pool), the LAN coordinates the agents sent (the state's coordinates
// table, blocking on it), and the update agents send (queued in this server's batcher). With
// disable_coordinates every route answers 401 "Coordinate support disabled", as Consul does.
import {FILTERED_BY_ACLS, filterReadable, requireSegment} from './acl-authorize.js'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {HttpError, badRequest} from '../errors.js'
import {parseJsonBody} from './decode.js'
import {consistentRead} from './read.js'
import {sendJson, sendText} from './respond.js'
import {watchTables} from './catalog-query.js'
import {wanServers} from './datacenters.js'
import {bodyDatacenter} from '../forward/request-route.js'
import {CoordinateError} from '../coordinate/coordinate.js'
import type {CoordinateEntry} from '../state/coordinates.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type CoordinateDeps = AgentDeps<'config' | 'consensus' | 'coordinates' | 'state'>


const UPDATE_BODY_LIMIT = 64 * 1024

export function coordinateRoutes(agent: CoordinateDeps): Route[] {
  const guard = (handler: (ctx: RequestContext) => Promise<void> | void) => (ctx: RequestContext) => {
    if (agent.config.coordinates.disabled) return sendText(ctx.req, ctx.res, 401, 'Coordinate support disabled')
    return handler(ctx)
  }
  return [
    {path: '/v1/coordinate/datacenters', exact: true, methods: {GET: guard((ctx) => datacenters(agent, ctx))}},
    {path: '/v1/coordinate/nodes', exact: true, methods: {GET: guard((ctx) => nodes(agent, ctx))}},
    {path: '/v1/coordinate/node/', methods: {GET: guard((ctx) => node(agent, ctx))}},
    {path: '/v1/coordinate/update', exact: true, methods: {PUT: guard((ctx) => update(agent, ctx))}},
  ]
}

/** Every known datacenter (this one always, as Consul's answer never lacks it), sorted by name. */
function datacenters(agent: CoordinateDeps, ctx: RequestContext): void {
  const byDc = new Map<string, Array<{Node: string; Coord: unknown}>>()
  byDc.set(agent.config.datacenter, [])
  for (const s of wanServers(agent)) {
    const list = byDc.get(s.datacenter) ?? []
    if (s.coordinate) list.push({Node: s.node, Coord: s.coordinate})
    byDc.set(s.datacenter, list)
  }
  const maps = [...byDc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([dc, coords]) => ({
    Datacenter: dc, AreaID: 'wan', Coordinates: coords.sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0)),
  }))
  sendJson(ctx.req, ctx.res, maps, ctx.query.pretty)
}

/** `?segment=` keeps only that segment's coordinates ('' is the default segment). */
function render(ctx: RequestContext, entries: CoordinateEntry[]): Array<{Node: string; Segment: string; Coord: unknown}> {
  const segment = ctx.params.get('segment')
  return entries.filter((e) => segment === null || e.segment === segment).map((e) => ({Node: e.node, Segment: e.segment, Coord: e.coord}))
}

async function nodes(agent: CoordinateDeps, ctx: RequestContext): Promise<void> {
  let filtered = false
  const result = await consistentRead(agent, ctx, () => {
    // With ACLs on, only nodes the token may read (Consul's filterCoordinates), re-checked on every wake.
    const readable = filterReadable(agent.config.acl.enabled, ctx, agent.state.coordinates.list(), 'node', (c) => c.node)
    filtered = readable.filtered
    return {index: agent.state.coordinatesIndex(), value: readable.value}
  }, watchTables(agent, 'coordinates'))
  if (!result) return
  if (filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  sendJson(ctx.req, ctx.res, render(ctx, result.value), ctx.query.pretty)
}

async function node(agent: CoordinateDeps, ctx: RequestContext): Promise<void> {
  const name = ctx.tail
  const result = await consistentRead(agent, ctx, () => ({index: agent.state.coordinatesIndex(), value: agent.state.coordinates.forNode(name)}), watchTables(agent, 'coordinates'))
  if (!result) return
  const entries = render(ctx, result.value)
  if (entries.length === 0) return sendText(ctx.req, ctx.res, 404, '')
  sendJson(ctx.req, ctx.res, entries, ctx.query.pretty)
}

async function update(agent: CoordinateDeps, ctx: RequestContext): Promise<void> {
  const raw = await ctx.body(UPDATE_BODY_LIMIT)
  const body = parseJsonBody(raw)
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Request decode failed: body must be a JSON object')
  // An update naming another datacenter in its body is that datacenter's (Consul's parseDC keeps it).
  const elsewhere = bodyDatacenter(body, ctx.params.get('dc') ?? '', agent.config.datacenter)
  if (elsewhere !== undefined) return ctx.forwardToDatacenter(elsewhere, raw)
  if (agent.config.acl.enabled) {
    // Consul's Coordinate.Update: node:write on the node the update is for.
    const node = (body as Record<string, unknown>).Node
    requireSegment(ctx.authorize(), 'node', typeof node === 'string' ? node : '', 'write')
  }
  const batcher = agent.coordinates?.batcher
  if (!batcher) throw new HttpError(500, 'coordinate updates are taken by servers only', 'NOT_A_SERVER')
  try {
    batcher.enqueue(body as Record<string, unknown>)
  } catch (error) {
    if (error instanceof CoordinateError) throw badRequest(error.message)
    throw error
  }
  sendText(ctx.req, ctx.res, 200, '')
}
