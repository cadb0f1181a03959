// Renders the locks section of BENCHMARKS.md (takeover time when the lock holder's node is
// kill -9'd, with coord's default lock-delay and Consul's 15 s) between its own markers.
import type {LocksPlan, LocksRun, LocksSeries} from './locks-suite.js'
import {median} from './raft-suite.js'
import {writeSection} from './report.js'

export interface LocksReport {
  date: string
  machine: string
  plan: LocksPlan
  run: LocksRun
  seconds: number
}

const BEGIN = '<!-- bench:locks:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:locks:end -->'

const CONSUL_LOCK_DELAY_MS = 15_000
const s = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : (v / 1000).toFixed(2))
const max = (v: number[]): number | undefined => (v.length ? Math.max(...v) : undefined)
const cell = (v: number[]): string => `${s(median(v))} / ${s(max(v))}`

function row(x: LocksSeries): string {
  return `| ${x.label} | ${s(x.delayMs)} | ${x.takeoverMs.length} | ${cell(x.detectMs)} | ${cell(x.stoppedMs)} | **${cell(x.takeoverMs)}** |`
}

/** Per round, the old holder's child stopped before the standby's child started. */
const overlapFree = (run: LocksRun): boolean => run.series.every((x) => x.stoppedMs.every((stopped, i) => stopped < x.takeoverMs[i]))

export function renderLocksSection(r: LocksReport): string {
  const {run} = r
  const lines = [
    BEGIN,
    '## Locks: takeover when the holder\'s node dies',
    '',
    `${r.date} · ${r.machine} · ${r.seconds.toFixed(0)} s`,
    '',
    `A real cluster of ${run.servers} servers and ${run.clients} client agents on 127.B.C.n with default ports. ` +
      'A `coord lock <prefix> <child>` holder runs through one client agent, a standby `coord lock` on the same prefix waits through the other (its session exists before the kill). ' +
      'Each child appends its start time to a file. A round kill -9s the holder\'s agent and times, from the kill: the node\'s `serfHealth` turning critical on a server (failure detection; the lock session, tied to that check, is invalidated then), ' +
      'the old holder\'s child gone, and the standby\'s child running (its own timestamp). The killed agent is restarted and hosts the next standby, so rounds alternate between the clients. ' +
      `Polled every ${r.plan.pollMs} ms; \`coord lock\`'s defaults otherwise (session TTL 15 s, which does not come into play: the session dies with the node's health check).`,
    '',
    'No etcd side-by-side: etcd locks hang on a client lease that expires by TTL alone (no node health check, no lock-delay), a different mechanism.',
    '',
  ]
  if (run.error) lines.push(`**Failed:** ${run.error}`, '')
  lines.push(
    '| lock-delay | s | rounds | failure detection median / max s | old child stopped median / max s | takeover (standby\'s child running) median / max s |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...run.series.map(row),
  )
  for (const x of run.series) if (x.error) lines.push('', `- ${x.label}: stopped early: ${x.error}`)
  const lost = run.series.filter((x) => x.lostBeforeKill).map((x) => `${x.label} ${x.lostBeforeKill}`)
  if (lost.length) lines.push('', `Rounds not counted because the holder lost the lock before its agent was killed (its session invalidated early, e.g. its node falsely suspected on a loaded machine; the standby then took over normally): ${lost.join(', ')}.`)
  const coord = run.series.find((x) => x.delayMs !== CONSUL_LOCK_DELAY_MS)
  const consul = run.series.find((x) => x.delayMs === CONSUL_LOCK_DELAY_MS && x.takeoverMs.length)
  const detect = median(run.series.flatMap((x) => x.detectMs))
  lines.push(
    '',
    'Against Consul\'s defaults (failure detection + 15 s lock-delay):',
    '',
    `- coord's default (lock-delay ${s(coord?.delayMs)} s): takeover median ${s(median(coord?.takeoverMs ?? []))} s, max ${s(max(coord?.takeoverMs ?? []))} s.`,
    consul
      ? `- Measured with \`-lock-delay=15s\` (Consul's default lock-delay, coord's failure detection): median ${s(median(consul.takeoverMs))} s, max ${s(max(consul.takeoverMs))} s.`
      : '- Not measured with `-lock-delay=15s` in this run.',
    `- Computed Consul-default figure: failure detection (median ${s(detect)} s here) + 15 s = **${s(detect === undefined ? undefined : detect + CONSUL_LOCK_DELAY_MS)} s** (computed, not measured against Consul; ` +
      'Consul\'s own detection uses memberlist\'s LAN timings, compared with coord\'s in the gossip section).',
    '',
    'The old child is stopped by its own `coord lock`, which re-confirms its hold within lock-delay − kill grace (src/lib/api/hold-monitor.ts) and stops the child when its agent does not answer. ' +
      `Old child gone before the standby's started, in every round: ${overlapFree(run) ? 'yes' : '**no**'}.`,
    END,
  )
  return lines.join('\n')
}

export function writeLocksSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
