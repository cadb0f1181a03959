// A server whose disk refuses writes: the agent runs under a file-size limit (RLIMIT_FSIZE through
// util-linux `prlimit`; Node ignores SIGXFSZ, so a write past it fails with EFBIG after writing
// what fits, as a full disk fails with ENOSPC). Keys are written until the Raft log can no longer
// grow. Asserted: the failing write is not acknowledged and its answer says why in one line, the
// agent logs the storage failure naming the log file and the errno, it refuses later writes at
// once with the same reason, keeps answering stale reads of every acknowledged key and says in one
// line why it refuses a default read; then the limit is lifted on the running process (`prlimit
// --pid`): without a restart it takes writes again and every acknowledged key reads back; and
// after a restart on the same data dir (no refusal: the partial record was cut off) every
// acknowledged key is still there with its value.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync, type ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir} from '../helpers/agent.js'
import {startFaultAgent, type FaultAgent} from '../helpers/fault-agent.js'
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
  let agent: FaultAgent | undefined
  after(() => {
    if (agent && agent.proc.exitCode === null && agent.proc.signalCode === null) agent.proc.kill('SIGKILL')
    dir.cleanup()
  })

  const start = (limitBytes?: number): Promise<FaultAgent> => startFaultAgent({
    args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, `-bind=${address}`, `-client=${address}`, '-node=disk', '-dns-port=-1'],
    wrapper: limitBytes === undefined ? undefined : ['prlimit', `--fsize=${limitBytes}:unlimited`],
    ready: () => leaderKnown(httpAddr),
  })

  async function stop(a: {proc: ChildProcess}): Promise<number | null> {
    if (a.proc.exitCode !== null || a.proc.signalCode !== null) return a.proc.exitCode
    a.proc.kill('SIGTERM')
    const timer = setTimeout(() => a.proc.kill('SIGKILL'), 15_000)
    const code = await new Promise<number | null>((resolve) => a.proc.once('exit', (c) => resolve(c)))
    clearTimeout(timer)
    return code
  }

  it('refuses writes with a clear error once the log cannot grow, serves stale reads, recovers without a restart, and loses no acknowledged key', async () => {
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
    assert.equal(refusal.status, 500)
    assert.doesNotMatch(refusal.text, /\n/, 'one line')
    // A lone server: the entry is gone with the failed append, so the answer can say "not applied".
    assert.match(refusal.text, /^this server cannot write to its disk \(EFBIG, file-size limit reached\): the write was not applied$/)
    const logLine = agent.output().split('\n').find((line) => /raft storage is full/.test(line))
    console.log(`agent log: ${logLine}`)
    assert.match(logLine ?? '', /log\.dat: appending \d+ bytes failed \(EFBIG\); nothing was appended/, agent.output().split('\n').slice(-15).join('\n'))

    // While full: writes refused at once with the reason, stale reads answered, default reads refused in one line.
    const started = Date.now()
    const later = await http(httpAddr, 'PUT', '/v1/kv/full/after', 'x')
    console.log(`a later write: ${later.status} ${later.text.trim()} (${Date.now() - started} ms)`)
    assert.notEqual(later.text.trim(), 'true')
    assert.match(later.text, /cannot write to its disk \(EFBIG/)
    for (const key of [acknowledged[0], acknowledged.at(-1)!]) {
      const stale = await http(httpAddr, 'GET', `/v1/kv/${key}?stale&raw`)
      assert.equal(stale.status, 200, `stale read of ${key} while the disk is full: ${stale.text}`)
      assert.equal(stale.text, `${key.split('/')[1]}:${value}`)
    }
    const fresh = await http(httpAddr, 'GET', `/v1/kv/${acknowledged[0]}`)
    console.log(`a default read while full: ${fresh.status} ${fresh.text.trim()}`)
    assert.equal(fresh.status, 500)
    assert.doesNotMatch(fresh.text.trim(), /\n/)
    assert.match(fresh.text, /cannot write to its disk .* answers only stale reads/)

    // Space returns (the limit lifted on the running process): writes work again, no restart.
    const pid = agent.proc.pid!
    const lifted = spawnSync('prlimit', [`--pid=${pid}`, '--fsize=unlimited:unlimited'], {encoding: 'utf8'})
    assert.equal(lifted.status, 0, lifted.stderr)
    const liftedAt = Date.now()
    let recoveredMs: number | undefined
    for (let i = 0; i < 120 && recoveredMs === undefined; i++) {
      const res = await http(httpAddr, 'PUT', '/v1/kv/full/recovered', 'yes').catch(() => undefined)
      if (res?.text.trim() === 'true') recoveredMs = Date.now() - liftedAt
      else await sleep(250)
    }
    console.log(`writes acknowledged again ${recoveredMs} ms after the limit was lifted (same process)`)
    assert.ok(recoveredMs !== undefined, `no write acknowledged within 30 s of the limit lifted:\n${agent.output().split('\n').slice(-20).join('\n')}`)
    assert.ok(recoveredMs < 30_000)
    assert.equal(agent.proc.pid, pid)
    assert.match(agent.output(), /raft storage takes writes again/)
    for (const key of acknowledged) {
      const res = await http(httpAddr, 'GET', `/v1/kv/${key}?raw`)
      assert.equal(res.status, 200, `${key} lost after the recovery`)
      assert.equal(res.text, `${key.split('/')[1]}:${value}`)
    }
    assert.equal((await http(httpAddr, 'GET', '/v1/kv/full/recovered?raw')).text, 'yes')
    assert.equal(await stop(agent), 0)
    const firstRun = agent.output()

    // And what the disk holds survives a restart: every acknowledged key and the one after recovery.
    agent = await start()
    for (const key of [...acknowledged, 'full/recovered']) {
      const res = await http(httpAddr, 'GET', `/v1/kv/${key}?raw`)
      assert.equal(res.status, 200, `${key} lost; first run's log:\n${firstRun.split('\n').filter((l) => /WARN|ERROR|snapshot|storage/.test(l)).join('\n')}\nsecond run:\n${agent.output()}`)
    }
    assert.equal((await http(httpAddr, 'PUT', '/v1/kv/full/later', 'x')).text.trim(), 'true', 'writes work again')
    console.log(`after a restart: all ${acknowledged.length} acknowledged keys and the post-recovery key read back`)
    assert.equal(await stop(agent), 0)
  })
})

// The same for a client agent's local state: services registered through the API are saved under
// <data-dir>/services (local-persistence.ts). Under a 4 KiB file-size limit a registration whose
// file would be larger is refused with a 500 that says why, the file of an earlier registration
// stays whole (a short write used to replace it with a truncated one, lost at the next start),
// and once the limit is lifted on the running process registrations are saved again; a restart
// finds them.
describe('disk full: a client agent\'s registrations cannot be saved', {timeout: 120_000, skip: hasPrlimit ? false : 'util-linux prlimit is not installed'}, () => {
  const dir = tempDir('coord-disk-full-client-')
  const address = `${randomSubnet()}.1`
  const httpAddr = `${address}:8500`
  const dataDir = join(dir.path, 'data')
  mkdirSync(dataDir, {recursive: true})
  let agent: ChildProcess | undefined
  let readOutput = (): string => ''
  after(() => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL')
    dir.cleanup()
  })

  async function start(limitBytes?: number): Promise<ChildProcess> {
    const started = await startFaultAgent({
      args: [`-data-dir=${dataDir}`, `-bind=${address}`, `-client=${address}`, '-node=disk-client', '-dns-port=-1'],
      wrapper: limitBytes === undefined ? undefined : ['prlimit', `--fsize=${limitBytes}:unlimited`],
      ready: async () => (await http(httpAddr, 'GET', '/v1/agent/self').catch(() => undefined))?.status === 200,
    })
    readOutput = started.output
    return started.proc
  }

  // Meta values are capped at 512 characters: `bytes` of padding spread over keys of up to 500.
  const meta = (bytes: number) => Object.fromEntries(Array.from({length: Math.ceil(bytes / 500)}, (_, i) => [`pad${i}`, 'm'.repeat(Math.min(500, bytes - i * 500))]))
  const register = (id: string, metaBytes: number) => http(httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({ID: id, Name: id, Meta: meta(metaBytes)}))
  const services = async () => JSON.parse((await http(httpAddr, 'GET', '/v1/agent/services')).text) as Record<string, {Meta: Record<string, string>}>
  const padOf = (service?: {Meta: Record<string, string>}) => service === undefined ? undefined : Object.values(service.Meta).join('').length

  it('refuses a registration it cannot save, keeps the saved file whole, and saves again once space returns', async () => {
    agent = await start(4096)
    assert.equal((await register('small', 100)).status, 200)
    const refused = await register('big', 6000)
    console.log(`a registration too big for the disk: ${refused.status} ${refused.text.trim()}`)
    assert.equal(refused.status, 500)
    assert.doesNotMatch(refused.text.trim(), /\n/)
    assert.match(refused.text, /failed to persist service "big" to the data dir \(EFBIG\): it is registered but a restart would forget it/)
    assert.match(readOutput(), /failed to persist a local registration/)
    // Growing the saved one past the limit: refused, and its file keeps the old definition.
    assert.equal((await register('small', 6000)).status, 500)

    const pid = agent.pid!
    const lifted = spawnSync('prlimit', [`--pid=${pid}`, '--fsize=unlimited:unlimited'], {encoding: 'utf8'})
    assert.equal(lifted.status, 0, lifted.stderr)
    assert.equal((await register('big', 6000)).status, 200, 'saved once space returned (same process)')
    agent.kill('SIGTERM')
    await new Promise((resolve) => agent!.once('exit', resolve))

    agent = await start()
    const after = await services()
    console.log(`after a restart: ${Object.keys(after).sort().join(', ')}; small's saved padding ${padOf(after.small)} bytes, big's ${padOf(after.big)}`)
    assert.equal(padOf(after.small), 100, 'the earlier file of "small" stayed whole (its refused update was not half-written)')
    assert.equal(padOf(after.big), 6000)
    agent.kill('SIGTERM')
    await new Promise((resolve) => agent!.once('exit', resolve))
  })
})
