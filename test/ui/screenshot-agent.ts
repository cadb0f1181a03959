// A -dev agent named demo-node for the screenshots and the benchmark (stopped by the caller).
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository root, from dist/test/ui (built) or test/ui (tsx). */
export const repoRootDir = resolve(here, here.includes('/dist/') ? '../../..' : '../..')

export async function startAgent(extraArgs: string[] = []): Promise<{httpAddr: string; stop(): Promise<unknown>}> {
  const agent = await spawnAgent({
    name: 'demo-node', timeoutMs: 20_000,
    args: ['-dev', '-bind=127.0.0.1', '-client=127.0.0.1', '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-node=demo-node', ...extraArgs],
  })
  return {httpAddr: agent.httpAddr, stop: () => agent.stop()}
}
