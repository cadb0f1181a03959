// /v1/event/fire/:name and /v1/event/list (Consul docs: api-docs/event): agent-local, never forwarded.
// The list's blocking is Consul's own (event_endpoint.go), not the Raft-index kind: the index is a
// hash of the newest event's ID, so a request whose ?index equals the current index parks until
// any new event arrives or `wait` passes (no jitter); any other ?index answers at once.
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest} from '../errors.js'
import {MAX_WAIT_MS} from '../duration.js'
import {sendJson} from './respond.js'
import {UserEventError, eventIndex, userEventJson, type UserEvent} from '../events/user-event.js'
import type {UserEvents} from '../agent/user-events.js'
import {FILTERED_BY_ACLS, filterReadable} from './acl-authorize.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type EventDeps = AgentDeps<'userEvents' | 'config'>


/** Bodies beyond this are refused unread (413); the 512-byte event limit then gives 400 below it. */
const FIRE_BODY_LIMIT = 64 * 1024

function userEventsOf(agent: EventDeps): UserEvents {
  if (!agent.userEvents) throw new Error('user events are not available on this agent')
  return agent.userEvents
}

async function fire(agent: EventDeps, ctx: RequestContext): Promise<void> {
  const name = ctx.tail
  if (name === '') throw badRequest('Missing name')
  const body = await ctx.body(FIRE_BODY_LIMIT)
  let event: UserEvent
  try {
    event = userEventsOf(agent).fire({
      name, payload: body.length > 0 ? body : null,
      nodeFilter: ctx.params.get('node') ?? '', serviceFilter: ctx.params.get('service') ?? '', tagFilter: ctx.params.get('tag') ?? '',
    })
  } catch (error) {
    if (error instanceof UserEventError) throw badRequest(error.message)
    throw error
  }
  sendJson(ctx.req, ctx.res, userEventJson(event), ctx.query.pretty)
}

/** The events this agent kept (oldest first, optionally one name) and their index. */
export function readEventList(events: readonly UserEvent[], name: string): {events: UserEvent[]; index: string} {
  const picked = name === '' ? [...events] : events.filter((e) => e.Name === name)
  return {events: picked, index: picked.length === 0 ? '1' : eventIndex(picked[picked.length - 1].ID)}
}

async function list(agent: EventDeps, ctx: RequestContext): Promise<void> {
  const buffer = userEventsOf(agent).buffer
  const name = ctx.params.get('name') ?? ''
  // ?index is a uint64 (parseQueryOptions checked the digits): compare it exactly, as a decimal.
  const rawIndex = ctx.params.get('index') ?? ''
  const minIndex = rawIndex === '' ? '0' : BigInt(rawIndex).toString()
  const waitMs = ctx.params.get('wait') ? ctx.query.waitMs : MAX_WAIT_MS
  let result = readEventList(buffer.list(), name)
  if (minIndex !== '0' && result.index === minIndex) {
    let timer: NodeJS.Timeout | undefined
    let cancel = () => {}
    try {
      const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), waitMs) })
      for (;;) {
        const woken = new Promise<'woken'>((resolve) => { cancel = buffer.onChange(() => resolve('woken')) })
        const why = await Promise.race([woken, timeout, ctx.closed.then(() => 'closed' as const)])
        cancel()
        if (why === 'closed') return
        result = readEventList(buffer.list(), name)
        // A new event of another name leaves a ?name list unchanged: keep waiting, as Consul does.
        if (why === 'timeout' || result.index !== minIndex) break
      }
    } finally {
      cancel()
      clearTimeout(timer)
    }
  }
  ctx.res.setHeader('X-Consul-Index', result.index)
  // With ACLs on, only events the token may read (Consul's filterEvents), checked after any wait.
  const readable = filterReadable(agent.config.acl.enabled, ctx, result.events, 'event', (e) => e.Name)
  if (readable.filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  sendJson(ctx.req, ctx.res, readable.value.map(userEventJson), ctx.query.pretty)
}

export function eventRoutes(agent: EventDeps): Route[] {
  return [
    {path: '/v1/event/fire/', methods: {PUT: (ctx) => fire(agent, ctx)}},
    {path: '/v1/event/list', exact: true, methods: {GET: (ctx) => list(agent, ctx)}},
  ]
}
