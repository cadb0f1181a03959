// PUT /v1/txn — atomic transactions of KV, Node, Service, Check and Session operations (Consul's
// agent/txn_endpoint.go). Read-only transactions are answered from local state without a log
// entry; anything that writes goes through consensus as one command, so all its records share one
// index. Errors of the operations themselves come back as Consul's list with 409.
import {metrics} from '../metrics/metrics.js'
import {performance} from 'node:perf_hooks'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest, tooLarge} from '../errors.js'
import {base64Bytes, field, isObject, parseJsonBodyExact, stringField, uint64Field, type JsonObject} from './decode.js'
import {renderKV} from './render.js'
import {renderCheck, renderNode, renderNodeService} from './catalog-render.js'
import {sendJson, setQueryMeta} from './respond.js'
import {readMode} from './read.js'
import {CatalogRequestError, nodeTaggedAddresses, parseCheck, parseService, strMap} from '../state/catalog-request.js'
import {isReadOnlyTxn} from '../state/txn.js'
import {ownValues} from '../state/codec.js'
import {READ_VERBS} from '../state/kv-ops.js'
import type {CatalogVerb, KVVerb, TxnOp, TxnResult, TxnResultEntry} from '../state/types.js'
import {FILTERED_BY_ACLS as FILTERED_HEADER, permissionDenied, requireSegment, type ResolvedToken} from './acl-authorize.js'
import type {Authorizer} from '../acl/authorizer.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type TxnDeps = AgentDeps<'config' | 'consensus' | 'now' | 'state'>


// Timers made once (no series lookup per request), as the KV and HTTP ones.
const txnRead = metrics.timer(['txn', 'read'])
const txnApply = metrics.timer(['txn', 'apply'])

const kvVerbs = new Set<KVVerb>(['set', 'cas', 'lock', 'unlock', 'get', 'get-tree', 'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas'])

export function txnRoutes(agent: TxnDeps): Route[] {
  const handler = (ctx: RequestContext) => txn(agent, ctx)
  return [{path: '/v1/txn', exact: true, methods: {PUT: handler, POST: handler}}]
}

function decodeOps(agent: TxnDeps, body: Buffer): TxnOp[] {
  // Exact: Flags (and Index) are uint64 and may exceed 2^53.
  const parsed = parseJsonBodyExact(body)
  if (!Array.isArray(parsed)) throw badRequest('Failed to parse body: a transaction is a JSON array of operations')
  if (parsed.length > agent.config.txnMaxOps) {
    throw tooLarge(`Transaction contains too many operations (${parsed.length} > ${agent.config.txnMaxOps})`)
  }
  const ops = parsed.map((item, i) => {
    if (!isObject(item)) throw badRequest(`Failed to parse body: operation ${i} is not an object`)
    try {
      return decodeOp(agent, item, i)
    } catch (err) {
      if (err instanceof CatalogRequestError) throw badRequest(`Failed to parse body: operation ${i}: ${err.message.replace(/^Request decode failed: /, '')}`)
      throw err
    }
  })
  // The values were decoded into Node's shared pool; they are copied into one buffer per txn, as a
  // replayed txn's are (an ArrayBuffer per value costs memory and GC work per key).
  ownValues(ops)
  return ops
}

/** Raft indexes stay far below 2^53; a larger CAS index rounds to one no record has, so it fails alike. */
function indexOf(obj: JsonObject, name: string, i: number): number {
  return Number(uint64Field(obj, name, `Operation ${i}`))
}

function sub(obj: JsonObject, name: string, i: number): JsonObject {
  const value = field(obj, name)
  if (value === undefined || value === null) return {}
  if (!isObject(value)) throw badRequest(`Failed to parse body: operation ${i}: ${name} must be an object`)
  return value
}

function catalogVerb(obj: JsonObject): CatalogVerb {
  // Unknown verbs reach the state machine, which answers Consul's "unknown Node verb" per op.
  return stringField(obj, 'Verb') as CatalogVerb
}

function decodeOp(agent: TxnDeps, item: JsonObject, i: number): TxnOp {
  const kinds = ['KV', 'Node', 'Service', 'Check', 'Session'].filter((k) => { const v = field(item, k); return v !== undefined && v !== null })
  if (kinds.length === 0) throw badRequest(`Failed to parse body: operation ${i} has no KV, Node, Service, Check or Session object`)
  if (kinds.length > 1) throw badRequest(`Failed to parse body: operation ${i} has more than one of ${kinds.join(', ')}`)
  const op = sub(item, kinds[0], i)
  switch (kinds[0]) {
    case 'KV': {
      const verb = stringField(op, 'Verb') as KVVerb
      if (!kvVerbs.has(verb)) throw badRequest(`Operation ${i}: unknown KV verb "${verb}"`)
      const key = stringField(op, 'Key')
      if (key === '' && verb !== 'get-tree' && verb !== 'delete-tree') throw badRequest(`Operation ${i}: missing key name`)
      const text = stringField(op, 'Value')
      const value = text === '' ? new Uint8Array(0) : base64Bytes(text, `operation ${i}`)
      if (value.length > agent.config.kvMaxValueSize) {
        throw tooLarge(`Value for key "${key}" is too large (${value.length} > ${agent.config.kvMaxValueSize} bytes)`)
      }
      return {verb, key, value, flags: uint64Field(op, 'Flags', `Operation ${i}`), index: indexOf(op, 'Index', i), session: stringField(op, 'Session')}
    }
    case 'Node': {
      const node = sub(op, 'Node', i)
      return {
        kind: 'node', verb: catalogVerb(op), index: indexOf(node, 'ModifyIndex', i),
        node: {
          id: stringField(node, 'ID'), node: stringField(node, 'Node'), address: stringField(node, 'Address'),
          // As Consul's convertOps: a node without a datacenter is in the agent's.
          datacenter: stringField(node, 'Datacenter') || agent.config.datacenter,
          taggedAddresses: nodeTaggedAddresses(node) ?? {}, meta: strMap(node, 'Meta') ?? {},
        },
      }
    }
    case 'Service': {
      const raw = sub(op, 'Service', i)
      const s = parseService(raw)
      return {
        kind: 'service', verb: catalogVerb(op), index: indexOf(raw, 'ModifyIndex', i),
        service: {
          node: stringField(op, 'Node'), id: s.ID || s.Service, service: s.Service, tags: s.Tags ?? [], address: s.Address ?? '',
          taggedAddresses: s.TaggedAddresses ?? {}, meta: s.Meta ?? {}, port: s.Port ?? 0,
          weights: s.Weights ?? {Passing: 1, Warning: 1}, enableTagOverride: s.EnableTagOverride ?? false, kind: s.Kind ?? '',
        },
      }
    }
    case 'Check': {
      const raw = sub(op, 'Check', i)
      const c = parseCheck(raw)
      return {
        kind: 'check', verb: catalogVerb(op), index: indexOf(raw, 'ModifyIndex', i),
        check: {
          // checkPreApply: the check ID defaults to its name.
          node: c.Node ?? '', checkId: c.CheckID || c.Name || '', name: c.Name ?? '', status: c.Status ?? 'critical',
          notes: c.Notes ?? '', output: c.Output ?? '', serviceId: c.ServiceID ?? '', serviceName: c.ServiceName ?? '',
          serviceTags: c.ServiceTags ?? [], type: c.Type ?? '', interval: c.Interval ?? '', timeout: c.Timeout ?? '',
          definition: c.Definition ?? {},
        },
      }
    }
    default: {
      const session = sub(op, 'Session', i)
      return {kind: 'session', verb: stringField(op, 'Verb'), id: stringField(session, 'ID')}
    }
  }
}

function renderResult(entry: TxnResultEntry): Record<string, unknown> {
  if ('kv' in entry) return {KV: renderKV(entry.kv)}
  if ('node' in entry) return {Node: renderNode(entry.node)}
  if ('service' in entry) return {Service: renderNodeService(entry.service)}
  return {Check: renderCheck(entry.check)}
}

async function txn(agent: TxnDeps, ctx: RequestContext): Promise<void> {
  const limit = agent.config.txnMaxReqLen
  const body = await ctx.body(limit, () => `Request body too large, max size: ${limit} bytes`)
  const ops = decodeOps(agent, body)
  const aclOn = agent.config.acl.enabled
  if (aclOn) {
    // Every operation is checked before anything is applied (Consul's Txn.preCheck): a KV write
    // needs key:write (a tree delete, write on all of it), a read key:read; catalog operations as
    // vetCatalogTxnOp says.
    const who = ctx.authorize()
    for (const op of ops) {
      if (op.kind !== undefined) {
        vetCatalogTxnOp(who, op, (id) => agent.state.sessionGet(id).value?.node)
        continue
      }
      const read = READ_VERBS.has(op.verb)
      const allowed = op.verb === 'delete-tree' ? who.authorizer.keyWritePrefix(op.key)
        : read ? op.verb === 'get-tree' || who.authorizer.allowed('key', op.key, 'read')
          : who.authorizer.allowed('key', op.key, 'write')
      if (!allowed) throw permissionDenied(who.accessorId, 'key', read ? 'read' : 'write', op.key)
    }
  }
  let outcome: TxnResult
  const start = performance.now()
  if (isReadOnlyTxn(ops)) {
    await agent.consensus.readBarrier(readMode(ctx.query), ctx.query.maxStaleMs)
    outcome = agent.state.txnRead(ops).value
    txnRead.measureSince(start)
    ctx.res.setHeader('X-Consul-KnownLeader', String(agent.consensus.knownLeader()))
    ctx.res.setHeader('X-Consul-LastContact', String(agent.consensus.lastContactMs()))
  } else {
    const {index, result} = await agent.consensus.propose({type: 'txn', now: agent.now(), ops})
    txnApply.measureSince(start)
    if (result.type !== 'txn') throw new Error(`unexpected apply result ${result.type}`)
    outcome = result.txn
    setQueryMeta(ctx.res, {index, knownLeader: agent.consensus.knownLeader(), lastContactMs: agent.consensus.lastContactMs()})
  }
  if (aclOn && outcome.results) {
    // get-tree answers only the keys the token may read; catalog results as Consul's FilterTxnResults.
    const authz = ctx.authorize().authorizer
    const kept = outcome.results.filter((entry) => readableResult(authz, entry))
    if (kept.length !== outcome.results.length) ctx.res.setHeader(FILTERED_HEADER, 'true')
    outcome = {...outcome, results: kept}
  }
  const failed = outcome.errors !== null && outcome.errors.length > 0
  sendJson(ctx.req, ctx.res, {
    // The state machine already empties values for KV write verbs, so they render as `Value: null`.
    Results: failed || !outcome.results ? null : outcome.results.map(renderResult),
    Errors: failed ? outcome.errors!.map((e) => ({OpIndex: e.opIndex, What: e.what})) : null,
  }, ctx.query.pretty, failed ? 409 : 200)
}

type CatalogTxnOp = Exclude<TxnOp, {kind?: undefined}>

/**
 * ACL check of one Node, Service, Check or Session operation, as Consul's Txn.preCheck: a get is
 * not checked here (its result is filtered after); a node write needs node:write on the node, a
 * service write service:write on the service, a check write node:write on its node (a node check)
 * or service:write on its ServiceName (a service check). Consul does not check Session operations
 * at all; coord asks session:write on the session's node, as a session destroy does.
 */
export function vetCatalogTxnOp(who: ResolvedToken, op: CatalogTxnOp, sessionNode: (id: string) => string | undefined): void {
  switch (op.kind) {
    case 'node':
      if (op.verb !== 'get') requireSegment(who, 'node', op.node.node, 'write')
      return
    case 'service':
      if (op.verb !== 'get') requireSegment(who, 'service', op.service.service, 'write')
      return
    case 'check':
      if (op.verb === 'get') return
      if (op.check.serviceId === '') requireSegment(who, 'node', op.check.node, 'write')
      else requireSegment(who, 'service', op.check.serviceName, 'write')
      return
    case 'session':
      requireSegment(who, 'session', sessionNode(op.id) ?? '', 'write')
  }
}

/** Whether the token may see one txn result (Consul's FilterTxnResults: key, node, service and check reads). */
function readableResult(authz: Authorizer, entry: TxnResultEntry): boolean {
  if ('kv' in entry) return authz.allowed('key', entry.kv.key, 'read')
  if ('node' in entry) return authz.allowed('node', entry.node.node, 'read')
  if ('service' in entry) return authz.allowed('service', entry.service.service, 'read')
  const {check} = entry
  return authz.allowed('node', check.node, 'read') && (check.serviceId === '' || authz.allowed('service', check.serviceName, 'read'))
}
