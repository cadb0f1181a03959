// The metrics section of BENCHMARKS.md: what the Prometheus and statsd sinks cost on the KV path,
// measured in one run. Two data-dir servers in turn: one with no telemetry block (coord, like
// Consul, always keeps the in-memory intervals behind /v1/agent/metrics: that is the floor), one
// with `telemetry { prometheus_retention_time, statsd_address }` (statsd to a local UDP socket that
// drops what it gets) and /v1/agent/metrics?format=prometheus scraped every second during the run.
// PUT and GET at the plan's client counts with the agent's CPU per request (on-off.ts); three interleaved
// pairs, the medians compared, so drift on a shared box falls on both sides.
import {createSocket} from 'node:dgram'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startCoord} from './coord-agent.js'
import {type KvPlan} from './kv-suite.js'
import {renderOnOff, runOnOffCells, type OnOffCell} from './on-off.js'
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
 * The metrics a KV write records (consul.api.http with its labels, consul.http.PUT.v1.kv._,
 * consul.kvs.apply), timed in this process by CPU time (best of 5 rounds of 100,000, one scrape and
 * the statsd flushes included): what the sinks themselves cost per request, apart from the machine's load.
 */
export async function sinkCost(statsdPort: number): Promise<{offUs: number; onUs: number}> {
  const labels = Object.freeze({method: 'PUT', path: 'v1_kv_'})
  const key = ['http', 'PUT', 'v1', 'kv', '_']
  const measure = async (on: boolean): Promise<number> => {
    const metrics = new Metrics()
    const prometheus = new PrometheusSink(60_000)
    metrics.configure({prefix: 'consul', hostname: 'bench', sinks: on ? [prometheus, new UdpStatsSink('127.0.0.1', statsdPort, false)] : []})
    const n = 100_000
    let best = Infinity
    try {
      for (let round = 0; round < 5; round++) {
        const before = process.cpuUsage()
        for (let i = 0; i < n; i++) {
          const start = performance.now()
          metrics.measureSince(['api', 'http'], start, labels)
          metrics.measureSince(key, start)
          metrics.measureSince(['kvs', 'apply'], start)
        }
        await new Promise((resolve) => setTimeout(resolve, 150)) // statsd flushes (every 100 ms)
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

export async function runMetricsSuite(plan: KvPlan, rounds: number, log: (line: string) => void): Promise<MetricsRun> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-metrics-'))
  const sink = createSocket('udp4')
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()))
  sink.on('message', () => {})
  const config = join(dir, 'telemetry.json')
  writeFileSync(config, JSON.stringify({telemetry: {prometheus_retention_time: '60s', statsd_address: `127.0.0.1:${sink.address().port}`}}))
  const out: MetricsRun = {runs: []}
  try {
    out.inProcess = await sinkCost(sink.address().port)
    log(`in-process: ${out.inProcess.offUs.toFixed(2)} µs per request without sinks, ${out.inProcess.onUs.toFixed(2)} µs with Prometheus + statsd`)
    for (let round = 1; round <= rounds; round++) {
      for (const on of [false, true]) {
        const label = `${on ? 'Prometheus + statsd' : 'in-memory only'} (round ${round})`
        try {
          const agent = await startCoord('persistent', 20_000, on ? [`-config-file=${config}`] : [])
          let scrapes = 0
          const scraper = on ? setInterval(() => {
            void fetch(`http://${agent.httpAddr}/v1/agent/metrics?format=prometheus`).then(async (res) => { await res.text(); scrapes++ }, () => {})
          }, 1000) : undefined
          try {
            log(`${label}: coord (data dir) at ${agent.httpAddr} (pid ${agent.pid})`)
            const cells = await runOnOffCells(plan, (n) => coordTarget(label, agent.httpAddr, n, plan), agent.pid, log)
            out.runs.push({label, on, cells, scrapes})
          } finally {
            clearInterval(scraper)
            await agent.stop()
          }
        } catch (error) {
          log(`${label} failed: ${(error as Error).message}`)
          out.runs.push({label, on, cells: [], scrapes: 0, error: (error as Error).message.split('\n')[0]})
        }
      }
    }
  } finally {
    sink.close()
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
    'One data-dir server per row, started in turn: no telemetry block (the in-memory intervals behind `/v1/agent/metrics`, always kept, as Consul keeps them), ' +
      'then `telemetry { prometheus_retention_time = "60s", statsd_address = <a local UDP socket> }` with `?format=prometheus` scraped every second. ' +
      `${plan.keys} keys of ${plan.valueBytes} B, keep-alive connections (one per client), ${plan.durationMs / 1000} s measured after ${plan.warmupMs / 1000} s warm-up. ` +
      `Runs interleave (off, on, off, on, ...: ${run.runs.length / 2} pairs) and the summary takes the median of each side, so drift on a shared machine falls on both; agent CPU is the server process's user + system time (/proc/<pid>/stat) per request over warm-up and window, which the machine's other load disturbs less than throughput.`,
    '',
    ...renderOnOff(run.runs, plan.clients, '≤ 3 %'),
    ...(run.inProcess ? ['', `In this process, by CPU time, the metrics a KV write records (\`consul.api.http\`, \`consul.http.PUT.v1.kv._\`, \`consul.kvs.apply\`) cost ` +
      `${run.inProcess.offUs.toFixed(2)} µs per request with the in-memory sink alone and ${run.inProcess.onUs.toFixed(2)} µs with Prometheus and statsd as well ` +
      '(a scrape and the statsd flushes included): set against the agent CPU per request above, the sinks\' own share.'] : []),
    END,
  ]
  return lines.join('\n')
}

export function writeMetricsSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
