// A coord agent for the bench: either `-dev` (state in memory) or a bootstrapped single server
// with a data dir (its Raft log is fsynced, which is the fair comparison with etcd). Its HTTP
// address comes from the log line `Started HTTP server: address=…`, since every port is 0.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {request} from 'undici'
import {captureOutput, sleep, stopChild} from './process.js'

// dist/bench → repository root
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const coordBin = join(repoRoot, 'bin', 'run.js')

export interface CoordAgent {
  httpAddr: string
  pid: number
  stop(): Promise<void>
}

export async function startCoord(mode: 'dev' | 'persistent', timeoutMs = 20_000): Promise<CoordAgent> {
  const dataDir = mode === 'persistent' ? mkdtempSync(join(tmpdir(), 'coord-bench-data-')) : undefined
  const modeArgs = dataDir ? ['-server', '-bootstrap', `-data-dir=${dataDir}`] : ['-dev']
  const child = spawn(process.execPath, [coordBin, 'agent', ...modeArgs,
    '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0',
    '-node=bench', '-bind=127.0.0.1', '-client=127.0.0.1',
  ], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  // The banner comes early; 1 MiB of tail is plenty to still hold it when we look.
  const output = captureOutput(child, 1024 * 1024)
  const stop = async (): Promise<void> => {
    await stopChild(child)
    if (dataDir) rmSync(dataDir, {recursive: true, force: true})
  }
  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = output()
      const addr = /Started HTTP server: address=(\S+)/.exec(text)?.[1]
      // "running" precedes the first election on a -bootstrap server: also wait for a leader.
      if (addr && /agent running/.test(text) && await hasLeader(addr)) return {httpAddr: addr, pid: child.pid!, stop}
      if (child.exitCode !== null) throw new Error(`coord agent exited with ${child.exitCode}:\n${text}`)
      if (Date.now() > deadline) throw new Error(`coord agent not serving within ${timeoutMs} ms:\n${text}`)
      await sleep(20)
    }
  } catch (err) {
    await stop()
    throw err
  }
}

async function hasLeader(httpAddr: string): Promise<boolean> {
  try {
    const res = await request(`http://${httpAddr}/v1/status/leader`, {headersTimeout: 1000, bodyTimeout: 1000})
    const body = await res.body.text()
    return res.statusCode === 200 && body.trim() !== '""'
  } catch {
    return false
  }
}
