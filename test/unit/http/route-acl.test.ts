// Enforcement in one place: every route of the server's route table (buildRoutes) × {no token,
// anonymous, a token allowed read on a prefix, write on it, a deny rule, management, a deleted
// token, an expired token} → the status and body serve() answers before any handler runs (the
// checks of route-acl.ts), with ACLs on and default_policy=deny. Then KV end to end: ?keys and
// ?recurse filtered with Consul's header, tree deletes, txn per key, a blocking read that stops
// when its token is deleted.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildRoutes} from '../../../src/lib/http/server.js'
import {ROUTE_ACL, routeCheck, enforceRoute} from '../../../src/lib/http/route-acl.js'
import type {RequestContext, Route} from '../../../src/lib/http/context.js'
import {resolveToken} from '../../../src/lib/http/acl-authorize.js'
import {CoordError} from '../../../src/lib/errors.js'
import {aclEdge, call} from '../../helpers/acl-agent.js'
import {kvRoutes} from '../../../src/lib/http/kv-endpoint.js'
import {txnRoutes} from '../../../src/lib/http/txn-endpoint.js'
import {aclRoutes} from '../../../src/lib/http/acl-endpoint.js'
import {catalogRoutes} from '../../../src/lib/http/catalog-endpoint.js'
import {sessionRoutes} from '../../../src/lib/http/session-endpoint.js'
import {coordinateRoutes} from '../../../src/lib/http/coordinate-endpoint.js'
import {healthRoutes} from '../../../src/lib/http/health-endpoint.js'
import {agentLocalRoutes} from '../../../src/lib/http/agent-local-endpoint.js'
import type {Command} from '../../../src/lib/state/types.js'

type Who = 'no token' | 'anonymous' | 'read app/' | 'write app/' | 'deny app/' | 'management' | 'deleted' | 'expired'
const WHO: Who[] = ['no token', 'anonymous', 'read app/', 'write app/', 'deny app/', 'management', 'deleted', 'expired']

/**
 * Consul's requirement for each route, written out by hand (agent/*_endpoint.go), independent of
 * route-acl.ts: a resource and access, or public / in-handler / unfiltered (refused with ACLs on).
 */
type Expect = 'public' | 'in-handler' | 'unfiltered' | 'snapshot' | `${'key' | 'node' | 'service' | 'session' | 'event' | 'agent' | 'acl' | 'keyring' | 'operator'}:${'read' | 'write'}`
function expected(path: string, method: string): Expect {
  const write = method !== 'GET'
  if (path === '/v1/kv/' || path === '/v1/kv') return write ? 'key:write' : 'key:read'
  // Prepared queries (query rules on each query's name) and the UI summaries (filtered per item): acl-query-ui-txn.test.ts.
  if (path === '/v1/query' || path === '/v1/query/' || path.startsWith('/v1/internal/ui/') || path === '/v1/internal/acl/authorize') return 'in-handler'
  if (path.startsWith('/v1/acl/') || ['/v1/txn', '/v1/agent/token/', '/v1/catalog/nodes', '/v1/catalog/services', '/v1/session/list', '/v1/coordinate/nodes', '/v1/event/list', '/v1/agent/members', '/v1/session/create', '/v1/coordinate/update', '/v1/catalog/register', '/v1/catalog/deregister', '/v1/agent/services', '/v1/agent/checks', '/v1/agent/service/register', '/v1/agent/check/register'].includes(path) || /^\/v1\/(health\/|catalog\/(service|node|node-services)\/)/.test(path)) return 'in-handler'
  if (['/v1/status/leader', '/v1/status/peers', '/v1/catalog/datacenters', '/v1/coordinate/datacenters', '/v1/agent/version'].includes(path)) return 'public'
  if (path === '/v1/snapshot') return 'snapshot'
  if (path === '/v1/operator/keyring') return write ? 'keyring:write' : 'keyring:read'
  if (path.startsWith('/v1/operator/')) return write ? 'operator:write' : 'operator:read'
  if (path === '/v1/agent/force-leave/') return 'operator:write'
  if (path === '/v1/agent/host' || path.startsWith('/v1/agent/debug/pprof/')) return 'operator:read'
  if (['/v1/agent/self', '/v1/agent/monitor', '/v1/agent/metrics', '/v1/agent/metrics/stream'].includes(path)) return 'agent:read'
  if (['/v1/agent/join/', '/v1/agent/leave', '/v1/agent/reload'].includes(path)) return 'agent:write'
  if (path === '/v1/agent/maintenance') return 'node:write'
  if (['/v1/agent/health/service/name/', '/v1/agent/health/service/id/', '/v1/agent/service/'].includes(path)) return 'service:read'
  if (['/v1/agent/service/deregister/', '/v1/agent/service/maintenance/'].includes(path)) return 'service:write'
  // A check's rule is its service's, or node:write on this agent's node (n1) for a node check.
  if (path.startsWith('/v1/agent/check/')) return 'node:write'
  if (path === '/v1/event/fire/') return 'event:write'
  if (path === '/v1/coordinate/node/') return 'node:read'
  if (['/v1/session/destroy/', '/v1/session/renew/'].includes(path)) return 'session:write'
  if (['/v1/session/info/', '/v1/session/node/'].includes(path)) return 'session:read'
  return 'unfiltered'
}

describe('route enforcement: the whole route table × 8 callers', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  const secrets = new Map<Who, string>()
  let routes: Route[] = []
  const accessors = new Map<Who, string>()

  before(async () => {
    const base = await env.start(aclRoutes)
    routes = buildRoutes(env.agent)
    const root = (await call(base, 'PUT', '/v1/acl/bootstrap')).json as {SecretID: string; AccessorID: string}
    secrets.set('management', root.SecretID)
    accessors.set('management', root.AccessorID)
    for (const [who, rules] of [['read app/', 'read'], ['write app/', 'write'], ['deny app/', 'deny']] as const) {
      const p = (await call(base, 'PUT', '/v1/acl/policy', {Name: `p-${rules}`, Rules: `key_prefix "app/" { policy = "${rules}" }\nnode_prefix "app/" { policy = "${rules}" }\nservice_prefix "app/" { policy = "${rules}" }\nsession_prefix "app/" { policy = "${rules}" }\nevent_prefix "app/" { policy = "${rules}" }\nagent_prefix "" { policy = "${rules}" }\noperator = "${rules}"\nkeyring = "${rules}"`}, root.SecretID)).json as {ID: string}
      const t = (await call(base, 'PUT', '/v1/acl/token', {Policies: [{ID: p.ID}]}, root.SecretID)).json as {SecretID: string; AccessorID: string}
      secrets.set(who, t.SecretID)
      accessors.set(who, t.AccessorID)
    }
    const gone = (await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'global-management'}]}, root.SecretID)).json as {SecretID: string; AccessorID: string}
    await call(base, 'DELETE', `/v1/acl/token/${gone.AccessorID}`, undefined, root.SecretID)
    secrets.set('deleted', gone.SecretID)
    const soon = (await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'global-management'}], ExpirationTTL: '1m'}, root.SecretID)).json as {SecretID: string}
    secrets.set('expired', soon.SecretID)
    secrets.set('anonymous', 'anonymous')
    secrets.set('no token', '')
    env.advance(120_000)
  })
  after(() => env.stop())

  it('the rule table names exactly the routes the server has', () => {
    assert.deepEqual(Object.keys(ROUTE_ACL).sort(), [...new Set(routes.map((r) => r.path))].sort())
  })

  it('every route × method × caller answers as Consul would', () => {
    let checked = 0
    for (const route of routes) {
      for (const method of Object.keys(route.methods)) {
        const want = expected(route.path, method)
        for (const who of WHO) {
          const identity = {token: secrets.get(who)!, source: who === 'no token' ? 'none' as const : 'header' as const}
          const ctx = {tail: 'app/x', params: new URLSearchParams(), identity, authorize: () => resolveToken(env.agent, identity)} as unknown as RequestContext
          let outcome = 'allowed'
          try {
            enforceRoute(route.path, ctx, method, env.agent)
          } catch (error) {
            assert.ok(error instanceof CoordError)
            outcome = `${error.httpStatus} ${error.message}`
          }
          const where = `${method} ${route.path} as ${who}`
          checked++
          if (want === 'public' || want === 'in-handler') {
            assert.equal(outcome, 'allowed', where)
            continue
          }
          if (want === 'unfiltered') {
            assert.equal(outcome, `403 Permission denied: coord does not check ACLs on ${route.path} yet`, where)
            continue
          }
          if (who === 'deleted' || who === 'expired') {
            assert.equal(outcome, '403 ACL not found', where)
            continue
          }
          const [resource, need] = want === 'snapshot' ? ['acl', 'write'] : want.split(':')
          let allow: boolean
          if (who === 'management') allow = true
          else if (who === 'no token' || who === 'anonymous' || who === 'deny app/') allow = false
          else if (resource === 'acl') allow = false
          else allow = who === 'write app/' || need === 'read'
          // Session routes look the session up: for an unknown one the node is '', outside app/.
          if (resource === 'session' && route.path !== '/v1/session/node/' && who !== 'management') allow = false
          // Maintenance is node:write on the agent's own node (n1), outside app/.
          if ((route.path === '/v1/agent/maintenance' || route.path.startsWith('/v1/agent/check/')) && who !== 'management') allow = false
          if (allow) {
            assert.equal(outcome, 'allowed', where)
          } else {
            assert.match(outcome, /^403 Permission denied: /, where)
            const accessor = who === 'no token' || who === 'anonymous' ? 'anonymous token' : `token with AccessorID '${accessors.get(who)}'`
            assert.ok(outcome.includes(accessor) && outcome.includes(`lacks permission '${resource}:${need}'`), `${where}: ${outcome}`)
          }
        }
      }
    }
    console.log(`route checks: ${checked} (route × method × caller)`)
    assert.ok(checked > 8 * 70)
  })

  it('a kv GET with ?recurse or ?keys is left to the handler (it filters), a tree delete too', () => {
    const ctx = (params: string) => ({tail: 'app/', params: new URLSearchParams(params)}) as unknown as RequestContext
    assert.equal(routeCheck('/v1/kv/', ctx('recurse'), 'GET', env.agent), 'in-handler')
    assert.equal(routeCheck('/v1/kv/', ctx('keys'), 'GET', env.agent), 'in-handler')
    assert.equal(routeCheck('/v1/kv/', ctx('recurse'), 'DELETE', env.agent), 'in-handler')
    assert.deepEqual(routeCheck('/v1/kv/', ctx(''), 'DELETE', env.agent), {kind: 'key', segment: 'app/', need: 'write'})
  })
})

describe('KV with ACLs on: filtered lists, tree deletes, txn per key, blocking reads re-authorized', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  let base = ''
  let root = ''
  let reader = ''
  let readerAccessor = ''
  let writer = ''
  before(async () => {
    base = await env.start((agent) => [...kvRoutes(agent), ...txnRoutes(agent), ...aclRoutes(agent)])
    root = ((await call(base, 'PUT', '/v1/acl/bootstrap')).json as {SecretID: string}).SecretID
    for (const key of ['app/a', 'app/b/c', 'other/x', 'top']) assert.equal((await call(base, 'PUT', `/v1/kv/${key}`, 'v', root)).status, 200)
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-read', Rules: 'key_prefix "app/" { policy = "read" }'}, root)
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-write', Rules: 'key_prefix "app/" { policy = "write" }\nkey "app/b/c" { policy = "read" }'}, root)
    const r = (await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-read'}]}, root)).json as {SecretID: string; AccessorID: string}
    reader = r.SecretID
    readerAccessor = r.AccessorID
    writer = ((await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-write'}]}, root)).json as {SecretID: string}).SecretID
  })
  after(() => env.stop())

  it('?recurse and ?keys answer only readable keys, with X-Consul-Results-Filtered-By-ACLs', async () => {
    const recurse = await call(base, 'GET', '/v1/kv/?recurse', undefined, reader)
    assert.equal(recurse.status, 200)
    assert.deepEqual((recurse.json as Array<{Key: string}>).map((e) => e.Key), ['app/a', 'app/b/c'])
    assert.equal(recurse.headers.get('x-consul-results-filtered-by-acls'), 'true')
    const keys = await call(base, 'GET', '/v1/kv/?keys', undefined, reader)
    assert.deepEqual(keys.json, ['app/a', 'app/b/c'])
    const all = await call(base, 'GET', '/v1/kv/?keys', undefined, root)
    assert.deepEqual(all.json, ['app/a', 'app/b/c', 'other/x', 'top'])
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), null, 'nothing hidden, no header')
    const none = await call(base, 'GET', '/v1/kv/?recurse')
    assert.equal(none.status, 404, 'the anonymous token sees nothing: an empty answer')
  })

  it('a single key: read where allowed, 403 elsewhere; writes need write', async () => {
    assert.equal((await call(base, 'GET', '/v1/kv/app/a', undefined, reader)).status, 200)
    const denied = await call(base, 'GET', '/v1/kv/other/x', undefined, reader)
    assert.deepEqual([denied.status, denied.text], [403, `Permission denied: token with AccessorID '${readerAccessor}' lacks permission 'key:read' on "other/x"`])
    assert.equal((await call(base, 'PUT', '/v1/kv/app/a', 'w', reader)).status, 403)
    assert.equal((await call(base, 'PUT', '/v1/kv/app/a', 'w', writer)).status, 200)
  })

  it('a tree delete needs write on everything under the prefix', async () => {
    assert.equal((await call(base, 'DELETE', '/v1/kv/app/?recurse', undefined, writer)).status, 403, 'app/b/c is read-only for it')
    assert.equal(env.state.kvGet('app/a').value !== undefined, true, 'nothing deleted')
  })

  it('txn: each key checked before anything is applied; get-tree filtered', async () => {
    const value = Buffer.from('t').toString('base64')
    const mixed = await call(base, 'PUT', '/v1/txn', [{KV: {Verb: 'set', Key: 'app/new', Value: value}}, {KV: {Verb: 'set', Key: 'other/y', Value: value}}], writer)
    assert.equal(mixed.status, 403)
    assert.equal(env.state.kvGet('app/new').value, undefined, 'nothing half-written')
    const tree = await call(base, 'PUT', '/v1/txn', [{KV: {Verb: 'get-tree', Key: ''}}], reader)
    assert.equal(tree.status, 200, tree.text)
    assert.deepEqual((tree.json as {Results: Array<{KV: {Key: string}}>}).Results.map((r) => r.KV.Key), ['app/a', 'app/b/c'])
  })

  it('a blocking read wakes into 403 ACL not found once its token is deleted', async () => {
    const first = await call(base, 'GET', '/v1/kv/app/a', undefined, reader)
    const index = first.headers.get('x-consul-index')
    const parked = call(base, 'GET', `/v1/kv/app/a?index=${index}&wait=20s`, undefined, reader)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const t0 = Date.now()
    assert.equal((await call(base, 'DELETE', `/v1/acl/token/${readerAccessor}`, undefined, root)).status, 200)
    await call(base, 'PUT', '/v1/kv/app/a', 'changed', root)
    const woken = await parked
    console.log(`blocking read answered ${Date.now() - t0} ms after the token was deleted`)
    assert.deepEqual([woken.status, woken.text], [403, 'ACL not found'])
  })
})

describe('catalog, session and coordinate lists with ACLs on: only what the token may read', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  let base = ''
  let root = ''
  let reader = ''
  before(async () => {
    base = await env.start((agent) => [...catalogRoutes(agent), ...sessionRoutes(agent), ...coordinateRoutes(agent), ...healthRoutes(agent), ...aclRoutes(agent)])
    root = ((await call(base, 'PUT', '/v1/acl/bootstrap')).json as {SecretID: string}).SecretID
    const propose = (cmd: Command) => env.agent.consensus.propose(cmd)
    for (const node of ['app-1', 'app-2', 'db-1']) {
      await propose({type: 'catalog-register', now: Date.now(), request: {Node: node, Address: '127.0.0.1', Service: {Service: node.startsWith('app') ? 'app-web' : 'db', Port: 80}}} as unknown as Command)
      await propose({type: 'session-create', now: Date.now(), session: {id: `00000000-0000-0000-0000-0000000000${node === 'db-1' ? '10' : node.slice(-1).padStart(2, '0')}`, name: '', node, nodeChecks: [], serviceChecks: [], lockDelayMs: 0, behavior: 'release', ttl: ''}})
    }
    await propose({type: 'coordinate-batch-update', now: Date.now(), updates: ['app-1', 'db-1'].map((node) => ({node, segment: '', coord: {Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5}}))})
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-read', Rules: 'node_prefix "app-" { policy = "read" }\nservice_prefix "app-" { policy = "read" }\nsession_prefix "app-" { policy = "read" }'}, root)
    reader = ((await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-read'}]}, root)).json as {SecretID: string}).SecretID
  })
  after(() => env.stop())

  it('/v1/catalog/nodes and /v1/catalog/services answer only readable names, with the header', async () => {
    const nodes = await call(base, 'GET', '/v1/catalog/nodes', undefined, reader)
    assert.equal(nodes.status, 200, nodes.text)
    assert.deepEqual((nodes.json as Array<{Node: string}>).map((n) => n.Node).sort(), ['app-1', 'app-2'])
    assert.equal(nodes.headers.get('x-consul-results-filtered-by-acls'), 'true')
    const services = await call(base, 'GET', '/v1/catalog/services', undefined, reader)
    assert.deepEqual(Object.keys(services.json as object), ['app-web'])
    const all = await call(base, 'GET', '/v1/catalog/nodes', undefined, root)
    assert.equal((all.json as unknown[]).length, 3)
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), null)
    const anonymous = await call(base, 'GET', '/v1/catalog/nodes')
    assert.deepEqual(anonymous.json, [], 'the anonymous token under default deny sees no node')
  })

  it('/v1/session/list answers only sessions on readable nodes', async () => {
    const sessions = await call(base, 'GET', '/v1/session/list', undefined, reader)
    assert.equal(sessions.status, 200, sessions.text)
    assert.deepEqual((sessions.json as Array<{Node: string}>).map((s) => s.Node).sort(), ['app-1', 'app-2'])
    assert.equal(sessions.headers.get('x-consul-results-filtered-by-acls'), 'true')
  })

  it('/v1/coordinate/nodes answers only readable nodes', async () => {
    const coords = await call(base, 'GET', '/v1/coordinate/nodes', undefined, reader)
    assert.equal(coords.status, 200, coords.text)
    assert.deepEqual((coords.json as Array<{Node: string}>).map((c) => c.Node), ['app-1'])
    assert.equal(coords.headers.get('x-consul-results-filtered-by-acls'), 'true')
    assert.equal(((await call(base, 'GET', '/v1/coordinate/nodes', undefined, root)).json as unknown[]).length, 2)
  })

  it('/v1/catalog/service, /v1/catalog/node and /v1/health/service answer only what the token may read', async () => {
    const web = await call(base, 'GET', '/v1/health/service/app-web', undefined, reader)
    assert.equal(web.status, 200, web.text)
    assert.deepEqual((web.json as Array<{Node: {Node: string}}>).map((e) => e.Node.Node).sort(), ['app-1', 'app-2'])
    const db = await call(base, 'GET', '/v1/health/service/db', undefined, reader)
    assert.deepEqual([db.json, db.headers.get('x-consul-results-filtered-by-acls')], [[], 'true'])
    assert.equal(((await call(base, 'GET', '/v1/health/service/db', undefined, root)).json as unknown[]).length, 1, 'management sees it (and the cache is not shared across tokens)')
    const catalogDb = await call(base, 'GET', '/v1/catalog/service/db', undefined, reader)
    assert.deepEqual([catalogDb.json, catalogDb.headers.get('x-consul-results-filtered-by-acls')], [[], 'true'])
    const node = await call(base, 'GET', '/v1/catalog/node/db-1', undefined, reader)
    assert.equal(node.json, null)
    const own = await call(base, 'GET', '/v1/catalog/node/app-1', undefined, reader)
    assert.deepEqual(Object.keys((own.json as {Services: object}).Services), ['app-web'])
  })

  it('session create needs session:write on the body\'s node', async () => {
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-sessions', Rules: 'session_prefix "app-" { policy = "write" }'}, root)
    const writer = ((await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-sessions'}]}, root)).json as {SecretID: string}).SecretID
    const before = env.state.sessionList().value.length
    const denied = await call(base, 'PUT', '/v1/session/create', {Node: 'db-1', NodeChecks: []}, writer)
    assert.equal(denied.status, 403)
    assert.match(denied.text, /lacks permission 'session:write' on "db-1"/)
    assert.equal(env.state.sessionList().value.length, before, 'nothing created')
    const made = await call(base, 'PUT', '/v1/session/create', {Node: 'app-1', NodeChecks: []}, writer)
    assert.equal(made.status, 200, made.text)
  })

  it('catalog register/deregister: node:write for a new or changed node, service:write for the service', async () => {
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-svc-write', Rules: 'service_prefix "app-" { policy = "write" }\nnode_prefix "" { policy = "read" }'}, root)
    const svc = ((await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-svc-write'}]}, root)).json as {SecretID: string}).SecretID
    const onExisting = await call(base, 'PUT', '/v1/catalog/register', {Node: 'app-1', Address: '127.0.0.1', Service: {Service: 'app-api', Port: 81}}, svc)
    assert.equal(onExisting.status, 200, `a service on an unchanged node needs only service:write: ${onExisting.text}`)
    const newNode = await call(base, 'PUT', '/v1/catalog/register', {Node: 'app-9', Address: '127.0.0.9', Service: {Service: 'app-api', Port: 81}}, svc)
    assert.equal(newNode.status, 403)
    assert.match(newNode.text, /lacks permission 'node:write' on "app-9"/)
    assert.equal(env.state.catalog.node('app-9'), undefined, 'nothing registered')
    const otherService = await call(base, 'PUT', '/v1/catalog/register', {Node: 'app-1', Address: '127.0.0.1', Service: {Service: 'db', Port: 1}}, svc)
    assert.match(otherService.text, /lacks permission 'service:write' on "db"/)
    assert.equal((await call(base, 'PUT', '/v1/catalog/deregister', {Node: 'db-1'}, svc)).status, 403, 'removing a node needs node:write')
    assert.equal((await call(base, 'PUT', '/v1/catalog/deregister', {Node: 'app-1', ServiceID: 'app-api'}, svc)).status, 200)
  })
})

describe('agent-local services with ACLs on', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  let base = ''
  let root = ''
  let svc = ''
  before(async () => {
    base = await env.start((agent) => [...agentLocalRoutes(agent), ...aclRoutes(agent)])
    root = ((await call(base, 'PUT', '/v1/acl/bootstrap')).json as {SecretID: string}).SecretID
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'web-only', Rules: 'service "web" { policy = "write" }'}, root)
    svc = ((await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'web-only'}]}, root)).json as {SecretID: string}).SecretID
  })
  after(() => env.stop())

  it('register needs service:write on the body\'s service; the list shows only readable services', async () => {
    assert.equal((await call(base, 'PUT', '/v1/agent/service/register', {Name: 'web', Port: 80}, svc)).status, 200)
    const denied = await call(base, 'PUT', '/v1/agent/service/register', {Name: 'db', Port: 5432}, svc)
    assert.equal(denied.status, 403)
    assert.match(denied.text, /lacks permission 'service:write' on "db"/)
    assert.equal(env.agent.local.state.service('db'), undefined, 'nothing registered')
    assert.equal((await call(base, 'PUT', '/v1/agent/service/register', {Name: 'db', Port: 5432}, root)).status, 200)
    const list = await call(base, 'GET', '/v1/agent/services', undefined, svc)
    assert.deepEqual(Object.keys(list.json as object), ['web'])
    assert.equal(list.headers.get('x-consul-results-filtered-by-acls'), 'true')
    assert.deepEqual(Object.keys((await call(base, 'GET', '/v1/agent/services', undefined, root)).json as object).sort(), ['db', 'web'])
    assert.equal((await call(base, 'GET', '/v1/agent/service/db', undefined, svc)).status, 403)
  })
})
