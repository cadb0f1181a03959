// Script checks (Consul's CheckMonitor): run `Args` (no shell), exit 0 passing, 1 warning,
// anything else critical; stdout and stderr captured together (their last OutputMaxSize bytes).
// On timeout the whole process group is killed (Consul's KillCommandSubtree) and the check is
// critical with "Timed out (<timeout>) running check" and whatever the script printed.
import {spawn} from 'node:child_process'
import {formatDuration} from '../../duration.js'
import {OutputBuffer} from './output.js'
import type {ProbeResult} from './types.js'

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

export function scriptProbe(args: readonly string[], timeoutMs: number, outputMax: number, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const output = new OutputBuffer(outputMax)
    let child
    try {
      // detached: its own process group, so a timeout kills the script and everything it started.
      child = spawn(args[0], args.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    } catch (error) {
      resolve({status: 'critical', output: (error as Error).message})
      return
    }
    let timedOut = false
    let settled = false
    const finish = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      resolve(result)
    }
    const onAbort = () => killGroup(child.pid)
    signal.addEventListener('abort', onAbort)
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid)
    }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => output.write(chunk))
    child.stderr.on('data', (chunk: Buffer) => output.write(chunk))
    child.on('error', (error: NodeJS.ErrnoException) => {
      const text = error.code === 'ENOENT' ? `exec: "${args[0]}": executable file not found in $PATH` : error.message
      finish({status: 'critical', output: text})
    })
    // 'close' (not 'exit'): every output byte has been read by then. Consul likewise waits for the
    // killed process before the next run can start, so runs never overlap.
    child.on('close', (code) => {
      const text = output.captured()
      if (timedOut) {
        const message = `Timed out (${formatDuration(timeoutMs)}) running check`
        finish({status: 'critical', output: text.length > 0 ? `${message}\n\n${text}` : message})
      } else if (code === 0) {
        finish({status: 'passing', output: text})
      } else if (code === 1) {
        finish({status: 'warning', output: text})
      } else {
        finish({status: 'critical', output: text})
      }
    })
  })
}
