// A restore large enough that decoding it in one go would hold a server's event loop for a long
// time, on three real servers, sent through a follower, while a probe reads from every server:
// the state is decoded a slice at a time on the leader and on each follower (heartbeats answered
// meanwhile), so the leader never changes, no read waits long, and all three hold the restored
// keys once the restore is acknowledged (it answers after a quorum installed it).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join} from 'node:path'
import {StateMachine} from '../../src/lib/state/state-machine.js'
import {writeArchive} from '../../src/lib/snapshot/archive.js'
import {runCli, useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

const KEYS = 100_000
/** Generous for a loaded 2-core box; a synchronous decode of this state takes longer than the election timeout there. */
const WORST_READ_MS = 1000
/**
 * Past this many runnable processes per core the box is starved of CPU (a 100 ms burst of work
 * takes seconds of wall time, heartbeats included), and no bound on a read or an election says
 * anything about this code: the test says so and does not run.
 */
const MAX_LOAD_PER_CPU = 4
const load = loadavg()[0] / Math.max(1, cpus().length)

/** A state machine holding KEYS keys, built in this process (no cluster needed to make the archive). */
function bigState(): {bytes: Uint8Array; index: number} {
  const sm = new StateMachine()
  const value = new TextEncoder().encode('v'.repeat(40))
  for (let i = 1; i <= KEYS; i++) {
    sm.apply(i, {type: 'kv', now: 1, op: {verb: 'set', key: `big/${String(i).padStart(7, '0')}`, value, flags: 0n}})
  }
  return {bytes: sm.snapshot(), index: KEYS}
}

async function raftStats(addr: string): Promise<{state: string; term: string}> {
  const self = await http(addr, 'GET', '/v1/agent/self')
  return self.json<{Stats: {raft: {state: string; term: string}}}>().Stats.raft
}

describe('a large restore on three servers', {timeout: 240_000, skip: load > MAX_LOAD_PER_CPU ? `the machine is overloaded (load ${load.toFixed(1)} per CPU, more than ${MAX_LOAD_PER_CPU})` : false}, () => {
  const ctx = useCluster(3, 'coord-restore-large-')

  it('is decoded without stalling any server: no leader change, reads answered, all three have it', async () => {
    const servers = ctx.cluster.servers
    let leader = -1
    for (let tries = 0; leader < 0 && tries < 200; tries++) {
      for (let i = 0; i < servers.length && leader < 0; i++) if ((await raftStats(servers[i].httpAddr)).state === 'Leader') leader = i
      if (leader < 0) await sleep(100)
    }
    assert.ok(leader >= 0, 'a leader')
    const termBefore = (await raftStats(servers[leader].httpAddr)).term
    assert.equal((await http(servers[leader].httpAddr, 'PUT', '/v1/kv/probe', 'p')).status, 200)

    const built = performance.now()
    const {bytes, index} = bigState()
    const syncStarted = performance.now()
    new StateMachine().restore(bytes)
    const syncMs = performance.now() - syncStarted
    console.log(`# state of ${KEYS} keys: ${bytes.length} bytes, built in ${Math.round(syncStarted - built)} ms; decoding it in one go here takes ${Math.round(syncMs)} ms`)
    const file = join(ctx.dir, 'large.snap')
    writeFileSync(file, await writeArchive(bytes, {index, term: 1, nowMs: Date.now()}))

    // The probe: every server in turn, a ?stale read (answered from the server's own state: only
    // a held event loop delays it) and who leads; and on the leader a default-consistency read
    // (its lease). A follower's default read waits, as it must, until it has installed the restore
    // (the leader's commit index is past it), so it is not what this measures.
    let stop = false
    const worst = new Map<string, number>()
    let reads = 0
    const leaders = new Set<string>()
    const failures: string[] = []
    const timed = async (what: string, addr: string, path: string): Promise<string> => {
      const started = performance.now()
      const res = await http(addr, 'GET', path)
      worst.set(what, Math.max(worst.get(what) ?? 0, performance.now() - started))
      if (res.status !== 200 && res.status !== 404) failures.push(`${what}: ${res.status} ${res.text}`)
      return res.text
    }
    const probe = (async () => {
      for (let n = 0; !stop && n < 100_000; n++) {
        const i = n % servers.length
        const addr = servers[i].httpAddr
        try {
          await timed(`${servers[i].name} stale`, addr, '/v1/kv/probe?stale')
          if (i === leader) await timed(`${servers[i].name} (leader) default`, addr, '/v1/kv/probe')
          leaders.add(await timed(`${servers[i].name} leader`, addr, '/v1/status/leader'))
        } catch (error) {
          failures.push((error as Error).message)
        }
        reads++
        await sleep(10)
      }
    })()

    const follower = (leader + 1) % 3
    // Whether each server holds the restore, cheaply (its first and last keys): listing 100k keys
    // on every server while the probe runs would be a stall of the test's own making.
    const held = (): Promise<boolean[]> => Promise.all(servers.map(async (s) => {
      for (const i of [1, KEYS]) {
        if ((await http(s.httpAddr, 'GET', `/v1/kv/big/${String(i).padStart(7, '0')}?stale`)).status !== 200) return false
      }
      return true
    }))
    let restored: Awaited<ReturnType<typeof runCli>>
    let restoreMs: number
    let counts: boolean[]
    try {
      const started = performance.now()
      restored = await runCli(['snapshot', 'restore', file], {httpAddr: servers[follower].httpAddr, timeoutMs: 120_000})
      restoreMs = performance.now() - started
      // The answer came after a quorum installed it; the third server may still be at it.
      counts = await held()
      for (let waited = 0; waited < 300 && !(await held()).every(Boolean); waited++) await sleep(200)
    } finally {
      stop = true
      await probe
    }
    console.log(`# restore through a follower: ${Math.round(restoreMs)} ms; at its answer the servers held it: ${counts.join('/')}; probe: ${reads} rounds, worst ${[...worst].map(([k, v]) => `${k} ${Math.round(v)} ms`).join(', ')}; leaders seen: ${[...leaders].join(', ')}`)

    if (restored.code !== 0 || leaders.size !== 1) {
      // What the servers said about it, for the failure's reader.
      for (const s of servers) {
        const lines = s.output().split('\n').filter((line) => /restor|snapshot|leadership|election|ERROR|WARN/i.test(line))
        console.log(`# ${s.name}:\n${lines.slice(-25).map((l) => `#   ${l}`).join('\n')}`)
      }
    }
    assert.deepEqual(restored, {code: 0, stdout: 'Restored snapshot\n', stderr: ''})
    assert.ok(counts.filter(Boolean).length >= 2, `a quorum held the restore when it was acknowledged: ${counts.join('/')}`)
    for (const s of servers) {
      const res = await http(s.httpAddr, 'GET', '/v1/kv/big/?keys&stale')
      assert.equal(res.json<string[]>().length, KEYS, `${s.name} holds every restored key`)
    }
    assert.deepEqual(failures, [], 'every probe read answered')
    assert.equal(leaders.size, 1, `one leader throughout: ${[...leaders].join(', ')}`)
    assert.equal((await raftStats(servers[leader].httpAddr)).term, termBefore, 'no election: the term did not move')
    for (const [what, ms] of worst) assert.ok(ms < WORST_READ_MS, `worst probe read ${what}: ${Math.round(ms)} ms (bound ${WORST_READ_MS} ms)`)
    const write = await http(servers[follower].httpAddr, 'PUT', '/v1/kv/after', 'yes')
    assert.equal(write.text.trim(), 'true', write.text)
  })
})
