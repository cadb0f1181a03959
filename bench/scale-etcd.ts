// etcd's twin of the scale section's key rows (bench/scale-suite.ts runKeys), run right after
// coord's on the same box: the same keys and 100-byte values loaded in 64-op txns (16 in flight)
// through etcd's JSON gateway, RSS per key, `etcdctl snapshot save` time (etcd's twin of
// `coord snapshot save`), and restart time (start on the same data dir → a range answered) with
// the RSS after it.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {sendInFlight} from './bulk-load.js'
import {startEtcd} from './etcd.js'
import {rssMiB} from './process.js'

export interface EtcdKeysRow {
  keys: number
  loadSeconds: number
  rssMiB: number
  saveSeconds: number
  saveBytes: number
  restartSeconds: number
  rssAfterRestartMiB: number
}

const b64 = (text: string): string => Buffer.from(text).toString('base64')
const VALUE = Buffer.alloc(100, 'v').toString('base64')

/** etcdctl from Debian's etcd-client, installed when missing; undefined when it is there. */
export function ensureEtcdctl(log: (line: string) => void): string | undefined {
  if (spawnSync('etcdctl', ['version'], {timeout: 10_000}).status === 0) return undefined
  log('etcdctl missing: apt-get install -y etcd-client')
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1'}
  if (spawnSync('apt-get', ['install', '-y', 'etcd-client'], {env, stdio: 'inherit', timeout: 300_000}).status === 0) return undefined
  spawnSync('apt-get', ['update'], {env, stdio: 'inherit', timeout: 300_000})
  return spawnSync('apt-get', ['install', '-y', 'etcd-client'], {env, stdio: 'inherit', timeout: 300_000}).status === 0 ? undefined : 'apt-get install etcd-client failed'
}

async function range(clientUrl: string): Promise<void> {
  const res = await fetch(`${clientUrl}/v3/kv/range`, {method: 'POST', body: JSON.stringify({key: b64('k/0000000')})})
  const body = await res.json() as {kvs?: unknown[]}
  if (res.status !== 200 || body.kvs?.length !== 1) throw new Error(`etcd range: ${res.status} ${JSON.stringify(body)}`)
}

export async function runEtcdKeys(keys: number, log: (line: string) => void): Promise<EtcdKeysRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-etcd-'))
  const dataDir = join(dir, 'data')
  let etcd = await startEtcd(60_000, dataDir)
  try {
    const count = Math.ceil(keys / 64)
    const t0 = performance.now()
    await sendInFlight(etcd.clientUrl, 'POST', '/v3/kv/txn', count, (i) => JSON.stringify({
      success: Array.from({length: Math.min(64, keys - i * 64)}, (_, j) => ({requestPut: {key: b64(`k/${String(i * 64 + j).padStart(7, '0')}`), value: VALUE}})),
    }))
    const loadSeconds = (performance.now() - t0) / 1000
    const rss = rssMiB(etcd.pid) ?? NaN
    const file = join(dir, 'etcd.snapshot')
    const t1 = performance.now()
    const saved = spawnSync('etcdctl', [`--endpoints=${etcd.clientUrl}`, 'snapshot', 'save', file], {env: {...process.env, ETCDCTL_API: '3'}, encoding: 'utf8', timeout: 600_000})
    const saveSeconds = (performance.now() - t1) / 1000
    if (saved.status !== 0) throw new Error(`etcdctl snapshot save: ${saved.stderr}`)
    const saveBytes = statSync(file).size
    log(`scale etcd ${keys} keys: loaded in ${loadSeconds.toFixed(1)} s, RSS ${rss.toFixed(0)} MiB, snapshot save ${saveSeconds.toFixed(1)} s (${saveBytes} bytes)`)
    await etcd.stop()
    const t2 = performance.now()
    etcd = await startEtcd(600_000, dataDir)
    await range(etcd.clientUrl)
    const restartSeconds = (performance.now() - t2) / 1000
    const rssAfter = rssMiB(etcd.pid) ?? NaN
    log(`scale etcd ${keys} keys: restart ${restartSeconds.toFixed(1)} s, RSS after ${rssAfter.toFixed(0)} MiB`)
    return {keys, loadSeconds, rssMiB: rss, saveSeconds, saveBytes, restartSeconds, rssAfterRestartMiB: rssAfter}
  } finally {
    await etcd.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

/** The etcd rows beside coord's (same sizes), for the scale section. */
export function renderEtcdKeys(rows: EtcdKeysRow[], coord: Array<{keys: number; saveSeconds: number; restartSeconds: number; rssMiB: number}>): string {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '?')
  const mine = (keys: number) => coord.find((r) => r.keys === keys)
  return [
    'etcd 3.4 in the same run, right after coord at each size (same keys, values and txns through its JSON gateway; `etcdctl snapshot save`; restart = start on the data dir until a range is answered):',
    '',
    '| keys | etcd load keys/s | etcd RSS MiB | etcd bytes/key | coord bytes/key | etcd snapshot save | coord snapshot save | etcd snapshot | etcd restart | coord restart | etcd RSS after restart |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.keys.toLocaleString('en')} | ${f(r.keys / r.loadSeconds, 0)} | ${f(r.rssMiB, 0)} | ${f((r.rssMiB * 1048576) / r.keys, 0)} | ${f(((mine(r.keys)?.rssMiB ?? NaN) * 1048576) / r.keys, 0)} | ${f(r.saveSeconds)} s | ${f(mine(r.keys)?.saveSeconds ?? NaN)} s | ${f(r.saveBytes / 1048576)} MiB | ${f(r.restartSeconds)} s | ${f(mine(r.keys)?.restartSeconds ?? NaN)} s | ${f(r.rssAfterRestartMiB, 0)} MiB |`),
  ].join('\n')
}
