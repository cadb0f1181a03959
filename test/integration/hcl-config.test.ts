// A Consul-style config directory, HCL and JSON mixed, starts a real agent: the services and checks
// of both formats are registered, in Consul's file order.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

describe('an HCL config directory', () => {
  const dir = tempDir('coord-hcl-dir-')
  let agent: TestAgent
  before(async () => {
    const conf = join(dir.path, 'consul.d')
    mkdirSync(conf)
    writeFileSync(join(conf, 'consul.hcl'), 'log_level = "DEBUG"\nsession_ttl_min = "1s"\n')
    writeFileSync(join(conf, 'web.hcl'), `
service {
  name = "web"
  tags = ["primary"]
  port = 8080
  check {
    id = "web-ttl"
    name = "web alive"
    ttl = "30s"
  }
}
`)
    writeFileSync(join(conf, 'workers.hcl'), 'services { name = "worker-a" }\nservices { name = "worker-b" port = 9000 }\n')
    writeFileSync(join(conf, 'db.json'), JSON.stringify({service: {name: 'db', port: 5432}}))
    agent = await startAgent({args: [`-config-dir=${conf}`]})
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('registers the services and checks of every HCL and JSON file', async () => {
    const services = (await http(agent.httpAddr, 'GET', '/v1/agent/services')).json<Record<string, {Service: string; Port: number; Tags: string[]}>>()
    assert.deepEqual(Object.values(services).map((s) => `${s.Service}:${s.Port}`).sort(), ['db:5432', 'web:8080', 'worker-a:0', 'worker-b:9000'])
    assert.deepEqual(services.web.Tags, ['primary'])
    const checks = (await http(agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, {Name: string; ServiceName: string; Status: string}>>()
    assert.equal(checks['web-ttl']?.Name, 'web alive')
    assert.equal(checks['web-ttl']?.ServiceName, 'web')
  })

  it('applies the HCL agent keys (log level)', () => {
    assert.match(agent.output(), /\[DEBUG\]/)
  })
})
