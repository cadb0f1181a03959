// The agent's own services and checks against real agents: HTTP and config-file registration,
// TTL checks, maintenance, reload (HTTP, CLI, SIGHUP), persistence across a restart, anti-entropy
// into the catalog, coord services|maint|reload, and the npm `consul` client's agent calls.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, useAgent, type TestAgent} from '../helpers/agent.js'
import {consulClient, http, sleep} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

describe('agent local services and checks (one agent with a data dir and a config dir)', () => {
  const dir = tempDir('coord-agent-local-')
  const conf = join(dir.path, 'conf')
  const data = join(dir.path, 'data')
  let agent: TestAgent
  const start = () => startAgent({dataDir: data, args: [`-config-dir=${conf}`]})
  const put = (path: string, body?: unknown) => http(agent.httpAddr, 'PUT', path, body === undefined ? undefined : JSON.stringify(body))
  const get = (path: string) => http(agent.httpAddr, 'GET', path)
  const services = async () => (await get('/v1/agent/services')).json<Record<string, any>>()
  const checks = async () => (await get('/v1/agent/checks')).json<Record<string, any>>()

  before(async () => {
    mkdirSync(conf)
    writeFileSync(join(conf, 'api.json'), JSON.stringify({service: {name: 'api', port: 9000, tags: ['v1'], check: {ttl: '30s', status: 'passing'}}}))
    agent = await start()
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('serves services and checks from config files', async () => {
    const api = (await services()).api
    assert.equal(api.Service, 'api')
    assert.equal(api.Port, 9000)
    assert.deepEqual(api.Tags, ['v1'])
    const check = (await checks())['service:api']
    assert.equal(check.Status, 'passing')
    assert.equal(check.ServiceName, 'api')
    assert.equal(check.Node, 'test-node')
  })

  it('registers a service over HTTP; GET /v1/agent/service/:id carries a ContentHash', async () => {
    const res = await put('/v1/agent/service/register', {Name: 'web', ID: 'web-1', Port: 80, Tags: ['a'], Meta: {team: 'edge'}, Check: {TTL: '10s'}})
    assert.equal(res.status, 200)
    assert.equal(res.text, '')
    const one = await get('/v1/agent/service/web-1')
    assert.equal(one.status, 200)
    const body = one.json<any>()
    assert.equal(body.Service, 'web')
    assert.deepEqual(body.Meta, {team: 'edge'})
    assert.equal(one.headers['x-consul-contenthash'], body.ContentHash)
    assert.equal((await get('/v1/agent/service/nope')).status, 404)
    // Hash-based blocking: parks while the service keeps that hash, answers once it changes.
    const started = Date.now()
    const blocked = get(`/v1/agent/service/web-1?hash=${body.ContentHash}&wait=20s`)
    await sleep(300)
    await put('/v1/agent/service/register', {Name: 'web', ID: 'web-1', Port: 80, Tags: ['a'], Meta: {team: 'core'}})
    const woken = await blocked
    assert.equal(woken.json<any>().Meta.team, 'core')
    assert.notEqual(woken.json<any>().ContentHash, body.ContentHash)
    assert.ok(Date.now() - started < 15_000, 'woken by the change, not by the 20 s wait')
    assert.ok((await checks())['service:web-1'], 're-registering without checks keeps them')
    const filtered = (await get(`/v1/agent/services?filter=${encodeURIComponent('"a" in Tags')}`)).json<Record<string, unknown>>()
    assert.deepEqual(Object.keys(filtered), ['web-1'])
    const critical = (await get(`/v1/agent/checks?filter=${encodeURIComponent('ServiceName == "web"')}`)).json<Record<string, unknown>>()
    assert.deepEqual(Object.keys(critical), ['service:web-1'])
    assert.equal((await get('/v1/agent/services?filter=Bogus%20==%201')).status, 400)
  })

  it('TTL checks: pass, warn, fail, update, and the agent health endpoint codes', async () => {
    const health = () => get('/v1/agent/health/service/id/web-1')
    assert.equal((await health()).status, 503, 'a new check starts critical')
    assert.equal((await put('/v1/agent/check/pass/service:web-1?note=ok')).status, 200)
    let h = await health()
    assert.equal(h.status, 200)
    assert.equal(h.json<any>().AggregatedStatus, 'passing')
    assert.equal(h.json<any>().Checks.find((c: any) => c.CheckID === 'service:web-1').Output, 'ok')
    await put('/v1/agent/check/warn/service:web-1')
    h = await http(agent.httpAddr, 'GET', '/v1/agent/health/service/name/web?format=text')
    assert.equal(h.status, 429)
    assert.equal(h.text, 'warning')
    await put('/v1/agent/check/fail/service:web-1?note=down')
    assert.equal((await health()).status, 503)
    assert.equal((await put('/v1/agent/check/update/service:web-1', {Status: 'passing', Output: 'back'})).status, 200)
    assert.equal((await checks())['service:web-1'].Output, 'back')
    const bad = await put('/v1/agent/check/update/service:web-1', {Status: 'fine'})
    assert.equal(bad.status, 400)
    assert.equal((await put('/v1/agent/check/pass/nope')).status, 404)
    const unknown = await get('/v1/agent/health/service/name/nope')
    assert.equal(unknown.status, 404)
    assert.equal(unknown.text, '[]')
  })

  it('a TTL check that misses its deadline turns critical with "TTL expired"', async () => {
    assert.equal((await put('/v1/agent/check/register', {Name: 'beat', TTL: '500ms', Status: 'passing'})).status, 200)
    const started = Date.now()
    const output = await until('the TTL to expire', async () => {
      const check = (await checks()).beat
      return check.Status === 'critical' ? check.Output as string : undefined
    })
    assert.equal(output, 'TTL expired')
    // Measured, not asserted tightly: reported in the notes.
    assert.ok(Date.now() - started < 10_000)
    assert.equal((await put('/v1/agent/check/deregister/beat')).status, 200)
    assert.equal((await checks()).beat, undefined)
  })

  it('refuses bad registrations with one-line 400s and unknown IDs with 404', async () => {
    let res = await put('/v1/agent/service/register', {Port: 1})
    assert.equal(res.status, 400)
    assert.equal(res.text, 'Missing service name')
    res = await put('/v1/agent/service/register', {Name: 's', Check: {Args: ['/bin/true'], Interval: '10s'}})
    assert.equal(res.status, 400)
    assert.equal(res.text, "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true")
    assert.equal((await services()).s, undefined, 'nothing registered')
    res = await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', '{"Name":')
    assert.equal(res.status, 400)
    res = await put('/v1/agent/check/register', {Name: 'c', TTL: '5s', ServiceID: 'ghost'})
    assert.equal(res.status, 400)
    res = await put('/v1/agent/service/deregister/ghost')
    assert.equal(res.status, 404)
    assert.equal(res.text, 'Unknown service ID "ghost". Ensure that the service ID is passed, not the service name.')
  })

  it('maintenance adds and removes the _node_maintenance / _service_maintenance checks', async () => {
    assert.equal((await put('/v1/agent/maintenance?enable=true&reason=patching')).status, 200)
    assert.equal((await checks())._node_maintenance.Notes, 'patching')
    assert.equal((await checks())._node_maintenance.Status, 'critical')
    const h = await get('/v1/agent/health/service/id/api')
    assert.equal(h.status, 503)
    assert.equal(h.json<any>().AggregatedStatus, 'maintenance')
    assert.equal((await put('/v1/agent/maintenance?enable=false')).status, 200)
    assert.equal((await checks())._node_maintenance, undefined)
    assert.equal((await put('/v1/agent/maintenance')).text, 'Missing value for enable')
    assert.equal((await put('/v1/agent/maintenance?enable=maybe')).text, 'Invalid value for enable: "maybe"')
    assert.equal((await put('/v1/agent/service/maintenance/web-1?enable=true')).status, 200)
    const maint = (await checks())['_service_maintenance:web-1']
    assert.equal(maint.Name, 'Service Maintenance Mode')
    assert.equal(maint.Notes, 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.')
    assert.equal((await put('/v1/agent/service/maintenance/ghost?enable=true')).status, 404)
    const list = await runCli(['maint'], {httpAddr: agent.httpAddr})
    assert.equal(list.code, 0)
    assert.equal(list.stdout, 'Service:\n  ID:     web-1\n  Reason: Maintenance mode is enabled for this service, but no reason was provided. This is a default message.\n\n')
    const off = await runCli(['maint', '-disable', '-service=web-1'], {httpAddr: agent.httpAddr})
    assert.equal(off.stdout, 'Service maintenance is now disabled for "web-1"\n')
    assert.equal((await checks())['_service_maintenance:web-1'], undefined)
    const bad = await runCli(['maint', '-reason=x'], {httpAddr: agent.httpAddr})
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /Reason may only be provided with -enable/)
  })

  it('anti-entropy puts the agent\'s services and checks into the catalog and takes them out', async () => {
    const entry = await until('web in the catalog', async () => {
      const list = (await get('/v1/catalog/service/web')).json<any[]>()
      return list.length > 0 ? list[0] : undefined
    })
    assert.equal(entry.Node, 'test-node')
    assert.equal(entry.ServiceID, 'web-1')
    assert.equal(entry.ServicePort, 80)
    const nodeChecks = (await get('/v1/health/node/test-node')).json<any[]>()
    assert.ok(nodeChecks.some((c) => c.CheckID === 'service:web-1'))
    assert.ok(nodeChecks.some((c) => c.CheckID === 'serfHealth'), 'the leader\'s serfHealth stays')
    await put('/v1/agent/service/deregister/web-1')
    await until('web out of the catalog', async () => ((await get('/v1/catalog/service/web')).json<any[]>().length === 0 ? true : undefined))
  })

  it('coord services register and deregister, by flags and by file', async () => {
    const reg = await runCli(['services', 'register', '-name=db', '-port=5432', '-tag=primary', '-tag=pg', '-meta=tier=data'], {httpAddr: agent.httpAddr})
    assert.equal(reg.code, 0, reg.stderr)
    assert.equal(reg.stdout, 'Registered service: db\n')
    const db = (await services()).db
    assert.deepEqual(db.Tags, ['primary', 'pg'])
    assert.deepEqual(db.Meta, {tier: 'data'})
    const file = join(dir.path, 'cache.json')
    writeFileSync(file, JSON.stringify({service: {name: 'cache', id: 'cache-1', port: 6379}}))
    assert.equal((await runCli(['services', 'register', file], {httpAddr: agent.httpAddr})).stdout, 'Registered service: cache\n')
    assert.equal((await services())['cache-1'].Port, 6379)
    assert.equal((await runCli(['services', 'deregister', file], {httpAddr: agent.httpAddr})).stdout, 'Deregistered service: cache-1\n')
    assert.equal((await services())['cache-1'], undefined)
    const none = await runCli(['services', 'register'], {httpAddr: agent.httpAddr})
    assert.equal(none.code, 1)
    assert.match(none.stderr, /Service registration requires at least one argument or flags\./)
    const ghost = await runCli(['services', 'deregister', '-id=ghost'], {httpAddr: agent.httpAddr})
    assert.equal(ghost.code, 1)
    assert.match(ghost.stderr, /Unknown service ID "ghost"/)
  })

  it('reload adds, changes and removes config services; a broken file is refused and changes nothing', async () => {
    writeFileSync(join(conf, 'api.json'), JSON.stringify({service: {name: 'api', port: 9100, tags: ['v2']}}))
    writeFileSync(join(conf, 'extra.json'), JSON.stringify({services: [{name: 'extra', port: 1}]}))
    const ok = await runCli(['reload'], {httpAddr: agent.httpAddr})
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, 'Configuration reload triggered\n')
    let all = await services()
    assert.equal(all.api.Port, 9100)
    assert.deepEqual(all.api.Tags, ['v2'])
    assert.equal(all.extra.Port, 1)
    assert.equal((await checks())['service:api'], undefined, 'the check the file no longer has is gone')
    assert.ok(all.db, 'API-registered services survive a reload')

    writeFileSync(join(conf, 'extra.json'), '{"services": [')
    const broken = await runCli(['reload'], {httpAddr: agent.httpAddr})
    assert.equal(broken.code, 1)
    assert.match(broken.stderr, /^Error reloading: .*extra\.json/)
    const res = await put('/v1/agent/reload')
    assert.equal(res.status, 500)
    assert.match(res.text, /extra\.json/)
    assert.match(agent.output(), /\[ERROR\] agent: Failed to reload configs: error=.*extra\.json/, 'the log says why')
    all = await services()
    assert.equal(all.extra.Port, 1, 'the running config stays')

    // SIGHUP reloads too: remove the file, signal, and the service goes.
    writeFileSync(join(conf, 'extra.json'), '{}')
    process.kill(agent.pid, 'SIGHUP')
    await until('extra removed after SIGHUP', async () => ((await services()).extra === undefined ? true : undefined))
  })

  it('an agent restart keeps API registrations and maintenance; config services come from the files', async () => {
    await put('/v1/agent/maintenance?enable=true&reason=restart-test')
    assert.equal((await put('/v1/agent/check/register', {Name: 'hb', TTL: '5m'})).status, 200)
    await put('/v1/agent/check/pass/hb?note=alive')
    await agent.stop()
    // A corrupt persisted file is reported and skipped; the agent still starts.
    writeFileSync(join(data, 'services', 'corrupt'), '{"Service": {"Port": "x"')
    agent = await start()
    assert.match(agent.output(), /\[WARN\] +agent\.local: skipping a persisted service file that cannot be read; fix or remove it: file=\S*corrupt/)
    const all = await services()
    assert.ok(all.db, 'API-registered service restored')
    assert.equal(all.api.Port, 9100)
    assert.equal((await checks())._node_maintenance?.Notes, 'restart-test')
    const hb = (await checks()).hb
    assert.equal(hb.Status, 'passing', 'a TTL check within its TTL keeps its status across a restart')
    assert.equal(hb.Output, 'alive')
    await put('/v1/agent/maintenance?enable=false')
  })
})

describe('npm consul client: agent services and checks', () => {
  const ctx = useAgent()
  let consul: any
  before(() => { consul = consulClient(ctx.agent.httpAddr) })

  it('agent.service.register/list/deregister and agent.check.register/pass/warn/fail/list/deregister', async () => {
    await consul.agent.service.register({name: 'web', id: 'web-1', port: 8080, tags: ['x'], check: {ttl: '30s'}})
    const list = await consul.agent.service.list()
    assert.equal(list['web-1'].Service, 'web')
    assert.equal(list['web-1'].Port, 8080)
    await consul.agent.check.register({name: 'beat', id: 'beat', ttl: '30s', serviceid: 'web-1'})
    await consul.agent.check.pass({id: 'beat', note: 'up'})
    let checks = await consul.agent.check.list()
    assert.equal(checks.beat.Status, 'passing')
    assert.equal(checks.beat.Output, 'up')
    assert.equal(checks.beat.ServiceID, 'web-1')
    await consul.agent.check.warn('beat')
    assert.equal((await consul.agent.check.list()).beat.Status, 'warning')
    await consul.agent.check.fail('beat')
    assert.equal((await consul.agent.check.list()).beat.Status, 'critical')
    await consul.agent.check.deregister('beat')
    checks = await consul.agent.check.list()
    assert.equal(checks.beat, undefined)
    await consul.agent.service.deregister('web-1')
    assert.deepEqual(await consul.agent.service.list(), {})
  })

  it('user events filtered by service reach the agent only while it runs that service', async () => {
    await consul.agent.service.register({name: 'api', tags: ['blue']})
    const names = async () => (await http(ctx.agent.httpAddr, 'GET', '/v1/event/list')).json<any[]>().map((e) => e.Name)
    // The filtered-out one goes first, so by the time the second is listed the first had its chance.
    assert.equal((await http(ctx.agent.httpAddr, 'PUT', '/v1/event/fire/for-db?service=db')).status, 200)
    assert.equal((await http(ctx.agent.httpAddr, 'PUT', '/v1/event/fire/for-api?service=api&tag=blue')).status, 200)
    await until('the api event', async () => ((await names()).includes('for-api') ? true : undefined))
    assert.ok(!(await names()).includes('for-db'), 'an event for a service this agent lacks is dropped')
    await consul.agent.service.deregister('api')
  })
})

describe('HTTP checks run through the check runners and reach the catalog', () => {
  let agent: TestAgent
  let target: Server
  let answer = 200
  before(async () => {
    agent = await startAgent()
    target = createServer((_req, res) => {
      res.statusCode = answer
      res.end(`status ${answer}`)
    })
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  })
  after(async () => {
    await agent.stop()
    await new Promise<void>((resolve) => target.close(() => resolve()))
  })

  it('2xx passing, 429 warning, 500 critical, each within a few intervals', async () => {
    const port = (target.address() as AddressInfo).port
    const res = await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({
      Name: 'probe', Port: port, Check: {HTTP: `http://127.0.0.1:${port}/health`, Interval: '1s', Timeout: '2s'},
    }))
    assert.equal(res.status, 200, res.text)
    const statusOf = async () => (await http(agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, any>>()['service:probe']
    for (const [code, want] of [[200, 'passing'], [429, 'warning'], [500, 'critical']] as const) {
      answer = code
      const started = Date.now()
      const check = await until(`${want} after ${code}`, async () => {
        const c = await statusOf()
        return c.Status === want ? c : undefined
      }, 15_000)
      assert.match(check.Output, new RegExp(`HTTP GET http://127.0.0.1:${port}/health: ${code}`))
      assert.ok(Date.now() - started < 15_000)
    }
    const inCatalog = await until('critical in /v1/health/checks/probe', async () => {
      const list = (await http(agent.httpAddr, 'GET', '/v1/health/checks/probe')).json<any[]>()
      return list.find((c) => c.CheckID === 'service:probe' && c.Status === 'critical')
    }, 15_000)
    assert.equal(inCatalog.ServiceName, 'probe')
  })
})
