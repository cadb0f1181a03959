// One `coord agent` child process: spawned with the given flags, considered up once it logs its
// HTTP address and a leader answers /v1/status/leader (when `waitForLeader`). `coord dev cluster`,
// the integration tests and the benchmarks all start agents through this one module.
import {spawn, type ChildProcess} from 'node:child_process'
import {request} from 'node:http'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

// dist/src/lib/devcluster or src/lib/devcluster → the package root, where bin/run.js lives
const here = dirname(fileURLToPath(import.meta.url))
const packageRoot = resolve(here, here.includes(`${join('dist', 'src')}`) ? '../../../..' : '../../..')
export const coordBin = join(packageRoot, 'bin', 'run.js')

export interface AgentProcess {
  readonly name: string
  /** host:port of the plain HTTP API, '' when it is off (ports.http = -1). */
  readonly httpAddr: string
  /** host:port of the HTTPS API, '' when it is off. */
  readonly httpsAddr: string
  readonly pid: number
  readonly args: readonly string[]
  /** Everything printed so far (the last `outputLimit` bytes). */
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
  kill9(): Promise<void>
  /** SIGSTOP / SIGCONT: a paused process, as a stalled VM or a GC pause looks to its peers. */
  pause(): void
  resume(): void
  exited(): boolean
}

export interface SpawnAgentOptions {
  name: string
  args: string[]
  timeoutMs?: number
  /** Wait until some leader is known as well as HTTP being up (servers). */
  waitForLeader?: boolean
  outputLimit?: number
  /** Forward each output chunk (dev cluster prints them with a name prefix). */
  onOutput?: (text: string) => void
}

function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export function leaderKnown(httpAddr: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`http://${httpAddr}/v1/status/leader`, {timeout: timeoutMs}, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() !== '""' && body.trim() !== ''))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

export async function spawnAgent(opts: SpawnAgentOptions): Promise<AgentProcess> {
  const args = [coordBin, 'agent', ...opts.args]
  const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  const limit = opts.outputLimit ?? 4 * 1024 * 1024
  let output = ''
  const collect = (chunk: Buffer) => {
    const text = chunk.toString()
    output += text
    if (output.length > limit) output = output.slice(output.length - limit)
    opts.onOutput?.(text)
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT')
      child.kill('SIGTERM')
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const code = await waitExit(child)
    clearTimeout(timer)
    return code
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000)
  let httpAddr = ''
  let httpsAddr = ''
  let running = false
  try {
    for (;;) {
      if (!running && /agent running/.test(output)) {
        running = true
        httpAddr = /Started HTTP server: address=(\S+)/.exec(output)?.[1] ?? ''
        httpsAddr = /Started HTTPS server: address=(\S+)/.exec(output)?.[1] ?? ''
      }
      // An HTTPS-only agent is up once it runs (its leader is not asked: that needs its certificates).
      if (running && (httpAddr === '' || !opts.waitForLeader || await leaderKnown(httpAddr))) break
      if (child.exitCode !== null) throw new Error(`agent ${opts.name} exited with ${child.exitCode} before serving:\n${output}`)
      if (Date.now() > deadline) throw new Error(`agent ${opts.name} did not start within the time limit:\n${output}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  } catch (error) {
    child.kill('SIGKILL')
    await waitExit(child)
    throw error
  }
  return {
    name: opts.name,
    httpAddr,
    httpsAddr,
    pid: child.pid!,
    args,
    output: () => output,
    stop,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await waitExit(child)
    },
    pause: () => { child.kill('SIGSTOP') },
    resume: () => { child.kill('SIGCONT') },
    exited: () => child.exitCode !== null || child.signalCode !== null,
  }
}
