// HCL config files decode as Consul's do: blocks that may appear once become objects, the
// definition lists (services, checks, watches) stay lists, and each documented example gives the
// same built config as its JSON twin.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildConfig} from '../../../src/lib/agent/config.js'
import {parseHclConfig} from '../../../src/lib/agent/hcl-config.js'

describe('HCL config files', () => {
  it("turns a block given once into an object and keeps definition lists as lists (Consul's PatchSliceOfMaps)", () => {
    const raw = parseHclConfig(`
      ports { http = 8501 dns = 8601 }
      service {
        name = "web"
        check { id = "web-http" http = "http://localhost/health" interval = "10s" }
      }
      services { name = "a" }
      services { name = "b" checks = [{ ttl = "30s" }] }
      watches = [{ type = "key" key = "foo" args = ["/bin/true"] }]
      retry_join = ["10.0.0.1", "10.0.0.2"]
      empty = []
    `)
    assert.deepEqual(raw, {
      ports: {http: 8501, dns: 8601},
      service: {name: 'web', check: {id: 'web-http', http: 'http://localhost/health', interval: '10s'}},
      services: [{name: 'a'}, {name: 'b', checks: [{ttl: '30s'}]}],
      watches: [{type: 'key', key: 'foo', args: ['/bin/true']}],
      retry_join: ['10.0.0.1', '10.0.0.2'],
      empty: [],
    })
  })

  it('reports a syntax error with its line and column, and a block repeated where one is allowed', () => {
    assert.throws(() => parseHclConfig('datacenter = "dc1"\nports {\n  http = \n}'), /^Error: At 4:\d+: object expected closing RBRACE/)
    assert.throws(() => parseHclConfig('ports { http = 1 }\nports { dns = 2 }'), /ports: only one block is allowed here, found 2/)
    assert.deepEqual(parseHclConfig('  \n'), {})
  })

  it("builds the same config from Consul's documented server and service examples as from their JSON twins", () => {
    const dir = mkdtempSync(join(tmpdir(), 'coord-hcl-'))
    try {
      const hcl = `
        datacenter = "dc1"
        data_dir = "${dir}"
        server = true
        bootstrap_expect = 3
        bind_addr = "127.0.0.1"
        client_addr = "127.0.0.1"
        retry_join = ["127.0.0.2", "127.0.0.3"]
        log_level = "INFO"
        ui_config { enabled = true }
        ports { http = 8500 dns = 8600 }
        session_ttl_min = "5s"
        service {
          name = "web"
          tags = ["primary", "v1"]
          port = 80
          meta { version = "1.2" }
          check {
            id = "web-http"
            name = "HTTP on port 80"
            http = "http://localhost:80/health"
            interval = "10s"
            timeout = "1s"
          }
        }
        watches = [
          { type = "keyprefix" prefix = "app/" handler_type = "script" args = ["/usr/bin/true"] }
        ]
      `
      const json = {
        datacenter: 'dc1', data_dir: dir, server: true, bootstrap_expect: 3, bind_addr: '127.0.0.1', client_addr: '127.0.0.1',
        retry_join: ['127.0.0.2', '127.0.0.3'], log_level: 'INFO', ui_config: {enabled: true}, ports: {http: 8500, dns: 8600},
        session_ttl_min: '5s',
        service: {name: 'web', tags: ['primary', 'v1'], port: 80, meta: {version: '1.2'}, check: {id: 'web-http', name: 'HTTP on port 80', http: 'http://localhost:80/health', interval: '10s', timeout: '1s'}},
        watches: [{type: 'keyprefix', prefix: 'app/', handler_type: 'script', args: ['/usr/bin/true']}],
      }
      const fromHcl = buildConfig(parseHclConfig(hcl), {dev: false})
      const fromJson = buildConfig(json, {dev: false})
      assert.deepEqual(fromHcl, fromJson)
      assert.equal(fromHcl.services.length, 1, 'the service block is one service')
      assert.equal(fromHcl.watches.length, 1, 'the watch list is one watch')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
