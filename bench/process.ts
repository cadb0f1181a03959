// Child-process plumbing shared by the etcd and coord launchers: free loopback ports, a bounded
// record of what a child printed (so a chatty server can neither block on a full pipe nor grow
// our heap), and a stop that signals the one PID we started and escalates if it lingers.
import {type ChildProcess, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createServer} from 'node:net'

/** Asks the kernel for a free loopback port. Racy in principle; fine for a one-machine bench. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** Keeps the last `limit` characters a child printed on stdout and stderr. */
export function captureOutput(child: ChildProcess, limit = 64 * 1024): () => string {
  let text = ''
  const add = (chunk: Buffer): void => {
    text += chunk.toString()
    if (text.length > limit) text = text.slice(-limit)
  }
  child.stdout?.on('data', add)
  child.stderr?.on('data', add)
  return () => text
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** SIGTERM the child by its PID, SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited(child)
  clearTimeout(timer)
}

/** Resident set size in MiB from /proc (Linux only); undefined if the process is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** Clock ticks per second of /proc's utime/stime (getconf CLK_TCK; 100 on every Linux we run on). */
const clockTicks = ((): number => {
  const n = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout?.trim())
  return Number.isFinite(n) && n > 0 ? n : 100
})()

/**
 * CPU time (user + system, ms) a process has used so far, from its own accounting in
 * /proc/<pid>/stat (fields 14 and 15, after the parenthesised command name); undefined if it is gone.
 * Unlike throughput, this hardly moves with other work on the machine: it counts only this process.
 */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
  } catch {
    return undefined
  }
}

/**
 * CPU time (ms) the whole machine has spent busy so far, summed over its CPUs: /proc/stat's first
 * line, user + nice + system + irq + softirq + steal (guest time is inside user), i.e. everything
 * but idle and iowait; undefined where /proc/stat is not readable.
 */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    if (line.slice(0, 4) !== 'cpu ' || f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined
    return ((f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 1000) / clockTicks
  } catch {
    return undefined
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
