// Renders the discovery section of BENCHMARKS.md (DNS and health reads with 1000 instances, time
// from a failing check to the instance leaving answers) between its own markers.
import type {DiscoveryPlan, DiscoveryRun} from './discovery-suite.js'
import {median} from './raft-suite.js'
import {int, ms, writeSection} from './report.js'

export interface DiscoveryReport {
  date: string
  machine: string
  label: string
  plan: DiscoveryPlan
  run: DiscoveryRun
  rssMiB?: number
  seconds: number
}

const BEGIN = '<!-- bench:discovery:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:discovery:end -->'

const s = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : (v / 1000).toFixed(2))
const max = (v: number[]): number | undefined => (v.length ? Math.max(...v) : undefined)

export function renderDiscoverySection(r: DiscoveryReport): string {
  const {plan, run} = r
  const lines = [
    BEGIN,
    '## Discovery: DNS and health reads, check failure → out of answers',
    '',
    `${r.date} · ${r.machine} · ${r.seconds.toFixed(0)} s`,
    '',
    `One ${r.label} agent. ${plan.instances} instances of \`web\` registered through \`PUT /v1/catalog/register\`, ` +
      `${Math.ceil(plan.instances / plan.nodes)} per node on ${plan.nodes} nodes, each with a passing service check` +
      `${run.registerMs === undefined ? '' : ` (${s(run.registerMs)} s to register, 16 in flight)`}. ` +
      `Closed loop as in the kv section: ${plan.warmupMs / 1000} s warm-up then ${plan.durationMs / 1000} s measured per row; ` +
      'DNS clients each own one UDP socket with one query in flight; HTTP clients one keep-alive connection each. ' +
      'Load generator and agent share the machine.',
    '',
    'etcd has no equivalent (no service catalog, health checks or DNS interface), so this section has no side-by-side.',
    '',
  ]
  if (run.error) lines.push(`**Failed:** ${run.error}`, '')
  lines.push(
    '| query | clients | records/entries per answer | ops/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  )
  for (const row of run.rows) {
    const x = row.result
    lines.push(`| ${row.what} | ${row.clients} | ${row.answers} | ${int(x.opsPerSec)} | ${ms(x.p50Ms)} | ${ms(x.p99Ms)} | ${x.errors}${x.firstError ? ` (${x.firstError})` : ''} |`)
  }
  lines.push(
    '',
    'DNS answers over UDP carry at most 3 records by default (Consul\'s `udp_answer_limit`), picked at random among the passing instances; ' +
      '`?passing` returns all of them (node, service and checks of each), which is what its row pays for.',
    '',
    `Check failure → out of answers: an agent service \`web\` (tag \`flip\`) with an HTTP check every ${plan.checkIntervalMs / 1000} s against a local HTTP server; ` +
      `the server flips to 500 and \`flip.web.service.consul\` (DNS A) and \`/v1/health/service/web?passing&tag=flip\` are polled every ${plan.pollMs} ms until the instance is gone from each; ` +
      `then it flips back to 200 and we wait for it to return. ${plan.rounds} rounds. Each flip is made at a random phase of the check's schedule, so the figures include 0 to 1 interval of waiting for the next run of the check; the rest is the status change reaching the catalog and the answers.`,
    '',
    '| measure | rounds | median s | max s |',
    '| --- | ---: | ---: | ---: |',
    `| 500 → gone from DNS | ${run.goneDnsMs.length} | ${s(median(run.goneDnsMs))} | ${s(max(run.goneDnsMs))} |`,
    `| 500 → gone from \`?passing\` | ${run.goneHttpMs.length} | ${s(median(run.goneHttpMs))} | ${s(max(run.goneHttpMs))} |`,
    `| 200 again → back in both | ${run.backMs.length} | ${s(median(run.backMs))} | ${s(max(run.backMs))} |`,
    '',
    `Agent RSS after the run (VmRSS): ${r.rssMiB === undefined ? '–' : `${r.rssMiB.toFixed(0)} MiB`}.`,
    END,
  )
  return lines.join('\n')
}

export function writeDiscoverySection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
