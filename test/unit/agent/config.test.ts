import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildConfig, ConfigError, mergeRaw} from '../../../src/lib/agent/config.js'
import {rawConfigFromFlags} from '../../../src/lib/agent/flags-config.js'

describe('agent config', () => {
  it('dev mode defaults: in-memory server on 127.0.0.1:8500 with DEBUG logs', () => {
    const config = buildConfig({}, {dev: true})
    assert.equal(config.server, true)
    assert.equal(config.dataDir, '')
    assert.deepEqual(config.clientAddrs, ['127.0.0.1'])
    assert.equal(config.ports.http, 8500)
    assert.equal(config.logLevel, 'debug')
    assert.equal(config.sessionTtlMinMs, 10_000)
    assert.equal(config.kvMaxValueSize, 524288)
    assert.ok(Object.isFrozen(config))
  })

  it('flags win over files, and untyped flags do not override files', () => {
    const file = {ports: {http: 9000, dns: 9600}, node_name: 'from-file', log_level: 'warn'}
    const flags = rawConfigFromFlags({'http-port': '9500', node: 'ignored', 'log-level': ''}, new Set(['http-port']))
    const config = buildConfig(mergeRaw(file, flags), {dev: true})
    assert.equal(config.ports.http, 9500)
    assert.equal(config.ports.dns, 9600)
    assert.equal(config.nodeName, 'from-file')
    assert.equal(config.logLevel, 'warn')
  })

  it('reports every problem, naming the key', () => {
    try {
      buildConfig({ports: {http: 'x'}, log_level: 'loud', bogus_key: 1, session_ttl_min: 'soon', limits: {kv_max_value_size: -1}}, {dev: true})
      assert.fail('expected a ConfigError')
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      const text = error.problems.join('\n')
      assert.match(text, /invalid config key bogus_key/)
      assert.match(text, /ports\.http: expected a port number/)
      assert.match(text, /log_level: expected one of/)
      assert.match(text, /session_ttl_min: expected a duration/)
      assert.match(text, /limits\.kv_max_value_size: expected a positive integer/)
      assert.equal(error.problems.length, 5)
    }
  })

  it('requires a data dir outside -dev', () => {
    assert.throws(() => buildConfig({}, {dev: false}), /data_dir: must be set/)
    assert.doesNotThrow(() => buildConfig({data_dir: '/tmp/x', server: true}, {dev: false}))
  })

  it('runs a client agent without -server, and refuses bootstrapping one', () => {
    const client = buildConfig({data_dir: '/tmp/x', retry_join: ['127.0.0.2']}, {dev: false})
    assert.equal(client.server, false)
    assert.throws(() => buildConfig({data_dir: '/tmp/x', bootstrap_expect: 3}, {dev: false}), /bootstrap_expect: 'bootstrap_expect > 0' requires 'server = true'/)
    assert.throws(() => buildConfig({data_dir: '/tmp/x', bootstrap: true}, {dev: false}), /bootstrap: 'bootstrap = true' requires 'server = true'/)
    assert.throws(() => buildConfig({data_dir: '/tmp/x', ports: {serf_lan: -1}}, {dev: false}), /ports\.serf_lan: a client agent finds its servers through LAN gossip/)
  })

  it('accepts Consul keys it does not act on yet, with a warning', () => {
    const warnings: string[] = []
    buildConfig({telemetry: {}, pid_file: '/tmp/x.pid'}, {dev: true, warn: (w) => warnings.push(w)})
    assert.equal(warnings.length, 2)
  })

  it('lets an operator lower session_ttl_min', () => {
    assert.equal(buildConfig({session_ttl_min: '1s'}, {dev: true}).sessionTtlMinMs, 1000)
  })
})
