// A server whose disk refuses writes: the agent runs under a file-size limit (RLIMIT_FSIZE through
// util-linux `prlimit`; Node ignores SIGXFSZ, so a write past it fails with EFBIG after writing
// what fits, as a full disk fails with ENOSPC). Keys are written until the Raft log can no longer
// grow. Asserted: the failing write is not acknowledged and its answer says why in one line, the
// agent logs the storage failure naming the log file and the errno, it stops acknowledging
// writes, and after a restart without the limit on the same data dir (no refusal: the partial
// record was cut off) every acknowledged key is there with its value.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {coordBin, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {leaderKnown} from '../../src/lib/devcluster/agent-process.js'

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0

describe('disk full: the Raft log cannot grow', {timeout: 180_000, skip: hasPrlimit ? false : 'util-linux prlimit is not installed'}, () => {
  const dir = tempDir('coord-disk-full-')
  const address = `${randomSubnet()}.1`
  const httpAddr = `${address}:8500`
  const dataDir = join(dir.path, 'data')
  mkdirSync(dataDir, {recursive: true})
  let agent: {proc: ChildProcess; output: () => string} | undefined
  after(() => {
    if (agent && agent.proc.exitCode === null && agent.proc.signalCode === null) agent.proc.kill('SIGKILL')
    dir.cleanup()
  })

  async function start(limitBytes?: number): Promise<{proc: ChildProcess; output: () => string}> {
    const agentArgs = [coordBin, 'agent', '-server', '-bootstrap', `-data-dir=${dataDir}`, `-bind=${address}`, `-client=${address}`, '-node=disk', '-dns-port=-1']
    const proc = limitBytes === undefined
      ? spawn(process.execPath, agentArgs, {stdio: ['ignore', 'pipe', 'pipe']})
      : spawn('prlimit', [`--fsize=${limitBytes}`, process.execPath, ...agentArgs], {stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    proc.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    proc.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const deadline = Date.now() + 30_000
    while (!(await leaderKnown(httpAddr))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start:\n${output}`)
      await sleep(100)
    }
    return {proc, output: () => output}
  }

  async function stop(a: {proc: ChildProcess}): Promise<number | null> {
    if (a.proc.exitCode !== null || a.proc.signalCode !== null) return a.proc.exitCode
    a.proc.kill('SIGTERM')
    const timer = setTimeout(() => a.proc.kill('SIGKILL'), 15_000)
    const code = await new Promise<number | null>((resolve) => a.proc.once('exit', (c) => resolve(c)))
    clearTimeout(timer)
    return code
  }

  it('refuses writes with a clear error once the log cannot grow, and loses no acknowledged key', async () => {
    agent = await start(256 * 1024)
    const value = 'v'.repeat(2048)
    const acknowledged: string[] = []
    let refusal: {status: number; text: string} | undefined
    for (let i = 0; i < 400 && !refusal; i++) {
      try {
        const res = await http(httpAddr, 'PUT', `/v1/kv/full/${i}`, `${i}:${value}`)
        if (res.status === 200 && res.text.trim() === 'true') acknowledged.push(`full/${i}`)
        else refusal = {status: res.status, text: res.text.trim()}
      } catch (error) {
        refusal = {status: 0, text: (error as Error).message}
      }
    }
    console.log(`${acknowledged.length} writes acknowledged before the log hit the 256 KiB limit; then: ${refusal?.status} ${refusal?.text}`)
    assert.ok(refusal, 'a write was refused')
    assert.ok(acknowledged.length > 10, 'writes went through until the disk filled')
    assert.ok(refusal.status >= 500 || refusal.status === 0)
    assert.doesNotMatch(refusal.text, /\n/, 'one line')
    const logLine = agent.output().split('\n').find((line) => /raft storage failed/.test(line))
    console.log(`agent log: ${logLine}`)
    assert.match(logLine ?? '', /log\.dat: appending \d+ bytes failed \(EFBIG\); nothing was appended/)
    // No write is acknowledged any more.
    const after = await http(httpAddr, 'PUT', '/v1/kv/full/after', 'x').catch((error: Error) => ({status: 0, text: error.message}))
    console.log(`a later write: ${after.status} ${after.text.trim()}`)
    assert.notEqual(after.text.trim(), 'true')
    await stop(agent)
    const firstRun = agent.output()

    // Space is back: the same data dir starts (the partial record was cut off) with every acknowledged key.
    agent = await start()
    for (const key of acknowledged) {
      const res = await http(httpAddr, 'GET', `/v1/kv/${key}?raw`)
      assert.equal(res.status, 200, `${key} lost; first run's log:\n${firstRun.split('\n').filter((l) => /WARN|ERROR|snapshot/.test(l)).join('\n')}\nsecond run:\n${agent.output()}`)
      assert.equal(res.text, `${key.split('/')[1]}:${value}`)
    }
    assert.equal((await http(httpAddr, 'PUT', '/v1/kv/full/later', 'x')).text.trim(), 'true', 'writes work again')
    console.log(`after a restart without the limit: all ${acknowledged.length} acknowledged keys read back`)
    assert.equal(await stop(agent), 0)
  })
})
