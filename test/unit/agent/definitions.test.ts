import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {DefinitionError, definitionsFromConfig, parseCheckDefinition, parseServiceDefinition, type H2pingCheck, type ScriptCheck, type TtlCheck, type UdpCheck} from '../../../src/lib/agent/definitions.js'
import {buildConfig, ConfigError, mergeRaw} from '../../../src/lib/agent/config.js'

describe('service and check definitions', () => {
  it('reads a config-file service in snake_case with an embedded check named as Consul names it', () => {
    const {service, checks} = parseServiceDefinition({
      name: 'web', port: 8080, tags: ['v1'], meta: {team: 'edge'}, enable_tag_override: true,
      check: {http: 'http://127.0.0.1:8080/health', interval: '10s', deregister_critical_service_after: '90m'},
    })
    assert.equal(service.ID, 'web')
    assert.equal(service.Service, 'web')
    assert.equal(service.Port, 8080)
    assert.deepEqual(service.Tags, ['v1'])
    assert.deepEqual(service.Meta, {team: 'edge'})
    assert.equal(service.EnableTagOverride, true)
    assert.deepEqual(service.Weights, {Passing: 1, Warning: 1})
    assert.equal(checks.length, 1)
    assert.equal(checks[0].CheckID, 'service:web')
    assert.equal(checks[0].Name, "Service 'web' check")
    assert.equal(checks[0].ServiceID, 'web')
    assert.equal(checks[0].Status, 'critical')
    assert.equal(checks[0].DeregisterCriticalServiceAfter, '90m')
  })

  it('numbers several embedded checks service:<id>:<n> from 1', () => {
    const {checks} = parseServiceDefinition({Name: 'db', ID: 'db-1', Checks: [{TTL: '10s'}, {TCP: 'localhost:5432', Interval: '5s'}]})
    assert.deepEqual(checks.map((c) => c.CheckID), ['service:db-1:1', 'service:db-1:2'])
    assert.ok(checks.every((c) => c.ServiceID === 'db-1'))
  })

  it('refuses bad definitions with one-line reasons', () => {
    const reason = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        assert.ok(error instanceof DefinitionError)
        assert.ok(!error.message.includes('\n'))
        return error.message
      }
      assert.fail('expected a DefinitionError')
    }
    assert.equal(reason(() => parseServiceDefinition({Port: 80})), 'Missing service name')
    assert.equal(reason(() => parseServiceDefinition({Name: 'a', Address: '0.0.0.0'})), 'Invalid service address')
    assert.match(reason(() => parseServiceDefinition({Name: 'a', Meta: {'consul-x': 'y'}})), /^Invalid Service Meta: Key prefix 'consul-' is reserved/)
    assert.match(reason(() => parseServiceDefinition({Name: 'a', Port: 'eighty'})), /Port must be an integer/)
    assert.equal(reason(() => parseCheckDefinition({TTL: '10s'})), 'Missing check name')
    assert.equal(reason(() => parseCheckDefinition({Name: 'c', TTL: '10s', Status: 'ok'})), "Status for checks must 'passing', 'warning', 'critical'")
    assert.match(reason(() => parseCheckDefinition({Name: 'c'})), /^Invalid check: /)
    assert.match(reason(() => parseCheckDefinition({Name: 'c', HTTP: 'http://x'})), /Interval must be > 0 for HTTP checks/)
    assert.match(reason(() => parseCheckDefinition({Name: 'c', TTL: 'soon'})), /TTL must be a duration/)
    assert.match(reason(() => parseCheckDefinition({Name: 'c', TTL: '1s', HTTP: 'http://x', Interval: '1s'})), /only one of/)
    // Nanosecond numbers must fit Go's int64 Duration (fuzz finding: 1.2e29 became "1.2e+23ms", a 500 later).
    assert.match(reason(() => parseCheckDefinition({Name: 'c', TTL: 1.2345678901234568e29})), /TTL must be a duration/)
    assert.match(reason(() => parseCheckDefinition({Name: 'c', TTL: 0.5})), /TTL must be a duration/)
    assert.equal((parseCheckDefinition({Name: 'c', TTL: 10_000_000_000}) as TtlCheck).TTL, '10000ms')
  })

  it('turns the legacy Script string into a shell Args list', () => {
    const check = parseCheckDefinition({Name: 'c', Script: 'exit 0', Interval: '10s'}) as ScriptCheck
    assert.deepEqual(check.Args, ['/bin/sh', '-c', 'exit 0'])
  })

  it('collects service, services, check and checks of one config file', () => {
    const defs = definitionsFromConfig({service: {name: 'a'}, services: [{name: 'b'}, {name: 'c', id: 'c1'}], check: {name: 'mem', ttl: '5s'}, checks: [{id: 'disk', name: 'Disk', ttl: '5s'}]})
    assert.deepEqual(defs.services.map((s) => s.service.ID), ['a', 'b', 'c1'])
    assert.deepEqual(defs.checks.map((c) => c.CheckID), ['mem', 'disk'])
  })

  it('config files add up their services; a broken one is a config error naming it', () => {
    const raw = mergeRaw({service: {name: 'a'}}, {service: {name: 'b'}}, {services: [{name: 'c'}]})
    const config = buildConfig(raw, {dev: true})
    assert.deepEqual(config.services.map((s) => s.service.ID).sort(), ['a', 'b', 'c'])
    assert.throws(() => buildConfig({services: [{name: 'ok'}, {port: 1}]}, {dev: true}), (error: unknown) =>
      error instanceof ConfigError && /services\[1\]: Missing service name/.test(error.message))
  })

  it('reads enable_local_script_checks', () => {
    assert.equal(buildConfig({enable_local_script_checks: true}, {dev: true}).enableLocalScriptChecks, true)
    assert.equal(buildConfig({}, {dev: true}).enableLocalScriptChecks, false)
  })

  it('H2PING (TLS unless H2PingUseTLS is false) and UDP checks parse; Docker and OSService are refused with the reason', () => {
    const h2 = parseCheckDefinition({Name: 'h2', H2PING: 'localhost:8443', Interval: '10s'}) as H2pingCheck
    assert.equal(h2.H2PING, 'localhost:8443')
    assert.equal(h2.H2PingUseTLS, true)
    assert.equal((parseCheckDefinition({name: 'h2c', h2ping: 'localhost:8080', h2ping_use_tls: false, interval: '10s'}) as H2pingCheck).H2PingUseTLS, false)
    assert.equal((parseCheckDefinition({Name: 'u', UDP: 'localhost:53', Interval: '10s'}) as UdpCheck).UDP, 'localhost:53')
    assert.throws(() => parseCheckDefinition({Name: 'u', UDP: 'localhost:53'}), /Interval must be > 0 for UDP checks/)
    assert.throws(() => parseCheckDefinition({Name: 'x', UDP: 'a:1', TCP: 'a:1', Interval: '1s'}), /only one of TTL, Args, HTTP, TCP, GRPC, H2PING, UDP/)
    assert.throws(() => parseCheckDefinition({Name: 'd', DockerContainerID: 'c1', Args: ['true'], Interval: '10s'}), (e: Error) => e instanceof DefinitionError && /coord has no Docker client/.test(e.message))
    assert.throws(() => parseCheckDefinition({Name: 'o', OSService: 'sshd', Interval: '10s'}), /OS service checks are not supported/)
  })
})
