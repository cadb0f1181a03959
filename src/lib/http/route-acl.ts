// What every /v1 route asks of the caller's token, in one table (checked in server.ts serve, before
// the handler runs, when ACLs are on). Resources and access levels are Consul's, endpoint by endpoint
// (agent/*_endpoint.go, agent/consul/*_endpoint.go). A route missing from this table is refused
// with ACLs on (fail closed), and test/unit/http/route-acl.test.ts fails for it.
//
// Kinds of rule:
// - a segment rule (key, node, service, session, event, agent) or a scalar one (acl, keyring, operator);
// - snapshot: acl = "write" (Consul's Snapshot authorizer);
// - public: no token needed (status, datacenter lists), as Consul;
// - in-handler: the handler authorizes each item itself (kv ?keys/?recurse and tree deletes, txn per
//   key, the catalog and health reads, the session, coordinate, event and member lists, session
//   create, coordinate update and catalog register/deregister (names in the body: catalog-acl.ts),
//   prepared queries (query rules on the query's name), the web UI's summaries, /v1/acl/*);
// - unfiltered: for a route whose items coord cannot authorize: refused with ACLs on rather than
//   answered unchecked (no route today; a route missing from the table is treated alike).
import type {Need} from '../acl/access.js'
import type {ScalarKind, SegmentKind} from '../acl/rules.js'
import {permissionDenied, requireScalar, requireSegment} from './acl-authorize.js'
import type {AgentDeps, RequestContext} from './context.js'
import {HttpError} from '../errors.js'

export type RouteCheck =
  | {readonly kind: SegmentKind; readonly segment: string; readonly need: Need}
  | {readonly scalar: ScalarKind; readonly need: Need}
  | {readonly snapshot: true}
  | 'public'
  | 'in-handler'
  | 'unfiltered'

export type RouteAclDeps = AgentDeps<'config' | 'state' | 'local'>
type Rule = (ctx: RequestContext, method: string, agent: RouteAclDeps) => RouteCheck

const segment = (kind: SegmentKind, need: Need) => (ctx: RequestContext): RouteCheck => ({kind, segment: ctx.tail, need})
const scalar = (kind: ScalarKind, need: Need): Rule => () => ({scalar: kind, need})
const ownAgent = (need: Need): Rule => (_ctx, _method, agent) => ({kind: 'agent', segment: agent.config.nodeName, need})
const readOrWrite = (kind: ScalarKind): Rule => (_ctx, method) => ({scalar: kind, need: method === 'GET' ? 'read' : 'write'})
const fixed = (check: RouteCheck): Rule => () => check

/** A local service's name by ID (the ID itself when unknown: no rule names it, so only a broad grant passes). */
const localService = (need: Need): Rule => (ctx, _method, agent) => ({kind: 'service', segment: agent.local.state.service(ctx.tail)?.def.Service ?? ctx.tail, need})
/** A local check: service:write on its service's name, or node:write on this node for a node check (or an unknown one). */
const localCheck: Rule = (ctx, _method, agent) => {
  const check = agent.local.state.check(ctx.tail)
  const service = check && check.def.ServiceID !== '' ? agent.local.state.service(check.def.ServiceID) : undefined
  return service ? {kind: 'service', segment: service.def.Service, need: 'write'} : {kind: 'node', segment: agent.config.nodeName, need: 'write'}
}

const kvRule: Rule = (ctx, method) => {
  const listing = ctx.params.has('keys') || ctx.params.has('recurse')
  if (method === 'GET') return listing ? 'in-handler' : {kind: 'key', segment: ctx.tail, need: 'read'}
  if (method === 'DELETE' && ctx.params.has('recurse')) return 'in-handler'
  return {kind: 'key', segment: ctx.tail, need: 'write'}
}

/** The node a session lives on: its rules are session rules on that node (Consul's SessionRead/SessionWrite). */
const sessionNode = (need: Need): Rule => (ctx, _method, agent) => ({kind: 'session', segment: agent.state.sessionGet(ctx.tail).value?.node ?? '', need})

export const ROUTE_ACL: Readonly<Record<string, Rule>> = {
  '/v1/kv/': kvRule,
  '/v1/kv': kvRule,
  '/v1/txn': fixed('in-handler'),

  '/v1/session/create': fixed('in-handler'),
  '/v1/session/destroy/': sessionNode('write'),
  '/v1/session/renew/': sessionNode('write'),
  '/v1/session/info/': sessionNode('read'),
  '/v1/session/node/': segment('session', 'read'),
  '/v1/session/list': fixed('in-handler'),

  '/v1/catalog/register': fixed('in-handler'),
  '/v1/catalog/deregister': fixed('in-handler'),
  '/v1/catalog/datacenters': fixed('public'),
  '/v1/catalog/nodes': fixed('in-handler'),
  '/v1/catalog/services': fixed('in-handler'),
  '/v1/catalog/service/': fixed('in-handler'),
  '/v1/catalog/node/': fixed('in-handler'),
  '/v1/catalog/node-services/': fixed('in-handler'),

  '/v1/health/node/': fixed('in-handler'),
  '/v1/health/checks/': fixed('in-handler'),
  '/v1/health/service/': fixed('in-handler'),
  '/v1/health/state/': fixed('in-handler'),

  '/v1/coordinate/datacenters': fixed('public'),
  '/v1/coordinate/nodes': fixed('in-handler'),
  '/v1/coordinate/node/': segment('node', 'read'),
  '/v1/coordinate/update': fixed('in-handler'),

  '/v1/event/fire/': segment('event', 'write'),
  '/v1/event/list': fixed('in-handler'),

  '/v1/agent/self': ownAgent('read'),
  '/v1/agent/members': fixed('in-handler'),
  '/v1/agent/join/': ownAgent('write'),
  '/v1/agent/leave': ownAgent('write'),
  // Consul: force-leave needs operator = "write".
  '/v1/agent/force-leave/': scalar('operator', 'write'),
  '/v1/agent/reload': ownAgent('write'),
  '/v1/agent/monitor': ownAgent('read'),
  '/v1/agent/metrics': ownAgent('read'),
  '/v1/agent/metrics/stream': ownAgent('read'),
  // Consul: host information and the profiles need operator = "read"; the version is public.
  '/v1/agent/host': scalar('operator', 'read'),
  '/v1/agent/version': fixed('public'),
  '/v1/agent/debug/pprof/profile': scalar('operator', 'read'),
  '/v1/agent/debug/pprof/heap': scalar('operator', 'read'),
  '/v1/agent/maintenance': (_ctx, _method, agent) => ({kind: 'node', segment: agent.config.nodeName, need: 'write'}),
  '/v1/agent/health/service/name/': segment('service', 'read'),
  '/v1/agent/health/service/id/': localService('read'),
  '/v1/agent/service/maintenance/': localService('write'),
  '/v1/agent/services': fixed('in-handler'),
  '/v1/agent/service/register': fixed('in-handler'),
  '/v1/agent/service/deregister/': localService('write'),
  '/v1/agent/service/': localService('read'),
  '/v1/agent/checks': fixed('in-handler'),
  '/v1/agent/check/register': fixed('in-handler'),
  '/v1/agent/check/deregister/': localCheck,
  '/v1/agent/check/pass/': localCheck,
  '/v1/agent/check/warn/': localCheck,
  '/v1/agent/check/fail/': localCheck,
  '/v1/agent/check/update/': localCheck,
  '/v1/agent/token/': fixed('in-handler'),

  '/v1/operator/keyring': readOrWrite('keyring'),
  '/v1/operator/raft/configuration': scalar('operator', 'read'),
  '/v1/operator/raft/peer': scalar('operator', 'write'),
  '/v1/operator/raft/transfer-leader': scalar('operator', 'write'),
  '/v1/operator/autopilot/health': scalar('operator', 'read'),
  '/v1/operator/autopilot/configuration': readOrWrite('operator'),
  '/v1/operator/autopilot/state': scalar('operator', 'read'),

  '/v1/snapshot': fixed({snapshot: true}),
  '/v1/status/leader': fixed('public'),
  '/v1/status/peers': fixed('public'),

  '/v1/acl/bootstrap': fixed('in-handler'),
  // Answers what the caller's own token may do: nothing to protect beyond the token itself.
  '/v1/internal/acl/authorize': fixed('in-handler'),
  '/v1/acl/token': fixed('in-handler'),
  '/v1/acl/token/self': fixed('in-handler'),
  '/v1/acl/token/': fixed('in-handler'),
  '/v1/acl/tokens': fixed('in-handler'),
  '/v1/acl/policy': fixed('in-handler'),
  '/v1/acl/policy/name/': fixed('in-handler'),
  '/v1/acl/policy/': fixed('in-handler'),
  '/v1/acl/policies': fixed('in-handler'),
  '/v1/acl/role': fixed('in-handler'),
  '/v1/acl/role/name/': fixed('in-handler'),
  '/v1/acl/role/': fixed('in-handler'),
  '/v1/acl/roles': fixed('in-handler'),

  // Prepared queries: query rules on the query's name, checked in query-endpoint.ts.
  '/v1/query': fixed('in-handler'),
  '/v1/query/': fixed('in-handler'),
  // The web UI's summaries: filtered item by item as the public endpoints they mirror (ui-endpoint.ts).
  '/v1/internal/ui/services': fixed('in-handler'),
  '/v1/internal/ui/nodes': fixed('in-handler'),
  '/v1/internal/ui/node/': fixed('in-handler'),
  '/v1/internal/ui/locks': fixed('in-handler'),
}

/** What `path` (a route's path) asks of this request; undefined when the table has no rule for it. */
export function routeCheck(path: string, ctx: RequestContext, method: string, agent: RouteAclDeps): RouteCheck | undefined {
  const rule = ROUTE_ACL[path]
  return rule === undefined ? undefined : rule(ctx, method, agent)
}

/** The route-level check, with ACLs on: throws Consul's 403 (or coord's, for what it cannot check yet). */
export function enforceRoute(path: string, ctx: RequestContext, method: string, agent: RouteAclDeps): void {
  const check = routeCheck(path, ctx, method, agent)
  if (check === undefined || check === 'unfiltered') {
    throw new HttpError(403, `Permission denied: coord does not check ACLs on ${path} yet`, 'ACL_UNCHECKED_ROUTE')
  }
  if (check === 'public' || check === 'in-handler') return
  const who = ctx.authorize()
  if ('snapshot' in check) {
    if (!who.authorizer.snapshot()) throw permissionDenied(who.accessorId, 'acl', 'write')
  } else if ('scalar' in check) {
    requireScalar(who, check.scalar, check.need)
  } else {
    requireSegment(who, check.kind, check.segment, check.need)
  }
}
