// The cluster under test: N `coord agent -server` processes placed on a TestNetwork, each with its
// own data dir, restartable in place after kill -9 (same name, address and data). Output of every
// incarnation is kept so a failure can show what each server logged.
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {request} from 'undici'
import {serverArgs} from '../../src/lib/devcluster/cluster.js'
import type {AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import type {TestNetwork} from './netns.js'

// Agents live in namespaces of their own, so nothing reaps them if this process ends early (a
// failed assertion before `stop`, the runner's timeout): kill -9 whatever is left on the way out.
const live = new Set<AgentProcess>()
process.on('exit', () => {
  for (const agent of live) if (!agent.exited()) try { process.kill(agent.pid, 'SIGKILL') } catch { /* already gone */ }
})

export class JepsenCluster {
  readonly servers: AgentProcess[] = []
  readonly #pastOutput: string[][] = []

  private constructor(readonly network: TestNetwork, readonly dir: string, readonly count: number, readonly extraArgs: readonly string[]) {}

  /** `extraArgs` go to every server (e.g. a -config-file with short session TTLs). */
  static async start(network: TestNetwork, dir: string, count = 3, extraArgs: readonly string[] = []): Promise<JepsenCluster> {
    const cluster = new JepsenCluster(network, dir, count, extraArgs)
    // allSettled, not all: a server still starting when another failed must be stopped too.
    const started = await Promise.allSettled(Array.from({length: count}, (_, i) => cluster.#spawn(i)))
    const failed = started.find((result) => result.status === 'rejected')
    if (failed !== undefined) {
      await cluster.stop()
      throw failed.reason
    }
    return cluster
  }

  get httpAddrs(): string[] {
    return this.servers.map((server) => server.httpAddr)
  }

  async #spawn(index: number): Promise<AgentProcess> {
    const name = `server-${index + 1}`
    const address = this.network.addresses[index]
    const dataDir = join(this.dir, name)
    mkdirSync(dataDir, {recursive: true})
    const agent = await this.network.spawnServer(index, {
      name, timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name, address, dataDir, expect: this.count, join: this.network.addresses.filter((a) => a !== address), extra: [...this.extraArgs]}),
    })
    const previous = this.servers[index]
    if (previous !== undefined) (this.#pastOutput[index] ??= []).push(previous.output())
    this.servers[index] = agent
    live.add(agent)
    return agent
  }

  /** Starts server `index` again on its data dir (after kill -9); resolves once it knows a leader. */
  restart(index: number): Promise<AgentProcess> {
    return this.#spawn(index)
  }

  /** kill -9 of every server at the same moment. */
  async killAll(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.kill9()))
  }

  /**
   * Index of the server the live ones name as leader, or undefined if none answers within `timeoutMs`.
   * `askOnly` limits who is asked (e.g. the majority side of a partition, whose answer is the news).
   */
  async leaderIndex(timeoutMs = 1_000, askOnly?: readonly number[]): Promise<number | undefined> {
    for (const [index, server] of this.servers.entries()) {
      if (server.exited() || (askOnly !== undefined && !askOnly.includes(index))) continue
      try {
        const res = await request(`http://${server.httpAddr}/v1/status/leader`, {signal: AbortSignal.timeout(timeoutMs)})
        const leader = (await res.body.json()) as string
        const index = this.network.addresses.findIndex((address) => leader.startsWith(`${address}:`))
        if (index >= 0) return index
      } catch {
        // paused, killed or cut off: ask the next one
      }
    }
    return undefined
  }

  /** What server `index` printed, every incarnation, last `tailChars` characters of each. */
  logs(index: number, tailChars = 4_000): string {
    const all = [...(this.#pastOutput[index] ?? []), this.servers[index]?.output() ?? '']
    return all.map((text, n) => `--- server-${index + 1} incarnation ${n + 1} ---\n${text.slice(-tailChars)}`).join('\n')
  }

  /**
   * Lines of every incarnation of server `index` about leadership and membership (elections, step-
   * downs and their reasons, autopilot removals): a failure's timeline, which a log's tail may miss.
   */
  milestones(index: number): string {
    const all = [...(this.#pastOutput[index] ?? []), this.servers[index]?.output() ?? ''].join('\n')
    const lines = all.split('\n').filter((line) => /leadership|removal of failed|removed server|raft server|bootstrapped/.test(line))
    return `--- server-${index + 1} milestones ---\n${lines.slice(-40).join('\n')}`
  }

  async stop(): Promise<void> {
    this.network.heal()
    await Promise.all(this.servers.map(async (server) => {
      await server.stop(5_000)
      live.delete(server)
    }))
  }
}
