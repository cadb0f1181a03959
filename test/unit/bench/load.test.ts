// The bench's busy flag (bench/load.ts): a row says how much of the machine's CPU processes other
// than the bench's own took over its measured window. Two rows measured over the same window, one
// counting a CPU-spinning child as the bench's own (a server) and one not, must differ by about
// what that child spent: the share is the machine's busy time less the bench's own accounting.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {cpus} from 'node:os'
import {isBusy, runLoad, BUSY_OTHERS_SHARE} from '../../../bench/load.js'
import {cpuMs, stopChild} from '../../../bench/process.js'

describe('bench load: others\' share of the CPU', () => {
  it('counts a spinning process as others\' work unless it is one of the bench\'s servers', async () => {
    const spinner = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], {stdio: 'ignore'})
    try {
      const pid = spinner.pid!
      const op = () => new Promise<void>((resolve) => setTimeout(resolve, 5))
      const window = {workers: 2, durationMs: 1500, warmupMs: 300}
      const spun0 = cpuMs(pid)!
      const [asOthers, asOwn] = await Promise.all([runLoad(op, window), runLoad(op, {...window, serverPids: [pid]})])
      const spunShare = (cpuMs(pid)! - spun0) / ((window.durationMs + window.warmupMs) * cpus().length)
      console.log(`# spinner ${(spunShare * 100).toFixed(0)} % of the machine; others: ${((asOthers.othersCpuShare ?? NaN) * 100).toFixed(0)} % with it, ${((asOwn.othersCpuShare ?? NaN) * 100).toFixed(0)} % counted as a server`)
      assert.ok(asOthers.othersCpuShare !== undefined && asOwn.othersCpuShare !== undefined, '/proc/stat was read')
      assert.ok(asOthers.othersCpuShare >= 0 && asOthers.othersCpuShare <= 1)
      const difference = asOthers.othersCpuShare - asOwn.othersCpuShare
      assert.ok(spunShare > 0.01, 'the spinner got some CPU')
      // Both rows cover the same window, so they differ by the spinner's share alone, up to /proc's
      // 10 ms ticks (a fraction of a percent here) and the spinner's pace between warm-up and window.
      assert.ok(Math.abs(difference - spunShare) < 0.03 + 0.25 * spunShare, `the difference (${difference.toFixed(3)}) is the spinner's share (${spunShare.toFixed(3)})`)
      assert.equal(isBusy({...asOwn, othersCpuShare: BUSY_OTHERS_SHARE + 0.01}), true)
      assert.equal(isBusy({...asOwn, othersCpuShare: BUSY_OTHERS_SHARE - 0.01}), false)
    } finally {
      await stopChild(spinner, 1000)
    }
  })
})
