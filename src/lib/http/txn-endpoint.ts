// PUT /v1/txn — atomic multi-key transactions (Consul docs: api-docs/txn). Read-only transactions are answered
// from local state without a log entry; anything that writes goes through consensus as one command,
// so all its keys share one index.
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest, tooLarge} from '../errors.js'
import {decodeBase64, field, isObject, parseJsonBodyExact, stringField, uint64Field} from './decode.js'
import {renderKV} from './render.js'
import {sendJson, setQueryMeta} from './respond.js'
import {readMode} from './read.js'
import type {KVOp, KVVerb, TxnResult} from '../state/types.js'
import {FILTERED_BY_ACLS as FILTERED_HEADER, permissionDenied} from './acl-authorize.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type TxnDeps = AgentDeps<'config' | 'consensus' | 'now' | 'state'>


const kvVerbs = new Set<KVVerb>(['set', 'cas', 'lock', 'unlock', 'get', 'get-tree', 'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas'])
const readVerbs = new Set<KVVerb>(['get', 'get-tree', 'check-index', 'check-session', 'check-not-exists'])

export function txnRoutes(agent: TxnDeps): Route[] {
  const handler = (ctx: RequestContext) => txn(agent, ctx)
  return [{path: '/v1/txn', exact: true, methods: {PUT: handler, POST: handler}}]
}

function decodeOps(agent: TxnDeps, body: Buffer): KVOp[] {
  // Exact: Flags (and Index) are uint64 and may exceed 2^53.
  const parsed = parseJsonBodyExact(body)
  if (!Array.isArray(parsed)) throw badRequest('Failed to parse body: a transaction is a JSON array of operations')
  if (parsed.length > agent.config.txnMaxOps) {
    throw tooLarge(`Transaction contains too many operations (${parsed.length} > ${agent.config.txnMaxOps})`)
  }
  return parsed.map((item, i) => {
    if (!isObject(item)) throw badRequest(`Failed to parse body: operation ${i} is not an object`)
    const kv = field(item, 'KV')
    for (const family of ['Node', 'Service', 'Check']) {
      if (field(item, family) !== undefined) throw badRequest(`Operation ${i}: ${family} operations in transactions are not supported yet`)
    }
    if (!isObject(kv)) throw badRequest(`Failed to parse body: operation ${i} has no KV object`)
    const verb = stringField(kv, 'Verb') as KVVerb
    if (!kvVerbs.has(verb)) throw badRequest(`Operation ${i}: unknown KV verb "${verb}"`)
    const key = stringField(kv, 'Key')
    if (key === '' && verb !== 'get-tree' && verb !== 'delete-tree') throw badRequest(`Operation ${i}: missing key name`)
    const valueText = stringField(kv, 'Value')
    const value = decodeBase64(valueText, `operation ${i}`)
    if (value.length > agent.config.kvMaxValueSize) {
      throw tooLarge(`Value for key "${key}" is too large (${value.length} > ${agent.config.kvMaxValueSize} bytes)`)
    }
    return {
      verb, key, value, flags: uint64Field(kv, 'Flags', `Operation ${i}`),
      // Raft indexes stay far below 2^53; a larger CAS index rounds to one no entry has, so it
      // fails the comparison exactly as the exact value would.
      index: Number(uint64Field(kv, 'Index', `Operation ${i}`)), session: stringField(kv, 'Session'),
    }
  })
}

async function txn(agent: TxnDeps, ctx: RequestContext): Promise<void> {
  const limit = agent.config.txnMaxReqLen
  const body = await ctx.body(limit, () => `Request body too large, max size: ${limit} bytes`)
  const ops = decodeOps(agent, body)
  const aclOn = agent.config.acl.enabled
  if (aclOn) {
    // Every operation's key is checked before anything is applied (Consul's txn vetting): a write
    // needs key:write (a tree delete, write on all of it), a read key:read.
    const who = ctx.authorize()
    for (const op of ops) {
      const allowed = op.verb === 'delete-tree' ? who.authorizer.keyWritePrefix(op.key)
        : readVerbs.has(op.verb) ? op.verb === 'get-tree' || who.authorizer.allowed('key', op.key, 'read')
          : who.authorizer.allowed('key', op.key, 'write')
      if (!allowed) throw permissionDenied(who.accessorId, 'key', readVerbs.has(op.verb) ? 'read' : 'write', op.key)
    }
  }
  let outcome: TxnResult
  if (ops.every((op) => readVerbs.has(op.verb))) {
    await agent.consensus.readBarrier(readMode(ctx.query), ctx.query.maxStaleMs)
    outcome = agent.state.kvTxnRead(ops).value
    ctx.res.setHeader('X-Consul-KnownLeader', String(agent.consensus.knownLeader()))
    ctx.res.setHeader('X-Consul-LastContact', String(agent.consensus.lastContactMs()))
  } else {
    const {index, result} = await agent.consensus.propose({type: 'txn', now: agent.now(), ops})
    if (result.type !== 'txn') throw new Error(`unexpected apply result ${result.type}`)
    outcome = result.txn
    setQueryMeta(ctx.res, {index, knownLeader: agent.consensus.knownLeader(), lastContactMs: agent.consensus.lastContactMs()})
  }
  if (aclOn && outcome.results) {
    // get-tree answers only the keys the token may read.
    const authz = ctx.authorize().authorizer
    const kept = outcome.results.filter((entry) => authz.allowed('key', entry.key, 'read'))
    if (kept.length !== outcome.results.length) ctx.res.setHeader(FILTERED_HEADER, 'true')
    outcome = {...outcome, results: kept}
  }
  const failed = outcome.errors !== null && outcome.errors.length > 0
  sendJson(ctx.req, ctx.res, {
    // The state machine already empties values for write verbs, so they render as `Value: null`.
    Results: failed || !outcome.results ? null : outcome.results.map((entry) => ({KV: renderKV(entry)})),
    Errors: failed ? outcome.errors!.map((e) => ({OpIndex: e.opIndex, What: e.what})) : null,
  }, ctx.query.pretty, failed ? 409 : 200)
}
