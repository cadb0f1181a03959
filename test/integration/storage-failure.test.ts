// A server whose Raft log storage fails in a way that leaves it not knowing what is on the disk
// (test/helpers/disk-fault.ts, an LD_PRELOAD wrapper of libc switched on by a trigger file):
// - its fdatasync returns EIO: after a failed fsync nobody knows what reached the disk;
// - an append is torn by a full disk (half written, then ENOSPC) and cutting the partial record
//   off fails too (ftruncate EIO): whole records of it may be read back at the next start, so this
//   is not a full disk to wait out (disk-full.test.ts), where nothing was appended.
// Either way the agent does what hashicorp/raft does (it panics): it stops. Asserted: the write
// in flight is not acknowledged and its answer says what happened in one line, the agent logs the
// failure naming the log file, exits 1 with an `==>` line, and a restart on the same data dir
// (the disk working again) has every acknowledged key; the unacknowledged one may or may not be
// there (printed).
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir} from '../helpers/agent.js'
import {startFaultAgent, type FaultAgent} from '../helpers/fault-agent.js'
import {http, sleep} from '../helpers/http.js'
import {buildDiskFault} from '../helpers/disk-fault.js'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {leaderKnown} from '../../src/lib/devcluster/agent-process.js'

const dir = tempDir('coord-storage-')
const library = buildDiskFault(dir.path)
after(() => dir.cleanup())

interface StorageFault {
  title: string
  /** The disk-fault library's trigger variable (test/helpers/disk-fault.ts). */
  variable: 'COORD_FAIL_FSYNC_WHEN' | 'COORD_FAIL_APPEND_WHEN'
  /** What the in-flight write's answer says. */
  answer: RegExp
  /** The agent's `raft storage failed` log line and its `==>` line name this. */
  cause: RegExp
}

const faults: StorageFault[] = [
  {
    title: 'fsync fails: the agent stops rather than acknowledge what it could not sync',
    variable: 'COORD_FAIL_FSYNC_WHEN',
    answer: /storage failed \(fsync failed, EIO\) before the write committed; it may or may not have been applied/,
    cause: /log\.dat: fsync failed \(EIO\)/,
  },
  {
    title: 'an append torn by a full disk cannot be cut back: the agent stops rather than wait it out',
    variable: 'COORD_FAIL_APPEND_WHEN',
    answer: /storage failed \(.*log\.dat: appending \d+ bytes failed \(ENOSPC\) and cutting the partial append off failed too.*\) before the write committed; it may or may not have been applied/,
    cause: /log\.dat: appending \d+ bytes failed \(ENOSPC\) and cutting the partial append off failed too \(EIO[^)]*\); the log may hold part of it/,
  },
]

for (const [n, fault] of faults.entries()) {
  describe(fault.title, {timeout: 120_000, skip: 'unavailable' in library ? library.unavailable : false}, () => {
    const address = `${randomSubnet()}.1`
    const httpAddr = `${address}:8500`
    const dataDir = join(dir.path, `data-${n}`)
    const trigger = join(dir.path, `fail-now-${n}`)
    mkdirSync(dataDir, {recursive: true})
    let agent: FaultAgent | undefined
    after(() => {
      if (agent && agent.proc.exitCode === null && agent.proc.signalCode === null) agent.proc.kill('SIGKILL')
    })

    const start = (withFault: boolean): Promise<FaultAgent> => startFaultAgent({
      args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, `-bind=${address}`, `-client=${address}`, `-node=storage-${n}`, '-dns-port=-1'],
      env: withFault && 'library' in library ? {...process.env, LD_PRELOAD: library.library, [fault.variable]: trigger} : process.env,
      ready: () => leaderKnown(httpAddr),
    })

    it('does not acknowledge the write, says why, exits 1, and a restart has every acknowledged key', async () => {
      agent = await start(true)
      const running = agent
      const acknowledged: string[] = []
      for (let i = 0; i < 20; i++) {
        const res = await http(httpAddr, 'PUT', `/v1/kv/sync/${i}`, `value-${i}`)
        assert.equal(res.text.trim(), 'true', `write ${i} before the fault: ${res.status} ${res.text}`)
        acknowledged.push(`sync/${i}`)
      }
      writeFileSync(trigger, '')
      const exited = new Promise<number | null>((resolve) => running.proc.once('exit', (code) => resolve(code)))
      const faultAt = Date.now()
      const answer = await http(httpAddr, 'PUT', '/v1/kv/sync/in-flight', 'unsynced').catch((error: Error) => ({status: 0, text: error.message}))
      console.log(`the write in flight at the fault: ${answer.status} ${answer.text.trim()}`)
      assert.notEqual(answer.text.trim(), 'true', 'a write the disk failed was acknowledged')
      assert.doesNotMatch(answer.text.trim(), /\n/, 'one line')
      assert.equal(answer.status, 500)
      assert.match(answer.text, fault.answer)
      const code = await Promise.race([exited, sleep(20_000).then(() => 'still running')])
      console.log(`agent exit ${code} ${Date.now() - faultAt} ms after the fault`)
      assert.equal(code, 1, `the agent did not stop:\n${running.output().split('\n').slice(-15).join('\n')}`)
      const logLine = running.output().split('\n').find((line) => /raft storage failed/.test(line))
      console.log(`agent log: ${logLine}`)
      assert.match(logLine ?? '', fault.cause)
      assert.match(running.output(), new RegExp(`^==> raft storage failed: .*${fault.cause.source}.*the agent stops`, 'm'))

      // The disk works again: the same data dir starts with every acknowledged key.
      rmSync(trigger)
      agent = await start(false)
      for (const key of acknowledged) {
        const res = await http(httpAddr, 'GET', `/v1/kv/${key}?raw`)
        assert.equal(res.status, 200, `${key} lost:\n${agent.output()}`)
        assert.equal(res.text, `value-${key.split('/')[1]}`)
      }
      const inFlight = await http(httpAddr, 'GET', '/v1/kv/sync/in-flight?raw')
      console.log(`after a restart: all ${acknowledged.length} acknowledged keys read back; the unacknowledged write is ${inFlight.status === 200 ? 'there (its bytes reached the disk)' : 'absent'}`)
      assert.equal((await http(httpAddr, 'PUT', '/v1/kv/sync/later', 'x')).text.trim(), 'true', 'writes work again')
      agent.proc.kill('SIGTERM')
      assert.equal(await new Promise((resolve) => agent!.proc.once('exit', resolve)), 0)
    })
  })
}
