// Summarises a V8 .cpuprofile (node --cpu-prof, or coord debug's profile.cpuprofile) as markdown:
// the top frames by self time and by total (inclusive) time, and self time grouped by source file.
// docs/perf/ keeps the profiles of the write path and these summaries next to them.
//   node dist/bench/profile-summary.js <file.cpuprofile> [top=25] [--window=<fromUs>..<toUs>] [--ops=<n>]
// --window keeps the samples taken in that stretch of the monotonic clock (write-probe prints the
// measured window of each row); --ops adds each frame's µs per operation.
import {readFileSync} from 'node:fs'
import {basename} from 'node:path'

interface ProfileNode {
  id: number
  callFrame: {functionName: string; url: string; lineNumber: number}
  children?: number[]
}
interface Profile {nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number}

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'))
const [file, topArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const flag = (name: string): string | undefined => flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3)
const [windowFrom, windowTo] = (flag('window') ?? '-Infinity..Infinity').split('..').map(Number)
const ops = Number(flag('ops') ?? NaN)
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Self time per node from the samples (each sample's delta is the time until the next one).
const selfUs = new Map<number, number>()
let at = profile.startTime
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i]
  if (at < windowFrom || at > windowTo) return
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
})

const shortUrl = (url: string): string => {
  if (!url) return ''
  const dist = url.indexOf('/dist/')
  if (dist >= 0) return url.slice(dist + 6)
  const nm = url.indexOf('node_modules/')
  if (nm >= 0) return url.slice(nm)
  return url.replace(/^file:\/\//, '')
}
const frameKey = (n: ProfileNode): string => {
  const {functionName, url, lineNumber} = n.callFrame
  return `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim()
}

const self = new Map<string, number>()
const total = new Map<string, number>()
const files = new Map<string, number>()
let allUs = 0
let idleUs = 0
for (const [id, us] of selfUs) {
  const node = byId.get(id)!
  allUs += us
  if (node.callFrame.functionName === '(idle)') idleUs += us
  const key = frameKey(node)
  self.set(key, (self.get(key) ?? 0) + us)
  const fileKey = node.callFrame.url ? shortUrl(node.callFrame.url).replace(/:\d+$/, '') : node.callFrame.functionName
  files.set(fileKey, (files.get(fileKey) ?? 0) + us)
  // Inclusive: count this sample once for every distinct frame on its stack.
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const k = frameKey(byId.get(at)!)
    if (seen.has(k)) continue
    seen.add(k)
    total.set(k, (total.get(k) ?? 0) + us)
  }
}

const busyUs = allUs - idleUs
const pct = (us: number): string => `${((us / busyUs) * 100).toFixed(1)} %`
const ms = (us: number): string => (us / 1000).toFixed(0)
const perOp = Number.isFinite(ops) && ops > 0
const table = (title: string, m: Map<string, number>, n: number): string[] => [
  `### ${title}`, '', `| ms | of busy |${perOp ? ' µs/op |' : ''} frame |`, `| ---: | ---: |${perOp ? ' ---: |' : ''} --- |`,
  ...[...m].filter(([k]) => k !== '(idle)' && k !== '(root)').sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, us]) => `| ${ms(us)} | ${pct(us)} |${perOp ? ` ${(us / ops).toFixed(1)} |` : ''} \`${k}\` |`),
  '',
]

console.log([
  `## ${basename(file)}`, '',
  `Profiled ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s${Number.isFinite(windowFrom) ? `, summarised over ${((Math.min(windowTo, profile.endTime) - Math.max(windowFrom, profile.startTime)) / 1e6).toFixed(1)} s of it` : ''}; ` +
    `busy (not idle) ${ms(busyUs)} ms${perOp ? ` over ${ops} ops: ${(busyUs / ops).toFixed(0)} µs/op` : ''}, of which GC ${ms(self.get('(garbage collector)') ?? 0)} ms (${pct(self.get('(garbage collector)') ?? 0)}).`, '',
  ...table('Top frames by self time', self, top),
  ...table('Top frames by total time (inclusive)', total, top),
  ...table('Self time by file', files, 15),
].join('\n'))
