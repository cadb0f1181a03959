// A throwaway three-member etcd cluster on loopback: each member on its own 127.B.C.n address
// with its own client and peer ports, one temp data dir per member, all started with the same
// --initial-cluster. Members are killed and restarted (with their data) by the failover test;
// everything is stopped by PID at the end. Defaults kept: heartbeat 100 ms, election 1000 ms.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {randomSubnet} from '../src/lib/devcluster/cluster.js'
import {etcdBin} from './etcd.js'
import {captureOutput, freePort, sleep, stopChild} from './process.js'
import {type BenchCluster, type BenchMember} from './raft-suite.js'
import {etcdTarget, type Workload} from './targets.js'

interface EtcdMember {
  name: string
  clientUrl: string
  args: string[]
  child?: ChildProcess
  output: () => string
}

async function postJson(url: string, body: string, timeoutMs: number): Promise<{status: number; text: string}> {
  const res = await request(url, {method: 'POST', body, headers: {'content-type': 'application/json'}, headersTimeout: timeoutMs, bodyTimeout: timeoutMs})
  return {status: res.statusCode, text: await res.body.text()}
}

/** True once a linearizable range through this member succeeds: it has a leader and has caught up to it. */
async function serves(clientUrl: string): Promise<boolean> {
  try {
    return (await postJson(`${clientUrl}/v3/kv/range`, '{"key":"AA=="}', 1000)).status === 200
  } catch {
    return false
  }
}

export async function startEtcdCluster(version: string, w: Workload, avoidSubnet: string, timeoutMs = 30_000): Promise<BenchCluster> {
  let subnet = randomSubnet()
  while (subnet === avoidSubnet) subnet = randomSubnet()
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-etcd3-'))
  const members: EtcdMember[] = []
  for (let i = 0; i < 3; i++) {
    const host = `${subnet}.${i + 1}`
    members.push({name: `etcd-${i + 1}`, clientUrl: `http://${host}:${await freePort()}`, args: [`${host}:${await freePort()}`], output: () => ''})
  }
  const peerUrls = members.map((m) => `http://${m.args[0]}`)
  const initialCluster = members.map((m, i) => `${m.name}=${peerUrls[i]}`).join(',')
  members.forEach((m, i) => {
    const dataDir = join(dir, m.name)
    mkdirSync(dataDir, {recursive: true})
    m.args = [
      `--name=${m.name}`, `--data-dir=${dataDir}`,
      `--listen-client-urls=${m.clientUrl}`, `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${peerUrls[i]}`, `--initial-advertise-peer-urls=${peerUrls[i]}`,
      `--initial-cluster=${initialCluster}`, '--initial-cluster-state=new', '--initial-cluster-token=coord-bench',
      '--logger=zap', '--log-level=warn',
    ]
  })

  const launch = (m: EtcdMember): void => {
    m.child = spawn(etcdBin, m.args, {stdio: ['ignore', 'pipe', 'pipe']})
    m.output = captureOutput(m.child)
  }
  const waitServing = async (m: EtcdMember, limitMs: number): Promise<void> => {
    const deadline = Date.now() + limitMs
    while (!(await serves(m.clientUrl))) {
      if (m.child?.exitCode !== null) throw new Error(`${m.name} exited with ${m.child?.exitCode}:\n${m.output().slice(-2000)}`)
      if (Date.now() > deadline) throw new Error(`${m.name} not serving within ${limitMs} ms:\n${m.output().slice(-2000)}`)
      await sleep(50)
    }
  }
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => (m.child ? stopChild(m.child) : undefined)))
    rmSync(dir, {recursive: true, force: true})
  }

  try {
    members.forEach(launch)
    await Promise.all(members.map((m) => waitServing(m, timeoutMs)))
  } catch (err) {
    await stop()
    throw err
  }

  const view = (m: EtcdMember): BenchMember => ({name: m.name, address: m.clientUrl.replace('http://', ''), pid: m.child?.pid ?? 0})
  return {
    label: `etcd ${version}`,
    members: () => members.map(view),
    async isLeader(i) {
      // Maintenance status names this member and the leader it follows (uint64s as JSON strings).
      const {status, text} = await postJson(`${members[i].clientUrl}/v3/maintenance/status`, '{}', 1000)
      if (status !== 200) return false
      const body = JSON.parse(text) as {header?: {member_id?: string}; leader?: string}
      return body.leader !== undefined && body.leader !== '0' && body.leader === body.header?.member_id
    },
    async kill9(i) {
      const child = members[i].child
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGKILL')
      await exited
    },
    async restart(i, limitMs) {
      launch(members[i])
      await waitServing(members[i], limitMs)
    },
    target: (i, connections) => etcdTarget(members[i].clientUrl, connections, w),
    readModes: [{label: 'linearizable range', target: (i, connections) => etcdTarget(members[i].clientUrl, connections, w)}],
    stop,
  }
}
