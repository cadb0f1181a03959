// Watch type agent_service against a real agent: `coord watch -type=agent_service` and an agent
// `watches` entry (service_id) block on /v1/agent/service/<id>'s ContentHash (?hash=) as Consul's
// agentServiceWatch: the handler runs once at start, once per change of that service, never for a
// change to another service. connect_roots and connect_leaf are refused with the reason.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {coordBin, runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {parseWatches} from '../../src/lib/agent/watch-config.js'
import {lineSink} from '../../src/lib/agent/config-problems.js'

interface AgentService {ID: string; Service: string; Port: number; Tags: string[]; ContentHash: string}

describe('agent_service watches', {timeout: 120_000}, () => {
  let agent: TestAgent
  const dir = tempDir('coord-was-')
  const configWatchFile = join(dir.path, 'config-watch.log')
  const running: ChildProcess[] = []
  before(async () => {
    const config = join(dir.path, 'agent.json')
    writeFileSync(config, JSON.stringify({
      services: [{id: 'cfg-1', name: 'cfg', port: 7000}],
      watches: [{type: 'agent_service', service_id: 'cfg-1', handler_type: 'script', args: ['/bin/sh', '-c', `cat >> ${configWatchFile}; echo >> ${configWatchFile}`]}],
    }))
    agent = await startAgent({args: [`-config-file=${config}`]})
  })
  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL')
    await agent.stop()
    dir.cleanup()
  })

  const readRuns = (file: string): AgentService[] => existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AgentService)
    : []
  const register = async (body: object) => {
    const res = await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify(body))
    assert.equal(res.status, 200, res.text)
  }

  it('coord watch -type=agent_service runs per change of that service only', async () => {
    await register({ID: 'web-1', Name: 'web', Port: 8080})
    const file = join(dir.path, 'cli-watch.log')
    const child = spawn(process.execPath, [coordBin, 'watch', '-type=agent_service', '-service=web-1', `cat >> ${file}; echo >> ${file}`], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore',
    })
    running.push(child)
    try {
      const first = await until('the initial run', () => readRuns(file)[0])
      assert.equal(first.ID, 'web-1')
      assert.equal(first.Port, 8080)
      assert.match(first.ContentHash, /^[0-9a-f]+$/)
      const changedAt = Date.now()
      await register({ID: 'web-1', Name: 'web', Port: 9090, Tags: ['v2']})
      const second = await until('the run after the change', () => readRuns(file)[1])
      console.log(`# agent_service watch: handler ran ${Date.now() - changedAt} ms after the service changed`)
      assert.equal(second.Port, 9090)
      assert.deepEqual(second.Tags, ['v2'])
      assert.notEqual(second.ContentHash, first.ContentHash)
      // Another service changes, and web-1 is re-registered unchanged: no run.
      await register({ID: 'other-1', Name: 'other', Port: 1})
      await register({ID: 'web-1', Name: 'web', Port: 9090, Tags: ['v2']})
      await sleep(1500)
      assert.equal(readRuns(file).length, 2)
    } finally {
      child.kill('SIGINT')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  })

  it('an agent watches entry with service_id runs at start and per change', async () => {
    const first = await until('the configured watch\'s first run', () => readRuns(configWatchFile)[0])
    assert.equal(first.ID, 'cfg-1')
    await register({ID: 'cfg-1', Name: 'cfg', Port: 7001})
    const second = await until('the configured watch after the change', () => readRuns(configWatchFile)[1])
    assert.equal(second.Port, 7001)
  })

  it('connect_roots and connect_leaf are refused with the reason, by the CLI and in the agent config', async () => {
    for (const type of ['connect_roots', 'connect_leaf']) {
      const result = await runCli(['watch', `-type=${type}`], {httpAddr: agent.httpAddr})
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, new RegExp(`Unsupported watch type: ${type}: coord has no service mesh`))
      const problems: string[] = []
      parseWatches([{type, handler_type: 'script', args: ['true']}], lineSink(problems))
      assert.equal(problems.length, 1)
      assert.match(problems[0], /coord has no service mesh/)
    }
    const problems: string[] = []
    parseWatches([{type: 'agent_service', args: ['true']}], lineSink(problems))
    assert.match(problems[0] ?? '', /Must specify a service_id to watch/)
  })
})
