// A large snapshot must not hold up reads (or Raft heartbeats): the state is captured as a
// copy-on-write view and serialized a chunk at a time (state/snapshot-stream.ts), both for
// `GET /v1/snapshot` and for the automatic snapshot the Raft driver writes in the background.
// A synchronous snapshot of this many keys holds the event loop for most of a second on a quiet
// machine; a probe read running meanwhile must never wait longer than the bound below.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {readArchive} from '../../src/lib/snapshot/archive.js'
import {decodeValue} from '../../src/lib/state/codec.js'
import {startAgent, type TestAgent} from '../helpers/agent.js'

const KEYS = 100_000
const PER_TXN = 64
/** Generous for a loaded 2-core box; a synchronous snapshot of KEYS keys takes several times the quiet-box figure printed. */
const PROBE_BOUND_MS = 500
/** The automatic snapshot comes due within the load (entries = txns), and again in the write phase. */
const THRESHOLD = 1200

/** Single-key writes after the load: more than one threshold's worth of entries. */
const EXTRA = THRESHOLD + 200

const value = Buffer.alloc(100, 'v').toString('base64')

describe('snapshots do not stall reads', {timeout: 240_000}, () => {
  let dir: string
  let agent: TestAgent
  let base: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coord-snapstall-'))
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({raft_snapshot_threshold: THRESHOLD}))
    agent = await startAgent({dataDir: join(dir, 'data'), args: [`-config-file=${config}`]})
    base = `http://${agent.httpAddr}`
    const started = performance.now()
    await load(base, 0, KEYS)
    console.log(`# loaded ${KEYS} keys in ${Math.round(performance.now() - started)} ms`)
  })

  after(async () => {
    await agent?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('GET /v1/snapshot: the archive holds every key, and reads go on meanwhile', async () => {
    const probe = startProbe(base)
    const started = performance.now()
    const res = await fetch(`${base}/v1/snapshot`)
    assert.equal(res.status, 200)
    const archive = Buffer.from(await res.arrayBuffer())
    const tookMs = performance.now() - started
    const worst = await probe.stop()
    const {state} = await readArchive(archive)
    const body = decodeValue(state) as {kv: {entries: unknown[]}}
    console.log(`# snapshot save: ${Math.round(tookMs)} ms, ${archive.length} bytes gzip'd, ${state.length} bytes of state; probe: ${probe.count()} reads, worst ${worst.toFixed(1)} ms`)
    assert.equal(body.kv.entries.length, KEYS)
    assert.ok(probe.count() > 3, `the probe read ${probe.count()} times while the snapshot ran`)
    assert.ok(worst < PROBE_BOUND_MS, `a read waited ${worst.toFixed(1)} ms behind the snapshot (bound ${PROBE_BOUND_MS} ms)`)
  })

  it('the automatic snapshot is written while writes and reads go on', async () => {
    const before = snapshotsLogged(agent)
    const probe = startProbe(base)
    // Enough entries (one key each) to cross the threshold again: a snapshot of KEYS keys starts mid-way.
    const started = performance.now()
    await load(base, 0, EXTRA, 'extra/', 1)
    const deadline = Date.now() + 60_000
    while (snapshotsLogged(agent) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    await probe.stop()
    const line = agent.output().split('\n').filter((l) => l.includes('snapshot complete')).at(-1) ?? ''
    assert.ok(snapshotsLogged(agent) > before, 'an automatic snapshot completed')
    // The snapshot's window from its log line (wall clock, as the probe's).
    const match = /^(\S+) .*duration=(\d+)ms/.exec(line.trim())
    assert.ok(match, `log line: ${line}`)
    const end = Date.parse(match[1])
    const begin = end - Number(match[2])
    const during = probe.reads().filter((r) => r.end > begin && r.start < end)
    const inside = during.filter((r) => r.start >= begin && r.end <= end).length
    const worst = Math.max(0, ...during.map((r) => r.end - r.start))
    console.log(`# ${EXTRA} more entries in ${Math.round(performance.now() - started)} ms; ${line.trim()}; probe during it: ${during.length} reads (${inside} wholly inside), worst ${worst.toFixed(1)} ms`)
    // A synchronous snapshot holds the loop for its whole window: no read could finish inside it.
    assert.ok(inside >= 3, `only ${inside} reads were answered while the ${match[2]} ms snapshot ran`)
    assert.ok(worst < PROBE_BOUND_MS, `a read waited ${worst.toFixed(1)} ms behind the automatic snapshot (bound ${PROBE_BOUND_MS} ms)`)
    const leaderships = agent.output().split('\n').filter((l) => l.includes('cluster leadership lost')).length
    assert.equal(leaderships, 0, 'leadership was never lost')
  })

  it('after a restart every key is back (snapshot + log tail)', async () => {
    await agent.stop()
    agent = await startAgent({dataDir: join(dir, 'data'), args: [`-config-file=${join(dir, 'config.json')}`], timeoutMs: 60_000})
    base = `http://${agent.httpAddr}`
    const res = await fetch(`${base}/v1/kv/?keys`)
    const keys = await res.json() as string[]
    assert.equal(keys.length, KEYS + EXTRA)
  })
})

function snapshotsLogged(agent: TestAgent): number {
  return agent.output().split('\n').filter((l) => l.includes('snapshot complete')).length
}

/** Writes keys [from, to) in txns of `perTxn`, 8 in flight. */
async function load(base: string, from: number, to: number, prefix = 'k/', perTxn = PER_TXN): Promise<void> {
  let next = from
  const worker = async (): Promise<void> => {
    while (next < to) {
      const start = next
      next = Math.min(to, next + perTxn)
      const ops = []
      for (let i = start; i < next; i++) ops.push({KV: {Verb: 'set', Key: `${prefix}${String(i).padStart(7, '0')}`, Value: value}})
      const res = await fetch(`${base}/v1/txn`, {method: 'PUT', body: JSON.stringify(ops)})
      if (res.status !== 200) throw new Error(`txn: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
  }
  await Promise.all(Array.from({length: 8}, worker))
}

/** Reads one key back to back, recording each read's wall-clock interval (ms since the epoch). */
function startProbe(base: string): {stop: () => Promise<number>; count: () => number; reads: () => Array<{start: number; end: number}>} {
  let running = true
  const reads: Array<{start: number; end: number}> = []
  const loop = (async () => {
    while (running) {
      const start = Date.now()
      const t0 = performance.now()
      const res = await fetch(`${base}/v1/kv/k/0000001`)
      await res.arrayBuffer()
      reads.push({start, end: start + (performance.now() - t0)})
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return Math.max(0, ...reads.map((r) => r.end - r.start))
    },
    count: () => reads.length,
    reads: () => reads,
  }
}
