// The metrics section of BENCHMARKS.md: what the Prometheus and statsd sinks cost on the KV path,
// measured in one run. Two data-dir servers at once: one with no telemetry block (coord, like
// Consul, always keeps the in-memory intervals and runtime gauges behind /v1/agent/metrics: that is
// the floor), one with `telemetry { prometheus_retention_time, statsd_address }` (statsd to a local
// UDP socket that drops what it gets) and /v1/agent/metrics?format=prometheus scraped every 15 s
// (a common Prometheus scrape_interval; its default is 1 m), the first scrape in the middle of each
// round's first measured window, so every round carries one. PUT and GET at the plan's client
// counts with the agent's CPU per request, the two side by side (on-off.ts), the rounds' medians
// compared, so the load of a shared box falls on both alike. Side by side is not symmetric: an
// A/A run (both agents alike) showed the one started second (and driven second by the one client
// process) up to 20 % cheaper per request on a loaded box, so the rounds alternate which side
// starts first and there is an even number of them.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startCoord, type CoordAgent} from './coord-agent.js'
import {type KvPlan} from './kv-suite.js'
import {renderOnOff, runSideBySide, type OnOffCell} from './on-off.js'
import {coordTarget} from './targets.js'
import {writeSection} from './report.js'
import {Metrics} from '../src/lib/metrics/metrics.js'
import {PrometheusSink} from '../src/lib/metrics/prometheus.js'
import {UdpStatsSink} from '../src/lib/metrics/statsd.js'

export interface MetricsRun {
  runs: Array<{label: string; on: boolean; cells: OnOffCell[]; scrapes: number; error?: string}>
  /** In-process CPU µs per request of what a KV write records, sinks off and on (sinkCost). */
  inProcess?: {offUs: number; onUs: number}
}

/**
 * What one KV write records on a single server, as the agent records it (Timers and a counter made
 * once): consul.api.http with its labels, consul.http.PUT.v1.kv._, consul.kvs.apply,
 * consul.raft.commitTime and consul.raft.apply per write, and per batch of about 8 writes (what the
 * agent showed under the bench's load) consul.raft.leader.dispatchLog and consul.raft.fsm.apply.
 * Timed in this process by CPU time, best of 5 rounds of 20,000 writes, with pauses of just over a
 * statsd flush interval every 2,000 writes so every timing line is sent (the statsd listener is
 * another process: its receiving is not counted), and one Prometheus scrape per round (the bench's
 * rounds carry about one per 20,000 PUTs): what the sinks themselves cost per request, apart from
 * the machine's load.
 */
export async function sinkCost(statsdPort: number): Promise<{offUs: number; onUs: number}> {
  const measure = async (on: boolean): Promise<number> => {
    const metrics = new Metrics()
    const prometheus = new PrometheusSink(60_000)
    metrics.configure({prefix: 'consul', hostname: 'bench', sinks: on ? [prometheus, new UdpStatsSink('127.0.0.1', statsdPort, false)] : []})
    const perWrite = [
      metrics.timer(['api', 'http'], Object.freeze({method: 'PUT', path: 'v1_kv_'})), metrics.timer(['http', 'PUT', 'v1', 'kv', '_']),
      metrics.timer(['kvs', 'apply']), metrics.timer(['raft', 'commitTime']),
    ]
    const perBatch = [metrics.timer(['raft', 'leader', 'dispatchLog']), metrics.timer(['raft', 'fsm', 'apply'])]
    const applies = metrics.counter(['raft', 'apply'])
    const n = 20_000
    let best = Infinity
    try {
      for (let round = 0; round < 5; round++) {
        const before = process.cpuUsage()
        for (let i = 0; i < n; i++) {
          const start = performance.now()
          applies.incr()
          for (const timer of perWrite) timer.measureSince(start)
          if (i % 8 === 7) for (const timer of perBatch) timer.measureSince(start)
          // Idle, not CPU: the statsd flush runs and sends what these writes queued.
          if (i % 2000 === 1999) await new Promise((resolve) => setTimeout(resolve, 110))
        }
        if (on) await prometheus.render()
        const used = process.cpuUsage(before)
        best = Math.min(best, (used.user + used.system) / n)
      }
    } finally {
      metrics.close()
    }
    return best
  }
  return {offUs: await measure(false), onUs: await measure(true)}
}

/** A UDP listener in its own process that drops what it gets (the statsd server): its receiving is not the agent's or this process's cost. */
async function startStatsdListener(): Promise<{port: number; stop: () => void}> {
  const child = spawn(process.execPath, ['-e', "const s = require('node:dgram').createSocket('udp4'); s.on('message', () => {}); s.bind(0, '127.0.0.1', () => console.log(s.address().port))"], {stdio: ['ignore', 'pipe', 'inherit']})
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the statsd listener did not start within 10 s')), 10_000)
    child.stdout.once('data', (data: Buffer) => { clearTimeout(timer); resolve(Number(String(data).trim())) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the statsd listener exited (${code})`)) })
  })
  return {port, stop: () => { child.kill() }}
}

/** Prometheus' common scrape_interval (its default is 1 m): the bench scrapes the on agent this often. */
export const SCRAPE_INTERVAL_MS = 15_000

export async function runMetricsSuite(plan: KvPlan, rounds: number, log: (line: string) => void): Promise<MetricsRun> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-metrics-'))
  const sink = await startStatsdListener()
  const config = join(dir, 'telemetry.json')
  writeFileSync(config, JSON.stringify({telemetry: {prometheus_retention_time: '60s', statsd_address: `127.0.0.1:${sink.port}`}}))
  const out: MetricsRun = {runs: []}
  try {
    out.inProcess = await sinkCost(sink.port)
    log(`in-process: ${out.inProcess.offUs.toFixed(2)} µs per request without sinks, ${out.inProcess.onUs.toFixed(2)} µs with Prometheus + statsd`)
    for (let round = 1; round <= rounds; round++) {
      // Odd rounds start and drive the off side first, even rounds the on side.
      const onFirst = round % 2 === 0
      const order = onFirst ? [1, 0] : [0, 1]
      const labels = [`in-memory only (round ${round})`, `Prometheus + statsd (round ${round}${onFirst ? ', started first' : ''})`]
      const agents: CoordAgent[] = []
      const timers: NodeJS.Timeout[] = []
      let scrapes = 0
      try {
        for (const i of order) agents[i] = await startCoord('persistent', 20_000, i === 1 ? [`-config-file=${config}`] : [])
        const on = agents[1]
        const scrape = () => {
          void fetch(`http://${on.httpAddr}/v1/agent/metrics?format=prometheus`).then(async (res) => { await res.text(); scrapes++ }, () => {})
        }
        // The first scrape in the middle of the first measured window, then every SCRAPE_INTERVAL_MS.
        const firstCell = () => {
          if (timers.length > 0) return
          timers.push(setTimeout(() => {
            scrape()
            timers.push(setInterval(scrape, SCRAPE_INTERVAL_MS))
          }, plan.warmupMs + plan.durationMs / 2))
        }
        order.forEach((i) => log(`${labels[i]}: coord (data dir) at ${agents[i].httpAddr} (pid ${agents[i].pid})`))
        const cells = await runSideBySide(plan, order.map((i) => ({pid: agents[i].pid, makeTarget: (n: number) => coordTarget(labels[i], agents[i].httpAddr, n, plan)})), log, firstCell)
        const [offCells, onCells] = onFirst ? [cells[1], cells[0]] : [cells[0], cells[1]]
        out.runs.push({label: labels[0], on: false, cells: offCells, scrapes: 0}, {label: labels[1], on: true, cells: onCells, scrapes})
      } catch (error) {
        log(`round ${round} failed: ${(error as Error).message}`)
        labels.forEach((label, i) => out.runs.push({label, on: i === 1, cells: [], scrapes: 0, error: (error as Error).message.split('\n')[0]}))
      } finally {
        for (const timer of timers) clearTimeout(timer)
        for (const agent of agents) await agent?.stop()
      }
    }
  } finally {
    sink.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  return out
}

const BEGIN = '<!-- bench:metrics:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:metrics:end -->'

export function renderMetricsSection(r: {date: string; machine: string; plan: KvPlan; run: MetricsRun; seconds: number}): string {
  const {plan, run} = r
  const lines = [
    BEGIN,
    '## Metrics: Prometheus and statsd on vs off',
    '',
    `${r.date} · ${r.machine} · ${r.seconds.toFixed(0)} s`,
    '',
    'Two data-dir servers per round, measured side by side (at the same time, each with its own clients): no telemetry block (the in-memory intervals and runtime gauges behind `/v1/agent/metrics`, always kept, as Consul keeps them), ' +
      `and \`telemetry { prometheus_retention_time = "60s", statsd_address = <a local UDP socket> }\` with \`?format=prometheus\` scraped every ${SCRAPE_INTERVAL_MS / 1000} s (a common Prometheus scrape_interval; its default is 1 m), ` +
      `the first scrape in the middle of each round's measured PUT window, so every round's PUT carries one (scrapes per round: ${run.runs.filter((r) => r.on).map((r) => r.scrapes).join(', ')}). ` +
      `${plan.keys} keys of ${plan.valueBytes} B, keep-alive connections (one per client), ${plan.durationMs / 1000} s measured after ${plan.warmupMs / 1000} s warm-up. ` +
      `${run.runs.length / 2} rounds, a fresh pair each; the summary takes the median of each side. Side by side, a shared machine's load falls on both alike (run one after the other, the same agent's figures swung by tens of percent within a minute here), ` +
      'but the two places are not alike: with both agents configured the same, the one started and driven second ran up to 20 % cheaper per request on a loaded box, so the rounds alternate which side goes first. ' +
      'Agent CPU is the server process\'s user + system time (/proc/<pid>/stat) per request over warm-up and window, which the machine\'s other load disturbs less than throughput; user is the agent\'s own work and GC, system its syscalls (sockets, fsync, the statsd datagrams).',
    '',
    ...renderOnOff(run.runs, plan.clients, '≤ 3 %'),
    ...(run.inProcess ? ['', `In this process, by CPU time, the metrics a KV write records on one server (\`consul.api.http\`, \`consul.http.PUT.v1.kv._\`, \`consul.kvs.apply\`, \`consul.raft.commitTime\`, \`consul.raft.apply\`, and per batch of ~8 writes \`consul.raft.leader.dispatchLog\` and \`consul.raft.fsm.apply\`) cost ` +
      `${run.inProcess.offUs.toFixed(2)} µs per request with the in-memory sink alone and ${run.inProcess.onUs.toFixed(2)} µs with Prometheus and statsd as well ` +
      '(one scrape per 20,000 writes and every statsd datagram sent included; the listener is another process): set against the agent CPU per request above, the sinks\' own share.'] : []),
    END,
  ]
  return lines.join('\n')
}

export function writeMetricsSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
