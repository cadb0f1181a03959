import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildConfig, ConfigError, keySources, mergeRaw, supportedKeys} from '../../../src/lib/agent/config.js'
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
    buildConfig({telemetry: {statsite_address: '127.0.0.1:8125'}, translate_wan_addrs: true}, {dev: true, warn: (w) => warnings.push(w)})
    assert.equal(warnings.length, 2)
  })

  it('reads the telemetry and autopilot blocks, naming the key it refuses', () => {
    const config = buildConfig({
      telemetry: {statsd_address: '127.0.0.1:8125', disable_hostname: true, metrics_prefix: 'coord', prometheus_retention_time: '60s'},
      autopilot: {cleanup_dead_servers: false, last_contact_threshold: '1s', max_trailing_logs: 10, min_quorum: 3, server_stabilization_time: '2s'},
      enable_debug: true,
    }, {dev: true})
    assert.deepEqual(config.telemetry, {statsdAddress: '127.0.0.1:8125', dogstatsdAddr: '', disableHostname: true, metricsPrefix: 'coord', prometheusRetentionMs: 60_000})
    assert.deepEqual(config.autopilot, {cleanupDeadServers: false, lastContactThresholdMs: 1000, maxTrailingLogs: 10, minQuorum: 3, serverStabilizationTimeMs: 2000})
    assert.equal(config.enableDebug, true)
    const defaults = buildConfig({}, {dev: true})
    assert.equal(defaults.telemetry.metricsPrefix, 'consul')
    assert.equal(defaults.autopilot.serverStabilizationTimeMs, 10_000)
    assert.throws(() => buildConfig({telemetry: {statsd_address: 'nowhere'}}, {dev: true}), /telemetry\.statsd_address: expected "host:port"/)
    assert.throws(() => buildConfig({telemetry: {prometheus_retention_time: 5}}, {dev: true}), /telemetry\.prometheus_retention_time: expected a duration/)
    assert.throws(() => buildConfig({autopilot: {min_quorum: -1}}, {dev: true}), /autopilot\.min_quorum: expected a non-negative integer/)
    assert.throws(() => buildConfig({autopilot: {bogus: 1}}, {dev: true}), /invalid config key autopilot\.bogus/)
  })

  it('lets an operator lower session_ttl_min', () => {
    assert.equal(buildConfig({session_ttl_min: '1s'}, {dev: true}).sessionTtlMinMs, 1000)
  })

  /** The problems buildConfig reports for `raw`, or [] when it accepts it. */
  const problemsOf = (raw: Record<string, unknown>, opts: Parameters<typeof buildConfig>[1] = {dev: true}): string[] => {
    try {
      buildConfig(raw, opts)
      return []
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error))
      return error.problems
    }
  }

  it('refuses a value of the wrong type for every key it reads, naming the key', () => {
    // [[]] (a list holding a list) is the wrong shape for every key: scalar, list of strings, object or definitions.
    for (const key of supportedKeys) {
      const problems = problemsOf({[key]: [[]]})
      assert.ok(problems.some((p) => p.includes(key)), `${key}: ${JSON.stringify(problems)}`)
    }
    for (const [key, value] of [['bootstrap_expect', 'three'], ['server', 'yes'], ['node_name', 5], ['retry_interval', 5], ['ports', {http: '80x'}], ['ui_config', {enabled: 'on'}], ['log_level', 3]] as const) {
      assert.equal(problemsOf({[key]: value}).length, 1, key)
    }
  })

  it("applies Consul's builder rules: names, addresses, bootstrap modes", () => {
    assert.match(problemsOf({datacenter: 'Bad DC!'}).join(), /^datacenter: can only contain lowercase alphanumeric, - or _ characters, got "bad dc!"$/)
    assert.match(problemsOf({node_id: 'nope'}).join(), /^node_id: expected a UUID/)
    assert.deepEqual(problemsOf({node_id: 'ADF4238A-882B-9DDC-4A9D-5B6758E4159E'}), [])
    assert.deepEqual(problemsOf({bind_addr: 'not-an-ip'}), ['bind_addr: must be an IP address, got "not-an-ip"'], 'advertise (defaulting to bind) is not reported twice')
    assert.match(problemsOf({advertise_addr: 'host.example'}).join(), /^advertise_addr: must be an IP address/)
    assert.match(problemsOf({client_addr: '127.0.0.1 999.0.0.1'}).join(), /^client_addr: must be IP addresses separated by spaces, got "999.0.0.1"$/)
    assert.deepEqual(problemsOf({bind_addr: '::1', client_addr: '127.0.0.1 ::1'}), [])
    assert.match(problemsOf({bootstrap_expect: 3}).join(), /'bootstrap_expect > 0' not allowed in dev mode/)
    assert.match(problemsOf({server: true, bootstrap: true, bootstrap_expect: 3, data_dir: '/nonexistent/coord'}, {dev: false}).join(), /'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive/)
    assert.deepEqual(problemsOf({server: true, bootstrap_expect: 1, data_dir: '/nonexistent/coord'}, {dev: false}), [], 'bootstrap_expect = 1 is -bootstrap')
  })

  it('refuses a data_dir that is a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coord-config-'))
    try {
      const file = join(dir, 'plain-file')
      writeFileSync(file, 'x')
      assert.deepEqual(problemsOf({server: true, bootstrap: true, data_dir: file}, {dev: false}), [`data_dir: ${JSON.stringify(file)} is not a directory`])
      assert.deepEqual(problemsOf({server: true, bootstrap: true, data_dir: dir}, {dev: false}), [])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('names the file that set a bad key; the later file wins, flags name no file', () => {
    const a = {path: '/etc/coord/a.json', raw: {ports: {http: 'x', dns: 'y'}, bogus: 1, service: {name: 5}}}
    const b = {path: '/etc/coord/b.json', raw: {ports: {dns: 8600}, log_level: 'loud', services: [{name: 'ok'}]}}
    const flags = {path: '', raw: {datacenter: 'Bad!'}}
    const sources = keySources([a, b, flags])
    const problems = problemsOf(mergeRaw(a.raw, b.raw, flags.raw), {dev: true, sources})
    assert.ok(problems.includes('/etc/coord/a.json: ports.http: expected a port number (-1 to disable), got "x"'), problems.join('\n'))
    assert.ok(problems.includes('/etc/coord/a.json: invalid config key bogus'))
    assert.ok(problems.includes('/etc/coord/b.json: log_level: expected one of trace, debug, info, warn, error, got "loud"'))
    assert.ok(problems.some((p) => p.startsWith('/etc/coord/a.json, /etc/coord/b.json: services[0]:')), 'definitions name every file that added to the list')
    assert.ok(problems.some((p) => p.startsWith('datacenter: ')), 'a flag has no file to name')
    assert.equal(problems.length, 5)
  })
})

describe('config keys that promise protection coord cannot give', () => {
  const refused = (raw: Record<string, unknown>) => {
    try {
      buildConfig(raw, {dev: true})
      return []
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      return error.problems
    }
  }

  it('acl.enabled (true or a Go true string) turns ACLs on; a disabled acl block is read without a warning', () => {
    for (const enabled of [true, 'true', '1', 'T']) {
      assert.deepEqual(refused({acl: {enabled, default_policy: 'deny'}}), [], String(enabled))
      assert.equal(buildConfig({acl: {enabled, default_policy: 'deny'}}, {dev: true}).acl.enabled, true, String(enabled))
    }
    const warnings: string[] = []
    const config = buildConfig({acl: {enabled: false, default_policy: 'deny', down_policy: 'async-cache', token_ttl: '5s', tokens: {default: 'd', agent_master: 'r'}}}, {dev: true, warn: (w) => warnings.push(w)})
    assert.deepEqual(warnings, [])
    assert.equal(config.acl.defaultPolicy, 'deny')
    assert.equal(config.acl.downPolicy, 'async-cache')
    assert.equal(config.acl.tokenTtlMs, 5000)
    assert.equal(config.acl.policyTtlMs, 30_000)
    assert.equal(config.acl.tokens.default, 'd')
    assert.equal(config.acl.tokens.agentRecovery, 'r', 'the legacy agent_master spelling')
    assert.equal(buildConfig({}, {dev: true}).acl.enabled, false)
  })

  it('acl block problems name the key and never echo a token', () => {
    assert.deepEqual(refused({acl: {default_policy: 'maybe', down_policy: 'x', token_ttl: 'soon', tokens: {agent: 42, nope: 's3cret'}}}), [
      'acl.tokens.agent: expected a string',
      'acl.tokens.nope: unknown token kind',
      'acl.default_policy: must be one of "allow", "deny", got "maybe"',
      'acl.down_policy: must be one of "allow", "deny", "extend-cache", "async-cache", got "x"',
      'acl.token_ttl: expected a duration such as "30s", got "soon"',
    ])
    assert.deepEqual(refused({acl: {enable: true}}), ['invalid config key acl.enable'])
  })

  it('http_config is acted on: its lists are read, a bad CIDR or header refuses the start, unknown keys are errors', () => {
    const config = buildConfig({http_config: {allow_write_http_from: ['10.0.0.0/8', '::1/128'], block_endpoints: ['/v1/agent/'], response_headers: {'X-Frame-Options': 'DENY'}}}, {dev: true})
    assert.deepEqual(config.http, {allowWriteHttpFrom: ['10.0.0.0/8', '::1/128'], blockEndpoints: ['/v1/agent/'], responseHeaders: {'X-Frame-Options': 'DENY'}})
    assert.deepEqual(refused({http_config: {allow_write_http_from: ['10.0.0.0/8', 'nonsense', '10.0.0.1/40']}}), ['http_config.allow_write_http_from: invalid CIDR "nonsense"', 'http_config.allow_write_http_from: invalid CIDR "10.0.0.1/40"'])
    assert.deepEqual(refused({http_config: {block_endpoints: '/v1/kv/'}}), ['http_config.block_endpoints: expected a list of strings, got "/v1/kv/"'])
    assert.deepEqual(refused({http_config: {response_headers: {'Bad Name': 'x'}}}), ['http_config.response_headers: invalid header "Bad Name": "x"'])
    assert.deepEqual(refused({http_config: {allow_write_from: []}}), ['invalid config key http_config.allow_write_from'])
  })
})

describe('performance { rpc_hold_timeout }', () => {
  it('defaults to Consul\'s 7s, reads a duration, treats 0 as the default, and refuses garbage', () => {
    assert.equal(buildConfig({}, {dev: true}).rpcHoldTimeoutMs, 7000)
    assert.equal(buildConfig({performance: {rpc_hold_timeout: '1500ms'}}, {dev: true}).rpcHoldTimeoutMs, 1500)
    assert.equal(buildConfig({performance: {rpc_hold_timeout: '0s'}}, {dev: true}).rpcHoldTimeoutMs, 7000)
    const warnings: string[] = []
    buildConfig({performance: {raft_multiplier: 1}}, {dev: true, warn: (msg) => warnings.push(msg)})
    assert.deepEqual(warnings, ['config key "performance.raft_multiplier" is accepted but not yet acted on by coord'])
    assert.throws(() => buildConfig({performance: {rpc_hold_timeout: 'soon'}}, {dev: true}), /performance\.rpc_hold_timeout: expected a duration/)
    assert.throws(() => buildConfig({performance: {rpc_hold: '1s'}}, {dev: true}), /invalid config key performance\.rpc_hold/)
  })
})
