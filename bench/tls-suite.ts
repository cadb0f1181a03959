// The TLS section of BENCHMARKS.md: what encryption costs, measured in one run.
//   - HTTPS vs HTTP: one data-dir server with both listeners (HTTPS with verify_incoming, a client
//     certificate on every connection), PUT and GET through the same kv suite at the same client
//     counts; keep-alive connections, so the handshake is paid once per connection.
//   - RPC TLS vs plain: two 3-server clusters in turn, one plain, one with verify_incoming,
//     verify_outgoing and verify_server_hostname on the RPC port; PUTs at 64 clients on the leader
//     (Raft replication over TLS) and on a follower (forwarded to the leader, then replicated).
// Certificates come from tls/generate.ts (what `coord tls` writes).
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnAgent} from '../src/lib/devcluster/agent-process.js'
import {startCluster, type Cluster} from '../src/lib/devcluster/cluster.js'
import {createCa, createLeaf} from '../src/lib/tls/generate.js'
import {runKvSuite, type KvCell, type KvPlan} from './kv-suite.js'
import {runLoad, type LoadResult} from './load.js'
import {coordTarget, type TargetTls} from './targets.js'
import {writeSection} from './report.js'

export interface TlsPlan extends KvPlan {
  /** Writers for the cluster rows. */
  clusterClients: number
}

export interface TlsRun {
  http: KvCell[]
  https: KvCell[]
  /** label → PUT result on the leader / on a follower. */
  cluster: Array<{label: string; leader?: LoadResult; follower?: LoadResult; error?: string}>
  error?: string
}

interface Files {
  dir: string
  ca: string
  server: {cert: string; key: string}
  cli: TargetTls
}

async function makeFiles(): Promise<Files> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-tls-'))
  const ca = await createCa({days: 2, domain: 'consul'})
  const server = await createLeaf({kind: 'server', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 2})
  const cli = await createLeaf({kind: 'cli', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 2})
  writeFileSync(join(dir, 'ca.pem'), ca.cert)
  writeFileSync(join(dir, 'server.pem'), server.cert)
  writeFileSync(join(dir, 'server-key.pem'), server.key)
  return {dir, ca: join(dir, 'ca.pem'), server: {cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem')}, cli: {ca: ca.cert, cert: cli.cert, key: cli.key}}
}

function configFile(files: Files, name: string, body: Record<string, unknown>): string {
  const path = join(files.dir, `${name}.json`)
  writeFileSync(path, JSON.stringify(body))
  return path
}

const tlsBlock = (files: Files) => ({
  tls: {
    defaults: {ca_file: files.ca, cert_file: files.server.cert, key_file: files.server.key, verify_incoming: true, verify_outgoing: true},
    internal_rpc: {verify_server_hostname: true},
  },
})

async function httpsVsHttp(plan: TlsPlan, files: Files, log: (line: string) => void): Promise<Pick<TlsRun, 'http' | 'https'>> {
  const dataDir = join(files.dir, 'single')
  mkdirSync(dataDir)
  const agent = await spawnAgent({
    name: 'bench-tls', timeoutMs: 20_000, waitForLeader: true, outputLimit: 1024 * 1024,
    args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0',
      '-node=bench', '-bind=127.0.0.1', '-client=127.0.0.1', `-config-file=${configFile(files, 'single', {...tlsBlock(files), ports: {https: 0}})}`],
  })
  try {
    log(`coord (data dir) HTTP ${agent.httpAddr}, HTTPS ${agent.httpsAddr} (pid ${agent.pid})`)
    // wrk presents no client certificate: both sides use the in-process generator, so they compare.
    const http = await runKvSuite(plan, (n) => coordTarget('HTTP', agent.httpAddr, n, plan), log, [], 'undici')
    const https = await runKvSuite(plan, (n) => coordTarget('HTTPS', agent.httpsAddr, n, plan, '', files.cli), log, [], 'undici')
    return {http, https}
  } finally {
    await agent.stop()
  }
}

async function leaderAndFollower(cluster: Cluster): Promise<{leader: string; follower: string}> {
  const res = await fetch(`http://${cluster.servers[0].httpAddr}/v1/status/leader`)
  const leaderRpc = String(await res.json())
  const host = leaderRpc.replace(/:\d+$/, '')
  const leader = cluster.servers.find((s) => s.httpAddr.startsWith(`${host}:`))
  const follower = cluster.servers.find((s) => s !== leader)
  if (!leader || !follower) throw new Error(`no leader among the servers (${leaderRpc})`)
  return {leader: leader.httpAddr, follower: follower.httpAddr}
}

async function clusterWrites(plan: TlsPlan, files: Files, label: string, withTls: boolean, subnet: string, log: (line: string) => void): Promise<TlsRun['cluster'][number]> {
  let cluster: Cluster | undefined
  try {
    cluster = await startCluster({
      servers: 3, dir: join(files.dir, withTls ? 'cluster-tls' : 'cluster-plain'), subnet, timeoutMs: 30_000,
      extraArgs: withTls ? [`-config-file=${configFile(files, 'cluster', tlsBlock(files))}`] : [],
    })
    const {leader, follower} = await leaderAndFollower(cluster)
    const out: TlsRun['cluster'][number] = {label}
    for (const [where, addr] of [['leader', leader], ['follower', follower]] as const) {
      const target = coordTarget(`${label} ${where}`, addr, plan.clusterClients, plan)
      try {
        const result = await runLoad((w, seq) => target.put((w * 7919 + seq) % plan.keys), {workers: plan.clusterClients, durationMs: plan.durationMs, warmupMs: plan.warmupMs})
        log(`  ${label} PUT x${plan.clusterClients} on the ${where}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`)
        out[where] = result
      } finally {
        await target.close()
      }
    }
    return out
  } catch (error) {
    return {label, error: (error as Error).message.split('\n')[0]}
  } finally {
    await cluster?.stop()
  }
}

export async function runTlsSuite(plan: TlsPlan, subnets: [string, string], log: (line: string) => void): Promise<TlsRun> {
  const files = await makeFiles()
  try {
    const single = await httpsVsHttp(plan, files, log)
    const plain = await clusterWrites(plan, files, 'RPC plain', false, subnets[0], log)
    const tls = await clusterWrites(plan, files, 'RPC TLS (verify all)', true, subnets[1], log)
    return {...single, cluster: [plain, tls]}
  } catch (error) {
    return {http: [], https: [], cluster: [], error: (error as Error).message.split('\n')[0]}
  } finally {
    rmSync(files.dir, {recursive: true, force: true})
  }
}

const BEGIN = '<!-- bench:tls:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:tls:end -->'

const ops = (r?: LoadResult) => (r ? String(Math.round(r.opsPerSec)) : '–')
const ms = (v?: number) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(2))

export function renderTlsSection(r: {date: string; machine: string; plan: TlsPlan; run: TlsRun; seconds: number}): string {
  const {run, plan} = r
  const lines = [
    BEGIN,
    '## TLS: HTTPS vs HTTP, RPC TLS vs plain',
    '',
    `${r.date} · ${r.machine} · ${r.seconds.toFixed(0)} s`,
    '',
    `One data-dir server with both listeners: HTTP, and HTTPS with verify_incoming (every connection presents a client certificate; ECDSA P-256 certificates from \`coord tls\`). ` +
      `${plan.keys} keys of ${plan.valueBytes} B, keep-alive connections (one per client), ${plan.durationMs / 1000} s measured after ${plan.warmupMs / 1000} s warm-up. ` +
      `Then two 3-server clusters in turn (HTTP API, so only the RPC port differs): plain, and TLS with verify_incoming, verify_outgoing and verify_server_hostname; PUTs at ${plan.clusterClients} clients on the leader (replication over TLS) and on a follower (forwarded to the leader over TLS, then replicated).`,
    '',
  ]
  if (run.error) lines.push(`**Failed:** ${run.error}`, '')
  lines.push('| API | op | clients | ops/s | p50 ms | p99 ms |', '| --- | --- | ---: | ---: | ---: | ---: |')
  for (const [label, cells] of [['HTTP', run.http], ['HTTPS', run.https]] as const) {
    for (const c of cells) lines.push(`| ${label} | ${c.op} | ${c.clients} | ${ops(c.result)} | ${ms(c.result.p50Ms)} | ${ms(c.result.p99Ms)} |`)
  }
  lines.push('', '| 3 servers, RPC port | PUT on leader ops/s | p50 / p99 ms | PUT on a follower ops/s | p50 / p99 ms |', '| --- | ---: | ---: | ---: | ---: |')
  for (const c of run.cluster) {
    lines.push(c.error ? `| ${c.label} | failed: ${c.error} | | | |`
      : `| ${c.label} | ${ops(c.leader)} | ${ms(c.leader?.p50Ms)} / ${ms(c.leader?.p99Ms)} | ${ops(c.follower)} | ${ms(c.follower?.p50Ms)} / ${ms(c.follower?.p99Ms)} |`)
  }
  lines.push(END)
  return lines.join('\n')
}

export function writeTlsSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
