// A lone agent started under a fault wrapper (`prlimit` for a file-size limit, LD_PRELOAD for a
// failing fsync), for the disk-fault tests: its output is kept for the assertions, and the start
// returns once `ready` says it serves (bounded), or fails with what it printed.
import {spawn, type ChildProcess} from 'node:child_process'
import {coordBin} from './agent.js'
import {sleep} from './http.js'

export interface FaultAgent {
  proc: ChildProcess
  output: () => string
}

export interface FaultAgentOptions {
  /** `coord agent` arguments. */
  args: string[]
  /** A wrapper command and its arguments that run node (e.g. ['prlimit', '--fsize=4096:unlimited']). */
  wrapper?: string[]
  env?: NodeJS.ProcessEnv
  /** Whether the agent serves yet (asked every 100 ms). */
  ready: () => Promise<boolean>
  timeoutMs?: number
}

export async function startFaultAgent(opts: FaultAgentOptions): Promise<FaultAgent> {
  const nodeArgs = [coordBin, 'agent', ...opts.args]
  const [command, ...args] = opts.wrapper ? [...opts.wrapper, process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs]
  const proc = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env})
  let output = ''
  proc.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  proc.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  while (!(await opts.ready())) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start:\n${output}`)
    await sleep(100)
  }
  return {proc, output: () => output}
}
