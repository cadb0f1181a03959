// Child-process plumbing shared by the etcd and coord launchers: free loopback ports, a bounded
// record of what a child printed (so a chatty server can neither block on a full pipe nor grow
// our heap), and a stop that signals the one PID we started and escalates if it lingers.
import {type ChildProcess} from 'node:child_process'
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
