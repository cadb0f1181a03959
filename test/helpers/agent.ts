// Real agent processes and the real CLI binary for tests: `startAgent` spawns `coord agent` on a
// free loopback port and waits for it to serve; `runCli` runs `coord ...` against it.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

// dist/test/helpers → repository root
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const coordBin = join(repoRoot, 'bin', 'run.js')

export interface TestAgent {
  httpAddr: string
  pid: number
  dataDir?: string
  /** Everything the agent printed so far (banner and log lines). */
  output(): string
  stop(): Promise<number | null>
  kill9(): Promise<void>
}

export interface StartOptions {
  /** Extra agent flags; defaults give a -dev agent unless `dataDir` is set. */
  args?: string[]
  dataDir?: string
  bindAddr?: string
  timeoutMs?: number
}

function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export async function startAgent(opts: StartOptions = {}): Promise<TestAgent> {
  const host = opts.bindAddr ?? '127.0.0.1'
  const base = opts.dataDir
    ? ['agent', '-server', '-bootstrap', `-data-dir=${opts.dataDir}`, `-bind=${host}`, `-client=${host}`]
    : ['agent', '-dev', `-bind=${host}`, `-client=${host}`]
  const args = [coordBin, ...base, '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-node=test-node', ...(opts.args ?? [])]
  const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000)
  let httpAddr = ''
  while (!httpAddr) {
    const match = /Started HTTP server: address=(\S+)/.exec(output)
    if (match && /agent running/.test(output)) httpAddr = match[1]
    else if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode} before serving:\n${output}`)
    else if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`agent did not start within the time limit:\n${output}`)
    } else await new Promise((r) => setTimeout(r, 20))
  }
  return {
    httpAddr,
    pid: child.pid!,
    dataDir: opts.dataDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const code = await waitExit(child)
      clearTimeout(timer)
      return code
    },
    kill9: async () => {
      if (child.exitCode === null) child.kill('SIGKILL')
      await waitExit(child)
    },
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export function runCli(args: string[], opts: {env?: Record<string, string>; input?: string | Buffer; httpAddr?: string; timeoutMs?: number} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', ...opts.env}
    if (opts.httpAddr) env.CONSUL_HTTP_ADDR = opts.httpAddr
    const child = spawn(process.execPath, [coordBin, ...args], {env, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, stdout, stderr})
    })
    child.stdin.end(opts.input ?? '')
  })
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'coord-test-'): {path: string; cleanup(): void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}
