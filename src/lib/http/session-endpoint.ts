// /v1/session/* — sessions (Consul docs: api-docs/session). Creation and destruction go through consensus; renew
// re-arms the leader's TTL timer and (coord) records the renewal in the log as `session-renew`, which
// moves no table index (CreateIndex/ModifyIndex never move).
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'
import {randomUUID} from 'node:crypto'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest, notFound} from '../errors.js'
import {field, isObject, parseJsonBody, stringField, stringListField, type JsonObject} from './decode.js'
import {consistentRead} from './read.js'
import {renderSession} from './render.js'
import {sendJson} from './respond.js'
import {formatDuration, parseDuration} from '../duration.js'
import type {Session, SessionBehavior} from '../state/types.js'
import {FILTERED_BY_ACLS, filterReadable, requireSegment} from './acl-authorize.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type SessionDeps = AgentDeps<'config' | 'consensus' | 'log' | 'now' | 'renewSession' | 'sessionTimers' | 'state'>


/** consul.session.apply, made once (no series lookup per request). */
const sessionApply = metrics.timer(['session', 'apply'])
const MAX_TTL_MS = 24 * 3_600_000
const DEFAULT_LOCK_DELAY_MS = 15_000
const MAX_LOCK_DELAY_MS = 60_000
const CREATE_BODY_LIMIT = 64 * 1024

export function sessionRoutes(agent: SessionDeps): Route[] {
  const create = (ctx: RequestContext) => createSession(agent, ctx)
  const destroy = (ctx: RequestContext) => destroySession(agent, ctx)
  const renew = (ctx: RequestContext) => renewSession(agent, ctx)
  return [
    {path: '/v1/session/create', exact: true, methods: {PUT: create, POST: create}},
    {path: '/v1/session/destroy/', methods: {PUT: destroy, POST: destroy}},
    {path: '/v1/session/renew/', methods: {PUT: renew, POST: renew}},
    {path: '/v1/session/info/', methods: {GET: (ctx) => readSessions(agent, ctx, () => {
      const result = agent.state.sessionGet(requireId(ctx.tail))
      return {index: result.index, value: result.value ? [result.value] : []}
    })}},
    {path: '/v1/session/node/', methods: {GET: (ctx) => {
      if (ctx.tail === '') throw badRequest('Missing node name')
      return readSessions(agent, ctx, () => agent.state.sessionsForNode(ctx.tail))
    }}},
    {path: '/v1/session/list', exact: true, methods: {GET: (ctx) => readSessions(agent, ctx, () => {
      // With ACLs on, only sessions on nodes the token may read sessions of (Consul's filterSessions).
      const all = agent.state.sessionList()
      const readable = filterReadable(agent.config.acl.enabled, ctx, all.value, 'session', (s) => s.node)
      // A blocking read reads again on every wake: the header says what the last read did.
      if (readable.filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
      else ctx.res.removeHeader(FILTERED_BY_ACLS)
      return {index: all.index, value: readable.value}
    })}},
  ]
}

function requireId(id: string): string {
  if (id === '') throw badRequest('Missing session')
  return id
}

async function readSessions(agent: SessionDeps, ctx: RequestContext, read: () => {index: number; value: Session[]}): Promise<void> {
  const result = await consistentRead(agent, ctx, read, (wake) => agent.state.watches.watchTable('sessions', wake))
  if (result) sendJson(ctx.req, ctx.res, result.value.map(renderSession), ctx.query.pretty)
}

/**
 * LockDelay as Consul reads it: a duration string, or a number that means seconds below 1000 and
 * nanoseconds from 1000 up (values below 1000ns are also taken as seconds).
 */
export function parseLockDelay(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_LOCK_DELAY_MS
  let ms: number
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw badRequest(`Invalid LockDelay: ${value}`)
    ms = value < 1000 ? value * 1000 : value / 1_000_000
  } else if (typeof value === 'string') {
    try {
      ms = parseDuration(value)
    } catch {
      throw badRequest(`Invalid LockDelay "${value}": expected a duration such as "15s"`)
    }
    if (ms < 0) throw badRequest(`Invalid LockDelay "${value}": must not be negative`)
    if (ms > 0 && ms < 1e-3) ms = ms * 1e6 * 1000
  } else {
    throw badRequest('Invalid LockDelay: expected a duration string or a number')
  }
  return Math.min(ms, MAX_LOCK_DELAY_MS)
}

function parseTtl(agent: SessionDeps, ttl: string): string {
  if (ttl === '') return ''
  let ms: number
  try {
    ms = parseDuration(ttl)
  } catch (error) {
    throw badRequest(`Session TTL '${ttl}' invalid: ${(error as Error).message}`)
  }
  if (ms === 0) return ''
  const min = agent.config.sessionTtlMinMs
  if (ms < min || ms > MAX_TTL_MS) {
    throw badRequest(`Invalid Session TTL '${Math.round(ms * 1e6)}', must be between [${formatDuration(min)}=${formatDuration(MAX_TTL_MS)}]`)
  }
  return ttl
}

async function createSession(agent: SessionDeps, ctx: RequestContext): Promise<void> {
  const body = await ctx.body(CREATE_BODY_LIMIT)
  let input: JsonObject = {}
  if (body.length > 0) {
    const parsed = parseJsonBody(body, 'session body')
    if (parsed !== null && !isObject(parsed)) throw badRequest('Request decode failed: the session body must be a JSON object')
    input = (parsed as JsonObject | null) ?? {}
  }
  const behavior = stringField(input, 'Behavior', 'release') || 'release'
  if (behavior !== 'release' && behavior !== 'delete') throw badRequest(`Invalid Behavior setting '${behavior}'`)
  // Supplying Checks (even []) replaces the default serfHealth binding; NodeChecks is the newer spelling.
  const nodeChecks = stringListField(input, 'NodeChecks') ?? stringListField(input, 'Checks') ?? ['serfHealth']
  const serviceChecksValue = field(input, 'ServiceChecks')
  const serviceChecks = Array.isArray(serviceChecksValue)
    ? serviceChecksValue.map((check) => {
      if (!isObject(check)) throw badRequest('Request decode failed: ServiceChecks entries must be objects')
      return {id: stringField(check, 'ID'), namespace: stringField(check, 'Namespace')}
    })
    : []
  const session: Omit<Session, 'createIndex' | 'modifyIndex'> = {
    id: randomUUID(),
    name: stringField(input, 'Name'),
    node: stringField(input, 'Node') || agent.config.nodeName,
    nodeChecks,
    serviceChecks,
    lockDelayMs: parseLockDelay(field(input, 'LockDelay')),
    behavior: behavior as SessionBehavior,
    ttl: parseTtl(agent, stringField(input, 'TTL')),
  }
  // Consul's Session.Apply: session:write on the node the session is for.
  if (agent.config.acl.enabled) requireSegment(ctx.authorize(), 'session', session.node, 'write')
  const start = performance.now()
  const {result} = await agent.consensus.propose({type: 'session-create', now: agent.now(), session})
  sessionApply.measureSince(start)
  if (result.type !== 'session-create') throw new Error(`unexpected apply result ${result.type}`)
  if (result.error || !result.id) throw badRequest(result.error ?? 'session was not created')
  // The TTL timer lives on the leader (renewals go there): arm it there, not on this agent. A
  // follower arming its own timer would destroy the session after TTL × 2 however often it is renewed.
  if (session.ttl) {
    await agent.renewSession(result.id).catch((error: Error) => agent.log.warn('could not arm the session TTL timer on the leader', {session: result.id, error: error.message}))
  }
  sendJson(ctx.req, ctx.res, {ID: result.id}, ctx.query.pretty)
}

async function destroySession(agent: SessionDeps, ctx: RequestContext): Promise<void> {
  const id = requireId(ctx.tail)
  const start = performance.now()
  await agent.consensus.propose({type: 'session-destroy', now: agent.now(), id})
  sessionApply.measureSince(start)
  agent.sessionTimers.clear(id)
  sendJson(ctx.req, ctx.res, true, ctx.query.pretty)
}

async function renewSession(agent: SessionDeps, ctx: RequestContext): Promise<void> {
  const id = requireId(ctx.tail)
  const now = agent.now()
  const session = await agent.renewSession(id)
  if (!session) throw notFound(`Session id '${id}' not found`)
  // coord: the renewal is also written to the log (a lock-delay then counts from it: sessions.ts),
  // and answered only once applied, so a holder may date its proof from the moment it sent this.
  if (session.lockDelayMs > 0) {
    // Applying a renewal twice is applying it once: held and retried through an election.
    const {result} = await agent.consensus.propose({type: 'session-renew', now, id}, {idempotent: true})
    if (result.type === 'session-renew' && !result.found) throw notFound(`Session id '${id}' not found`)
  }
  sendJson(ctx.req, ctx.res, [renderSession(session)], ctx.query.pretty)
}
