// /v1/catalog/* and /v1/health/* on a real agent: register/deregister, every endpoint's shape,
// ?passing, ?tag, ?node-meta, ?near, ?filter, bad input, blocking queries that wake only for the
// watched service, the npm `consul` client's catalog and health calls, and `coord catalog ...`.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {runCli, startAgent, type TestAgent} from '../helpers/agent.js'
import {consulClient, http, sleep} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

type Json = Record<string, any>

describe('catalog and health HTTP API', () => {
  let agent: TestAgent
  let a: string
  const put = async (path: string, body: unknown) => http(a, 'PUT', path, JSON.stringify(body))
  const get = async (path: string) => {
    const res = await http(a, 'GET', path)
    assert.equal(res.status, 200, `${path}: ${res.text}`)
    return {body: res.json<any>(), index: Number(res.headers['x-consul-index'])}
  }

  before(async () => {
    agent = await startAgent()
    a = agent.httpAddr
    const regs = [
      {Node: 'web-1', Address: '10.0.0.1', NodeMeta: {rack: 'a'}, Service: {ID: 'web1', Service: 'web', Tags: ['v1', 'primary'], Port: 80, Meta: {ver: '1'}},
        Checks: [{CheckID: 'web1-http', Name: 'web http', ServiceID: 'web1', Status: 'passing'}, {CheckID: 'mem', Name: 'memory', Status: 'passing'}]},
      {Node: 'web-2', Address: '10.0.0.2', NodeMeta: {rack: 'b'}, Service: {ID: 'web2', Service: 'web', Tags: ['v2'], Port: 81},
        Checks: [{CheckID: 'web2-http', Name: 'web http', ServiceID: 'web2', Status: 'warning'}]},
      {Node: 'db-1', Address: '10.0.0.3', Service: {Service: 'db', Port: 5432}},
    ]
    for (const body of regs) {
      const res = await put('/v1/catalog/register', body)
      assert.equal(res.status, 200, res.text)
      assert.equal(res.text.trim(), 'true')
    }
  })
  after(async () => { await agent.stop() })

  it('lists datacenters, nodes and services as Consul does', async () => {
    assert.deepEqual((await get('/v1/catalog/datacenters')).body, ['dc1'])
    const {body: nodes, index} = await get('/v1/catalog/nodes')
    assert.deepEqual(nodes.map((n: Json) => n.Node), ['db-1', 'test-node', 'web-1', 'web-2'])
    const web1 = nodes.find((n: Json) => n.Node === 'web-1')
    assert.deepEqual(Object.keys(web1), ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'Meta', 'CreateIndex', 'ModifyIndex'])
    assert.equal(web1.Datacenter, 'dc1')
    assert.deepEqual(web1.Meta, {rack: 'a'})
    assert.ok(index >= web1.ModifyIndex)
    const {body: services} = await get('/v1/catalog/services')
    assert.deepEqual(services, {consul: [], db: [], web: ['primary', 'v1', 'v2']})
    assert.deepEqual((await get('/v1/catalog/services?node-meta=rack:b')).body, {web: ['v2']})
  })

  it('answers catalog/service with ServiceNode fields, ?tag and ?node-meta', async () => {
    const {body} = await get('/v1/catalog/service/web')
    assert.equal(body.length, 2)
    const s = body[0]
    for (const field of ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'NodeMeta', 'ServiceKind', 'ServiceID', 'ServiceName', 'ServiceTags',
      'ServiceAddress', 'ServiceTaggedAddresses', 'ServiceWeights', 'ServiceMeta', 'ServicePort', 'ServiceEnableTagOverride', 'CreateIndex', 'ModifyIndex']) {
      assert.ok(field in s, field)
    }
    assert.equal(s.ServiceID, 'web1')
    assert.deepEqual(s.ServiceWeights, {Passing: 1, Warning: 1})
    assert.deepEqual(s.ServiceMeta, {ver: '1'})
    assert.deepEqual((await get('/v1/catalog/service/web?tag=v2')).body.map((x: Json) => x.ServiceID), ['web2'])
    assert.deepEqual((await get('/v1/catalog/service/web?tag=V1&tag=primary')).body.map((x: Json) => x.ServiceID), ['web1'])
    assert.deepEqual((await get('/v1/catalog/service/web?node-meta=rack:b')).body.map((x: Json) => x.ServiceID), ['web2'])
    assert.deepEqual((await get('/v1/catalog/service/nope')).body, [])
  })

  it('answers catalog/node and node-services, null for an unknown node', async () => {
    const {body} = await get('/v1/catalog/node/web-1')
    assert.equal(body.Node.Node, 'web-1')
    assert.deepEqual(Object.keys(body.Services), ['web1'])
    assert.equal(body.Services.web1.Service, 'web')
    assert.equal(body.Services.web1.Port, 80)
    const list = (await get('/v1/catalog/node-services/web-1')).body
    assert.deepEqual(list.Services.map((x: Json) => x.ID), ['web1'])
    const missing = await http(a, 'GET', '/v1/catalog/node/nope')
    assert.equal(missing.status, 200)
    assert.equal(missing.text.trim(), 'null')
  })

  it('answers health endpoints with HealthCheck fields, ?passing and states', async () => {
    const entries = (await get('/v1/health/service/web')).body
    assert.equal(entries.length, 2)
    assert.deepEqual(Object.keys(entries[0]), ['Node', 'Service', 'Checks'])
    assert.deepEqual(entries[0].Checks.map((c: Json) => c.CheckID), ['mem', 'web1-http'], 'node checks first, then the instance\'s')
    const check = entries[0].Checks[1]
    assert.deepEqual(Object.keys(check), ['Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type',
      'Interval', 'Timeout', 'ExposedPort', 'Definition', 'CreateIndex', 'ModifyIndex'])
    assert.equal(check.ServiceName, 'web')
    assert.deepEqual(check.ServiceTags, ['v1', 'primary'])
    assert.deepEqual((await get('/v1/health/service/web?passing')).body.map((e: Json) => e.Service.ID), ['web1'])
    assert.deepEqual((await get('/v1/health/service/web?passing=false')).body.length, 2)
    assert.deepEqual((await get('/v1/health/checks/web')).body.map((c: Json) => c.CheckID), ['web1-http', 'web2-http'])
    assert.deepEqual((await get('/v1/health/node/web-1')).body.map((c: Json) => c.CheckID), ['mem', 'web1-http'])
    assert.deepEqual((await get('/v1/health/state/warning')).body.map((c: Json) => c.CheckID), ['web2-http'])
    const any = (await get('/v1/health/state/any')).body.map((c: Json) => c.CheckID)
    assert.ok(any.includes('serfHealth') && any.includes('mem'))
    assert.deepEqual((await get('/v1/health/service/nope')).body, [])
  })

  it('filters with ?filter on every shape', async () => {
    const q = (expr: string) => encodeURIComponent(expr)
    assert.deepEqual((await get(`/v1/catalog/nodes?filter=${q('Meta.rack == a')}`)).body.map((n: Json) => n.Node), ['web-1'])
    assert.deepEqual((await get(`/v1/catalog/service/web?filter=${q('"v2" in ServiceTags')}`)).body.map((s: Json) => s.ServiceID), ['web2'])
    assert.deepEqual((await get(`/v1/health/service/web?filter=${q('Checks.Status == warning')}`)).body.map((e: Json) => e.Service.ID), ['web2'])
    assert.deepEqual((await get(`/v1/health/service/web?filter=${q('Service.Port == 80 and Node.Meta.rack == a')}`)).body.length, 1)
    assert.deepEqual((await get(`/v1/health/state/any?filter=${q('ServiceName == db or CheckID == mem')}`)).body.map((c: Json) => c.CheckID), ['mem'])
    assert.deepEqual(Object.keys((await get(`/v1/catalog/node/web-1?filter=${q('Port == 1')}`)).body.Services), [])
    assert.deepEqual((await get(`/v1/catalog/services?filter=${q('ServicePort == 5432')}`)).body, {db: []})
  })

  it('leaves the order alone with ?near of a node that has no coordinate (as Consul)', async () => {
    // RTT sorting itself: test/integration/coordinates.test.ts (these nodes never send coordinates).
    const plain = (await get('/v1/catalog/nodes')).body.map((n: Json) => n.Node)
    assert.deepEqual((await get('/v1/catalog/nodes?near=web-2')).body.map((n: Json) => n.Node), plain)
    assert.deepEqual((await get('/v1/catalog/nodes?near=nobody')).body.map((n: Json) => n.Node), plain)
  })

  it('answers bad input with Consul\'s status and a one-line reason', async () => {
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['GET', '/v1/catalog/nodes?filter=Foo%20%3D%3D%201', undefined, 400, /^Selector "Foo" is not valid$/],
      ['GET', '/v1/health/service/web?filter=%28Service', undefined, 400, /^Failed to create boolean expression evaluator/],
      ['GET', '/v1/health/state/bogus', undefined, 400, /^Invalid check state$/],
      ['GET', '/v1/catalog/service/', undefined, 400, /^Missing service name$/],
      ['GET', '/v1/health/node/', undefined, 400, /^Missing node name$/],
      ['GET', '/v1/catalog/nodes?dc=elsewhere', undefined, 500, /^No path to datacenter$/],
      ['PUT', '/v1/catalog/register', {Address: '1.2.3.4'}, 500, /^Must provide node$/],
      ['PUT', '/v1/catalog/register', {Node: 'x'}, 500, /^Must provide address if SkipNodeUpdate is not set$/],
      ['PUT', '/v1/catalog/register', {Node: 'x', Address: 'y', Check: {Name: 'c', ServiceID: 'none'}}, 500, /^Missing service registration$/],
      ['PUT', '/v1/catalog/register', {Node: 'x', Address: 'y', Service: {Service: 'w', Port: 'eighty'}}, 400, /^Request decode failed: Port/],
      ['PUT', '/v1/catalog/register', {Node: 'x', Address: 'y', Datacenter: 'dc9'}, 500, /^No path to datacenter$/],
      ['PUT', '/v1/catalog/deregister', {}, 500, /^Must provide node$/],
    ]
    for (const [method, path, body, status, message] of cases) {
      const res = await http(a, method, path, body === undefined ? undefined : JSON.stringify(body))
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`)
      assert.match(res.text, message, path)
      assert.ok(!res.text.includes('\n'))
    }
    const broken = await http(a, 'PUT', '/v1/catalog/register', '{"Node":')
    assert.equal(broken.status, 400)
  })

  it('wakes a blocking health/service read only for its own service', async () => {
    const {index} = await get('/v1/health/service/web')
    let answered: {index: number; at: number} | undefined
    const started = Date.now()
    const blocked = http(a, 'GET', `/v1/health/service/web?index=${index}&wait=20s`).then((res) => {
      answered = {index: Number(res.headers['x-consul-index']), at: Date.now() - started}
      return res
    })
    await sleep(300)
    // Another service and an unrelated node change: the web reader must stay parked.
    assert.equal((await put('/v1/catalog/register', {Node: 'db-1', Address: '10.0.0.3', Service: {Service: 'db', Port: 5433}})).status, 200)
    assert.equal((await put('/v1/catalog/register', {Node: 'lonely', Address: '10.9.9.9'})).status, 200)
    await sleep(700)
    assert.equal(answered, undefined, 'a change to db woke the web reader')
    const changedAt = Date.now() - started
    assert.equal((await put('/v1/catalog/register', {Node: 'web-2', Address: '10.0.0.2', NodeMeta: {rack: 'b'}, Checks: [{CheckID: 'web2-http', Name: 'web http', ServiceID: 'web2', Status: 'passing'}]})).status, 200)
    const res = await blocked
    assert.equal(res.status, 200)
    assert.ok(answered!.index > index)
    console.log(`# catalog: blocked health/service read woke ${answered!.at - changedAt} ms after its service changed`)
    assert.deepEqual(res.json<Json[]>().map((e) => e.Checks.at(-1).Status), ['passing', 'passing'])
  })

  it('deregisters a check, a service and a node', async () => {
    await put('/v1/catalog/register', {Node: 'tmp', Address: '10.1.1.1', Service: {Service: 'tmpsvc'}, Checks: [{CheckID: 'c1', Name: 'c1', ServiceID: 'tmpsvc', Status: 'passing'}, {CheckID: 'n1', Name: 'n1', Status: 'passing'}]})
    assert.equal((await put('/v1/catalog/deregister', {Node: 'tmp', CheckID: 'n1'})).text.trim(), 'true')
    assert.deepEqual((await get('/v1/health/node/tmp')).body.map((c: Json) => c.CheckID), ['c1'])
    await put('/v1/catalog/deregister', {Node: 'tmp', ServiceID: 'tmpsvc'})
    assert.deepEqual((await get('/v1/health/node/tmp')).body, [])
    assert.deepEqual((await get('/v1/catalog/service/tmpsvc')).body, [])
    await put('/v1/catalog/deregister', {Node: 'tmp'})
    assert.equal((await http(a, 'GET', '/v1/catalog/node/tmp')).text.trim(), 'null')
  })

  it('works with the npm consul client\'s catalog and health calls', async () => {
    const consul = consulClient(a)
    assert.deepEqual(await consul.catalog.datacenters(), ['dc1'])
    await consul.catalog.register({node: 'npm-node', address: '10.5.5.5', service: {service: 'api', tags: ['t1'], port: 9000}, check: {name: 'api ok', serviceid: 'api', status: 'passing'}})
    const nodes = await consul.catalog.node.list()
    assert.ok(nodes.some((n: Json) => n.Node === 'npm-node'))
    const services = await consul.catalog.service.list()
    assert.deepEqual(services.api, ['t1'])
    const instances = await consul.catalog.service.nodes('api')
    assert.equal(instances[0].ServicePort, 9000)
    const nodeServices = await consul.catalog.node.services('npm-node')
    assert.equal(nodeServices.Services.api.Service, 'api')
    const health = await consul.health.service({service: 'api', passing: true})
    assert.equal(health.length, 1)
    assert.equal(health[0].Checks[0].Status, 'passing')
    assert.equal((await consul.health.checks('api'))[0].CheckID, 'api ok')
    assert.ok((await consul.health.node('npm-node')).length === 1)
    assert.ok((await consul.health.state('passing')).some((c: Json) => c.CheckID === 'api ok'))
    await consul.catalog.deregister({node: 'npm-node'})
    assert.deepEqual(await consul.catalog.service.nodes('api'), [])
  })

  it('prints coord catalog datacenters, nodes and services as Consul does', async () => {
    const dcs = await runCli(['catalog', 'datacenters'], {httpAddr: a})
    assert.equal(dcs.code, 0, dcs.stderr)
    assert.equal(dcs.stdout, 'dc1\n')
    const nodes = await runCli(['catalog', 'nodes', '-service=web'], {httpAddr: a})
    assert.equal(nodes.code, 0, nodes.stderr)
    assert.deepEqual(nodes.stdout.split('\n'), ['Node   ID  Address   DC', 'web-1      10.0.0.1  dc1', 'web-2      10.0.0.2  dc1', ''])
    const detailed = await runCli(['catalog', 'nodes', '-detailed', '-node-meta=rack=a'], {httpAddr: a})
    assert.equal(detailed.code, 0, detailed.stderr)
    assert.match(detailed.stdout, /^Node\s+ID\s+Address\s+DC\s+TaggedAddresses\s+Meta\nweb-1\s+10\.0\.0\.1\s+dc1\s+rack=a\n$/)
    const none = await runCli(['catalog', 'nodes', '-node-meta=rack=zzz'], {httpAddr: a})
    assert.equal(none.code, 0)
    assert.equal(none.stderr, 'No nodes match the given query - try expanding your search.\n')
    const services = await runCli(['catalog', 'services'], {httpAddr: a})
    assert.equal(services.stdout, 'consul\ndb\nweb\n')
    const tags = await runCli(['catalog', 'services', '-tags', '-node=web-1'], {httpAddr: a})
    assert.equal(tags.stdout, 'web      primary,v1\n')
    const extra = await runCli(['catalog', 'services', 'x'], {httpAddr: a})
    assert.equal(extra.code, 1)
    assert.match(extra.stderr, /Too many arguments \(expected 0, got 1\)/)
  })
})
