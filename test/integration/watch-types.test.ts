// coord watch -type=services|nodes|service|checks (and an agent `watches` entry of type service)
// against one real agent: each handler appends its stdin JSON to a file, one line per run, and the
// tests make real catalog/health changes and read back what the handler saw.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {coordBin, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {until} from '../helpers/wait.js'

interface Check {CheckID: string; Name: string; Status: string; ServiceID: string; ServiceName: string; Node: string}
interface HealthEntry {Node: {Node: string; Address: string}; Service: {ID: string; Service: string; Tags: string[]; Port: number}; Checks: Check[]}
interface CatalogNode {Node: string; Address: string; ID: string; Datacenter: string; ModifyIndex: number}

describe('watch types against one agent', {timeout: 240_000}, () => {
  let agent: TestAgent
  const dir = tempDir('coord-wt-')
  const agentWatchFile = join(dir.path, 'agent-service-watch.log')
  const running: ChildProcess[] = []
  before(async () => {
    const config = join(dir.path, 'agent.json')
    writeFileSync(config, JSON.stringify({
      watches: [{type: 'service', service: 'cfgsvc', handler_type: 'script', args: ['/bin/sh', '-c', `cat >> ${agentWatchFile}`]}],
    }))
    agent = await startAgent({args: [`-config-file=${config}`]})
  })
  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL')
    await agent.stop()
    dir.cleanup()
  })

  const readRuns = <T>(file: string): T[] => existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as T)
    : []

  /** `coord watch <flags> 'cat >> file'`: every handler run appends one line of JSON. */
  function startWatch(name: string, flags: string[]): {file: string; stop(): Promise<number | null>} {
    const file = join(dir.path, `${name}.log`)
    const child = spawn(process.execPath, [coordBin, 'watch', ...flags, `cat >> ${file}`], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore',
    })
    running.push(child)
    return {file, stop: async () => {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGINT')
      return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    }}
  }

  async function ok(method: string, path: string, body?: unknown): Promise<void> {
    const res = await http(agent.httpAddr, method, path, body === undefined ? undefined : JSON.stringify(body))
    assert.equal(res.status, 200, `${method} ${path}: ${res.status} ${res.text}`)
  }

  /** The X-Consul-Index a read of `path` answers with. */
  async function indexOf(path: string): Promise<number> {
    return Number((await http(agent.httpAddr, 'GET', path)).headers['x-consul-index'])
  }

  /** No further handler run for a while, although the agent did work meanwhile. */
  async function assertQuiet(file: string, runs: number, what: string): Promise<void> {
    await sleep(1500)
    assert.equal(readRuns(file).length, runs, `the handler ran again after ${what}`)
  }

  it('services: {name: [tags]} per change, none for unchanged re-registers or unrelated writes, final state of a burst', async () => {
    const watch = startWatch('services', ['-type=services'])
    try {
      const first = await until('the initial run', () => readRuns<Record<string, string[]>>(watch.file)[0])
      assert.deepEqual(first, {consul: []})
      const web = {Node: 'ext-1', Address: '10.1.0.1', Service: {ID: 'web-1', Service: 'web', Tags: ['v1', 'blue'], Port: 80}}
      await ok('PUT', '/v1/catalog/register', web)
      await until('web', () => readRuns(watch.file).length >= 2)
      // Tags come back sorted (Consul's order is a Go map's, i.e. unspecified).
      assert.deepEqual(readRuns(watch.file)[1], {consul: [], web: ['blue', 'v1']})
      // The same registration again, a KV write and a new node without services: the service list is unchanged.
      await ok('PUT', '/v1/catalog/register', web)
      await ok('PUT', '/v1/kv/unrelated', 'x')
      await ok('PUT', '/v1/catalog/register', {Node: 'ext-2', Address: '10.1.0.2'})
      await assertQuiet(watch.file, 2, 'unchanged wake-ups')
      // A burst of 20 registrations: coalesced, the final state delivered.
      const started = Date.now()
      for (let i = 0; i < 20; i++) await ok('PUT', '/v1/catalog/register', {Node: 'ext-2', Address: '10.1.0.2', Service: {ID: `b${i}`, Service: `burst-${i}`, Tags: [`t${i}`]}})
      const expected: Record<string, string[]> = {consul: [], web: ['blue', 'v1']}
      for (let i = 0; i < 20; i++) expected[`burst-${i}`] = [`t${i}`]
      await until('the final state of the burst', () => readRuns(watch.file).some((r) => isDeepStrictEqual(r, expected)))
      const burstRuns = readRuns(watch.file).length - 2
      console.log(`services watch: 20 registrations → ${burstRuns} handler runs, final state after ${Date.now() - started} ms`)
      assert.ok(burstRuns >= 1 && burstRuns <= 20)
      // Real wake-ups with an unchanged answer: a second web instance with the same tags, then the
      // first one leaves (the index moves both times, the service list does not).
      const runsBefore = readRuns(watch.file).length
      const indexBefore = await indexOf('/v1/catalog/services')
      await ok('PUT', '/v1/catalog/register', {Node: 'ext-2', Address: '10.1.0.2', Service: {ID: 'web-2', Service: 'web', Tags: ['blue', 'v1']}})
      await ok('PUT', '/v1/catalog/deregister', {Node: 'ext-1', ServiceID: 'web-1'})
      assert.ok(await indexOf('/v1/catalog/services') > indexBefore, 'the services index did not move')
      await assertQuiet(watch.file, runsBefore, 'wake-ups with an unchanged service list')
      await ok('PUT', '/v1/catalog/deregister', {Node: 'ext-2', ServiceID: 'web-2'})
      await until('web gone', () => readRuns<Record<string, string[]>>(watch.file).at(-1)!.web === undefined)
      const runs = readRuns<Record<string, string[]>>(watch.file)
      for (let i = 1; i < runs.length; i++) assert.notDeepEqual(runs[i], runs[i - 1], 'the handler ran twice for one state')
    } finally {
      assert.equal(await watch.stop(), 0)
    }
  })

  it('nodes: [{Node, Address, ...}] per change, none for an unchanged re-register', async () => {
    const watch = startWatch('nodes', ['-type=nodes'])
    try {
      const first = await until('the initial run', () => readRuns<CatalogNode[]>(watch.file)[0])
      const names = (nodes: CatalogNode[]) => nodes.map((n) => n.Node).sort()
      assert.deepEqual(names(first), ['ext-1', 'ext-2', 'test-node'])
      const self = first.find((n) => n.Node === 'test-node')!
      assert.equal(self.Address, '127.0.0.1')
      assert.equal(self.Datacenter, 'dc1')
      assert.equal(typeof self.ModifyIndex, 'number')
      await ok('PUT', '/v1/catalog/register', {Node: 'ext-3', Address: '10.1.0.3', NodeMeta: {rack: 'r1'}})
      await until('ext-3', () => readRuns(watch.file).length >= 2)
      const added = readRuns<Array<CatalogNode & {Meta: Record<string, string>}>>(watch.file)[1].find((n) => n.Node === 'ext-3')
      assert.deepEqual({Address: added?.Address, Meta: added?.Meta}, {Address: '10.1.0.3', Meta: {rack: 'r1'}})
      // Identical node, and a service change on a node: the node list does not change.
      await ok('PUT', '/v1/catalog/register', {Node: 'ext-3', Address: '10.1.0.3', NodeMeta: {rack: 'r1'}})
      await ok('PUT', '/v1/catalog/register', {Node: 'ext-3', Address: '10.1.0.3', NodeMeta: {rack: 'r1'}, Service: {Service: 'n3svc'}})
      await assertQuiet(watch.file, 2, 'unchanged node re-registers')
      await ok('PUT', '/v1/catalog/register', {Node: 'ext-3', Address: '10.1.0.33', NodeMeta: {rack: 'r1'}})
      await until('the new address', () => readRuns<CatalogNode[]>(watch.file).at(-1)!.find((n) => n.Node === 'ext-3')?.Address === '10.1.0.33')
      await ok('PUT', '/v1/catalog/deregister', {Node: 'ext-3'})
      await until('ext-3 gone', () => readRuns<CatalogNode[]>(watch.file).length === 4 && names(readRuns<CatalogNode[]>(watch.file)[3]).join() === 'ext-1,ext-2,test-node')
      await assertQuiet(watch.file, 4, 'the deregister')
    } finally {
      assert.equal(await watch.stop(), 0)
    }
  })

  it('service: health entries per change; -passingonly hides a failing instance; -tag filters', async () => {
    const all = startWatch('service-all', ['-type=service', '-service=api'])
    const passing = startWatch('service-passing', ['-type=service', '-service=api', '-passingonly=true'])
    const tagged = startWatch('service-tag', ['-type=service', '-service=api', '-tag=v2'])
    // Several tags: an instance must carry them all (api-1 has canary but not v2).
    const twoTags = startWatch('service-tags', ['-type=service', '-service=api', '-tag=canary', '-tag=v2'])
    const ids = (entries: HealthEntry[]) => entries.map((e) => e.Service.ID).sort().join(',')
    try {
      for (const w of [all, passing, tagged, twoTags]) assert.deepEqual(await until('the initial run', () => readRuns<HealthEntry[]>(w.file)[0]), [])
      // A TTL check starts critical.
      await ok('PUT', '/v1/agent/service/register', {ID: 'api-1', Name: 'api', Tags: ['v1', 'canary'], Port: 8001, Check: {TTL: '60s'}})
      await until('api-1 in the catalog', () => readRuns(all.file).length >= 2)
      const [entry] = readRuns<HealthEntry[]>(all.file)[1]
      assert.equal(entry.Node.Node, 'test-node')
      assert.equal(entry.Node.Address, '127.0.0.1')
      assert.deepEqual({ID: entry.Service.ID, Service: entry.Service.Service, Tags: entry.Service.Tags, Port: entry.Service.Port}, {ID: 'api-1', Service: 'api', Tags: ['v1', 'canary'], Port: 8001})
      assert.deepEqual(entry.Checks.map((c) => [c.CheckID, c.Status]), [['serfHealth', 'passing'], ['service:api-1', 'critical']])
      await ok('PUT', '/v1/agent/check/pass/service:api-1')
      await until('api-1 passing', () => ids(readRuns<HealthEntry[]>(passing.file).at(-1)!) === 'api-1')
      await until('api-1 passing (all)', () => readRuns<HealthEntry[]>(all.file).at(-1)![0]?.Checks[1]?.Status === 'passing')
      await ok('PUT', '/v1/agent/service/register', {ID: 'api-2', Name: 'api', Tags: ['v2', 'canary'], Port: 8002, Check: {TTL: '60s', Status: 'passing'}})
      await until('api-2 (tag v2)', () => ids(readRuns<HealthEntry[]>(tagged.file).at(-1)!) === 'api-2')
      await until('api-2 (tags canary and v2)', () => ids(readRuns<HealthEntry[]>(twoTags.file).at(-1)!) === 'api-2')
      await until('both passing', () => ids(readRuns<HealthEntry[]>(passing.file).at(-1)!) === 'api-1,api-2')
      // The same TTL status again is not a change; nor is another service's change.
      const counts = () => [all, passing, tagged, twoTags].map((w) => readRuns(w.file).length)
      await until('all settled', () => ids(readRuns<HealthEntry[]>(all.file).at(-1)!) === 'api-1,api-2')
      const settled = counts()
      await ok('PUT', '/v1/agent/check/pass/service:api-1')
      await ok('PUT', '/v1/agent/service/register', {ID: 'other-1', Name: 'other', Check: {TTL: '60s'}})
      await sleep(1500)
      assert.deepEqual(counts(), settled, 'a handler ran for an unchanged wake-up')
      // api-1 fails: hidden by -passingonly, shown critical by the plain watch, unseen by -tag=v2.
      await ok('PUT', '/v1/agent/check/fail/service:api-1?note=down')
      await until('api-1 hidden', () => ids(readRuns<HealthEntry[]>(passing.file).at(-1)!) === 'api-2')
      await until('api-1 critical', () => readRuns<HealthEntry[]>(all.file).at(-1)!.find((e) => e.Service.ID === 'api-1')?.Checks.find((c) => c.CheckID === 'service:api-1')?.Status === 'critical')
      await sleep(1000)
      assert.equal(readRuns(tagged.file).length, settled[2], 'the v2 watch ran for a v1 instance change')
      assert.equal(readRuns(twoTags.file).length, settled[3], 'the canary+v2 watch ran for a v1 instance change')
      // api-1 goes from critical to warning: a real change for the plain watch, none while hidden.
      // (A new output alone would not do: like Consul, it reaches the catalog only with the next
      // full sync, check_update_interval.)
      const hidden = readRuns(passing.file).length
      const plain = readRuns(all.file).length
      await ok('PUT', '/v1/agent/check/warn/service:api-1?note=degraded')
      await until('api-1 warning', () => JSON.stringify(readRuns(all.file).at(-1)).includes('"Status":"warning"'))
      await sleep(1000)
      assert.equal(readRuns(all.file).length, plain + 1)
      assert.equal(readRuns(passing.file).length, hidden, 'the -passingonly watch ran for a hidden instance')
      const last = readRuns<HealthEntry[]>(all.file).at(-1)!.find((e) => e.Service.ID === 'api-1')!
      assert.match(JSON.stringify(last.Checks), /"Output":"degraded"/)
      await ok('PUT', '/v1/agent/service/deregister/api-2')
      await until('api-2 gone', () => ids(readRuns<HealthEntry[]>(tagged.file).at(-1)!) === '')
      await until('canary+v2 empty', () => ids(readRuns<HealthEntry[]>(twoTags.file).at(-1)!) === '')
      await until('passing empty', () => ids(readRuns<HealthEntry[]>(passing.file).at(-1)!) === '')
      for (const w of [all, passing, tagged, twoTags]) {
        const runs = readRuns(w.file)
        for (let i = 1; i < runs.length; i++) assert.notDeepEqual(runs[i], runs[i - 1], `${w.file}: the handler ran twice for one state`)
      }
      console.log(`service watches: runs all=${readRuns(all.file).length} passingonly=${readRuns(passing.file).length} tag=${readRuns(tagged.file).length} two tags=${readRuns(twoTags.file).length}`)
    } finally {
      for (const w of [all, passing, tagged, twoTags]) assert.equal(await w.stop(), 0)
    }
  })

  it('checks: -state=critical lists only critical checks; -service lists that service\'s checks', async () => {
    await ok('PUT', '/v1/agent/service/register', {ID: 'db-1', Name: 'db', Check: {TTL: '60s', Status: 'passing'}})
    await ok('PUT', '/v1/agent/service/register', {ID: 'db-2', Name: 'db', Check: {TTL: '60s', Status: 'passing'}})
    const critical = startWatch('checks-critical', ['-type=checks', '-state=critical'])
    const db = startWatch('checks-db', ['-type=checks', '-service=db'])
    const idsOf = (checks: Check[]) => checks.map((c) => c.CheckID).sort().join(',')
    try {
      await until('db checks', () => idsOf(readRuns<Check[]>(db.file).at(-1) ?? []) === 'service:db-1,service:db-2')
      const first = await until('the initial run', () => readRuns<Check[]>(critical.file)[0])
      // other-1 never passed; api-1 was left warning above.
      assert.equal(idsOf(first), 'service:other-1')
      await ok('PUT', '/v1/agent/check/fail/service:db-1')
      await until('db-1 critical', () => idsOf(readRuns<Check[]>(critical.file).at(-1)!) === 'service:db-1,service:other-1')
      await until('db-1 critical (db)', () => readRuns<Check[]>(db.file).at(-1)!.find((c) => c.CheckID === 'service:db-1')?.Status === 'critical')
      await ok('PUT', '/v1/agent/check/fail/service:api-1')
      const withApi = await until('api-1 critical', () => readRuns<Check[]>(critical.file).find((run) => idsOf(run) === 'service:api-1,service:db-1,service:other-1'))
      const api1 = withApi.find((c) => c.CheckID === 'service:api-1')!
      assert.deepEqual({Node: api1.Node, ServiceID: api1.ServiceID, ServiceName: api1.ServiceName, Status: api1.Status}, {Node: 'test-node', ServiceID: 'api-1', ServiceName: 'api', Status: 'critical'})
      await ok('PUT', '/v1/agent/check/pass/service:api-1')
      await until('api-1 recovered', () => readRuns<Check[]>(critical.file).length === 4 && idsOf(readRuns<Check[]>(critical.file)[3]) === 'service:db-1,service:other-1')
      // db-2 turns warning: the checks index moves and db's list changes, the critical list does not.
      const counts = [readRuns(critical.file).length, readRuns(db.file).length]
      const indexBefore = await indexOf('/v1/health/state/critical')
      await ok('PUT', '/v1/agent/check/warn/service:db-2')
      await until('db-2 warning', () => readRuns<Check[]>(db.file).at(-1)!.find((c) => c.CheckID === 'service:db-2')?.Status === 'warning')
      assert.ok(await indexOf('/v1/health/state/critical') > indexBefore, 'the checks index did not move')
      await sleep(1500)
      assert.deepEqual([readRuns(critical.file).length, readRuns(db.file).length], [counts[0], counts[1] + 1], 'a handler ran for an unchanged wake-up (or twice for one change)')
      // A burst of 20 flips of db-1 ending passing: coalesced, and both watches end on the final state.
      const before = [readRuns(critical.file).length, readRuns(db.file).length]
      const started = Date.now()
      for (let i = 0; i < 20; i++) await ok('PUT', `/v1/agent/check/${i % 2 === 0 ? 'pass' : 'fail'}/service:db-1`)
      await ok('PUT', '/v1/agent/check/pass/service:db-1')
      await until('the final critical list', () => idsOf(readRuns<Check[]>(critical.file).at(-1)!) === 'service:other-1')
      await until('db-1 finally passing', () => readRuns<Check[]>(db.file).at(-1)!.find((c) => c.CheckID === 'service:db-1')?.Status === 'passing')
      await sleep(1000)
      const burst = [readRuns(critical.file).length - before[0], readRuns(db.file).length - before[1]]
      console.log(`checks watches: 21 TTL updates → ${burst[0]} runs (state=critical), ${burst[1]} runs (service=db), final state after ${Date.now() - started - 1000} ms`)
      assert.ok(burst.every((n) => n >= 1 && n <= 21))
      assert.equal(idsOf(readRuns<Check[]>(critical.file).at(-1)!), 'service:other-1')
      for (const run of readRuns<Check[]>(critical.file)) for (const c of run) assert.equal(c.Status, 'critical')
      for (const w of [critical, db]) {
        const runs = readRuns(w.file)
        for (let i = 1; i < runs.length; i++) assert.notDeepEqual(runs[i], runs[i - 1], `${w.file}: the handler ran twice for one state`)
      }
    } finally {
      for (const w of [critical, db]) assert.equal(await w.stop(), 0)
    }
  })

  it('agent `watches` entry of type service runs its script on a change', async () => {
    const initial = await until('the initial run', () => readRuns<HealthEntry[]>(agentWatchFile)[0])
    assert.deepEqual(initial, [])
    await ok('PUT', '/v1/agent/service/register', {ID: 'cfg-1', Name: 'cfgsvc', Tags: ['x'], Check: {TTL: '60s', Status: 'passing'}})
    await until('cfgsvc registered', () => readRuns<HealthEntry[]>(agentWatchFile).at(-1)![0]?.Service.ID === 'cfg-1')
    await ok('PUT', '/v1/agent/check/fail/service:cfg-1')
    await until('cfgsvc failing', () => readRuns<HealthEntry[]>(agentWatchFile).at(-1)![0]?.Checks.find((c) => c.CheckID === 'service:cfg-1')?.Status === 'critical')
    assert.equal(readRuns(agentWatchFile).length, 3)
  })
})
