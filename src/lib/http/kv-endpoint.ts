// /v1/kv/:key — Consul's KV API (Consul docs: api-docs/kv).
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest} from '../errors.js'
import {flag} from './query.js'
import {consistentRead} from './read.js'
import {renderKV} from './render.js'
import {sendBody, sendJson, sendText} from './respond.js'
import type {KVOp} from '../state/types.js'
import {FILTERED_BY_ACLS as FILTERED_HEADER, permissionDenied} from './acl-authorize.js'

/** consul.kvs.apply, timed on every KV write. */
const kvsApply = metrics.timer(['kvs', 'apply'])

/** What this endpoint family uses of the agent, and nothing more. */
export type KvDeps = AgentDeps<'config' | 'consensus' | 'now' | 'state'>

const UINT64_MAX = (1n << 64n) - 1n

export function parseUint64(text: string, name: string): bigint {
  if (!/^\d+$/.test(text) || BigInt(text) > UINT64_MAX) throw badRequest(`Invalid ${name}: "${text}" is not an unsigned 64-bit integer`)
  return BigInt(text)
}

export function kvRoutes(agent: KvDeps): Route[] {
  return [{
    path: '/v1/kv/',
    methods: {
      GET: (ctx) => getKV(agent, ctx),
      PUT: (ctx) => putKV(agent, ctx),
      POST: (ctx) => putKV(agent, ctx),
      DELETE: (ctx) => deleteKV(agent, ctx),
    },
  }, {
    // `/v1/kv` without the slash: only meaningful with ?recurse/?keys on the root.
    path: '/v1/kv', exact: true,
    methods: {GET: (ctx) => getKV(agent, ctx), DELETE: (ctx) => deleteKV(agent, ctx)},
  }]
}

async function getKV(agent: KvDeps, ctx: RequestContext): Promise<void> {
  const {params, tail: key, req, res, query} = ctx
  const {state} = agent
  if (flag(params, 'keys')) {
    const separator = params.get('separator') ?? params.get('seperator') ?? ''
    let filtered = false
    // With ACLs on, each wake re-resolves the token (a deleted one stops seeing keys) and keeps only what it may read.
    const read = () => {
      const all = state.kvKeys(key, separator)
      if (!agent.config.acl.enabled) return all
      const authz = ctx.authorize().authorizer
      const value = all.value.filter((k) => authz.allowed('key', k, 'read'))
      filtered = value.length !== all.value.length
      return {index: all.index, value}
    }
    const result = await consistentRead(agent, ctx, read, (wake) => state.watches.watchPrefix(key, wake))
    if (!result) return
    if (filtered) res.setHeader(FILTERED_HEADER, 'true')
    if (result.value.length === 0 && key !== '') return sendText(req, res, 404, '')
    return sendJson(req, res, result.value, query.pretty)
  }
  if (flag(params, 'recurse')) {
    let filtered = false
    const read = () => {
      const all = state.kvList(key)
      if (!agent.config.acl.enabled) return all
      const authz = ctx.authorize().authorizer
      const value = all.value.filter((entry) => authz.allowed('key', entry.key, 'read'))
      filtered = value.length !== all.value.length
      return {index: all.index, value}
    }
    const result = await consistentRead(agent, ctx, read, (wake) => state.watches.watchPrefix(key, wake))
    if (!result) return
    if (filtered) res.setHeader(FILTERED_HEADER, 'true')
    if (result.value.length === 0) return sendText(req, res, 404, '')
    return sendJson(req, res, result.value.map((entry) => renderKV(entry)), query.pretty)
  }
  if (key === '') throw badRequest('Missing key name')
  const read = () => {
    // The route checked key:read before the handler; a blocking read checks again on every wake.
    if (agent.config.acl.enabled) {
      const who = ctx.authorize()
      if (!who.authorizer.allowed('key', key, 'read')) throw permissionDenied(who.accessorId, 'key', 'read', key)
    }
    return state.kvGet(key)
  }
  const result = await consistentRead(agent, ctx, read, (wake) => state.watches.watchKey(key, wake))
  if (!result) return
  const entry = result.value
  if (!entry) return sendText(req, res, 404, '')
  if (flag(params, 'raw')) {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Content-Security-Policy', 'sandbox')
    return sendBody(req, res, 200, Buffer.from(entry.value), 'text/plain')
  }
  return sendJson(req, res, [renderKV(entry)], query.pretty)
}

/** Any two of cas/acquire/release conflict (Consul echoes the raw query). */
function conflicting(ctx: RequestContext, names: string[]): void {
  if (names.filter((name) => ctx.params.has(name)).length > 1) {
    throw badRequest(`Conflicting flags: ${ctx.params.toString()}`)
  }
}

async function putKV(agent: KvDeps, ctx: RequestContext): Promise<void> {
  const {params, tail: key} = ctx
  if (key === '') throw badRequest('Missing key name')
  conflicting(ctx, ['cas', 'acquire', 'release'])
  const flags = params.has('flags') ? parseUint64(params.get('flags') ?? '', 'flags') : 0n
  const limit = agent.config.kvMaxValueSize
  const value = await ctx.body(limit, (n) => `Request body(${n} bytes) too large, max size: ${limit} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`)
  const op: KVOp = {verb: 'set', key, value: new Uint8Array(value), flags}
  if (params.has('cas')) {
    op.verb = 'cas'
    op.index = Number(parseUint64(params.get('cas') ?? '', 'cas'))
  } else if (params.has('acquire')) {
    op.verb = 'lock'
    op.session = requireSession(params.get('acquire'), 'acquire')
  } else if (params.has('release')) {
    op.verb = 'unlock'
    op.session = requireSession(params.get('release'), 'release')
  }
  await applyKV(agent, ctx, op)
}

function requireSession(value: string | null, name: string): string {
  if (!value) throw badRequest(`Missing session for ?${name}`)
  return value
}

async function deleteKV(agent: KvDeps, ctx: RequestContext): Promise<void> {
  const {params, tail: key} = ctx
  const recurse = flag(params, 'recurse')
  conflicting(ctx, ['cas', 'recurse'])
  if (key === '' && !recurse) throw badRequest('Missing key name')
  if (recurse && agent.config.acl.enabled) {
    // Deleting a tree needs write on the prefix and on every rule under it (Consul's KeyWritePrefix).
    const who = ctx.authorize()
    if (!who.authorizer.keyWritePrefix(key)) throw permissionDenied(who.accessorId, 'key', 'write', key)
  }
  const op: KVOp = {verb: recurse ? 'delete-tree' : 'delete', key}
  if (params.has('cas')) {
    op.verb = 'delete-cas'
    op.index = Number(parseUint64(params.get('cas') ?? '', 'cas'))
  }
  await applyKV(agent, ctx, op)
}

async function applyKV(agent: KvDeps, ctx: RequestContext, op: KVOp): Promise<void> {
  const start = performance.now()
  const {result} = await agent.consensus.propose({type: 'kv', now: agent.now(), op})
  kvsApply.measureSince(start)
  if (result.type !== 'kv') throw new Error(`unexpected apply result ${result.type}`)
  // Consul answers an acquire with an unknown session with 500; it is the client's mistake: 400.
  if (result.error) throw badRequest(result.error)
  sendJson(ctx.req, ctx.res, result.ok, ctx.query.pretty)
}
