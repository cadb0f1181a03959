// A three-server coord cluster for the raft section, started through the same launcher as
// `coord dev cluster` and the integration tests (src/lib/devcluster): each server on its own
// 127.B.C.n address with Consul's default ports and a data dir (log fdatasynced before a write is
// acknowledged). A killed server is restarted with the same flags and data dir. Every process is
// stopped by PID at the end, including restarted ones.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {type AgentProcess, spawnAgent} from '../src/lib/devcluster/agent-process.js'
import {serverArgs, startCluster} from '../src/lib/devcluster/cluster.js'
import {sleep} from './process.js'
import {type BenchCluster} from './raft-suite.js'
import {coordTarget, type Workload} from './targets.js'

/** True once a `?consistent` read through this server succeeds: it reaches the leader and has applied its read index. */
async function serves(httpAddr: string): Promise<boolean> {
  try {
    const res = await request(`http://${httpAddr}/v1/kv/bench/0?consistent`, {headersTimeout: 1000, bodyTimeout: 1000})
    await res.body.text()
    return res.statusCode === 200 || res.statusCode === 404
  } catch {
    return false
  }
}

export async function startCoordCluster(w: Workload, subnet: string, timeoutMs = 30_000): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-raft-'))
  let cluster
  try {
    cluster = await startCluster({servers: 3, dir, subnet, timeoutMs})
  } catch (err) {
    rmSync(dir, {recursive: true, force: true})
    throw err
  }
  const servers: AgentProcess[] = [...cluster.servers]
  const restarted: AgentProcess[] = []
  const address = (i: number): string => `${subnet}.${i + 1}`
  const stop = async (): Promise<void> => {
    await Promise.all([cluster.stop(), ...restarted.map((agent) => agent.stop())])
    rmSync(dir, {recursive: true, force: true})
  }
  return {
    label: 'coord',
    members: () => servers.map((s) => ({name: s.name, address: s.httpAddr, pid: s.pid})),
    async isLeader(i) {
      const res = await request(`http://${servers[i].httpAddr}/v1/agent/self`, {headersTimeout: 1000, bodyTimeout: 1000})
      const text = await res.body.text()
      if (res.statusCode !== 200) return false
      return (JSON.parse(text) as {Stats?: {consul?: {leader?: string}}}).Stats?.consul?.leader === 'true'
    },
    kill9: (i) => servers[i].kill9(),
    async restart(i, limitMs) {
      const name = `server-${i + 1}`
      const agent = await spawnAgent({
        name, timeoutMs: limitMs, waitForLeader: true,
        args: serverArgs({name, address: address(i), dataDir: join(dir, name), expect: 3, join: [0, 1, 2].filter((j) => j !== i).map(address)}),
      })
      restarted.push(agent)
      servers[i] = agent
      const deadline = Date.now() + limitMs
      while (!(await serves(agent.httpAddr))) {
        if (agent.exited()) throw new Error(`${name} exited after restart:\n${agent.output().slice(-2000)}`)
        if (Date.now() > deadline) throw new Error(`${name} not serving within ${limitMs} ms of its restart`)
        await sleep(50)
      }
    },
    target: (i, connections) => coordTarget('coord', servers[i].httpAddr, connections, w),
    readModes: [
      {label: '`?consistent` (ReadIndex)', target: (i, connections) => coordTarget('coord ?consistent', servers[i].httpAddr, connections, w, '?consistent')},
      {label: 'default (leader lease)', target: (i, connections) => coordTarget('coord default', servers[i].httpAddr, connections, w)},
    ],
    stop,
  }
}
