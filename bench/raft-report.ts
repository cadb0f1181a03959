// Renders the raft section of BENCHMARKS.md (three-member coord vs three-member etcd) and splices
// it between its own markers, so the kv section and anything written by hand survive a rerun.
import {FAILOVER_READ_EVERY_MS, median, type RaftCell, type RaftPlan, type RaftRun, type Via} from './raft-suite.js'
import {cpu, cpuNote, generatorText, int, loadCell, ms, ratio, writeSection} from './report.js'
import {isBusy} from './load.js'

export interface RaftReport {
  date: string
  machine: string
  /** 1-min load averages at the start and end of the section, and the core count. */
  load: {start: number; end: number; cores: number}
  plan: RaftPlan
  etcd: RaftRun
  coord: RaftRun
  seconds: number
}

const BEGIN = '<!-- bench:raft:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:raft:end -->'

const ETCD_READ = 'linearizable range'
const viaText = (via: Via): string => (via === 'leader' ? 'leader' : 'all 3')

function cellOf(run: RaftRun, op: string, via: Via, clients: number): RaftCell | undefined {
  return run.cells.find((c) => c.op === op && c.via === via && c.clients === clients)
}

const fig = (x: RaftCell | undefined): string => (x ? `${int(x.result.opsPerSec)} | ${ms(x.result.p50Ms)} | ${ms(x.result.p99Ms)} | ${cpu(x.result)}` : '– | – | – | –')
/** coord / etcd ratios: ops/s, p50, CPU per op. */
const ratios = (e: RaftCell | undefined, c: RaftCell | undefined): string =>
  `${ratio(c?.result.opsPerSec, e?.result.opsPerSec)} | ${ratio(c?.result.p50Ms, e?.result.p50Ms)} | ${ratio(c?.result.cpuMsPerOp, e?.result.cpuMsPerOp)}`

function notesFor(r: RaftReport, rows: [string, RaftCell | undefined, RaftCell | undefined][]): string[] {
  const notes: string[] = []
  for (const [what, e, c] of rows) {
    for (const [run, x] of [[r.etcd, e], [r.coord, c]] as const) {
      if (x?.result.errors) notes.push(`- ${run.label} ${what}: ${x.result.errors} failed requests (first: ${x.result.firstError}).`)
      if (x?.leaderMoved) notes.push(`- ${run.label} ${what}: the leader changed during the row (${x.leaderMoved}).`)
    }
  }
  return notes
}

/** How many rows of either system other work competed with (load.ts isBusy). */
const busyRows = (r: RaftReport): number => [...r.etcd.cells, ...r.coord.cells].filter((c) => isBusy(c.result)).length

function writeTable(r: RaftReport): string[] {
  const lines = [
    `| clients | sent to | ${r.etcd.label} ops/s | p50 ms | p99 ms | CPU ms/op | ${r.coord.label} ops/s | p50 ms | p99 ms | CPU ms/op | coord/etcd ops/s | coord/etcd p50 | coord/etcd CPU/op | load; others (etcd / coord) |`,
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  const rows: [string, RaftCell | undefined, RaftCell | undefined][] = []
  const shapes: [Via, number][] = [...r.plan.writeClients.map((n): [Via, number] => ['leader', n]), ...r.plan.spreadWriteClients.map((n): [Via, number] => ['all', n])]
  for (const [via, clients] of shapes) {
    const [e, c] = [r.etcd, r.coord].map((s) => cellOf(s, 'write', via, clients))
    lines.push(`| ${clients} | ${viaText(via)} | ${fig(e)} | ${fig(c)} | ${ratios(e, c)} | ${loadCell([e?.result, c?.result])} |`)
    rows.push([`write ×${clients} via ${viaText(via)}`, e, c])
  }
  const notes = notesFor(r, rows)
  return [...lines, ...(notes.length ? ['', ...notes] : [])]
}

function readTable(r: RaftReport): string[] {
  const lines = [
    `| coord read | sent to | ${r.etcd.label} ${ETCD_READ} ops/s | p50 ms | p99 ms | CPU ms/op | ${r.coord.label} ops/s | p50 ms | p99 ms | CPU ms/op | coord/etcd ops/s | coord/etcd p50 | coord/etcd CPU/op | load; others (etcd / coord) |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  const rows: [string, RaftCell | undefined, RaftCell | undefined][] = []
  const coordModes = [...new Set(r.coord.cells.filter((c) => c.op !== 'write').map((c) => c.op))]
  if (coordModes.length === 0) coordModes.push('`?consistent` (ReadIndex)', 'default (leader lease)')
  for (const via of ['leader', 'all'] as const) {
    for (const mode of coordModes) {
      const e = cellOf(r.etcd, ETCD_READ, via, r.plan.readClients)
      const c = cellOf(r.coord, mode, via, r.plan.readClients)
      lines.push(`| ${mode} | ${viaText(via)} | ${fig(e)} | ${fig(c)} | ${ratios(e, c)} | ${loadCell([e?.result, c?.result])} |`)
      rows.push([`read ${mode} via ${viaText(via)}`, undefined, c])
    }
    rows.push([`${ETCD_READ} via ${viaText(via)}`, cellOf(r.etcd, ETCD_READ, via, r.plan.readClients), undefined])
  }
  const notes = notesFor(r, rows)
  return [...lines, ...(notes.length ? ['', ...notes] : [])]
}

function failoverTable(r: RaftReport): string[] {
  const rounds = Math.max(r.plan.failoverRounds, r.etcd.failover.length, r.coord.failover.length)
  const lines = [
    `| system | election timeout | ${Array.from({length: rounds}, (_, i) => `kill ${i + 1} ms`).join(' | ')} | median ms | client-visible errors during the failover |`,
    `| --- | --- | ${Array.from({length: rounds}, () => '---:').join(' | ')} | ---: | ---: |`,
  ]
  const timeouts: Record<string, string> = {
    etcd: '1000 ms (default `--election-timeout`; randomized in [1000, 2000))',
    coord: '1000 ms (default; randomized in [1000, 2000))',
  }
  const notes: string[] = []
  for (const [run, key] of [[r.etcd, 'etcd'], [r.coord, 'coord']] as const) {
    const cells = Array.from({length: rounds}, (_, i) => {
      const f = run.failover[i]
      if (!f) return '–'
      if (f.error) {
        notes.push(`- ${run.label} kill ${i + 1}: ${f.error}`)
        return 'failed'
      }
      return `${int(f.ms!)} (${f.killed})`
    })
    const values = run.failover.flatMap((f) => (f.ms === undefined ? [] : [f.ms]))
    const mid = median(values)
    const measured = run.failover.filter((f) => f.reads !== undefined)
    const errors = measured.reduce((sum, f) => sum + (f.readErrors ?? 0), 0)
    const reads = measured.reduce((sum, f) => sum + (f.reads ?? 0), 0)
    const firstError = measured.find((f) => f.firstReadError)?.firstReadError
    if (firstError) notes.push(`- ${run.label}: first failed read during a failover: ${firstError}`)
    const visible = measured.length === 0 ? '–' : `${int(errors)} of ${int(reads)} reads`
    lines.push(`| ${run.label} | ${timeouts[key]} | ${cells.join(' | ')} | ${mid === undefined ? '–' : int(mid)} | ${visible} |`)
  }
  return [...lines, ...(notes.length ? ['', ...notes] : [])]
}

function rssLine(run: RaftRun): string {
  if (run.rss.length === 0) return `${run.label} –`
  return `${run.label} ${run.rss.map((m) => `${m.name}${m.leader ? ' (leader)' : ''} ${m.mib === undefined ? '–' : `${m.mib.toFixed(0)} MiB`}`).join(', ')}`
}

export function renderRaftSection(r: RaftReport): string {
  const p = r.plan
  const errors = [r.etcd, r.coord].filter((s) => s.error).map((s) => `- **${s.label}:** ${s.error}`)
  return [
    BEGIN,
    '## raft: 3-server coord vs 3-member etcd',
    '',
    `${r.date} · ${r.machine} · section took ${r.seconds.toFixed(0)} s`,
    '',
    ...(busyRows(r) > 0
      ? [`The machine was busy with other work during ${busyRows(r)} of this run's rows (marked **busy**: other people's processes took more than a fifth of its CPU): their figures are lower and noisier than on an idle machine; compare CPU per op, and within the run.`, '']
      : []),
    `${generatorText([...r.etcd.cells, ...r.coord.cells].map((c) => c.result))} Same keys and values as the kv section: ` +
      `${p.warmupMs / 1000} s warm-up then ${p.durationMs / 1000} s measured per row, ${p.keys} keys, ${p.valueBytes}-byte values, prefilled. ` +
      'All three members of a cluster, and the load generator, run on this one machine (each member on its own 127.x.y.n address): ' +
      'every member fsyncs on the same disk and all processes share the same cores, so this measures the protocol\'s overheads, not network latency. ' +
      'The two clusters run one after the other, never together.',
    '',
    '### Writes',
    '',
    ...writeTable(r),
    '',
    '- "leader": every client connects to the member that leads at the start of the row. "all 3": client *i* connects to member *i* mod 3, so two thirds of the requests arrive at followers, ' +
      'which forward them to the leader (coord: over its server RPC port; etcd: as a Raft proposal message).',
    cpuNote('summed over the three members of the cluster'),
    '- coord: `PUT /v1/kv/bench/<k>` on `-server -bootstrap-expect=3 -data-dir` agents (Consul\'s default ports on each address); a write is acknowledged once a quorum has fdatasynced it and the leader has applied it.',
    '- etcd: `POST /v3/kv/put` to the JSON gateway of a member (the in-process grpc-gateway, which re-sends the request over a loopback gRPC connection to that same member); default flags, WAL fsynced.',
    '',
    `### Reads (${p.readClients} clients)`,
    '',
    ...readTable(r),
    '',
    '- coord `?consistent`: a ReadIndex round per read (the leader confirms its leadership with a quorum heartbeat round, batched across concurrent reads). ' +
      'coord default: served by the leader alone while its lease holds (election timeout × 0.9, dated from a quorum-acknowledged heartbeat), else ReadIndex. ' +
      'On a follower both ask the leader for a read index, then wait until applied and read locally. ' +
      'The load generator\'s own CPU per read matters here: on a machine with few cores it takes from the servers, so at high read rates the ratio measures the generator as well as the servers; compare CPU/op.',
    `- etcd: \`POST /v3/kv/range\`, **linearizable** (the default; etcd 3.4 has no lease reads): a ReadIndex round per read, batched. The etcd column is the same measurement in both rows of one "sent to" group.`,
    '',
    '### Leader failover',
    '',
    ...failoverTable(r),
    '',
    `- Each kill: find the leader, \`kill -9\` its PID, then start a write (\`PUT\`/\`put\`) through a surviving member every ${p.failoverPollMs} ms ` +
      `(attempts overlap, each on its own connection and aborted after 2 s, since one forwarded to the dead leader can hang: etcd was seen holding such a proposal ~7 s, its request timeout; all given up after ${p.failoverLimitMs / 1000} s); the figure is the time from the kill to the first acknowledged write, ` +
      'i.e. failure detection (an election timeout without heartbeats) + election + the first commit. The killed member is restarted with its data dir and serves linearizable reads before the next round.',
    `- Client-visible errors: during each kill a reader sends one default-mode read (coord \`GET /v1/kv/bench/<k>\`, etcd linearizable range) through the same surviving member every ${FAILOVER_READ_EVERY_MS} ms, one at a time, ` +
      'from the kill until 1 s after the first acknowledged write; a read that answers an error or not within 15 s counts (goal 0: coord holds such reads until a new leader answers them, up to `performance { rpc_hold_timeout }`, 7 s, as Consul does). Summed over the kills.',
    '- Both systems default to a 100 ms heartbeat and a 1000 ms election timeout, randomized per follower in [1000, 2000) ms, so a figure between about 1 and 2 s is expected for both. ' +
      'Both run CheckQuorum; coord also runs PreVote, which etcd 3.4 leaves off by default (`--pre-vote=false`).',
    '',
    '### Memory',
    '',
    `VmRSS of each server after the load rows (before the first kill): ${rssLine(r.etcd)}; ${rssLine(r.coord)}.`,
    ...(errors.length ? ['', ...errors] : []),
    END,
  ].join('\n')
}

export function writeRaftSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
