import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseCheckDefinition, parseServiceDefinition} from '../../../src/lib/agent/definitions.js'
import {LocalState, LocalStateError, aggregateStatus} from '../../../src/lib/agent/local-state.js'
import {CheckSupervisor, CheckNotTtlError, truncateOutput} from '../../../src/lib/agent/check-supervisor.js'
import {enableNodeMaintenance, enableServiceMaintenance, disableServiceMaintenance, DEFAULT_NODE_MAINT_REASON} from '../../../src/lib/agent/maintenance.js'
import {CHECKS_DIR, loadPersisted, loadTtlState, persistLocalState, persistTtlState, SERVICES_DIR} from '../../../src/lib/agent/local-persistence.js'
import {LogHub} from '../../../src/lib/logger.js'
import {tempDir} from '../../helpers/agent.js'

const log = new LogHub('error', () => {}).logger('test')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function addWeb(local: LocalState, checks: unknown[] = [{TTL: '10s'}], source: 'api' | 'config' = 'api', replace = false) {
  const parsed = parseServiceDefinition({Name: 'web', Port: 80, Checks: checks})
  local.addService(parsed.service, parsed.checks, source, replace)
}

describe('local registry rules', () => {
  it('a check naming an unknown service is refused; removing a service removes its checks', () => {
    const local = new LocalState()
    assert.throws(() => local.addCheck(parseCheckDefinition({Name: 'c', TTL: '5s', ServiceID: 'nope'}), 'api'),
      (error: unknown) => error instanceof LocalStateError && error.message === 'ServiceID "nope" does not exist')
    addWeb(local, [{TTL: '5s'}, {TTL: '5s'}])
    local.addCheck(parseCheckDefinition({Name: 'node-level', TTL: '5s'}), 'api')
    assert.equal(local.checks().length, 3)
    assert.equal(local.removeService('web'), true)
    assert.deepEqual(local.checks().map((c) => c.def.CheckID), ['node-level'])
    assert.equal(local.removeService('web'), false)
  })

  it('replace-existing-checks drops the service checks the new registration does not name', () => {
    const local = new LocalState()
    addWeb(local, [{TTL: '5s'}, {TTL: '5s'}])
    addWeb(local, [{TTL: '5s'}])
    assert.equal(local.checksOf('web').length, 3, 'without replace, old checks stay')
    addWeb(local, [{TTL: '5s'}], 'api', true)
    assert.deepEqual(local.checksOf('web').map((c) => c.def.CheckID), ['service:web'])
  })

  it('re-registering a check keeps its current status (no flap to critical)', () => {
    const local = new LocalState()
    addWeb(local)
    local.updateCheck('service:web', 'passing', 'fine')
    addWeb(local)
    assert.equal(local.check('service:web')?.status, 'passing')
  })

  it('aggregates maintenance > critical > warning > passing', () => {
    const local = new LocalState()
    addWeb(local, [{TTL: '5s', Status: 'passing'}, {TTL: '5s', Status: 'warning'}])
    assert.equal(aggregateStatus(local.checksOf('web')), 'warning')
    local.updateCheck('service:web:1', 'critical', '')
    assert.equal(aggregateStatus(local.checksOf('web')), 'critical')
    enableServiceMaintenance(local, 'web', '')
    assert.equal(aggregateStatus(local.checksOf('web')), 'maintenance')
    disableServiceMaintenance(local, 'web')
    assert.equal(local.check('_service_maintenance:web'), undefined)
    assert.throws(() => enableServiceMaintenance(local, 'nope', ''), (e: unknown) => e instanceof LocalStateError && e.code === 'NOT_FOUND')
    enableNodeMaintenance(local, '')
    assert.equal(local.check('_node_maintenance')?.def.Notes, DEFAULT_NODE_MAINT_REASON)
    assert.equal(local.check('_node_maintenance')?.status, 'critical')
  })
})

describe('check supervisor', () => {
  it('TTL checks: pass/warn re-arm the timer; expiry turns critical with Consul\'s output', async () => {
    const local = new LocalState()
    const supervisor = new CheckSupervisor(local, {log, enableScriptChecks: false, nodeName: 'n'})
    try {
      addWeb(local, [{TTL: '150ms'}])
      supervisor.updateTtl('service:web', 'passing', 'all good')
      assert.equal(local.check('service:web')?.status, 'passing')
      await sleep(80)
      supervisor.updateTtl('service:web', 'warning', 'slow')
      await sleep(80)
      assert.equal(local.check('service:web')?.status, 'warning', 're-armed by the update')
      // Generous bound: the timer is 150 ms; the box may be loaded.
      const deadline = Date.now() + 5000
      while (local.check('service:web')?.status !== 'critical' && Date.now() < deadline) await sleep(20)
      assert.equal(local.check('service:web')?.output, 'TTL expired (last output before timeout follows): slow')
      assert.throws(() => supervisor.updateTtl('nope', 'passing', ''), (e: unknown) => e instanceof LocalStateError && e.code === 'NOT_FOUND')
      local.addCheck(parseCheckDefinition({Name: 'tcp', TCP: 'localhost:1', Interval: '10s'}), 'api')
      assert.throws(() => supervisor.updateTtl('tcp', 'passing', ''), (e: unknown) => e instanceof CheckNotTtlError && e.message === 'CheckID "tcp" does not have associated TTL')
    } finally {
      supervisor.stop()
    }
  })

  it('hands non-TTL checks to the runner and takes its reports; stops it when the check goes', () => {
    const local = new LocalState()
    const started: string[] = []
    const stopped: string[] = []
    let report: ((status: 'passing' | 'warning' | 'critical', output: string) => void) | undefined
    const supervisor = new CheckSupervisor(local, {
      log, enableScriptChecks: false, nodeName: 'n',
      startCheck: (def, r) => {
        started.push(def.CheckID)
        report = r
        return {stop: () => stopped.push(def.CheckID)}
      },
    })
    try {
      addWeb(local, [{HTTP: 'http://127.0.0.1:1/', Interval: '10s'}])
      assert.deepEqual(started, ['service:web'])
      report?.('warning', 'HTTP GET: 429')
      assert.equal(local.check('service:web')?.status, 'warning')
      local.removeService('web')
      assert.deepEqual(stopped, ['service:web'])
    } finally {
      supervisor.stop()
    }
  })

  it('reaps a service critical past DeregisterCriticalServiceAfter (at least one minute)', () => {
    let now = 1_000_000
    const local = new LocalState(() => now)
    const supervisor = new CheckSupervisor(local, {log, enableScriptChecks: false, nodeName: 'n', now: () => now})
    try {
      addWeb(local, [{TTL: '1h', DeregisterCriticalServiceAfter: '10s'}])
      now += 30_000
      assert.deepEqual(supervisor.reap(now), [], 'the 1 minute floor applies')
      now += 31_000
      assert.deepEqual(supervisor.reap(now), ['web'])
      assert.equal(local.service('web'), undefined)
    } finally {
      supervisor.stop()
    }
  })

  it('truncates output with Consul\'s note', () => {
    assert.equal(truncateOutput('abcdef', 4), 'abcd ... (captured 4 of 6 bytes)')
    assert.equal(truncateOutput('abc', 4), 'abc')
  })
})

describe('persistence of API registrations', () => {
  it('round-trips services, checks and maintenance; config entries are not written; a corrupt file is skipped with a warning', () => {
    const dir = tempDir()
    try {
      const local = new LocalState()
      const stop = persistLocalState(local, dir.path, log)
      addWeb(local, [{TTL: '10s', Notes: 'n'}])
      const cfg = parseServiceDefinition({Name: 'from-config'})
      local.addService(cfg.service, [], 'config')
      local.addCheck(parseCheckDefinition({Name: 'mem', TTL: '5s'}), 'api')
      enableServiceMaintenance(local, 'web', 'upgrading')
      local.removeCheck('mem')
      stop()
      writeFileSync(join(dir.path, SERVICES_DIR, 'garbage'), '{not json')
      const warnings: string[] = []
      const loaded = loadPersisted(dir.path, (message, fields) => warnings.push(`${message} ${String(fields.file)}`))
      assert.deepEqual(loaded.services.map((s) => s.service.ID), ['web'])
      assert.equal(loaded.services[0].service.Port, 80)
      assert.deepEqual(loaded.checks.map((c) => [c.CheckID, c.Notes, c.ServiceID]), [['service:web', 'n', 'web']])
      assert.deepEqual(loaded.maintenance, [{serviceId: 'web', reason: 'upgrading'}])
      assert.equal(warnings.length, 1)
      assert.match(warnings[0], /garbage/)
    } finally {
      dir.cleanup()
    }
  })

  it('keeps a TTL check\'s status until its TTL runs out', () => {
    const dir = tempDir()
    try {
      let now = 1_000_000
      const local = new LocalState()
      const stop = persistTtlState(local, dir.path, log, () => now)
      local.addCheck(parseCheckDefinition({Name: 'hb', TTL: '30s'}), 'api')
      local.updateCheck('hb', 'passing', 'alive')
      stop()
      assert.deepEqual(loadTtlState(dir.path, 'hb', now + 10_000), {CheckID: 'hb', Status: 'passing', Output: 'alive', Expires: now + 30_000})
      assert.equal(loadTtlState(dir.path, 'hb', now + 31_000), undefined, 'expired')
      assert.equal(loadTtlState(dir.path, 'hb', now), undefined, 'an expired state file is removed')
      now += 1
      assert.equal(loadPersisted(dir.path, () => assert.fail('the state dir is not a check file')).checks.length, 0)
    } finally {
      dir.cleanup()
    }
  })

  it('an empty data dir loads nothing', () => {
    const dir = tempDir()
    try {
      mkdirSync(join(dir.path, CHECKS_DIR))
      assert.deepEqual(loadPersisted(dir.path, () => {}), {services: [], checks: [], maintenance: []})
    } finally {
      dir.cleanup()
    }
  })
})
