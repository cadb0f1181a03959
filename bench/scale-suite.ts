// The scale section of BENCHMARKS.md (BENCH_SECTIONS=scale, not in the default run: it takes
// minutes and GBs at a million keys). One data-dir coord server per size:
//   keys (BENCH_SCALE_KEYS, default 100000,300000; 100-byte values, 64-op txns, 16 in flight):
//     load rate; RSS per key; the automatic snapshots taken during the load (from the agent's log)
//     and the worst probe read meanwhile; `GET /v1/snapshot` time and the worst probe read during
//     it; restart time (start → leader → a read answered) and RSS after it; `PUT /v1/snapshot` of
//     that archive on the restarted server: restore time, RSS peak meanwhile, worst probe read.
//   instances (BENCH_SCALE_INSTANCES, default 10000,40000; 11 services, 10 instances per node, one
//     check each): p50 / max of /v1/catalog/services, /v1/catalog/nodes, /v1/health/service/<one>,
//     and RSS per instance.
// The probe reads one key every 5 ms and records how long each read waited: a stalled event loop
// shows as one long read.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnAgent, type AgentProcess} from '../src/lib/devcluster/agent-process.js'
import {rssMiB} from './process.js'
import {writeSection} from './report.js'

export interface KeysRow {
  keys: number
  loadSeconds: number
  rssMiB: number
  autoSnapshots: number[]
  worstProbeDuringLoadMs: number
  saveSeconds: number
  saveBytes: number
  worstProbeDuringSaveMs: number
  restartSeconds: number
  rssAfterRestartMiB: number
  /** `PUT /v1/snapshot` of the saved archive on the restarted server, the RSS peak meanwhile (sampled every 50 ms) and the worst probe read. */
  restoreSeconds: number
  rssPeakDuringRestoreMiB: number
  worstProbeDuringRestoreMs: number
}

export interface InstancesRow {
  instances: number
  rssMiB: number
  baseRssMiB: number
  latency: Array<{path: string; p50Ms: number; maxMs: number}>
}

const VALUE = Buffer.alloc(100, 'v').toString('base64')

async function start(dataDir: string): Promise<AgentProcess> {
  return spawnAgent({
    name: 'bench-scale', timeoutMs: 300_000, waitForLeader: true, outputLimit: 4 * 1024 * 1024,
    args: ['-server', '-bootstrap', `-data-dir=${dataDir}`, '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-node=bench', '-bind=127.0.0.1', '-client=127.0.0.1'],
  })
}

function probe(base: string): {stop: () => Promise<number>} {
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

async function txns(base: string, count: number, ops: (i: number) => unknown[], inFlight = 16): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      const res = await fetch(`${base}/v1/txn`, {method: 'PUT', body: JSON.stringify(ops(i))})
      if (res.status !== 200) throw new Error(`txn ${i}: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
  }
  await Promise.all(Array.from({length: inFlight}, worker))
}

export async function runKeys(keys: number, log: (line: string) => void): Promise<KeysRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-'))
  let agent = await start(dir)
  try {
    let base = `http://${agent.httpAddr}`
    const p = probe(base)
    const t0 = performance.now()
    await txns(base, Math.ceil(keys / 64), (i) => Array.from({length: Math.min(64, keys - i * 64)}, (_, j) => ({KV: {Verb: 'set', Key: `k/${String(i * 64 + j).padStart(7, '0')}`, Value: VALUE}})))
    const loadSeconds = (performance.now() - t0) / 1000
    const worstLoad = await p.stop()
    const rss = rssMiB(agent.pid) ?? NaN
    const autoSnapshots = [...agent.output().matchAll(/snapshot complete: index=\d+ duration=(\d+)ms/g)].map((m) => Number(m[1]))
    log(`scale ${keys} keys: loaded in ${loadSeconds.toFixed(1)} s, RSS ${rss.toFixed(0)} MiB, auto snapshots ${autoSnapshots.join('/')} ms, worst probe ${worstLoad.toFixed(0)} ms`)
    const p2 = probe(base)
    const t1 = performance.now()
    const archive = await (await fetch(`${base}/v1/snapshot`)).arrayBuffer()
    const saveSeconds = (performance.now() - t1) / 1000
    const worstSave = await p2.stop()
    log(`scale ${keys} keys: snapshot save ${saveSeconds.toFixed(1)} s (${archive.byteLength} bytes), worst probe ${worstSave.toFixed(0)} ms`)
    await agent.stop()
    const t2 = performance.now()
    agent = await start(dir)
    base = `http://${agent.httpAddr}`
    await (await fetch(`${base}/v1/kv/k/0000000`)).arrayBuffer()
    const restartSeconds = (performance.now() - t2) / 1000
    const rssAfter = rssMiB(agent.pid) ?? NaN
    log(`scale ${keys} keys: restart ${restartSeconds.toFixed(1)} s, RSS after ${rssAfter.toFixed(0)} MiB`)
    // Restore the saved archive into the running server: its time, RSS peak and the worst read meanwhile.
    let rssPeak = rssAfter
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMiB(agent.pid) ?? 0) }, 50)
    const p3 = probe(base)
    const t3 = performance.now()
    const restored = await fetch(`${base}/v1/snapshot`, {method: 'PUT', body: Buffer.from(archive)})
    const restoreText = await restored.text()
    const restoreSeconds = (performance.now() - t3) / 1000
    clearInterval(sampler)
    const worstRestore = await p3.stop()
    if (restored.status !== 200) throw new Error(`restore: ${restored.status} ${restoreText}`)
    log(`scale ${keys} keys: restore ${restoreSeconds.toFixed(1)} s, RSS peak ${rssPeak.toFixed(0)} MiB (${(rssPeak / rssAfter).toFixed(2)}x the ${rssAfter.toFixed(0)} MiB before), worst probe ${worstRestore.toFixed(0)} ms`)
    return {
      keys, loadSeconds, rssMiB: rss, autoSnapshots, worstProbeDuringLoadMs: worstLoad, saveSeconds, saveBytes: archive.byteLength, worstProbeDuringSaveMs: worstSave, restartSeconds, rssAfterRestartMiB: rssAfter,
      restoreSeconds, rssPeakDuringRestoreMiB: rssPeak, worstProbeDuringRestoreMs: worstRestore,
    }
  } finally {
    await agent.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

export async function runInstances(instances: number, log: (line: string) => void): Promise<InstancesRow> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-scale-'))
  const agent = await start(dir)
  try {
    const base = `http://${agent.httpAddr}`
    const baseRss = rssMiB(agent.pid) ?? NaN
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
    const latency: InstancesRow['latency'] = []
    for (const path of ['/v1/catalog/services', '/v1/catalog/nodes', '/v1/health/service/svc0']) {
      const times: number[] = []
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now()
        await (await fetch(`${base}${path}`)).arrayBuffer()
        times.push(performance.now() - t0)
      }
      times.sort((a, b) => a - b)
      latency.push({path, p50Ms: times[Math.floor(times.length / 2)], maxMs: times.at(-1)!})
    }
    log(`scale ${instances} instances: RSS ${rss.toFixed(0)} MiB (empty ${baseRss.toFixed(0)}); ${latency.map((l) => `${l.path} p50 ${l.p50Ms.toFixed(1)} max ${l.maxMs.toFixed(1)} ms`).join('; ')}`)
    return {instances, rssMiB: rss, baseRssMiB: baseRss, latency}
  } finally {
    await agent.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

export function renderScaleSection(o: {date: string; machine: string; keys: KeysRow[]; instances: InstancesRow[]; seconds: number}): string {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '?')
  const lines = [
    `_${o.date} · ${o.machine} · ${f(o.seconds, 0)} s_`,
    '',
    'One data-dir coord server per size, 100-byte values loaded in 64-op txns (16 in flight). Probe: one GET every 5 ms; its worst wait is the longest the event loop was held.',
    '',
    '| keys | load keys/s | RSS MiB | bytes/key | automatic snapshots (ms) | worst read during load | snapshot save | archive | worst read during save | restart | RSS after restart | restore | RSS peak during restore | worst read during restore |',
    '|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
    ...o.keys.map((r) => `| ${r.keys.toLocaleString('en')} | ${f(r.keys / r.loadSeconds, 0)} | ${f(r.rssMiB, 0)} | ${f((r.rssMiB * 1048576) / r.keys, 0)} | ${r.autoSnapshots.join(', ') || '–'} | ${f(r.worstProbeDuringLoadMs, 0)} ms | ${f(r.saveSeconds)} s | ${f(r.saveBytes / 1048576)} MiB | ${f(r.worstProbeDuringSaveMs, 0)} ms | ${f(r.restartSeconds)} s | ${f(r.rssAfterRestartMiB, 0)} MiB | ${f(r.restoreSeconds)} s | ${f(r.rssPeakDuringRestoreMiB, 0)} MiB | ${f(r.worstProbeDuringRestoreMs, 0)} ms |`),
    '',
    'Catalog: 10 instances per node, 11 service names, one check per instance; 30 sequential reads each.',
    '',
    '| instances | RSS MiB (empty) | bytes/instance | ' + (o.instances[0]?.latency.map((l) => `${l.path} p50 / max`).join(' | ') ?? '') + ' |',
    '|---:|---:|---:|' + (o.instances[0]?.latency.map(() => '---:').join('|') ?? '') + '|',
    ...o.instances.map((r) => `| ${r.instances.toLocaleString('en')} | ${f(r.rssMiB, 0)} (${f(r.baseRssMiB, 0)}) | ${f(((r.rssMiB - r.baseRssMiB) * 1048576) / r.instances, 0)} | ${r.latency.map((l) => `${f(l.p50Ms)} / ${f(l.maxMs)} ms`).join(' | ')} |`),
  ]
  return lines.join('\n')
}

const BEGIN = '<!-- bench:scale:begin -->'
const END = '<!-- bench:scale:end -->'

export function writeScaleSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, `${BEGIN}\n## Scale\n\n${section}\n${END}`)
}
