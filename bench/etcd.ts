// A throwaway single-member etcd on loopback: installed from Debian's etcd-server (v3.4) when
// missing, started with a temp data dir and free ports, stopped by its PID. etcd fsyncs its WAL
// on every commit; that is the durability coord's data-dir mode is compared against.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {captureOutput, freePort, sleep, stopChild} from './process.js'

export const etcdBin = '/usr/bin/etcd'

export interface EtcdServer {
  clientUrl: string
  pid: number
  version: string
  stop(): Promise<void>
}

/** Returns undefined when etcd is there (installing it if needed), else why it is not. */
export function ensureEtcd(log: (line: string) => void): string | undefined {
  if (existsSync(etcdBin)) return undefined
  log('etcd missing: apt-get install -y etcd-server')
  // The package's postinst may try to start a system etcd; RUNLEVEL=1 tells invoke-rc.d not to,
  // so nothing keeps listening on 2379 after the bench.
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1'}
  const install = (): number | null => spawnSync('apt-get', ['install', '-y', 'etcd-server'], {env, stdio: 'inherit', timeout: 300_000}).status
  if (install() !== 0) {
    // A fresh machine has no package lists yet.
    spawnSync('apt-get', ['update'], {env, stdio: 'inherit', timeout: 300_000})
    if (install() !== 0) return 'apt-get install etcd-server failed'
  }
  return existsSync(etcdBin) ? undefined : `installed etcd-server but ${etcdBin} is absent`
}

export function etcdVersion(): string {
  const out = spawnSync(etcdBin, ['--version'], {encoding: 'utf8', timeout: 10_000}).stdout ?? ''
  return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? 'unknown'
}

/**
 * With `dataDir` the member starts on that directory (a restart: `--initial-cluster-state=new` is
 * ignored once the WAL exists) and `stop` leaves it for the caller; otherwise a temp dir goes with it.
 */
export async function startEtcd(timeoutMs = 20_000, dataDir?: string): Promise<EtcdServer> {
  const [clientPort, peerPort] = [await freePort(), await freePort()]
  const clientUrl = `http://127.0.0.1:${clientPort}`
  const peerUrl = `http://127.0.0.1:${peerPort}`
  const ownDir = dataDir === undefined
  dataDir ??= mkdtempSync(join(tmpdir(), 'coord-bench-etcd-'))
  const child = spawn(etcdBin, [
    '--name=bench', `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`, `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=bench=${peerUrl}`, '--initial-cluster-state=new',
    '--logger=zap', '--log-level=warn',
  ], {stdio: ['ignore', 'pipe', 'pipe']})
  const output = captureOutput(child)
  const stop = async (): Promise<void> => {
    await stopChild(child)
    if (ownDir) rmSync(dataDir, {recursive: true, force: true})
  }
  try {
    // Ready once a linearizable read succeeds, i.e. it has elected itself and serves the gateway.
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${output()}`)
      if (Date.now() > deadline) throw new Error(`etcd not ready within ${timeoutMs} ms:\n${output()}`)
      try {
        const res = await request(`${clientUrl}/v3/kv/range`, {method: 'POST', body: '{"key":"AA=="}', headersTimeout: 1000, bodyTimeout: 1000})
        await res.body.text()
        if (res.statusCode === 200) break
      } catch {
        // not listening yet
      }
      await sleep(100)
    }
    return {clientUrl, pid: child.pid!, version: etcdVersion(), stop}
  } catch (err) {
    await stop()
    throw err
  }
}
