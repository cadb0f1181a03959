// `coord debug`: Consul's capture bundle (command/debug/debug.go) from one agent's HTTP API. Static
// files first (agent.json, host.json, members.json), then for -duration: the log stream
// (consul.log), a metrics summary every -interval (metrics.json: one indented JSON object after
// another, as Consul's metrics stream), and with pprof a CPU profile over the whole duration
// (profile.cpuprofile, V8's format) and a sampling heap profile per interval
// (<time>/heap.heapprofile: allocations sampled over 2 s, collected ones included); then index.json, and the directory becomes <output>.tar.gz. Every
// JSON file passes through redactSecrets, and the log through the same check for anything that
// looks like a secret the agent holds.
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync, openSync, fsyncSync, closeSync} from 'node:fs'
import {basename, dirname, join, relative} from 'node:path'
import {gzipSync} from 'node:zlib'
import tar from 'tar-stream'
import type {ApiClient} from '../api/client.js'
import {agentMembers, agentMonitor, agentSelf} from '../api/agent.js'
import {formatDuration} from '../duration.js'

export const DEBUG_TARGETS = ['metrics', 'logs', 'pprof', 'host', 'agent', 'members'] as const
export type DebugTarget = (typeof DEBUG_TARGETS)[number]

/** Consul's bounds: intervals of at least 5 s (coord also takes a 5 s duration, Consul 10 s). */
export const DEBUG_MIN_INTERVAL_MS = 5_000
export const DEBUG_MIN_DURATION_MS = 5_000
/** Consul's grace added to the duration so the last interval is captured. */
const DURATION_GRACE_MS = 2_000

export interface DebugOptions {
  durationMs: number
  intervalMs: number
  capture: DebugTarget[]
  /** The directory to fill (must not exist); the archive is `<output>.tar.gz`. */
  output: string
  archive: boolean
  /** Progress lines, Consul's wording. */
  say(line: string): void
  warn(line: string): void
  now?: () => Date
}

/** Keys whose string values are secrets anywhere in a captured document (tokens, keys, passwords). */
const SECRET_KEY = /token|secret|password|encrypt(?!ed)|private|^key$|keyfile|key_file/i

/** A copy of `value` with every secret-looking string field replaced by "hidden", as Consul's debug config sanitizes. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && typeof inner === 'string' && inner !== '' ? 'hidden' : redactSecrets(inner)
  }
  return out
}

/** Go's time format without colons (Consul's timeDateFormat "2006-01-02T15-04-05Z0700"), UTC. */
function stamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/:/g, '-')}Z`
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(redactSecrets(value), null, '\t'))
}

/** Runs the capture; resolves with the archive's (or the directory's) path. */
export async function captureDebug(client: ApiClient, o: DebugOptions): Promise<string> {
  const now = o.now ?? (() => new Date())
  mkdirSync(o.output, {recursive: true})
  const self = await agentSelf(client)
  const version = String(self.Config?.Version ?? '')
  const errors: string[] = []
  const attempt = async (what: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run()
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`)
    }
  }
  const has = (target: DebugTarget) => o.capture.includes(target)
  if (has('host')) await attempt('host', async () => writeJson(join(o.output, 'host.json'), (await client.getJson('/v1/agent/host')).value))
  if (has('agent')) await attempt('agent', async () => writeJson(join(o.output, 'agent.json'), self))
  if (has('members')) await attempt('members', async () => writeJson(join(o.output, 'members.json'), await agentMembers(client, {wan: false})))
  for (const error of errors.splice(0)) o.warn(`Static capture failed: ${error}`)

  const duration = o.durationMs + DURATION_GRACE_MS
  const stop = new AbortController()
  const long: Array<Promise<void>> = []
  if (has('logs')) {
    long.push(attempt('logs', async () => {
      const stream = await agentMonitor(client, {logLevel: 'trace', signal: stop.signal})
      const chunks: Buffer[] = []
      try {
        for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
      } catch (error) {
        if (!stop.signal.aborted) throw error
      }
      writeFileSync(join(o.output, 'consul.log'), Buffer.concat(chunks))
    }))
  }
  if (has('pprof')) {
    long.push(attempt('cpu profile', async () => {
      const seconds = Math.max(1, Math.floor(o.durationMs / 1000))
      const res = await client.call('GET', '/v1/agent/debug/pprof/profile', {params: {seconds}})
      writeFileSync(join(o.output, 'profile.cpuprofile'), res.body)
    }))
  }
  const metrics: string[] = []
  const intervalCapture = async (): Promise<void> => {
    if (has('metrics')) await attempt('metrics', async () => { metrics.push(JSON.stringify(redactSecrets((await client.getJson('/v1/agent/metrics')).value), null, 4)) })
    if (has('pprof')) {
      await attempt('heap profile', async () => {
        const dir = join(o.output, stamp(now()))
        mkdirSync(dir, {recursive: true})
        const res = await client.call('GET', '/v1/agent/debug/pprof/heap', {params: {duration: '2s'}})
        writeFileSync(join(dir, 'heap.heapprofile'), res.body)
      })
    }
  }
  o.say(`Beginning capture interval ${now().toISOString()} (0)`)
  await intervalCapture()
  const started = Date.now()
  let count = 0
  // Every interval until the duration (plus grace) is over; bounded by the clock.
  while (Date.now() - started + o.intervalMs <= duration) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (count + 1) * o.intervalMs - Date.now())))
    count++
    await intervalCapture()
    o.say(`Capture successful ${now().toISOString()} (${count})`)
  }
  const left = started + duration - Date.now()
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left))
  stop.abort()
  await Promise.all(long)
  if (has('metrics')) writeFileSync(join(o.output, 'metrics.json'), metrics.map((m) => `${m}\n`).join(''))
  for (const error of errors) o.warn(`Error encountered during collection: ${error}`)
  writeJson(join(o.output, 'index.json'), {
    Version: 2, AgentVersion: version, Interval: formatDuration(o.intervalMs), Duration: formatDuration(duration), Targets: o.capture,
  })
  if (!o.archive) return o.output
  const archive = `${o.output}.tar.gz`
  await writeArchive(o.output, archive)
  rmSync(o.output, {recursive: true, force: true})
  return archive
}

/** The directory as a gzip'd tar with entries under its base name, written to a temp file and renamed (Consul's createArchive). */
async function writeArchive(dir: string, path: string): Promise<void> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer)
  })()
  const root = basename(dir)
  const walk = async (current: string): Promise<void> => {
    for (const name of readdirSync(current).sort()) {
      const full = join(current, name)
      const entryName = join(root, relative(dir, full))
      const info = statSync(full)
      if (info.isDirectory()) {
        pack.entry({name: `${entryName}/`, type: 'directory', mode: 0o755, mtime: info.mtime})
        await walk(full)
      } else if (info.isFile()) {
        const body = readFileSync(full)
        await new Promise<void>((resolve, reject) => {
          pack.entry({name: entryName, mode: 0o644, size: body.length, mtime: info.mtime}, body, (error) => (error ? reject(error) : resolve()))
        })
      }
    }
  }
  pack.entry({name: `${root}/`, type: 'directory', mode: 0o755})
  await walk(dir)
  pack.finalize()
  await collected
  const temp = `${path}.tmp`
  writeFileSync(temp, gzipSync(Buffer.concat(chunks)))
  renameSync(temp, path)
  // fsync the directory so the rename sticks.
  const fd = openSync(dirname(path), 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}

/** Consul's prepare(): the bounds, the targets, and an output directory that does not exist yet. */
export function validateDebug(o: Pick<DebugOptions, 'durationMs' | 'intervalMs' | 'capture' | 'output' | 'archive'>): string | undefined {
  if (o.durationMs < DEBUG_MIN_DURATION_MS) return `duration must be longer than ${formatDuration(DEBUG_MIN_DURATION_MS)}`
  if (o.intervalMs < DEBUG_MIN_INTERVAL_MS) return `interval must be longer than ${formatDuration(DEBUG_MIN_INTERVAL_MS)}`
  if (o.durationMs < o.intervalMs) return `duration (${formatDuration(o.durationMs)}) must be longer than interval (${formatDuration(o.intervalMs)})`
  const unknown = o.capture.find((t) => !(DEBUG_TARGETS as readonly string[]).includes(t))
  if (unknown !== undefined) return `target not found: ${unknown}`
  if (existsSync(o.output)) return `output directory already exists: ${o.output}`
  if (o.archive && existsSync(`${o.output}.tar.gz`)) return `output archive already exists: ${o.output}.tar.gz`
  return undefined
}
