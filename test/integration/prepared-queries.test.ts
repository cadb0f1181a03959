// Prepared queries against a real agent: the npm `consul` client's query calls (create, list, get,
// update, execute, explain, destroy), execution rules (OnlyPassing, IgnoreCheckIDs, tags with `!`,
// node and service meta, ?limit, ?near), templates (name_prefix_match with Regexp and
// RemoveEmptyTags, longest prefix wins), a query bound to a session going with it, DNS
// `<name>.query.consul` (A and SRV) with the query's TTL, and every malformed definition → 400 with
// Consul's reason.
import {before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useAgent} from '../helpers/agent.js'
import {consulClient, http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {agentDnsPort, dnsUdp} from '../helpers/dns.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API */

interface Instance {node: string; address: string; id: string; port: number; tags?: string[]; meta?: Record<string, string>; nodeMeta?: Record<string, string>; status: string; checkId?: string}

describe('prepared queries', () => {
  const ctx = useAgent()
  let consul: any
  let dnsPort: number
  const addr = () => ctx.agent.httpAddr
  const register = async (i: Instance) => {
    const res = await http(addr(), 'PUT', '/v1/catalog/register', JSON.stringify({
      Node: i.node, Address: i.address, NodeMeta: i.nodeMeta ?? {},
      Service: {ID: i.id, Service: 'web', Port: i.port, Tags: i.tags ?? [], Meta: i.meta ?? {}},
      Checks: [{CheckID: i.checkId ?? `${i.id}-alive`, Name: 'alive', Status: i.status, ServiceID: i.id}],
    }))
    assert.equal(res.status, 200, res.text)
  }
  const execute = async (q: string, params = '') => {
    const res = await http(addr(), 'GET', `/v1/query/${q}/execute${params}`)
    assert.equal(res.status, 200, res.text)
    return res.json<any>()
  }
  const ports = (answer: any) => (answer.Nodes as any[]).map((n) => n.Service.Port).sort()

  before(async () => {
    consul = consulClient(addr())
    dnsPort = await agentDnsPort(ctx.agent)
    await register({node: 'n1', address: '10.0.0.1', id: 'web-1', port: 8001, tags: ['v1', 'primary'], meta: {ver: '1'}, nodeMeta: {rack: 'a'}, status: 'passing'})
    await register({node: 'n2', address: '10.0.0.2', id: 'web-2', port: 8002, tags: ['v2'], meta: {ver: '2'}, nodeMeta: {rack: 'b'}, status: 'warning'})
    await register({node: 'n3', address: '10.0.0.3', id: 'web-3', port: 8003, tags: ['v2'], meta: {ver: '2'}, nodeMeta: {rack: 'b'}, status: 'critical', checkId: 'flaky'})
  })

  it('the npm client creates, lists, reads, updates, executes and destroys a query; explain answers {Query}', async () => {
    const {ID} = await consul.query.create({name: 'web-all', service: {service: 'web'}, dns: {ttl: '12s'}})
    assert.match(ID, /^[0-9a-f-]{36}$/)
    const listed = await consul.query.list()
    assert.ok(listed.some((q: any) => q.ID === ID && q.Name === 'web-all' && q.DNS.TTL === '12s'))
    const got = await consul.query.get(ID)
    assert.equal(got.Service.Service, 'web')
    const result = await consul.query.execute('web-all')
    assert.equal(result.Service, 'web')
    assert.equal(result.Datacenter, 'dc1')
    assert.equal(result.Failovers, 0)
    assert.deepEqual(ports(result), [8001, 8002], 'critical instances never answer; warning ones do without OnlyPassing')
    await consul.query.update({query: ID, name: 'web-all', service: {service: 'web', onlypassing: true}})
    assert.deepEqual(ports(await consul.query.execute(ID)), [8001])
    // The npm client's explain reads an array's first item, but Consul answers {Query}: read it raw.
    const explained = (await http(addr(), 'GET', '/v1/query/web-all/explain')).json<any>()
    assert.equal(explained.Query.ID, ID)
    assert.equal(explained.Query.Service.OnlyPassing, true)
    await consul.query.destroy(ID)
    assert.equal((await http(addr(), 'GET', `/v1/query/${ID}`)).status, 404)
    const missing = await http(addr(), 'GET', '/v1/query/web-all/execute')
    assert.equal(missing.status, 404)
    assert.equal(missing.text, 'Query not found')
  })

  it('execute applies IgnoreCheckIDs, tags (with !), node and service meta, ?limit, shuffling, and ?near / Near sorting by RTT', async () => {
    const create = async (body: object) => (await http(addr(), 'POST', '/v1/query', JSON.stringify(body))).json<{ID: string}>().ID
    const ignore = await create({Name: 'ignore-flaky', Service: {Service: 'web', IgnoreCheckIDs: ['flaky']}})
    assert.deepEqual(ports(await execute(ignore)), [8001, 8002, 8003])
    await create({Name: 'not-v1', Service: {Service: 'web', Tags: ['!V1'], IgnoreCheckIDs: ['flaky']}})
    assert.deepEqual(ports(await execute('not-v1')), [8002, 8003])
    await create({Name: 'rack-b-v2', Service: {Service: 'web', NodeMeta: {rack: 'b'}, ServiceMeta: {ver: '2'}}})
    assert.deepEqual(ports(await execute('rack-b-v2')), [8002])
    assert.equal((await execute('ignore-flaky', '?limit=2')).Nodes.length, 2)
    // Without a Near source the order is shuffled per execution (3 instances: 6 orders).
    const orders = new Set<string>()
    for (let i = 0; i < 30; i++) orders.add((await execute('ignore-flaky')).Nodes.map((n: any) => n.Node.Node).join())
    assert.ok(orders.size > 1, `one order in 30 executions: ${[...orders].join(' | ')}`)
    // ?near=<node> (or the query's Near) sorts by RTT from that node's coordinate, the node itself first.
    const coord = (x: number) => ({Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5})
    for (const [node, x] of [['n1', 0], ['n2', 0.02], ['n3', 0.01]] as const) {
      assert.equal((await http(addr(), 'PUT', '/v1/coordinate/update', JSON.stringify({Node: node, Coord: coord(x)}))).status, 200)
    }
    await until('the coordinates stored', async () => (await http(addr(), 'GET', '/v1/coordinate/node/n2')).status === 200, 15_000)
    const inOrder = (answer: any) => (answer.Nodes as any[]).map((n) => n.Service.Port)
    assert.deepEqual(inOrder(await execute('ignore-flaky', '?near=n1')), [8001, 8003, 8002])
    assert.deepEqual(inOrder(await execute('ignore-flaky', '?near=n2')), [8002, 8003, 8001])
    await create({Name: 'near-n3', Service: {Service: 'web', IgnoreCheckIDs: ['flaky'], Near: 'n3'}})
    // n1 and n2 are equally far from n3: after n3 their order is the shuffle's.
    const nearN3 = inOrder(await execute('near-n3'))
    assert.equal(nearN3[0], 8003)
    assert.deepEqual([...nearN3].sort(), [8001, 8002, 8003])
    const bad = await http(addr(), 'GET', '/v1/query/ignore-flaky/execute?limit=many')
    assert.equal(bad.status, 400)
    assert.match(bad.text, /^Bad limit: /)
    const connect = await http(addr(), 'GET', '/v1/query/ignore-flaky/execute?connect=true')
    assert.equal(connect.status, 400)
    assert.match(connect.text, /no service mesh/)
  })

  it('templates: longest name prefix wins, Regexp captures render, RemoveEmptyTags drops empty tags', async () => {
    const create = async (body: object) => {
      const res = await http(addr(), 'POST', '/v1/query', JSON.stringify(body))
      assert.equal(res.status, 200, res.text)
      return res.json<{ID: string}>().ID
    }
    await create({Name: '', Template: {Type: 'name_prefix_match'}, Service: {Service: '${name.full}'}})
    await create({
      Name: 'geo-', Template: {Type: 'name_prefix_match', Regexp: '^geo-(\\w+?)(?:-(v\\d))?$', RemoveEmptyTags: true},
      Service: {Service: '${match(1)}', Tags: ['${match(2)}'], IgnoreCheckIDs: ['flaky']},
    })
    // "web" matches only the catch-all template: service "web".
    assert.deepEqual(ports(await execute('web')), [8001, 8002])
    const explained = (await http(addr(), 'GET', '/v1/query/geo-web-v2/explain')).json<any>()
    assert.equal(explained.Query.Service.Service, 'web')
    assert.deepEqual(explained.Query.Service.Tags, ['v2'])
    assert.deepEqual(ports(await execute('geo-web-v2')), [8002, 8003])
    const noTag = (await http(addr(), 'GET', '/v1/query/geo-web/explain')).json<any>()
    assert.deepEqual(noTag.Query.Service.Tags, [], 'the empty rendered tag is removed')
    assert.deepEqual(ports(await execute('geo-web')), [8001, 8002, 8003])
    const byId = (await http(addr(), 'GET', '/v1/query')).json<any[]>().find((q) => q.Name === 'geo-')
    const refused = await http(addr(), 'GET', `/v1/query/${byId.ID}/execute`)
    assert.equal(refused.status, 400)
    assert.match(refused.text, /templates can only be resolved up by name/)
  })

  it('a query bound to a session disappears with the session', async () => {
    const {ID: session} = await consul.session.create({Name: 'owner'})
    const res = await http(addr(), 'POST', '/v1/query', JSON.stringify({Session: session, Service: {Service: 'web'}}))
    assert.equal(res.status, 200, res.text)
    const id = res.json<{ID: string}>().ID
    assert.equal((await http(addr(), 'GET', `/v1/query/${id}`)).status, 200)
    await consul.session.destroy(session)
    assert.equal((await http(addr(), 'GET', `/v1/query/${id}`)).status, 404)
  })

  it('DNS <name>.query.consul answers A, AAAA and SRV with the query\'s TTL; an unknown query is NXDOMAIN', async () => {
    await http(addr(), 'POST', '/v1/query', JSON.stringify({Name: 'dns-web', Service: {Service: 'web', OnlyPassing: true}, DNS: {TTL: '33s'}}))
    const a = await dnsUdp(dnsPort, 'dns-web.query.consul', 'A')
    assert.equal(a.rcode, 'NOERROR')
    assert.deepEqual(a.answers?.map((r: any) => [r.data, r.ttl]), [['10.0.0.1', 33]])
    const srv = await dnsUdp(dnsPort, 'dns-web.query.dc1.consul', 'SRV')
    assert.deepEqual(srv.answers?.map((r: any) => [r.data.port, r.ttl]), [[8001, 33]])
    // AAAA: an instance with an IPv6 service address.
    const reg = await http(addr(), 'PUT', '/v1/catalog/register', JSON.stringify({Node: 'n6', Address: '10.0.0.6', Service: {ID: 'v6', Service: 'web6', Address: '2001:db8::6', Port: 8006}}))
    assert.equal(reg.status, 200, reg.text)
    await http(addr(), 'POST', '/v1/query', JSON.stringify({Name: 'dns-web6', Service: {Service: 'web6'}, DNS: {TTL: '7s'}}))
    const aaaa = await dnsUdp(dnsPort, 'dns-web6.query.consul', 'AAAA')
    assert.deepEqual(aaaa.answers?.map((r: any) => [r.type, r.data, r.ttl]), [['AAAA', '2001:db8::6', 7]])
    const none = await dnsUdp(dnsPort, 'no-such-query.query.consul', 'A')
    assert.equal(none.rcode, 'NXDOMAIN')
  })

  it('every malformed definition is 400 with Consul\'s reason', async () => {
    const cases: Array<[unknown, string | RegExp]> = [
      [{Name: 'x'}, 'Invalid prepared query: Must provide a Service name to query'],
      [{Service: {Service: 'web'}}, 'Invalid prepared query: Must be bound to a session'],
      [{Name: 'x', Service: {Service: 'web', Failover: {NearestN: -1}}}, "Invalid prepared query: Bad NearestN '-1', must be >= 0"],
      [{Name: 'x', Service: {Service: 'web'}, DNS: {TTL: 'soon'}}, /^Invalid prepared query: Bad DNS TTL 'soon': /],
      [{Name: 'x', Service: {Service: 'web'}, Token: '<hidden>'}, /it looks like a query definition with a redacted token was submitted/],
      [{Name: 't', Template: {Type: 'suffix_match'}, Service: {Service: 'web'}}, "failed compiling template: Bad Template.Type 'suffix_match'"],
      [{Name: 't', Template: {Type: 'name_prefix_match', Regexp: '(unclosed'}, Service: {Service: 'web'}}, /^failed compiling template: Bad Regexp: /],
      [{Name: 't', Template: {Type: 'name_prefix_match'}, Service: {Service: '${nope}'}}, /^failed compiling template: Bad format '\$\{nope\}' in Service\.Service/],
      [{Name: 'x', Service: {Service: 'web', Failover: {Targets: [{Peer: 'p1'}]}}}, /no cluster peering/],
      [{Name: 'x', Service: {Service: 'web', Failover: {Datacenters: ['dc-typo']}}}, /^Invalid prepared query: failover datacenter "dc-typo" is not a known datacenter/],
      [{Name: 'x', Service: {Service: 'web', Failover: {Targets: [{Datacenter: 'dc-typo'}]}}}, /^Invalid prepared query: failover datacenter "dc-typo" is not a known datacenter/],
      [{Name: 'x', Service: {Service: 'web', Connect: {Enabled: true}}}, /no service mesh/],
      [{Name: 'x', Session: 'not-a-session', Service: {Service: 'web'}}, 'invalid session "not-a-session"'],
      [{Name: 'dns-web', Service: {Service: 'web'}}, "name 'dns-web' aliases an existing query name"],
      [{ID: 'mine', Name: 'x', Service: {Service: 'web'}}, 'ID must be empty when creating a new prepared query'],
      [{Name: 5, Service: {Service: 'web'}}, 'Request decode failed: Name must be a string'],
      ['[', /^Failed to parse body/],
    ]
    for (const [body, reason] of cases) {
      const res = await http(addr(), 'POST', '/v1/query', typeof body === 'string' ? body : JSON.stringify(body))
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${res.text}`)
      if (typeof reason === 'string') assert.equal(res.text, reason)
      else assert.match(res.text, reason)
    }
    const update = await http(addr(), 'PUT', '/v1/query/00000000-0000-0000-0000-000000000000', JSON.stringify({Name: 'x', Service: {Service: 'web'}}))
    assert.equal(update.status, 404)
    assert.equal(update.text, "Cannot modify non-existent prepared query: '00000000-0000-0000-0000-000000000000'")
    assert.equal((await http(addr(), 'PUT', '/v1/query/abc/execute')).status, 405)
  })
})
