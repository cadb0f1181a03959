// Renders the gossip section of BENCHMARKS.md (simulated detection with coord's defaults vs
// memberlist's LAN timings, and kill -9 detection of real agents) between its own markers.
import type {GossipPlan, RealRun, SimRow} from './gossip-suite.js'
import {median} from './raft-suite.js'
import {writeSection} from './report.js'
import {BREAKDOWN_KINDS} from '../test/sim/gossip-cluster.js'
import {coordGossipConfig, lanGossipConfig, type GossipConfig} from '../src/lib/gossip/config.js'

export interface GossipReport {
  date: string
  machine: string
  plan: GossipPlan
  sims: SimRow[]
  real: RealRun
  seconds: number
}

const BEGIN = '<!-- bench:gossip:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:gossip:end -->'

const profileText: Record<string, string> = {coord: 'coord defaults', lan: 'memberlist LAN'}
const breakdownText: Record<(typeof BREAKDOWN_KINDS)[number], string> = {ping: 'ping', ack: 'ack', indirect: 'indirect ping / nack', suspect: 'suspect', alive: 'alive', dead: 'dead', other: 'other', framing: 'datagram framing', pushPull: 'push-pull'}
const s = (msValue: number | undefined): string => (msValue === undefined || Number.isNaN(msValue) ? '–' : (msValue / 1000).toFixed(2))
const timing = (c: GossipConfig): string => `probe ${c.probeIntervalMs}/${c.probeTimeoutMs} ms, suspicion ×${c.suspicionMult} (max ×${c.suspicionMaxTimeoutMult}${c.suspicionFloorMs ? `, floor ${c.suspicionFloorMs} ms` : ''}), gossip ${c.gossipIntervalMs} ms × ${c.gossipNodes}, retransmit ×${c.retransmitMult}`

export function renderGossipSection(r: GossipReport): string {
  const lines = [
    BEGIN,
    '## Gossip: failure detection',
    '',
    `${r.date} · ${r.machine} · ${r.seconds.toFixed(0)} s`,
    '',
    "Simulated (seeded, test/sim/gossip-*.ts): all members join one seed member; once every view agrees, the run waits (up to 120 s) until every member's broadcast queue is empty, so the join wave's retransmissions are over; " +
    "then 5 % of the members crash at random times over 10 s while one other member's CPU stalls for 1 s, on a network with random delay and 0–3 % loss. " +
    'Detection = crash → declared failed by the last live member. A false positive = any live member (the stalled one included) declared failed by anyone.',
    `coord defaults: ${timing(coordGossipConfig())}. memberlist LAN: ${timing(lanGossipConfig())}.`,
    '',
    'memberlist LAN is a model: coord\'s SWIM core run with memberlist\'s LAN timings, serf\'s reconnect every 30 s, and memberlist\'s message sizes (test/sim/memberlist-wire-size.ts: a type byte and a msgpack map keyed by field names per message, compound framing, 4-byte addresses), ' +
    'so it packs and counts its datagrams as memberlist would, and with memberlist\'s default LZW compression (every push-pull stream, and each datagram it makes smaller; an estimate from an LZW bit count over the message bytes). coord\'s bytes are its codec\'s exact encoded sizes (wire-size.ts, checked against codec.ts). ' +
    'Bytes are counted over the same 40 s window for both profiles, from the first possible crash (crashes fall in its first 10 s; the window is long enough for LAN\'s detections); datagram and push-pull payloads, without IP/UDP/TCP headers or encryption; a push-pull counts only once it reaches a running member. ' +
    'Bytes vs LAN: this row\'s bytes per member per second over memberlist LAN\'s at the same size and seeds. Drain: the longest wait for the broadcast queues to empty after the views agreed. CPU: what simulating the row\'s seeds cost (one core).',
    '',
    '| members | profile | runs | crashes | detection p50 s | p99 s | max s | false positives | join convergence p50 / max s | drain s | bytes/member/s | bytes vs LAN | CPU s |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  ]
  for (const row of r.sims) {
    const f = row.figures
    const lan = r.sims.find((o) => o.profile === 'lan' && o.members === row.members)?.figures.bytesPerMemberPerSec
    const ratio = lan ? `${(f.bytesPerMemberPerSec / lan).toFixed(2)}×` : '–'
    lines.push(`| ${row.members} | ${profileText[row.profile] ?? row.profile} | ${f.runs}${f.failures ? ` (${f.failures} failed)` : ''} | ${f.crashes} | ${s(f.detectP50Ms)} | ${s(f.detectP99Ms)} | ${s(f.detectMaxMs)} | ${f.falsePositives} | ${s(f.convergeP50Ms)} / ${s(f.convergeMaxMs)} | ${f.drainMaxMs === null ? 'over 120' : s(f.drainMaxMs)} | ${f.bytesPerMemberPerSec} | ${ratio} | ${row.cpuSeconds.toFixed(0)} |`)
  }
  lines.push(
    '',
    'Where the bytes go (bytes per member per second over the window, mean of the seeds; each message kind with its framing inside the datagram; datagram framing = header, sender name, compound header):',
    '',
    `| members | profile | ${BREAKDOWN_KINDS.map((k) => breakdownText[k]).join(' | ')} | total | datagrams/member/s |`,
    `| ---: | --- |${' ---: |'.repeat(BREAKDOWN_KINDS.length + 2)}`,
  )
  for (const row of r.sims) {
    const b = row.figures.breakdown
    if (!b) continue
    lines.push(`| ${row.members} | ${profileText[row.profile] ?? row.profile} | ${BREAKDOWN_KINDS.map((k) => b[k]).join(' | ')} | ${row.figures.bytesPerMemberPerSec} | ${b.packets} |`)
  }
  const real = r.real
  lines.push('', `Real processes: ${real.agents} coord agents (servers) on 127.B.C.1–${real.agents} with default ports, ${r.plan.realRounds} rounds of kill -9 of one agent, views polled every ${r.plan.pollMs} ms over /v1/agent/members.`, '')
  if (real.error) lines.push(`Failed: ${real.error}`, '')
  lines.push(
    '| measure | rounds | median s | max s |',
    '| --- | ---: | ---: | ---: |',
    `| start → all alive everywhere | 1 | ${s(real.convergeMs)} | ${s(real.convergeMs)} |`,
    `| kill -9 → failed in every other agent | ${real.detectMs.length} | ${s(median(real.detectMs))} | ${s(real.detectMs.length ? Math.max(...real.detectMs) : undefined)} |`,
    `| restart (same flags and data dir) → alive everywhere | ${real.rejoinMs.length} | ${s(median(real.rejoinMs))} | ${s(real.rejoinMs.length ? Math.max(...real.rejoinMs) : undefined)} |`,
    '',
    `False positives among the real agents (a healthy agent reported failed by another): ${real.falsePositives}.`,
    END,
  )
  return lines.join('\n')
}

export function writeGossipSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
