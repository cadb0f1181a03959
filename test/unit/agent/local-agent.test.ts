import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildConfig, ConfigError} from '../../../src/lib/agent/config.js'
import {LocalAgent, SCRIPTS_DISABLED, SCRIPTS_DISABLED_REMOTE} from '../../../src/lib/agent/local-agent.js'
import {LogHub} from '../../../src/lib/logger.js'

const log = new LogHub('error', () => {}).logger('test')
const self = {node: 'n1', id: '', address: '127.0.0.1', datacenter: 'dc1'}
const scriptService = {name: 'job', check: {args: ['/bin/true'], interval: '10s'}}

function agentWith(raw: Record<string, unknown>): LocalAgent {
  return new LocalAgent({config: buildConfig(raw, {dev: true}), log, self})
}

describe('LocalAgent: script-check gating and reload', () => {
  it('enable_local_script_checks allows scripts from config files but refuses them over the API', () => {
    const agent = agentWith({enable_local_script_checks: true, service: scriptService})
    try {
      assert.ok(agent.state.service('job'))
      assert.throws(() => agent.registerService({Name: 'x', Check: {Args: ['/bin/true'], Interval: '10s'}}, false), {message: SCRIPTS_DISABLED_REMOTE})
    } finally {
      agent.stop()
    }
  })

  it('with script checks off, a config script check is a config error and the API one gets Consul\'s message', () => {
    assert.throws(() => agentWith({service: scriptService}), (error: unknown) =>
      error instanceof ConfigError && error.message === `check "service:job": ${SCRIPTS_DISABLED}`)
    const agent = agentWith({})
    try {
      assert.throws(() => agent.registerCheck({Name: 'c', Args: ['/bin/true'], Interval: '10s'}), {message: SCRIPTS_DISABLED})
      assert.equal(agent.state.check('c'), undefined)
    } finally {
      agent.stop()
    }
  })

  it('enable_script_checks allows both', () => {
    const agent = agentWith({enable_script_checks: true, service: scriptService})
    try {
      agent.registerCheck({Name: 'c', Args: ['/bin/true'], Interval: '10s'})
      assert.ok(agent.state.check('c'))
    } finally {
      agent.stop()
    }
  })

  it('reload swaps config entries, keeps API ones, and a refused config changes nothing', () => {
    const agent = agentWith({services: [{name: 'a'}, {name: 'b', port: 1}], check: {name: 'mem', ttl: '10s'}})
    try {
      agent.registerService({Name: 'api-svc'}, false)
      agent.reload(buildConfig({services: [{name: 'b', port: 2}, {name: 'c'}]}, {dev: true}))
      assert.deepEqual(agent.state.services().map((s) => s.def.ID), ['api-svc', 'b', 'c'])
      assert.equal(agent.state.service('b')?.def.Port, 2)
      assert.equal(agent.state.check('mem'), undefined)
      // A config that enables local scripts is fine; one that does not is refused before it reaches the agent.
      assert.throws(() => buildConfig({service: scriptService}, {dev: true}), ConfigError)
      assert.deepEqual(agent.state.services().map((s) => s.def.ID), ['api-svc', 'b', 'c'])
      assert.deepEqual(agent.localServices().find((s) => s.ID === 'b'), {ID: 'b', Service: 'b', Tags: []})
    } finally {
      agent.stop()
    }
  })
})
