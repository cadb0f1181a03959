// A local cluster on one machine: N server agents (and optional clients), each on its own loopback
// address (127.B.C.1, .2, ...) so every agent keeps Consul's default ports and a test can cut one
// address off. Data dirs live under one folder. Used by `coord dev cluster`, the integration tests
// and the benchmarks.
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {spawnAgent, type AgentProcess} from './agent-process.js'

export interface ClusterOptions {
  servers: number
  clients?: number
  dir: string
  /** First three octets of the agents' addresses, e.g. "127.0.1"; the agents take .1, .2, ... */
  subnet?: string
  extraArgs?: string[]
  /** Added after extraArgs for servers only / clients only (e.g. a -config-file with each role's certificate). */
  serverArgs?: string[]
  clientArgs?: string[]
  timeoutMs?: number
  onOutput?: (name: string, text: string) => void
}

export interface Cluster {
  servers: AgentProcess[]
  clients: AgentProcess[]
  /** Agents' addresses in the cluster (127.B.C.n). */
  addresses: string[]
  /** Stops every agent in `servers` and `clients` as they are now (tests replace restarted ones). */
  stop(): Promise<void>
}

/** A subnet of 127/8 not likely to collide with another cluster started by a parallel test. */
export function randomSubnet(): string {
  return `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
}

export function serverArgs(opts: {name: string; address: string; dataDir: string; expect: number; join: string[]; extra?: string[]}): string[] {
  return [
    '-server', `-bootstrap-expect=${opts.expect}`, `-data-dir=${opts.dataDir}`, `-node=${opts.name}`,
    `-bind=${opts.address}`, `-client=${opts.address}`,
    ...opts.join.map((address) => `-retry-join=${address}`),
    ...(opts.extra ?? []),
  ]
}

/** A client agent (no -server): finds the servers by gossip through the -retry-join hosts. */
export function clientArgs(opts: {name: string; address: string; dataDir: string; join: string[]; extra?: string[]}): string[] {
  return [
    `-data-dir=${opts.dataDir}`, `-node=${opts.name}`, `-bind=${opts.address}`, `-client=${opts.address}`,
    ...opts.join.map((address) => `-retry-join=${address}`),
    ...(opts.extra ?? []),
  ]
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const subnet = opts.subnet ?? randomSubnet()
  const total = opts.servers + (opts.clients ?? 0)
  const addresses = Array.from({length: total}, (_, i) => `${subnet}.${i + 1}`)
  const serverAddresses = addresses.slice(0, opts.servers)
  mkdirSync(opts.dir, {recursive: true})
  const started: AgentProcess[] = []
  const stop = async () => {
    await Promise.all(started.map((agent) => agent.stop()))
  }
  try {
    const servers = await Promise.all(serverAddresses.map((address, i) => {
      const name = `server-${i + 1}`
      const dataDir = join(opts.dir, name)
      mkdirSync(dataDir, {recursive: true})
      return spawnAgent({
        name, timeoutMs: opts.timeoutMs, waitForLeader: true,
        args: serverArgs({name, address, dataDir, expect: opts.servers, join: serverAddresses.filter((a) => a !== address), extra: [...(opts.extraArgs ?? []), ...(opts.serverArgs ?? [])]}),
        onOutput: opts.onOutput && ((text) => opts.onOutput!(name, text)),
      }).then((agent) => { started.push(agent); return agent })
    }))
    const clients: AgentProcess[] = []
    for (let i = 0; i < (opts.clients ?? 0); i++) {
      const name = `client-${i + 1}`
      const address = addresses[opts.servers + i]
      const dataDir = join(opts.dir, name)
      mkdirSync(dataDir, {recursive: true})
      // Up once it has found a server through gossip and a forwarded /v1/status/leader answers.
      const agent = await spawnAgent({
        name, timeoutMs: opts.timeoutMs, waitForLeader: true,
        args: clientArgs({name, address, dataDir, join: serverAddresses, extra: [...(opts.extraArgs ?? []), ...(opts.clientArgs ?? [])]}),
        onOutput: opts.onOutput && ((text) => opts.onOutput!(name, text)),
      })
      started.push(agent)
      clients.push(agent)
    }
    const cluster: Cluster = {
      servers, clients, addresses,
      stop: async () => {
        await Promise.all([...new Set([...started, ...cluster.servers, ...cluster.clients])].map((agent) => agent.stop()))
      },
    }
    return cluster
  } catch (error) {
    await stop()
    throw error
  }
}
