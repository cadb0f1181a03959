// The scale section of BENCHMARKS.md (BENCH_SECTIONS=scale, not in the default run: it takes
// minutes and GBs at a million keys). One data-dir coord server per size:
//   keys (BENCH_SCALE_KEYS, default 100000,300000; 100-byte values, 64-op txns, 16 in flight):
//     load rate; RSS per key; the automatic snapshots taken during the load (from the agent's log)
//     and the worst probe read meanwhile (and the agent's own event-loop delay max); `GET /v1/snapshot` time and the worst probe read during
//     it; restart time (start → leader → a read answered) and RSS after it; `PUT /v1/snapshot` of
//     that archive on the restarted server: restore time, RSS peak meanwhile, worst probe read.
//   instances (BENCH_SCALE_INSTANCES, default 10000,40000; 11 services, 10 instances per node, one
//     check each): p50 / max of /v1/catalog/services, /v1/catalog/nodes, /v1/health/service/<one>
//     (also right after one of its instances changed, so the answer is rebuilt; the catalog lists
//     likewise after an instance / a node record changed), DNS SRV for that
//     service and A for a node; the worst probe read meanwhile; RSS per instance right after the
//     load and once settled. Reads ask for identity encoding: the figure is the agent's answer, not
//     the client's gunzip; a bare Node server sending the same bytes gives the transfer floor.
//   parked blocking queries (BENCH_SCALE_PARKED, default 10000): RSS per parked /v1/kv read, and
//     the same for a bare Node HTTP server that never answers (Node's own cost per open request);
//     then the same reads through a client agent: RSS per read on the server and the client agent.
// The probe reads one key every 5 ms and records how long each read waited: a stalled event loop
// shows as one long read.
import {spawn} from 'node:child_process'
import {Resolver} from 'node:dns/promises'
import {mkdtempSync, rmSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnAgent, type AgentProcess} from '../src/lib/devcluster/agent-process.js'
import {sendInFlight} from './bulk-load.js'
import {freePort, rssMiB} from './process.js'
import {writeSection} from './report.js'

export interface KeysRow {
  keys: number
  loadSeconds: number
  rssMiB: number
  autoSnapshots: number[]
  worstProbeDuringLoadMs: number
  /** The agent's own worst event-loop delay during the load (runtime.event_loop_delay_max_ms, read every second). */
  loopDelayMaxDuringLoadMs: number
  saveSeconds: number
  saveBytes: number
  worstProbeDuringSaveMs: number
  loopDelayMaxDuringSaveMs: number
  restartSeconds: number
  rssAfterRestartMiB: number
  /** `PUT /v1/snapshot` of the saved archive on the restarted server, the RSS peak meanwhile (sampled every 50 ms) and the worst probe read. */
  restoreSeconds: number
  rssPeakDuringRestoreMiB: number
  worstProbeDuringRestoreMs: number
  loopDelayMaxDuringRestoreMs: number
}

export interface Latency {
  path: string
  p50Ms: number
  maxMs: number
  bytes: number
}

export interface InstancesRow {
  instances: number
  rssMiB: number
  settledRssMiB: number
  /** The empty agent once settled, before the load: what the per-instance figures are over. */
  baseRssMiB: number
  /** Settled RSS once every service's health answer has been read (their per-instance entries kept). */
  rssAfterReadsMiB: number
  latency: Latency[]
  /** The worst probe read while the catalog reads above ran. */
  worstProbeMs: number
  /** A bare Node server sending a body as large as the largest answer. */
  floor: Latency
}

export interface ParkedRow {
  parked: number
  /** RSS over the idle agent's, per query, right after the last one parked. */
  rssPerQueryBytes: number
  /** The same once settled (settledRss). */
  settledRssPerQueryBytes: number
  bareNodeRssPerRequestBytes: number
  bareNodeSettledRssPerRequestBytes: number
  wokenMs: number
  /** The same reads through a client agent (runParkedViaClient); undefined when not measured. */
  viaClient?: ViaClientRow
}

/** Parked reads sent to a client agent: RSS per read on the server and on the client agent, right after and settled. */
export interface ViaClientRow {
  serverBytes: number
  serverSettledBytes: number
  clientBytes: number
  clientSettledBytes: number
  wokenMs: number
}

export const VALUE = Buffer.alloc(100, 'v').toString('base64')

async function start(dataDir: string, dnsPort = 0): Promise<AgentProcess> {
  return spawnAgent({
    name: 'bench-scale', timeoutMs: 300_000, waitForLeader: true, outputLimit: 4 * 1024 * 1024,
    // Prometheus retention: loopDelayWatch reads the latest loop-delay gauge from that form.
    args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, '-http-port=0', `-dns-port=${dnsPort}`, '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-node=bench', '-bind=127.0.0.1', '-client=127.0.0.1', '-hcl=telemetry { prometheus_retention_time = "60s" }'],
  })
}

export function probe(base: string): {stop: () => Promise<number>} {
  let running = true
  let worst = 0
  const loop = (async () => {
    while (running) {
      const t0 = performance.now()
      try {
        await (await fetch(`${base}/v1/kv/k/0000000`)).arrayBuffer()
      } catch { /* counted by its time */ }
      worst = Math.max(worst, performance.now() - t0)
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  return {stop: async () => {
    running = false
    await loop
    return worst
  }}
}

/** The largest runtime.event_loop_delay_max_ms the agent reports (each a second's worst) while it runs. */
/**
 * The agent's worst loop delay while the watch runs: its gauge (the worst delay of the last second)
 * read four times a second from the Prometheus form, which has the latest value (the JSON form shows
 * the last complete 10 s interval, so it would show one second in ten, late).
 */
export function loopDelayWatch(base: string): {stop: () => Promise<number>} {
  let worst = 0
  const read = async (): Promise<void> => {
    try {
      const text = await (await fetch(`${base}/v1/agent/metrics?format=prometheus`)).text()
      const value = /^\S*runtime_event_loop_delay_max_ms(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]
      // (The hostname may sit between the prefix and the name: telemetry.disable_hostname.)
      if (value !== undefined) worst = Math.max(worst, Number(value))
    } catch { /* the next read counts */ }
  }
  const timer = setInterval(() => void read(), 250)
  return {stop: async () => {
    clearInterval(timer)
    await read()
    return worst
  }}
}

export async function txns(base: string, count: number, ops: (i: number) => unknown[], inFlight = 16): Promise<void> {
  await sendInFlight(base, 'PUT', '/v1/txn', count, (i) => JSON.stringify(ops(i)), inFlight)
}

/** A second and a bit: the agent's loop-delay gauge (the worst of the last second) then covers only what follows. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1100))

export async function runKeys(keys: number, log: (line: string) => void): Promise<KeysRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-'))
  let agent = await start(dir)
  try {
    let base = `http://${agent.httpAddr}`
    const p = probe(base)
    const loopDelay = loopDelayWatch(base)
    const t0 = performance.now()
    await txns(base, Math.ceil(keys / 64), (i) => Array.from({length: Math.min(64, keys - i * 64)}, (_, j) => ({KV: {Verb: 'set', Key: `k/${String(i * 64 + j).padStart(7, '0')}`, Value: VALUE}})))
    const loadSeconds = (performance.now() - t0) / 1000
    const worstLoad = await p.stop()
    const loopDelayMax = await loopDelay.stop()
    const rss = rssMiB(agent.pid) ?? NaN
    const autoSnapshots = [...agent.output().matchAll(/snapshot complete: index=\d+ duration=(\d+)ms/g)].map((m) => Number(m[1]))
    log(`scale ${keys} keys: loaded in ${loadSeconds.toFixed(1)} s, RSS ${rss.toFixed(0)} MiB, auto snapshots ${autoSnapshots.join('/')} ms, worst probe ${worstLoad.toFixed(0)} ms, agent loop delay max ${loopDelayMax.toFixed(0)} ms`)
    // The loop-delay gauge is the worst of the last second: a second's pause keeps the load out of the save's reading.
    await settle()
    const p2 = probe(base)
    const saveLoopDelay = loopDelayWatch(base)
    const t1 = performance.now()
    const archive = await (await fetch(`${base}/v1/snapshot`)).arrayBuffer()
    const saveSeconds = (performance.now() - t1) / 1000
    const worstSave = await p2.stop()
    const saveLoopDelayMax = await saveLoopDelay.stop()
    log(`scale ${keys} keys: snapshot save ${saveSeconds.toFixed(1)} s (${archive.byteLength} bytes), worst probe ${worstSave.toFixed(0)} ms, agent loop delay max ${saveLoopDelayMax.toFixed(0)} ms`)
    await agent.stop()
    const t2 = performance.now()
    agent = await start(dir)
    base = `http://${agent.httpAddr}`
    await (await fetch(`${base}/v1/kv/k/0000000`)).arrayBuffer()
    const restartSeconds = (performance.now() - t2) / 1000
    const rssAfter = rssMiB(agent.pid) ?? NaN
    log(`scale ${keys} keys: restart ${restartSeconds.toFixed(1)} s, RSS after ${rssAfter.toFixed(0)} MiB`)
    // Restore the saved archive into the running server: its time, RSS peak and the worst read meanwhile.
    await settle() // (and the start-up out of the restore's loop-delay reading)
    let rssPeak = rssAfter
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMiB(agent.pid) ?? 0) }, 50)
    const p3 = probe(base)
    const restoreLoopDelay = loopDelayWatch(base)
    const t3 = performance.now()
    const restored = await fetch(`${base}/v1/snapshot`, {method: 'PUT', body: Buffer.from(archive)})
    const restoreText = await restored.text()
    const restoreSeconds = (performance.now() - t3) / 1000
    clearInterval(sampler)
    const worstRestore = await p3.stop()
    const restoreLoopDelayMax = await restoreLoopDelay.stop()
    if (restored.status !== 200) throw new Error(`restore: ${restored.status} ${restoreText}`)
    log(`scale ${keys} keys: restore ${restoreSeconds.toFixed(1)} s, RSS peak ${rssPeak.toFixed(0)} MiB (${(rssPeak / rssAfter).toFixed(2)}x the ${rssAfter.toFixed(0)} MiB before), worst probe ${worstRestore.toFixed(0)} ms, agent loop delay max ${restoreLoopDelayMax.toFixed(0)} ms`)
    return {
      keys, loadSeconds, rssMiB: rss, autoSnapshots, worstProbeDuringLoadMs: worstLoad, loopDelayMaxDuringLoadMs: loopDelayMax, saveSeconds, saveBytes: archive.byteLength, worstProbeDuringSaveMs: worstSave, loopDelayMaxDuringSaveMs: saveLoopDelayMax, restartSeconds, rssAfterRestartMiB: rssAfter,
      restoreSeconds, rssPeakDuringRestoreMiB: rssPeak, worstProbeDuringRestoreMs: worstRestore, loopDelayMaxDuringRestoreMs: restoreLoopDelayMax,
    }
  } finally {
    await agent.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** p50 / max of `count` sequential runs of `once` (each returns the bytes it received), `before` each run untimed. */
async function timed(path: string, count: number, once: () => Promise<number>, before?: () => Promise<void>): Promise<Latency> {
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < count; i++) {
    await before?.()
    const t0 = performance.now()
    bytes = await once()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return {path, p50Ms: times[Math.floor(times.length / 2)], maxMs: times.at(-1)!, bytes}
}

async function get(url: string): Promise<number> {
  return (await (await fetch(url, {headers: {'accept-encoding': 'identity'}})).arrayBuffer()).byteLength
}

/**
 * RSS once settled: the lowest reading over 45 s with nothing asked of the agent. V8 grows its
 * young generation under a burst of allocation (what survives a scavenge makes it grow, to tens of
 * MiB) and gives it back only when its memory reducer runs, some 10-30 s after the burst; a reading
 * that stopped at the first flat 3 s missed that (heap total per parked query fell from ~4.4 KB to
 * ~0.9 KB about 20 s after the last one parked, in a run here).
 */
async function settledRss(pid: number): Promise<number> {
  let lowest = rssMiB(pid) ?? NaN
  for (let i = 0; i < 15; i++) {
    await sleep(3000)
    lowest = Math.min(lowest, rssMiB(pid) ?? NaN)
  }
  return lowest
}

/** A bare Node HTTP server in its own process (script on stdin), answering with `source`'s handler. */
async function bareServer(handler: string): Promise<{addr: string; pid: number; stop: () => void}> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--input-type=module', '-'], {stdio: ['pipe', 'pipe', 'inherit']})
  child.stdin.end(`import http from 'node:http'\n${handler}\nhttp.createServer(handle).listen(${port}, '127.0.0.1', () => console.log('up'))\n`)
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', () => reject(new Error('bare server exited')))
  })
  return {addr: `127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill()}
}

export async function runInstances(instances: number, log: (line: string) => void): Promise<InstancesRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-'))
  const dnsPort = await freePort()
  const agent = await start(dir, dnsPort)
  try {
    const base = `http://${agent.httpAddr}`
    // The empty agent settled too (right after start it still holds start-up garbage: at 10k
    // instances an unsettled baseline made the settled figure 9 B per instance).
    const baseRss = await settledRss(agent.pid)
    const perNode = 10
    // One txn per node: the node, its 10 instances (11 service names round-robin), a check each.
    await txns(base, Math.ceil(instances / perNode), (n) => {
      const node = `node-${n}`
      const ops: unknown[] = [{Node: {Verb: 'set', Node: {Node: node, Address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`}}}]
      for (let j = 0; j < perNode && n * perNode + j < instances; j++) {
        const i = n * perNode + j
        const id = `svc-${i}`
        ops.push({Service: {Verb: 'set', Node: node, Service: {ID: id, Service: `svc${i % 11}`, Port: 1000 + j, Tags: [`t${i % 3}`]}}})
        ops.push({Check: {Verb: 'set', Check: {Node: node, CheckID: `${id}-alive`, Name: 'alive', Status: 'passing', ServiceID: id}}})
      }
      return ops
    })
    const rss = rssMiB(agent.pid) ?? NaN
    const settled = await settledRss(agent.pid)
    const p = probe(base)
    const latency: Latency[] = []
    for (const path of ['/v1/catalog/services', '/v1/catalog/nodes', '/v1/health/service/svc0']) latency.push(await timed(path, 30, () => get(`${base}${path}`)))
    // One instance of svc0 changes before each read: the answer is rebuilt, only that instance rendered again.
    let flips = 0
    latency.push(await timed('/v1/health/service/svc0 after a change', 15, () => get(`${base}/v1/health/service/svc0`), async () => {
      const status = flips++ % 2 === 0 ? 'warning' : 'passing'
      const res = await fetch(`${base}/v1/txn`, {method: 'PUT', body: JSON.stringify([{Check: {Verb: 'set', Check: {Node: 'node-0', CheckID: 'svc-0-alive', Name: 'alive', Status: status, ServiceID: 'svc-0'}}}])})
      await res.arrayBuffer()
    }))
    // The same for the catalog lists (kept per-record JSON: only the changed records rendered again).
    latency.push(await timed('/v1/catalog/service/svc0 after a change', 15, () => get(`${base}/v1/catalog/service/svc0`), async () => {
      const res = await fetch(`${base}/v1/txn`, {method: 'PUT', body: JSON.stringify([{Service: {Verb: 'set', Node: 'node-0', Service: {ID: 'svc-0', Service: 'svc0', Port: 1000 + (flips++ % 2), Tags: ['t0']}}}])})
      await res.arrayBuffer()
    }))
    latency.push(await timed('/v1/catalog/nodes after a change', 15, () => get(`${base}/v1/catalog/nodes`), async () => {
      const res = await fetch(`${base}/v1/txn`, {method: 'PUT', body: JSON.stringify([{Node: {Verb: 'set', Node: {Node: 'node-1', Address: `10.0.0.${flips++ % 2 === 0 ? 1 : 201}`}}}])})
      await res.arrayBuffer()
    }))
    const resolver = new Resolver({timeout: 5000, tries: 1})
    resolver.setServers([`127.0.0.1:${dnsPort}`])
    latency.push(await timed('DNS SRV svc0.service.consul', 30, async () => (await resolver.resolveSrv('svc0.service.consul')).length))
    latency.push(await timed('DNS A node-7.node.consul', 30, async () => (await resolver.resolve4('node-7.node.consul')).length))
    const worstProbeMs = await p.stop()
    for (let s = 0; s < 11; s++) await get(`${base}/v1/health/service/svc${s}`)
    const afterReads = await settledRss(agent.pid)
    const largest = Math.max(...latency.map((l) => (l.path.startsWith('/') ? l.bytes : 0)))
    const bare = await bareServer(`const body = Buffer.alloc(${largest}, 'a')\nconst handle = (req, res) => { res.setHeader('Content-Length', body.length); res.end(body) }`)
    let floor: Latency
    try {
      floor = await timed(`bare Node server, ${largest} bytes`, 30, () => get(`http://${bare.addr}/`))
    } finally {
      bare.stop()
    }
    log(`scale ${instances} instances: RSS ${rss.toFixed(0)} MiB, settled ${settled.toFixed(0)} MiB, after every service's health read ${afterReads.toFixed(0)} MiB (empty ${baseRss.toFixed(0)}); ${latency.map((l) => `${l.path} p50 ${l.p50Ms.toFixed(1)} max ${l.maxMs.toFixed(1)} ms`).join('; ')}; worst probe ${worstProbeMs.toFixed(0)} ms; ${floor.path} p50 ${floor.p50Ms.toFixed(1)} ms`)
    return {instances, rssMiB: rss, settledRssMiB: settled, baseRssMiB: baseRss, rssAfterReadsMiB: afterReads, latency, worstProbeMs, floor}
  } finally {
    await agent.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

/** Opens `count` requests to `path` (one connection each) and waits until `parked()` reports them all, ≤ 120 s. */
async function park(addr: string, path: string, count: number, parked: () => Promise<number>): Promise<{answered: () => number; close: () => void}> {
  const [host, port] = addr.split(':')
  const agent = new http.Agent({keepAlive: true, maxSockets: Infinity})
  let answered = 0
  for (let i = 0; i < count; i++) {
    http.get({host, port: Number(port), path, agent}, (res) => { res.resume(); answered++ }).on('error', () => {})
    if (i % 500 === 499) await sleep(50)
  }
  for (let i = 0; i < 120 && (await parked()) < count; i++) await sleep(1000)
  await sleep(2000)
  return {answered: () => answered, close: () => agent.destroy()}
}

export async function runParked(count: number, log: (line: string) => void): Promise<ParkedRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-'))
  const agent = await start(dir)
  let row: ParkedRow
  try {
    const base = `http://${agent.httpAddr}`
    await (await fetch(`${base}/v1/kv/parked`, {method: 'PUT', body: 'x'})).arrayBuffer()
    const index = (await fetch(`${base}/v1/kv/parked`)).headers.get('x-consul-index')
    await sleep(2000)
    const before = rssMiB(agent.pid) ?? NaN
    const gauge = async (): Promise<number> => {
      const metrics = await (await fetch(`${base}/v1/agent/metrics`)).json() as {Gauges: Array<{Name: string; Value: number}>}
      return metrics.Gauges.find((g) => g.Name.endsWith('rpc.queries_blocking'))?.Value ?? 0
    }
    const parked = await park(agent.httpAddr, `/v1/kv/parked?index=${index}&wait=10m`, count, gauge)
    const after = rssMiB(agent.pid) ?? NaN
    const settled = await settledRss(agent.pid)
    const t0 = performance.now()
    await (await fetch(`${base}/v1/kv/parked`, {method: 'PUT', body: 'y'})).arrayBuffer()
    for (let i = 0; i < 600 && parked.answered() < count; i++) await sleep(100)
    const wokenMs = performance.now() - t0
    parked.close()
    const perQuery = (rss: number): number => ((rss - before) * 1048576) / count
    row = {parked: count, rssPerQueryBytes: perQuery(after), settledRssPerQueryBytes: perQuery(settled), bareNodeRssPerRequestBytes: NaN, bareNodeSettledRssPerRequestBytes: NaN, wokenMs}
  } finally {
    await agent.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  const bare = await bareServer('let open = 0\nconst handle = (req, res) => { if (req.url === \'/open\') return res.end(String(open)); open++; req.on(\'close\', () => open--) }')
  try {
    await sleep(1000)
    const before = rssMiB(bare.pid) ?? NaN
    const parked = await park(bare.addr, '/park', count, async () => Number(await (await fetch(`http://${bare.addr}/open`)).text()))
    const after = rssMiB(bare.pid) ?? NaN
    const settled = await settledRss(bare.pid)
    parked.close()
    row.bareNodeRssPerRequestBytes = ((after - before) * 1048576) / count
    row.bareNodeSettledRssPerRequestBytes = ((settled - before) * 1048576) / count
  } finally {
    bare.stop()
  }
  row.viaClient = await runParkedViaClient(count, log)
  log(`scale ${count} parked blocking queries: ${row.rssPerQueryBytes.toFixed(0)} B RSS each, ${row.settledRssPerQueryBytes.toFixed(0)} B settled (a bare Node server: ${row.bareNodeRssPerRequestBytes.toFixed(0)} / ${row.bareNodeSettledRssPerRequestBytes.toFixed(0)} B per open request); all woken by one write in ${row.wokenMs.toFixed(0)} ms`)
  return row
}

/**
 * The same parked reads sent to a client agent joined to one server, as applications send them in
 * a deployment: the client agent forwards each (holding its connection), the server parks it.
 */
async function runParkedViaClient(count: number, log: (line: string) => void): Promise<ViaClientRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-'))
  const serfPort = await freePort()
  const server = await spawnAgent({
    name: 'bench-scale-server', timeoutMs: 60_000, waitForLeader: true,
    args: ['-server', '-bootstrap', `-data-dir=${join(dir, 'server')}`, '-http-port=0', '-dns-port=0', '-server-port=0', `-serf-lan-port=${serfPort}`, '-serf-wan-port=0', '-node=bench-server', '-bind=127.0.9.1', '-client=127.0.9.1'],
  })
  let client: AgentProcess | undefined
  try {
    client = await spawnAgent({
      name: 'bench-scale-client', timeoutMs: 60_000,
      // coord gossips with a -retry-join address's host at its own serf LAN port (README): one port, two addresses.
      args: [`-data-dir=${join(dir, 'client')}`, '-http-port=0', '-dns-port=0', `-serf-lan-port=${serfPort}`, '-node=bench-client', '-bind=127.0.9.2', '-client=127.0.9.2', '-retry-join=127.0.9.1'],
    })
    const base = `http://${client.httpAddr}`
    let joined = false
    for (let i = 0; i < 120 && !joined; i++) {
      joined = (await fetch(`${base}/v1/kv/parked`, {method: 'PUT', body: 'x'}).then((r) => r.arrayBuffer().then(() => r.ok), () => false))
      if (!joined) await sleep(500)
    }
    if (!joined) throw new Error('the client agent found no server in 60 s')
    const index = (await fetch(`${base}/v1/kv/parked`)).headers.get('x-consul-index')
    await sleep(2000)
    const rss = (pid: number) => rssMiB(pid) ?? NaN
    const before = {server: rss(server.pid), client: rss(client.pid)}
    const gauge = async (): Promise<number> => {
      const metrics = await (await fetch(`http://${server.httpAddr}/v1/agent/metrics`)).json() as {Gauges: Array<{Name: string; Value: number}>}
      return metrics.Gauges.find((g) => g.Name.endsWith('rpc.queries_blocking'))?.Value ?? 0
    }
    const parked = await park(client.httpAddr, `/v1/kv/parked?index=${index}&wait=10m`, count, gauge)
    const after = {server: rss(server.pid), client: rss(client.pid)}
    const [serverSettled, clientSettled] = await Promise.all([settledRss(server.pid), settledRss(client.pid)])
    const t0 = performance.now()
    await (await fetch(`http://${server.httpAddr}/v1/kv/parked`, {method: 'PUT', body: 'y'})).arrayBuffer()
    for (let i = 0; i < 600 && parked.answered() < count; i++) await sleep(100)
    const wokenMs = performance.now() - t0
    parked.close()
    const per = (mib: number, from: number) => ((mib - from) * 1048576) / count
    const row = {serverBytes: per(after.server, before.server), serverSettledBytes: per(serverSettled, before.server), clientBytes: per(after.client, before.client), clientSettledBytes: per(clientSettled, before.client), wokenMs}
    log(`scale ${count} parked through a client agent: server ${row.serverBytes.toFixed(0)} / ${row.serverSettledBytes.toFixed(0)} B each, client agent ${row.clientBytes.toFixed(0)} / ${row.clientSettledBytes.toFixed(0)} B (after / settled); woken in ${wokenMs.toFixed(0)} ms`)
    return row
  } finally {
    await client?.stop()
    await server.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

/**
 * What one more instance costs between two sizes (RSS after load): the slope leaves out what a
 * loaded agent holds whatever its size (V8's young generation grown to its maximum under the load,
 * compiled code, buffers), which the per-instance column above spreads over the instances.
 */
function marginalPerInstance(rows: InstancesRow[]): string[] {
  const sorted = [...rows].sort((a, b) => a.instances - b.instances)
  const lines: string[] = []
  for (let k = 1; k < sorted.length; k++) {
    const [a, b] = [sorted[k - 1], sorted[k]]
    const bytes = ((b.rssMiB - a.rssMiB) * 1048576) / (b.instances - a.instances)
    if (Number.isFinite(bytes)) lines.push(`Marginal RSS per instance from ${a.instances.toLocaleString('en')} to ${b.instances.toLocaleString('en')} instances (after load): ${bytes.toFixed(0)} B.`)
  }
  return lines
}

export function renderScaleSection(o: {date: string; machine: string; keys: KeysRow[]; instances: InstancesRow[]; parked: ParkedRow[]; seconds: number}): string {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '?')
  const perInstance = (r: InstancesRow, rss: number): string => f(((rss - r.baseRssMiB) * 1048576) / r.instances, 0)
  const lines = [
    `_${o.date} · ${o.machine} · ${f(o.seconds, 0)} s_`,
    '',
    'One data-dir coord server per size, 100-byte values loaded in 64-op txns, 16 in flight through one undici Pool (bench/bulk-load.ts, the same writer as the etcd rows). Probe: one GET every 5 ms; its worst wait is the longest the event loop was held. The agent loop delay max is the agent gauge `runtime.event_loop_delay_max_ms` (monitorEventLoopDelay in node:perf_hooks), the worst over the load, the save or the restore (each after a pause of a second, as the gauge is the worst of the last second).',
    '',
    '| keys | load keys/s | RSS MiB | bytes/key | automatic snapshots (ms) | worst read during load | agent loop delay max during load | snapshot save | archive | worst read / agent loop delay max during save | restart | RSS after restart | restore | RSS peak during restore | worst read / agent loop delay max during restore |',
    '|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...o.keys.map((r) => `| ${r.keys.toLocaleString('en')} | ${f(r.keys / r.loadSeconds, 0)} | ${f(r.rssMiB, 0)} | ${f((r.rssMiB * 1048576) / r.keys, 0)} | ${r.autoSnapshots.join(', ') || '–'} | ${f(r.worstProbeDuringLoadMs, 0)} ms | ${f(r.loopDelayMaxDuringLoadMs, 0)} ms | ${f(r.saveSeconds)} s | ${f(r.saveBytes / 1048576)} MiB | ${f(r.worstProbeDuringSaveMs, 0)} / ${f(r.loopDelayMaxDuringSaveMs, 0)} ms | ${f(r.restartSeconds)} s | ${f(r.rssAfterRestartMiB, 0)} MiB | ${f(r.restoreSeconds)} s | ${f(r.rssPeakDuringRestoreMiB, 0)} MiB | ${f(r.worstProbeDuringRestoreMs, 0)} / ${f(r.loopDelayMaxDuringRestoreMs, 0)} ms |`),
    '',
    'Catalog: 10 instances per node, 11 service names (svc0: 1/11 of the instances), one check per instance. RSS per instance over the empty agent (itself settled), right after the load, once settled (the lowest reading in the next 45 s), and settled after the health answer of every service was read once (large services keep per-instance JSON). Reads: sequential, identity encoding; "after a change" writes one svc0 check (health), one svc0 instance (catalog service) or one node record (catalog nodes) before each read. The floor is a bare Node server sending as many bytes as the largest answer.',
    '',
    '| instances | RSS MiB after load / settled / after reads (empty, settled) | bytes/instance after load / settled / after reads | ' + (o.instances[0]?.latency.map((l) => `${l.path} p50 / max`).join(' | ') ?? '') + ' | worst probe read | floor p50 |',
    '|---:|---:|---:|' + (o.instances[0]?.latency.map(() => '---:').join('|') ?? '') + '|---:|---:|',
    ...o.instances.map((r) => `| ${r.instances.toLocaleString('en')} | ${f(r.rssMiB, 0)} / ${f(r.settledRssMiB, 0)} / ${f(r.rssAfterReadsMiB, 0)} (${f(r.baseRssMiB, 0)}) | ${perInstance(r, r.rssMiB)} / ${perInstance(r, r.settledRssMiB)} / ${perInstance(r, r.rssAfterReadsMiB)} | ${r.latency.map((l) => `${f(l.p50Ms)} / ${f(l.maxMs)} ms`).join(' | ')} | ${f(r.worstProbeMs, 0)} ms | ${f(r.floor.p50Ms)} ms (${f(r.floor.bytes / 1048576)} MiB) |`),
    ...marginalPerInstance(o.instances).map((line) => `\n${line}`),
    '',
    'Parked blocking queries: one `GET /v1/kv/<key>?index=…&wait=10m` per connection, each held outside node:http while it waits (http/held-socket.ts); RSS over the idle agent right after they are all parked, and settled (the lowest reading in the next 45 s: V8 gives back the young generation the burst grew some 10-30 s later); a bare Node HTTP server that never answers, measured the same way, is what node:http itself costs per open request.',
    '',
    '| parked | RSS per parked query, after parking / settled | bare Node server per open request, after / settled | all woken by one write |',
    '|---:|---:|---:|---:|',
    ...o.parked.map((r) => `| ${r.parked.toLocaleString('en')} | ${f(r.rssPerQueryBytes, 0)} / ${f(r.settledRssPerQueryBytes, 0)} B | ${f(r.bareNodeRssPerRequestBytes, 0)} / ${f(r.bareNodeSettledRssPerRequestBytes, 0)} B | ${f(r.wokenMs, 0)} ms |`),
    '',
    'The same reads sent to a client agent joined to one server, as applications send them: the client agent forwards each (its connection held while it waits), the server parks it; RSS per read on each, right after parking / settled.',
    '',
    '| parked | server | client agent | all woken by one write |',
    '|---:|---:|---:|---:|',
    ...o.parked.filter((r) => r.viaClient).map((r) => `| ${r.parked.toLocaleString('en')} | ${f(r.viaClient!.serverBytes, 0)} / ${f(r.viaClient!.serverSettledBytes, 0)} B | ${f(r.viaClient!.clientBytes, 0)} / ${f(r.viaClient!.clientSettledBytes, 0)} B | ${f(r.viaClient!.wokenMs, 0)} ms |`),
  ]
  return lines.join('\n')
}

const BEGIN = '<!-- bench:scale:begin -->'
const END = '<!-- bench:scale:end -->'

export function writeScaleSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, `${BEGIN}\n## Scale\n\n${section}\n${END}`)
}
