// Real agent processes and the real CLI binary for tests: `startAgent` spawns `coord agent` on a
// free loopback port and waits for it to serve; `runCli` runs `coord ...` against it.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before} from 'node:test'
import {mkdirSync} from 'node:fs'
import {coordBin, spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {randomSubnet, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'

export {coordBin}

export interface TestAgent {
  httpAddr: string
  pid: number
  dataDir?: string
  /** Everything the agent printed so far (banner and log lines). */
  output(): string
  stop(): Promise<number | null>
  kill9(): Promise<void>
  /** The process has exited (crashed, or stopped). */
  exited(): boolean
}

export interface StartOptions {
  /** Extra agent flags; defaults give a -dev agent unless `dataDir` is set. */
  args?: string[]
  dataDir?: string
  bindAddr?: string
  timeoutMs?: number
}

export async function startAgent(opts: StartOptions = {}): Promise<TestAgent> {
  const host = opts.bindAddr ?? '127.0.0.1'
  const base = opts.dataDir
    ? ['-server', '-bootstrap', `-data-dir=${opts.dataDir}`, `-bind=${host}`, `-client=${host}`]
    : ['-dev', `-bind=${host}`, `-client=${host}`]
  const agent = await spawnAgent({
    name: 'test-node', timeoutMs: opts.timeoutMs ?? 15_000,
    args: [...base, '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-node=test-node', ...(opts.args ?? [])],
  })
  return {
    httpAddr: agent.httpAddr,
    pid: agent.pid,
    dataDir: opts.dataDir,
    output: () => agent.output(),
    stop: () => agent.stop(),
    kill9: () => agent.kill9(),
    exited: () => agent.exited(),
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export function runCli(args: string[], opts: {env?: Record<string, string>; input?: string | Buffer; httpAddr?: string; timeoutMs?: number; cwd?: string; obeyFileModes?: boolean} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', ...opts.env}
    if (opts.httpAddr) env.CONSUL_HTTP_ADDR = opts.httpAddr
    const argv = [process.execPath, coordBin, ...args]
    const [command, ...rest] = opts.obeyFileModes ? obeyingFileModes(argv) : argv
    const child = spawn(command, rest, {env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe']})
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
    // A command that exits without reading its stdin closes the pipe first: that is its answer, not an error.
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

/**
 * argv that runs with file modes enforced even as root (CI runs as root, who reads a mode-000 file):
 * util-linux's setpriv drops the capabilities that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
 */
function obeyingFileModes(argv: string[]): string[] {
  if (process.getuid?.() !== 0) return argv
  return ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-all', ...argv]
}

/**
 * A one-server datacenter for WAN tests: `s<index>` bootstrapped on `<subnet>.<index>` (its own
 * loopback address, so default gossip ports), data under `<dir>/s<index>`, serving once it leads.
 */
export async function startDatacenterServer(dir: string, subnet: string, index: number, dc: string, extra: string[] = []): Promise<AgentProcess> {
  const dataDir = join(dir, `s${index}`)
  mkdirSync(dataDir, {recursive: true})
  return spawnAgent({
    name: `s${index}`, timeoutMs: 30_000, waitForLeader: true,
    args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, `-node=s${index}`, `-bind=${subnet}.${index}`, `-client=${subnet}.${index}`, `-datacenter=${dc}`, ...extra],
  })
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'coord-test-'): {path: string; cleanup(): void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}

/**
 * A real cluster for one describe block: started before its tests, stopped and its data removed
 * after (`extraArgs` go to every agent). Tests read `ctx.cluster` (and `ctx.dir` to restart a server on its own data).
 */
export function useCluster(servers: number, prefix: string, opts: {clients?: number; extraArgs?: string[]} = {}): {readonly cluster: Cluster; readonly dir: string} {
  const dir = tempDir(prefix)
  let cluster: Cluster | undefined
  before(async () => {
    cluster = await startCluster({servers, clients: opts.clients, dir: dir.path, subnet: randomSubnet(), timeoutMs: 30_000, extraArgs: opts.extraArgs})
  })
  after(async () => {
    await cluster?.stop()
    dir.cleanup()
  })
  return {
    get cluster() {
      if (!cluster) throw new Error('cluster not started (used outside a test?)')
      return cluster
    },
    dir: dir.path,
  }
}

/** One real agent for a describe block: started before its tests, stopped after. Tests read `ctx.agent`. */
export function useAgent(opts: StartOptions = {}): {readonly agent: TestAgent} {
  let agent: TestAgent | undefined
  before(async () => { agent = await startAgent(opts) })
  after(async () => { await agent?.stop() })
  return {
    get agent() {
      if (!agent) throw new Error('agent not started (used outside a test?)')
      return agent
    },
  }
}
