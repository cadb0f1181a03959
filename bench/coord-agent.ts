// A coord agent for the bench: either `-dev` (state in memory) or a bootstrapped single server
// with a data dir (its log is fsynced, which is the fair comparison with etcd). Started through
// the same launcher as `coord dev cluster` and the tests.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {spawnAgent} from '../src/lib/devcluster/agent-process.js'

// dist/bench → repository root
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface CoordAgent {
  httpAddr: string
  /** host:port of its DNS server (UDP and TCP), from its start-up log. */
  dnsAddr: string
  pid: number
  stop(): Promise<void>
}

export async function startCoord(mode: 'dev' | 'persistent', timeoutMs = 20_000, extraArgs: string[] = []): Promise<CoordAgent> {
  const dataDir = mode === 'persistent' ? mkdtempSync(join(tmpdir(), 'coord-bench-data-')) : undefined
  const modeArgs = dataDir ? ['-server', '-bootstrap', `-data-dir=${dataDir}`] : ['-dev']
  try {
    const agent = await spawnAgent({
      name: `bench-${mode}`, timeoutMs, waitForLeader: true, outputLimit: 1024 * 1024,
      args: [...modeArgs, '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-node=bench', '-bind=127.0.0.1', '-client=127.0.0.1', ...extraArgs],
    })
    return {
      httpAddr: agent.httpAddr,
      dnsAddr: /Started DNS server: address=(\S+) network=udp/.exec(agent.output())?.[1] ?? '',
      pid: agent.pid,
      stop: async () => {
        await agent.stop()
        if (dataDir) rmSync(dataDir, {recursive: true, force: true})
      },
    }
  } catch (error) {
    if (dataDir) rmSync(dataDir, {recursive: true, force: true})
    throw error
  }
}
