// Consul's documented example configs (Consul docs: agent/config/config-files, services and checks
// definitions, watches), written as HCL, start a real agent with the same runtime config as their
// JSON twins: /v1/agent/self Config and DebugConfig, and the registered services and checks, match.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

/** The examples, file by file: [name, HCL, the JSON twin]. */
const EXAMPLES: Array<[string, string, unknown]> = [
  ['agent', `
datacenter = "east-aws"
log_level = "INFO"
node_name = "foobar"
server = true
enable_local_script_checks = true
node_meta {
  instance_type = "t2.medium"
}
ports {
  dns = 8600
}
telemetry {
  statsite_address = "127.0.0.1:2180"
}
`, {datacenter: 'east-aws', log_level: 'INFO', node_name: 'foobar', server: true, enable_local_script_checks: true, node_meta: {instance_type: 't2.medium'}, ports: {dns: 8600}, telemetry: {statsite_address: '127.0.0.1:2180'}}],
  ['redis', `
service {
  name = "redis"
  id = "redis"
  port = 80
  tags = ["primary"]
  meta = {
    custom_meta_key = "custom_meta_value"
  }
  tagged_addresses = {
    lan = {
      address = "192.168.0.55"
      port = 8000
    }
    wan = {
      address = "198.18.0.23"
      port = 80
    }
  }
  check {
    id = "redis-tcp"
    name = "redis TCP"
    tcp = "localhost:6379"
    interval = "10s"
    timeout = "1s"
  }
}
`, {service: {name: 'redis', id: 'redis', port: 80, tags: ['primary'], meta: {custom_meta_key: 'custom_meta_value'},
    tagged_addresses: {lan: {address: '192.168.0.55', port: 8000}, wan: {address: '198.18.0.23', port: 80}},
    check: {id: 'redis-tcp', name: 'redis TCP', tcp: 'localhost:6379', interval: '10s', timeout: '1s'}}}],
  ['web', `
services {
  name = "web"
  port = 8080
  checks = [
    {
      id = "api"
      name = "HTTP API on port 5000"
      http = "https://localhost:5000/health"
      tls_server_name = ""
      tls_skip_verify = false
      method = "POST"
      header = {
        "Content-Type" = ["application/json"]
      }
      body = "{\\"method\\":\\"health\\"}"
      interval = "10s"
      timeout = "1s"
    },
    {
      id = "web-ttl"
      name = "Web TTL"
      notes = "Web app does a curl internally every 10 seconds"
      ttl = "30s"
    }
  ]
}
services {
  name = "admin"
  port = 9090
}
`, {services: [
    {name: 'web', port: 8080, checks: [
      {id: 'api', name: 'HTTP API on port 5000', http: 'https://localhost:5000/health', tls_server_name: '', tls_skip_verify: false, method: 'POST',
        header: {'Content-Type': ['application/json']}, body: '{"method":"health"}', interval: '10s', timeout: '1s'},
      {id: 'web-ttl', name: 'Web TTL', notes: 'Web app does a curl internally every 10 seconds', ttl: '30s'},
    ]},
    {name: 'admin', port: 9090},
  ]}],
  ['checks', `
check {
  id = "mem-util"
  name = "Memory utilization"
  args = ["/bin/true"]
  interval = "10s"
  timeout = "1s"
}
checks = [
  {
    id = "ssh"
    name = "SSH TCP on port 22"
    tcp = "localhost:22"
    interval = "10s"
    timeout = "1s"
  },
  {
    id = "dns"
    name = "DNS UDP on port 53"
    udp = "localhost:53"
    interval = "10s"
  },
  {
    id = "web-alias"
    name = "Web alias"
    alias_service = "web"
  }
]
`, {check: {id: 'mem-util', name: 'Memory utilization', args: ['/bin/true'], interval: '10s', timeout: '1s'},
    checks: [
      {id: 'ssh', name: 'SSH TCP on port 22', tcp: 'localhost:22', interval: '10s', timeout: '1s'},
      {id: 'dns', name: 'DNS UDP on port 53', udp: 'localhost:53', interval: '10s'},
      {id: 'web-alias', name: 'Web alias', alias_service: 'web'},
    ]}],
  ['watches', `
watches = [
  {
    type = "key"
    key = "foo/bar/baz"
    handler_type = "script"
    args = ["/bin/true"]
  },
  {
    type = "checks"
    handler_type = "http"
    http_handler_config {
      path = "https://localhost:8000/watch"
      method = "POST"
      header = {
        "x-foo" = ["bar", "baz"]
      }
      timeout = "10s"
      tls_skip_verify = false
    }
  }
]
`, {watches: [
    {type: 'key', key: 'foo/bar/baz', handler_type: 'script', args: ['/bin/true']},
    {type: 'checks', handler_type: 'http', http_handler_config: {path: 'https://localhost:8000/watch', method: 'POST', header: {'x-foo': ['bar', 'baz']}, timeout: '10s', tls_skip_verify: false}},
  ]}],
]

describe("Consul's documented example configs: HCL and JSON twins", () => {
  const dir = tempDir('coord-hcl-twins-')
  const agents: Record<'hcl' | 'json', TestAgent | undefined> = {hcl: undefined, json: undefined}
  before(async () => {
    for (const format of ['hcl', 'json'] as const) {
      const conf = join(dir.path, format)
      mkdirSync(conf)
      for (const [name, hcl, json] of EXAMPLES) writeFileSync(join(conf, `${name}.${format}`), format === 'hcl' ? hcl : JSON.stringify(json, null, 2))
    }
    ;[agents.hcl, agents.json] = await Promise.all((['hcl', 'json'] as const).map((format) => startAgent({args: [`-config-dir=${join(dir.path, format)}`]})))
  })
  after(async () => {
    await Promise.all(Object.values(agents).map((agent) => agent?.stop()))
    dir.cleanup()
  })

  const get = async (format: 'hcl' | 'json', path: string) => (await http(agents[format]!.httpAddr, 'GET', path)).json<Record<string, unknown>>()

  it('/v1/agent/self: the same Config and DebugConfig', async () => {
    const [hcl, json] = await Promise.all([get('hcl', '/v1/agent/self'), get('json', '/v1/agent/self')])
    const config = (self: Record<string, unknown>) => ({...self.Config as object, NodeID: undefined})
    assert.deepEqual(config(hcl), config(json))
    assert.deepEqual(hcl.DebugConfig, json.DebugConfig)
    assert.deepEqual(hcl.Meta, {instance_type: 't2.medium'})
    const debug = hcl.DebugConfig as {Datacenter: string; Services: unknown[]; Checks: unknown[]; Watches: unknown[]}
    assert.equal(debug.Datacenter, 'east-aws')
    assert.equal(debug.Services.length, 3, 'redis, web and admin')
    assert.equal(debug.Checks.length, 4, 'mem-util and the three of the checks list')
    assert.equal(debug.Watches.length, 2)
  })

  it('the same services and checks registered, with the same definitions', async () => {
    for (const path of ['/v1/agent/services', '/v1/agent/checks']) {
      const [hcl, json] = await Promise.all([get('hcl', path), get('json', path)])
      // Check output and status move with time; the definitions do not.
      const stable = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).map(([id, e]) => [id, {...e as object, Output: undefined, Status: undefined}]))
      assert.deepEqual(stable(hcl), stable(json), path)
    }
    const services = await get('hcl', '/v1/agent/services')
    assert.deepEqual(Object.keys(services).sort(), ['admin', 'redis', 'web'])
    assert.deepEqual((services.redis as {TaggedAddresses: unknown}).TaggedAddresses, {lan: {Address: '192.168.0.55', Port: 8000}, wan: {Address: '198.18.0.23', Port: 80}})
    const checks = await get('hcl', '/v1/agent/checks')
    assert.deepEqual(Object.keys(checks).sort(), ['api', 'dns', 'mem-util', 'redis-tcp', 'ssh', 'web-alias', 'web-ttl'])
    assert.equal((checks.api as {Type: string}).Type, 'http')
    assert.equal((checks['web-alias'] as {Type: string}).Type, 'alias')
  })
})
