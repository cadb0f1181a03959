// The config schema (config-schema.ts) as the one table of keys: unknown, ignored and refused keys
// are judged from it, a reload learns from it which changed keys wait for a restart, and problems
// come out as records naming their key and the file that set it.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildConfig, ConfigError, keySources, mergeRaw} from '../../../src/lib/agent/config.js'
import {CONFIG_SCHEMA, checkKeys, reloadChanges, specOf, supportedKeys} from '../../../src/lib/agent/config-schema.js'

describe('config schema', () => {
  it('every key has a status, plain keys a reader, and the supported keys are the ones buildConfig reads', () => {
    for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
      assert.ok(['supported', 'ignored', 'refused'].includes(spec.status), key)
      if (spec.status === 'supported') assert.ok(spec.read !== undefined, `${key} has no reader`)
      if (spec.status === 'refused') assert.ok((spec.reason ?? '').length > 10, `${key} is refused without a reason`)
    }
    assert.ok(supportedKeys.has('node_meta') && supportedKeys.has('telemetry') && !supportedKeys.has('translate_wan_addrs') && !supportedKeys.has('read_replica'))
    assert.equal(specOf('ports.http')?.read, 'port')
    assert.equal(specOf('ports.nope'), undefined)
  })

  it('judges keys: unknown is a problem, ignored a warning (Enterprise ones say so), refused a problem with its reason', () => {
    const problems: Array<[string, string]> = []
    const warnings: string[] = []
    checkKeys({bogus: 1, translate_wan_addrs: true, partition: 'p', read_replica: true, ports: {http: 1, grpc: 8502, nope: 1}}, {problem: (key, message) => problems.push([key, message]), warn: (w) => warnings.push(w)})
    assert.deepEqual(problems.map(([key]) => key), ['bogus', 'read_replica', 'ports.nope'])
    assert.match(problems[1][1], /^read_replica: read replicas are a Consul Enterprise feature/)
    assert.deepEqual(warnings, [
      'config key "translate_wan_addrs" is accepted but not yet acted on by coord',
      'config key "partition" is ignored: a Consul Enterprise feature',
      'config key "ports.grpc" is accepted but not yet acted on by coord',
    ])
  })

  it('a reload names the changed keys it cannot apply; definitions, log level, UI and TLS it applies', () => {
    const before = {datacenter: 'dc1', log_level: 'info', ports: {http: 8500, dns: 8600}, service: {name: 'a'}, ui_config: {enabled: false}, cert_file: '/a.pem'}
    const after = {datacenter: 'dc2', log_level: 'debug', ports: {http: 8501, dns: 8600}, service: {name: 'b'}, ui_config: {enabled: true}, cert_file: '/b.pem', node_meta: {a: '1'}}
    assert.deepEqual(reloadChanges(before, after).sort(), ['datacenter', 'node_meta', 'ports.http'])
    assert.deepEqual(reloadChanges(before, before), [])
  })

  it('problems are records: the key they are about, the file that set it, the line as printed', () => {
    const a = {path: '/etc/coord/a.json', raw: {ports: {http: 'x'}, node_meta: {'consul-x': '1'}}}
    const b = {path: '/etc/coord/b.json', raw: {ports: {dns: 1}, raft_protocol: 2}}
    try {
      buildConfig(mergeRaw(a.raw, b.raw), {dev: true, sources: keySources([a, b])})
      assert.fail('expected a ConfigError')
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      assert.deepEqual(error.records.map(({file, key}) => [file, key]), [
        ['/etc/coord/a.json', 'ports.http'],
        ['/etc/coord/a.json', 'node_meta'],
        ['/etc/coord/b.json', 'raft_protocol'],
      ])
      assert.equal(error.problems[0], '/etc/coord/a.json: ports.http: expected a port number (-1 to disable), got "x"')
      assert.equal(error.records[2].message, 'raft_protocol: coord speaks Raft protocol 3 only (servers named by node ID), got 2')
    }
  })
})
