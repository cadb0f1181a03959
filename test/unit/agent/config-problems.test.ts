// Problems as records from the blocks' own parsers: each parser reports the dotted key the user
// wrote beside the line it prints, and buildConfig labels the record with the file that set that
// key. The key is asserted, not only the text: several keys here cannot be read back from the line
// (a TLS value inherited from `tls.defaults` or an older top-level key is printed under the
// protocol's key).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildConfig, ConfigError, keySources, mergeRaw} from '../../../src/lib/agent/config.js'
import type {ConfigProblem} from '../../../src/lib/agent/config-problems.js'
import {parseWatches} from '../../../src/lib/agent/watch-config.js'
import {readTlsSettings} from '../../../src/lib/tls/config.js'
import {parseDnsConfig} from '../../../src/lib/agent/dns-config.js'

function recorder(): {add(key: string, message: string): void; records: Array<[string, string]>} {
  const records: Array<[string, string]> = []
  return {add: (key, message) => void records.push([key, message]), records}
}

function problemsOf(sources: Array<{path: string; raw: Record<string, unknown>}>): readonly ConfigProblem[] {
  try {
    buildConfig(mergeRaw(...sources.map(({raw}) => raw)), {dev: true, sources: keySources(sources)})
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error))
    return error.records
  }
  return assert.fail('expected a ConfigError')
}

describe('config problems from the block parsers', () => {
  it('every block parser reports the key the user wrote, and the record names the file that set it', () => {
    const a = {path: '/etc/coord/a.json', raw: {
      dns_config: {a_record_limit: -1, soa: {refresh: -2}},
      tls: {defaults: {verify_incoming: 'yes'}},
      watches: [{type: 'key', key: 'a', args: ['x']}, {type: 'nope', args: ['x']}],
      gossip_lan: {probe_interval: 'fast'},
      gossip_wan: {probe_interval: '1s', probe_timeout: '2s'},
      acl: {tokens: {agent: 5}},
    }}
    const b = {path: '/etc/coord/b.json', raw: {
      recursors: ['nope'],
      verify_incoming_https: true,
      http_config: {allow_write_http_from: ['bad']},
      telemetry: {statsd_address: 'nowhere'},
      autopilot: {min_quorum: -1},
    }}
    const records = problemsOf([a, b])
    const want: Array<[file: string, key: string, message: string]> = [
      ['/etc/coord/a.json', 'gossip_lan.probe_interval', 'gossip_lan.probe_interval: expected a positive duration such as "1s", got "fast"'],
      // A rule between two keys is kept under the first one it names.
      ['/etc/coord/a.json', 'gossip_wan.probe_timeout', 'gossip_wan: gossip_wan.probe_timeout (2000) must be less than gossip_wan.probe_interval (1000): indirect probes need the rest of the period'],
      ['/etc/coord/a.json', 'watches[1].type', 'watches[1].type: Unsupported watch type: nope'],
      // recursors is a top-level key read by dns-config.ts: its own file, not dns_config's.
      ['/etc/coord/b.json', 'recursors', 'recursors: invalid recursor address "nope" (want an IP address, optionally with :port)'],
      ['/etc/coord/a.json', 'dns_config.a_record_limit', 'dns_config.a_record_limit: expected an integer from 0 to 65536, got -1'],
      ['/etc/coord/a.json', 'dns_config.soa.refresh', 'dns_config.soa.refresh: expected an integer from 0 to 4294967295, got -2'],
      ['/etc/coord/b.json', 'http_config.allow_write_http_from', 'http_config.allow_write_http_from: invalid CIDR "bad"'],
      ['/etc/coord/a.json', 'acl.tokens.agent', 'acl.tokens.agent: expected a string'],
      ['/etc/coord/b.json', 'telemetry.statsd_address', 'telemetry.statsd_address: expected "host:port" (a UDP address), got "nowhere"'],
      ['/etc/coord/b.json', 'autopilot.min_quorum', 'autopilot.min_quorum: expected a non-negative integer, got -1'],
      // Printed under the protocol that inherited it; kept under the key that was written (https's
      // verify_incoming came from verify_incoming_https instead, so only internal_rpc inherits "yes").
      ['/etc/coord/a.json', 'tls.defaults.verify_incoming', 'tls.internal_rpc.verify_incoming: expected true or false, got "yes"'],
      ['/etc/coord/b.json', 'verify_incoming_https', 'tls.https.verify_incoming: VerifyIncoming set but no CA certificates were provided (ca_file or ca_path)'],
      ['/etc/coord/b.json', 'verify_incoming_https', 'tls.https.verify_incoming: VerifyIncoming set but no certificate (cert_file, key_file) was provided'],
    ]
    assert.deepEqual(records.map(({file, key, message}) => [file, key, message]), want)
  })

  it('the parsers report keys on their own, without buildConfig', () => {
    const watches = recorder()
    parseWatches([{type: 'key', key: 'a', args: ['x'], bogus: 1}, 'x', {type: 'nodes', handler_type: 'ftp'}, {type: 'key', key: 'a', handler_type: 'http', http_handler_config: {path: '/', timeout: 'soon'}}], watches)
    assert.deepEqual(watches.records.map(([key]) => key), ['watches[0].bogus', 'watches[1]', 'watches[2].handler_type', 'watches[3].http_handler_config.timeout'])
    assert.equal(watches.records[0][1], 'watches[0]: unknown key bogus')

    const tls = recorder()
    readTlsSettings({tls_min_version: 'tls99', tls: {https: {verify_outgoing: 'no'}, internal_rpc: {cert_file: '/c.pem', verify_server_hostname: true}, bogus: {}}}, tls)
    assert.deepEqual(tls.records, [
      ['tls.bogus', 'invalid config key tls.bogus'],
      ['tls_min_version', 'tls.https.tls_min_version: expected one of TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3, got "tls99"'],
      ['tls.https.verify_outgoing', 'tls.https.verify_outgoing: expected true or false, got "no"'],
      ['tls_min_version', 'tls.internal_rpc.tls_min_version: expected one of TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3, got "tls99"'],
      ['tls.internal_rpc.cert_file', 'tls.internal_rpc.key_file: cert_file is set but key_file is not'],
      // verify_outgoing is implied by verify_server_hostname, the switch that was set.
      ['tls.internal_rpc.verify_server_hostname', 'tls.internal_rpc.verify_outgoing: VerifyOutgoing set but no CA certificates were provided (ca_file or ca_path)'],
    ])

    const dns = recorder()
    parseDnsConfig({domain: 5, dns_config: {bogus: 1, allow_stale: 'yes', service_ttl: {web: 'x'}}}, dns, () => {})
    assert.deepEqual(dns.records.map(([key]) => key), ['domain', 'dns_config.bogus', 'dns_config.service_ttl.web', 'dns_config.allow_stale'])
  })
})

describe('TLS keys that would protect nothing are refused', () => {
  const certs = {ca_file: '/nonexistent/ca.pem', cert_file: '/nonexistent/c.pem', key_file: '/nonexistent/k.pem'}
  for (const [key, raw] of [
    ['verify_incoming_https', {...certs, verify_incoming_https: true}],
    ['tls.https.verify_incoming', {...certs, tls: {https: {verify_incoming: true}}}],
  ] as const) {
    it(`${key} without an HTTPS listener: refused under that key, naming ports.https`, () => {
      const records = problemsOf([{path: '/etc/coord/tls.json', raw}])
      assert.deepEqual(records.map((r) => r.key), [key])
      assert.match(records[0].message, /no HTTPS listener \(set ports\.https/)
    })
  }

  it('with ports.https set, the same settings go on to read the certificate files', () => {
    const records = problemsOf([{path: '/etc/coord/tls.json', raw: {...certs, verify_incoming_https: true, ports: {https: 8501}}}])
    assert.ok(records.every((r) => !/no HTTPS listener/.test(r.message)), JSON.stringify(records))
    assert.match(records[0].message, /nonexistent/)
  })
})
