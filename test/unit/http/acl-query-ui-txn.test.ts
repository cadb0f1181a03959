// With ACLs on (default deny), the routes that once were refused outright: txn catalog and session
// operations (Consul's Txn.preCheck: node:write, service:write, a check's node or service), prepared
// queries (query rules on the query's name; an unnamed query belongs to whoever holds its ID; a
// query's Token only for ACL management; execute reads with the query's token, else the caller's),
// and the web UI's summaries (filtered item by item as the public endpoints they mirror).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {aclEdge, call} from '../../helpers/acl-agent.js'
import {aclRoutes} from '../../../src/lib/http/acl-endpoint.js'
import {txnRoutes} from '../../../src/lib/http/txn-endpoint.js'
import {queryRoutes} from '../../../src/lib/http/query-endpoint.js'
import {uiRoutes} from '../../../src/lib/http/ui-endpoint.js'
import {kvRoutes} from '../../../src/lib/http/kv-endpoint.js'
import type {Command} from '../../../src/lib/state/types.js'

const SESSION = (n: number) => `00000000-0000-0000-0000-0000000000${String(n).padStart(2, '0')}`

describe('txn catalog operations, prepared queries and UI summaries with ACLs on', () => {
  const env = aclEdge({defaultPolicy: 'deny'})
  let base = ''
  let root = ''
  let reader = ''
  let writer = ''
  let writerAccessor = ''
  before(async () => {
    base = await env.start((agent) => [...txnRoutes(agent), ...queryRoutes(agent), ...uiRoutes(agent), ...kvRoutes(agent), ...aclRoutes(agent)])
    root = ((await call(base, 'PUT', '/v1/acl/bootstrap')).json as {SecretID: string}).SecretID
    const propose = (cmd: Command) => env.agent.consensus.propose(cmd)
    for (const [i, node] of ['app-1', 'app-2', 'db-1'].entries()) {
      await propose({type: 'catalog-register', now: Date.now(), request: {
        Node: node, Address: '127.0.0.1', Service: {Service: node.startsWith('app') ? 'app-web' : 'db', Port: 80},
        Checks: [{CheckID: 'node-ok', Name: 'node ok', Status: 'passing'}],
      }} as unknown as Command)
      await propose({type: 'session-create', now: Date.now(), session: {id: SESSION(i + 1), name: '', node, nodeChecks: [], serviceChecks: [], lockDelayMs: 0, behavior: 'release', ttl: ''}})
    }
    for (const key of ['app-lock', 'db-lock']) {
      assert.equal((await call(base, 'PUT', `/v1/kv/${key}?acquire=${key === 'app-lock' ? SESSION(1) : SESSION(3)}`, 'x', root)).status, 200)
    }
    const rules = (word: string) => ['node', 'service', 'session', 'query', 'key'].map((kind) => `${kind}_prefix "app-" { policy = "${word}" }`).join('\n')
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-read', Rules: rules('read')}, root)
    await call(base, 'PUT', '/v1/acl/policy', {Name: 'app-write', Rules: rules('write')}, root)
    reader = ((await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-read'}]}, root)).json as {SecretID: string}).SecretID
    const w = (await call(base, 'PUT', '/v1/acl/token', {Policies: [{Name: 'app-write'}]}, root)).json as {SecretID: string; AccessorID: string}
    writer = w.SecretID
    writerAccessor = w.AccessorID
  })
  after(() => env.stop())

  it('txn: node, service and check writes need write on their node / service; sessions session:write; gets are filtered', async () => {
    const ok = await call(base, 'PUT', '/v1/txn', [{Node: {Verb: 'set', Node: {Node: 'app-3', Address: '10.0.0.3'}}}, {Service: {Verb: 'set', Node: 'app-3', Service: {ID: 'w', Service: 'app-web'}}}], writer)
    assert.equal(ok.status, 200, ok.text)
    const denials: Array<[unknown, string]> = [
      [{Node: {Verb: 'set', Node: {Node: 'db-2', Address: '10.0.0.4'}}}, `'node:write' on "db-2"`],
      [{Service: {Verb: 'set', Node: 'app-1', Service: {ID: 'd', Service: 'db'}}}, `'service:write' on "db"`],
      [{Check: {Verb: 'set', Check: {Node: 'db-1', CheckID: 'c', Name: 'c'}}}, `'node:write' on "db-1"`],
      [{Check: {Verb: 'delete', Check: {Node: 'app-1', CheckID: 'c2', ServiceID: 'db', ServiceName: 'db'}}}, `'service:write' on "db"`],
      [{Session: {Verb: 'delete', Session: {ID: SESSION(3)}}}, `'session:write' on "db-1"`],
    ]
    for (const [op, says] of denials) {
      const denied = await call(base, 'PUT', '/v1/txn', [{Node: {Verb: 'set', Node: {Node: 'app-4', Address: '10.0.0.5'}}}, op], writer)
      assert.equal(denied.status, 403, JSON.stringify(op))
      assert.equal(denied.text, `Permission denied: token with AccessorID '${writerAccessor}' lacks permission ${says}`)
    }
    assert.equal(env.state.catalog.node('app-4'), undefined, 'a refused txn applied nothing')
    const gets = await call(base, 'PUT', '/v1/txn', [{Node: {Verb: 'get', Node: {Node: 'app-1'}}}, {Node: {Verb: 'get', Node: {Node: 'db-1'}}}], reader)
    assert.equal(gets.status, 200, gets.text)
    assert.deepEqual((gets.json as {Results: Array<{Node: {Node: string}}>}).Results.map((r) => r.Node.Node), ['app-1'])
    assert.equal(gets.headers.get('x-consul-results-filtered-by-acls'), 'true')
    const session = await call(base, 'PUT', '/v1/txn', [{Session: {Verb: 'delete', Session: {ID: SESSION(2)}}}], writer)
    assert.equal(session.status, 200, session.text)
  })

  it('prepared queries: query:write on the name to write, query:read to see; unnamed queries by ID; Token hidden below management', async () => {
    const made = await call(base, 'POST', '/v1/query', {Name: 'app-q', Service: {Service: 'app-web'}}, writer)
    assert.equal(made.status, 200, made.text)
    const appId = (made.json as {ID: string}).ID
    const refused = await call(base, 'POST', '/v1/query', {Name: 'db-q', Service: {Service: 'db'}}, writer)
    assert.equal(refused.status, 403)
    assert.equal(refused.text, `Permission denied: token with AccessorID '${writerAccessor}' lacks permission 'query:write' on "db-q"`)
    const dbMade = await call(base, 'POST', '/v1/query', {Name: 'db-q', Service: {Service: 'db'}, Token: root}, root)
    assert.equal(dbMade.status, 200, dbMade.text)
    const dbId = (dbMade.json as {ID: string}).ID
    const unnamedId = ((await call(base, 'POST', '/v1/query', {Session: SESSION(3), Service: {Service: 'db'}, Token: root}, root)).json as {ID: string}).ID

    const list = await call(base, 'GET', '/v1/query', undefined, reader)
    assert.deepEqual((list.json as Array<{Name: string}>).map((q) => q.Name), ['app-q'])
    assert.equal(list.headers.get('x-consul-results-filtered-by-acls'), 'true')
    assert.equal(((await call(base, 'GET', '/v1/query', undefined, root)).json as unknown[]).length, 3)
    assert.equal((await call(base, 'GET', `/v1/query/${appId}`, undefined, reader)).status, 200)
    assert.equal((await call(base, 'GET', `/v1/query/${dbId}`, undefined, reader)).status, 403)
    assert.equal((await call(base, 'GET', `/v1/query/${dbId}/explain`, undefined, reader)).status, 403)
    const unnamed = await call(base, 'GET', `/v1/query/${unnamedId}`, undefined, reader)
    assert.equal(unnamed.status, 200, 'an unnamed query is readable by whoever holds its ID')
    assert.equal((unnamed.json as Array<{Token: string}>)[0].Token, '<hidden>')
    assert.equal(((await call(base, 'GET', `/v1/query/${unnamedId}`, undefined, root)).json as Array<{Token: string}>)[0].Token, root)
    assert.equal((await call(base, 'PUT', `/v1/query/${dbId}`, {Name: 'app-steal', Service: {Service: 'db'}}, writer)).status, 403, 'write on the existing name too')
    assert.equal((await call(base, 'DELETE', `/v1/query/${dbId}`, undefined, writer)).status, 403)

    const executed = await call(base, 'GET', `/v1/query/app-q/execute`, undefined, reader)
    assert.equal(executed.status, 200, executed.text)
    assert.deepEqual((executed.json as {Nodes: Array<{Node: {Node: string}}>}).Nodes.map((n) => n.Node.Node).sort(), ['app-1', 'app-2', 'app-3'])
    const anonymousApp = await call(base, 'GET', `/v1/query/${appId}/execute`)
    assert.deepEqual((anonymousApp.json as {Nodes: unknown[]}).Nodes, [], 'no token on the query: the caller\'s (anonymous) reads nothing')
    const withQueryToken = await call(base, 'GET', `/v1/query/${dbId}/execute`)
    assert.deepEqual((withQueryToken.json as {Nodes: Array<{Node: {Node: string}}>}).Nodes.map((n) => n.Node.Node), ['db-1'], 'the query\'s own token reads for it')
  })

  it('UI summaries answer only what the token may read, with the header; management sees everything', async () => {
    const services = await call(base, 'GET', '/v1/internal/ui/services', undefined, reader)
    assert.equal(services.status, 200, services.text)
    assert.deepEqual((services.json as Array<{Name: string; Nodes: string[]}>).map((s) => [s.Name, s.Nodes]), [['app-web', ['app-1', 'app-2', 'app-3']]])
    assert.equal(services.headers.get('x-consul-results-filtered-by-acls'), 'true')
    const nodes = await call(base, 'GET', '/v1/internal/ui/nodes', undefined, reader)
    assert.deepEqual((nodes.json as Array<{Node: string}>).map((n) => n.Node).sort(), ['app-1', 'app-2', 'app-3'])
    assert.equal((await call(base, 'GET', '/v1/internal/ui/node/db-1', undefined, reader)).status, 404)
    assert.equal((await call(base, 'GET', '/v1/internal/ui/node/app-1', undefined, reader)).status, 200)
    const locks = await call(base, 'GET', '/v1/internal/ui/locks', undefined, reader)
    const view = locks.json as {Sessions: Array<{Node: string}>; Held: Array<{Key: string}>}
    assert.deepEqual(view.Sessions.map((s) => s.Node), ['app-1'])
    assert.deepEqual(view.Held.map((h) => h.Key), ['app-lock'])
    const all = await call(base, 'GET', '/v1/internal/ui/services', undefined, root)
    assert.deepEqual((all.json as Array<{Name: string}>).map((s) => s.Name), ['app-web', 'db'])
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), null)
    const anonymous = await call(base, 'GET', '/v1/internal/ui/nodes')
    assert.deepEqual(anonymous.json, [])
  })

  it('/v1/internal/acl/authorize answers what the caller\'s token may do; bad resources, access levels and over 64 items are 400s', async () => {
    const ask = [{Resource: 'key', Segment: 'app-x', Access: 'write'}, {Resource: 'key', Segment: 'db-x', Access: 'read'}, {Resource: 'operator', Access: 'read'}]
    const answer = await call(base, 'POST', '/v1/internal/acl/authorize', ask, writer)
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual((answer.json as Array<{Allow: boolean}>).map((a) => a.Allow), [true, false, false])
    const asReader = await call(base, 'POST', '/v1/internal/acl/authorize', ask, reader)
    assert.deepEqual((asReader.json as Array<{Allow: boolean}>).map((a) => a.Allow), [false, false, false])
    const asRoot = await call(base, 'POST', '/v1/internal/acl/authorize', ask, root)
    assert.deepEqual((asRoot.json as Array<{Allow: boolean}>).map((a) => a.Allow), [true, true, true])
    assert.equal((await call(base, 'POST', '/v1/internal/acl/authorize', ask, 'no-such-secret')).status, 403)
    const bad = await call(base, 'POST', '/v1/internal/acl/authorize', [{Resource: 'weather', Access: 'read'}], root)
    assert.deepEqual([bad.status, bad.text], [400, 'Invalid ACL resource requested: "weather"'])
    assert.equal((await call(base, 'POST', '/v1/internal/acl/authorize', [{Resource: 'node', Access: 'list'}], root)).status, 400)
    assert.equal((await call(base, 'POST', '/v1/internal/acl/authorize', Array.from({length: 65}, () => ask[0]), root)).text, 'Refusing to authorize more than 64 resources')
  })
})
