// Where the jepsen servers live, and how a partition cuts one off.
//
// Why network namespaces and not tc on a shared loopback: every server binds its own 127.B.C.n, but
// its *outbound* RPC connections are not bound to it, so they leave from 127.0.0.1 (the local
// route's preferred source) and no filter can tell server 1's packets from server 2's. So each
// server gets its own namespace with one veth (10.77.0.n) on a bridge; the test driver sits on the
// bridge at 10.77.0.254 and keeps reaching every server's HTTP port. A partition drops, on the
// bridge ports, every packet between the isolated server and its peers (an htb class whose leaf is
// a zero-length pfifo: this kernel has no act_gact, so u32 "action drop" is not available).
//
// Nothing here touches the host: the test file first re-executes itself under `unshare --net`
// (reexecInOwnNetns), and the bridge, veths and server namespaces are created inside that private
// namespace. When that is impossible the servers run on loopback and only partitions are skipped.
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {chmodSync, readlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess, type SpawnAgentOptions} from '../../src/lib/devcluster/agent-process.js'

const insideMark = 'COORD_JEPSEN_NETNS'

/**
 * Runs `file` again inside a fresh network namespace and returns its exit status; undefined when
 * this process is already that child (or namespaces are unavailable): the caller then runs the
 * tests itself. The child inherits stdio, so under `node --test` its report reaches the runner as
 * if this process had written it.
 */
export function reexecInOwnNetns(file: string, opts: {args?: string[]; timeoutMs?: number} = {}): number | undefined {
  if (process.env[insideMark] !== undefined) return undefined
  const probe = spawnSync('unshare', ['--net', 'true'], {encoding: 'utf8', timeout: 5_000})
  if (probe.status !== 0) {
    process.env[insideMark] = `unavailable: unshare --net failed (${(probe.stderr || probe.error?.message || `status ${probe.status}`).trim()})`
    return undefined
  }
  const child = spawnSync('unshare', ['--net', '--', process.execPath, ...process.execArgv, file, ...(opts.args ?? [])], {
    stdio: 'inherit', env: {...process.env, [insideMark]: 'inside'}, timeout: opts.timeoutMs ?? 240_000, killSignal: 'SIGKILL',
  })
  return child.status ?? 1
}

/**
 * A run without partitions tests less than its name says, so it fails unless the environment asks
 * for it: COORD_JEPSEN_DEGRADED=1 (or COORD_JEPSEN_NETNS=off, which asks for loopback outright).
 * Returns the line a degraded run prints; throws when partitions are missing and nobody asked.
 */
export function degradedRunNotice(network: TestNetwork): string | undefined {
  const why = network.partitionsUnavailable
  if (why === undefined) return undefined
  const asked = process.env.COORD_JEPSEN_DEGRADED === '1' || process.env[insideMark] === 'off'
  if (!asked) throw new Error(`jepsen: cannot create partitions (${why}); set COORD_JEPSEN_DEGRADED=1 to run without partition faults`)
  return `# jepsen: DEGRADED run, asked for by the environment: partition faults skipped (${why})`
}

export interface TestNetwork {
  /** Address each server binds (HTTP on :8500, RPC on :8300). */
  readonly addresses: readonly string[]
  /** Why partitions cannot be injected here; undefined when they can. */
  readonly partitionsUnavailable?: string
  /** Spawns `coord agent` for server `index` in its place on this network. */
  spawnServer(index: number, opts: Omit<SpawnAgentOptions, 'args'> & {args: string[]}): Promise<AgentProcess>
  /**
   * The executable that runs node beside server `index` (in its namespace), for clients that live
   * on that server's host, e.g. `coord lock` contenders: same arguments as process.execPath.
   */
  nodeFor(index: number): string
  /**
   * `count` more addresses on the driver's side (the bridge, or loopback), reachable from every
   * server and outside every cut: for agents that live beside the driver, e.g. client agents.
   */
  hostAddresses(count: number): string[]
  /** Cuts server `index` off from every other server (the test driver still reaches it). */
  isolate(index: number): void
  /** Removes every cut. */
  heal(): void
  close(): void
}

/**
 * Per-server namespaces when this process runs in its own namespace, else plain loopback.
 * `holdSeconds` bounds how long the namespaces outlive a driver that dies without cleanup; a server
 * restarted later than that could not enter its namespace, so long runs raise it.
 */
export function createNetwork(servers: number, dir: string, opts: {holdSeconds?: number} = {}): TestNetwork {
  const state = process.env[insideMark]
  if (state === undefined) return loopbackNetwork(servers, 'not running in a private network namespace')
  if (state !== 'inside') return loopbackNetwork(servers, state.startsWith('unavailable') ? state : `${insideMark}=${state}`)
  try {
    return namespaceNetwork(servers, dir, opts.holdSeconds ?? 300)
  } catch (error) {
    return loopbackNetwork(servers, `namespace setup failed: ${(error as Error).message.split('\n')[0]}`)
  }
}

function loopbackNetwork(servers: number, why: string): TestNetwork {
  const subnet = randomSubnet()
  return {
    addresses: Array.from({length: servers}, (_, i) => `${subnet}.${i + 1}`),
    partitionsUnavailable: why,
    spawnServer: (_index, opts) => spawnAgent(opts),
    nodeFor: () => process.execPath,
    hostAddresses: (count) => Array.from({length: count}, (_, i) => `${subnet}.${servers + i + 1}`),
    isolate: () => { throw new Error(`partitions unavailable: ${why}`) },
    heal: () => {},
    close: () => {},
  }
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000})

function namespaceNetwork(servers: number, dir: string, holdSeconds: number): TestNetwork {
  const holders: ChildProcess[] = []
  const bridge = 'jbr0'
  const port = (i: number) => `jv${i + 1}`
  const addresses = Array.from({length: servers}, (_, i) => `10.77.0.${i + 1}`)
  const wrappers: string[] = []
  const close = () => {
    for (const holder of holders) holder.kill('SIGKILL')
    try { run('ip', ['link', 'del', bridge]) } catch { /* not created */ }
  }
  try {
    run('ip', ['link', 'set', 'lo', 'up'])
    run('ip', ['link', 'add', bridge, 'type', 'bridge'])
    run('ip', ['addr', 'add', '10.77.0.254/24', 'dev', bridge])
    run('ip', ['link', 'set', bridge, 'up'])
    const ownNs = readlinkSync('/proc/self/ns/net')
    for (let i = 0; i < servers; i++) {
      // The namespace lives as long as this holder (bounded, in case the test dies without cleanup).
      const holder = spawn('unshare', ['--net', '--', 'sleep', String(holdSeconds)], {stdio: 'ignore'})
      holders.push(holder)
      const nsPath = `/proc/${holder.pid}/ns/net`
      const deadline = Date.now() + 3_000
      while (readlinkSync(nsPath) === ownNs) {
        if (Date.now() > deadline) throw new Error('holder namespace never appeared')
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
      }
      run('ip', ['link', 'add', port(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(holder.pid)])
      run('ip', ['link', 'set', port(i), 'master', bridge, 'up'])
      for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up']]) {
        run('nsenter', [`--net=${nsPath}`, 'ip', ...args])
      }
      // Unclassified packets pass (htb default 0: direct); class 1:2 drops everything (pfifo limit 0).
      run('tc', ['qdisc', 'add', 'dev', port(i), 'root', 'handle', '1:', 'htb', 'default', '0'])
      run('tc', ['class', 'add', 'dev', port(i), 'parent', '1:', 'classid', '1:2', 'htb', 'rate', '8bit'])
      run('tc', ['qdisc', 'add', 'dev', port(i), 'parent', '1:2', 'handle', '20:', 'pfifo', 'limit', '0'])
      // nsenter with only --net execs without forking, so the agent keeps this script's pid and
      // kill -9 / SIGSTOP through AgentProcess reach the agent itself.
      const wrapper = join(dir, `node-in-ns-${i + 1}.sh`)
      writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${nsPath} ${process.execPath} "$@"\n`)
      chmodSync(wrapper, 0o755)
      wrappers.push(wrapper)
    }
  } catch (error) {
    close()
    throw error
  }
  const cut = (on: number, from: number) =>
    run('tc', ['filter', 'add', 'dev', port(on), 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'src', `${addresses[from]}/32`, 'flowid', '1:2'])
  return {
    addresses,
    spawnServer: (index, opts) => {
      // spawnAgent spawns process.execPath before its first await; pointing it at the wrapper for
      // exactly that synchronous call puts the agent in its namespace without a second spawner.
      const real = process.execPath
      process.execPath = wrappers[index]
      try {
        return spawnAgent(opts)
      } finally {
        process.execPath = real
      }
    },
    nodeFor: (index) => wrappers[index],
    hostAddresses: (count) => Array.from({length: count}, (_, i) => {
      const address = `10.77.0.${101 + i}`
      run('ip', ['addr', 'add', `${address}/24`, 'dev', bridge])
      return address
    }),
    isolate: (index) => {
      for (let other = 0; other < servers; other++) {
        if (other === index) continue
        cut(other, index) // packets from the isolated server towards `other`
        cut(index, other) // and the way back
      }
    },
    heal: () => {
      for (let i = 0; i < servers; i++) {
        try { run('tc', ['filter', 'del', 'dev', port(i), 'parent', '1:', 'prio', '1']) } catch { /* no filter */ }
      }
    },
    close,
  }
}
