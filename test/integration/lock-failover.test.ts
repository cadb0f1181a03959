// Locks ride through server failovers (ARCHITECTURE.md, "Lock safety across failover"): 3 real
// servers + 2 client agents, two locks each held by a `coord lock` on one client with a standby on
// the other, all with default settings (session TTL 15s, lock-delay 2s). The Raft leader is killed
// -9, then stopped with SIGTERM, then paused for 3 s, then every server is restarted one by one: after each, both jobs
// still run under the token they started with (no job was stopped, nobody else took over), and the
// fenced job's file checks hold (test/helpers/lock-log.ts). Then a holder's whole node dies (its
// client agent and its `coord lock` killed -9): the standby on the other client runs within
// seconds, while the other lock, held on the healthy node, keeps its job and token.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {coordBin, tempDir} from '../helpers/agent.js'
import {sleep} from '../helpers/http.js'
import {alive, LockLog, waitDead, type LockLine} from '../helpers/lock-log.js'
import {randomSubnet, serverArgs, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'

interface Contender {proc: ChildProcess; client: number; output: string}

describe('coord lock through server failovers (3 servers, 2 clients, default settings)', {timeout: 420_000}, () => {
  const dir = tempDir('coord-lock-failover-')
  let cluster: Cluster
  const locks = new Map<string, {log: LockLog; contenders: Contender[]}>()

  before(async () => {
    cluster = await startCluster({servers: 3, clients: 2, dir: join(dir.path, 'cluster'), subnet: randomSubnet(), timeoutMs: 30_000})
    // Lock "a": holder on client 1, standby on client 2; lock "b" the other way round.
    for (const [name, first] of [['a', 0], ['b', 1]] as const) {
      const log = new LockLog(join(dir.path, `${name}.log`), join(dir.path, `${name}-job.sh`))
      const entry = {log, contenders: [] as Contender[]}
      locks.set(name, entry)
      entry.contenders.push(startContender(name, first, 0))
      await log.current(() => describeAll())
      entry.contenders.push(startContender(name, 1 - first, 1))
    }
  })
  after(async () => {
    for (const {contenders} of locks.values()) for (const {proc} of contenders) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await cluster?.stop()
    dir.cleanup()
  })

  function startContender(lock: string, client: number, id: number): Contender {
    const log = locks.get(lock)!.log
    const proc = spawn(process.execPath, [coordBin, 'lock', '-verbose', `jobs/${lock}`, log.command], {
      env: {...process.env, CONSUL_HTTP_ADDR: cluster.clients[client].httpAddr, CONTENDER: String(id)}, stdio: ['ignore', 'pipe', 'pipe'],
    })
    const entry: Contender = {proc, client, output: ''}
    proc.stdout!.on('data', (chunk: Buffer) => { entry.output += chunk.toString() })
    proc.stderr!.on('data', (chunk: Buffer) => { entry.output += chunk.toString() })
    return entry
  }

  const describeAll = (): string => [...locks.entries()].flatMap(([name, {contenders}]) => contenders.map((c, i) =>
    `${name}#${i} client ${c.client + 1} exit ${c.proc.exitCode ?? c.proc.signalCode ?? 'running'}: ${c.output.trim().split('\n').slice(-8).join(' | ')}`)).join('\n')

  /** Each lock's current holder line (job alive and writing). */
  async function holders(): Promise<Map<string, LockLine>> {
    const result = new Map<string, LockLine>()
    for (const [name, {log}] of locks) result.set(name, await log.current(describeAll))
    return result
  }

  /** After a fault: every job seen before still runs under its token, and nobody else wrote. */
  async function assertUnchanged(label: string, before: Map<string, LockLine>, watchMs: number): Promise<void> {
    await sleep(watchMs)
    for (const [name, line] of before) {
      const {log} = locks.get(name)!
      const last = log.lines().at(-1)!
      assert.equal(last.token, line.token, `${label}: lock ${name} changed hands (token ${line.token} → ${last.token})\n${describeAll()}`)
      assert.ok(alive(line.pid), `${label}: lock ${name}'s job (pid ${line.pid}) was stopped\n${describeAll()}`)
      const fresh = log.lines().length
      await sleep(300)
      assert.ok(log.lines().length > fresh, `${label}: lock ${name}'s job stopped writing`)
      log.assertExclusive()
    }
    console.log(`${label}: both jobs kept running under their tokens (${[...before].map(([n, l]) => `${n}=${l.token}`).join(', ')})`)
  }

  /** The server that says it leads; `skip` (a paused or killed one) is not asked. */
  async function leaderIndex(skip?: number): Promise<number> {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      for (let i = 0; i < cluster.servers.length; i++) {
        if (i === skip || cluster.servers[i].exited()) continue
        try {
          // Bounded: a paused server never answers.
          const self = await fetch(`http://${cluster.servers[i].httpAddr}/v1/agent/self`, {signal: AbortSignal.timeout(1000)})
          if ((await self.json() as {Stats: {consul: {leader: string}}}).Stats.consul.leader === 'true') return i
        } catch {
          // not answering: the next one
        }
      }
      await sleep(50)
    }
    throw new Error('no leader within 30 s')
  }

  /**
   * Waits until a server other than `gone` leads; returns how long that took from `since`. `gone`
   * is not asked: a paused server would hold each round for the request's 1 s timeout, and the
   * time printed would be the polling's rather than the election's.
   */
  async function newLeaderAfter(gone: number, since: number): Promise<number> {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const leader = await leaderIndex(gone)
      if (leader !== gone) return Date.now() - since
      await sleep(50)
    }
    throw new Error('no new leader within 30 s')
  }

  async function restartServer(i: number): Promise<void> {
    const name = `server-${i + 1}`
    const address = cluster.addresses[i]
    cluster.servers[i] = await spawnAgent({
      name, timeoutMs: 30_000, waitForLeader: true,
      args: serverArgs({name, address, dataDir: join(dir.path, 'cluster', name), expect: 3, join: cluster.addresses.slice(0, 3).filter((a) => a !== address)}),
    })
  }

  /**
   * Waits until all three servers are healthy voters again, as an operator waits for autopilot
   * before the next step: a server that was down past autopilot's stabilization time was removed
   * and comes back as a non-voter, promoted only after it is stable (server_stabilization_time).
   */
  async function allVoters(): Promise<number> {
    const startedAt = Date.now()
    const deadline = startedAt + 60_000
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://${cluster.servers[await leaderIndex()].httpAddr}/v1/operator/autopilot/health`, {signal: AbortSignal.timeout(1000)})
        const health = await res.json() as {Healthy: boolean; Servers: Array<{Healthy: boolean; Voter: boolean}>}
        if (health.Healthy && health.Servers.filter((s) => s.Healthy && s.Voter).length === 3) return Date.now() - startedAt
      } catch {
        // a leader change or a slow answer: ask again
      }
      await sleep(200)
    }
    throw new Error('the three servers were not healthy voters again within 60 s')
  }

  it('kill -9 of the Raft leader: both jobs keep running, no new token', async () => {
    const before = await holders()
    const leader = await leaderIndex()
    const killedAt = Date.now()
    await cluster.servers[leader].kill9()
    console.log(`leader kill -9: new leader after ${await newLeaderAfter(leader, killedAt)} ms`)
    await assertUnchanged('leader kill -9', before, 6000)
    await restartServer(leader)
    await assertUnchanged('killed leader restarted', before, 2000)
    console.log(`killed leader restarted: three healthy voters again after ${await allVoters()} ms`)
  })

  it('graceful SIGTERM of the Raft leader: both jobs keep running, no new token', async () => {
    const before = await holders()
    const leader = await leaderIndex()
    const stoppedAt = Date.now()
    const code = await cluster.servers[leader].stop(15_000)
    console.log(`leader SIGTERM: exited ${code} after ${Date.now() - stoppedAt} ms, new leader after ${await newLeaderAfter(leader, stoppedAt)} ms`)
    assert.equal(code, 0)
    await assertUnchanged('leader SIGTERM', before, 6000)
    await restartServer(leader)
    await assertUnchanged('stopped leader restarted', before, 2000)
    console.log(`stopped leader restarted: three healthy voters again after ${await allVoters()} ms`)
  })

  it('the Raft leader paused (SIGSTOP) for 3 s: both jobs keep running, no new token', async () => {
    const before = await holders()
    const leader = await leaderIndex()
    const pausedAt = Date.now()
    cluster.servers[leader].pause()
    try {
      console.log(`leader SIGSTOP: new leader after ${await newLeaderAfter(leader, pausedAt)} ms`)
      await sleep(Math.max(0, 3000 - (Date.now() - pausedAt)))
    } finally {
      cluster.servers[leader].resume()
    }
    await assertUnchanged('leader paused 3 s', before, 5000)
    await allVoters()
  })

  it('rolling restart of every server, one by one: both jobs keep running, no new token', async () => {
    const before = await holders()
    for (let i = 0; i < cluster.servers.length; i++) {
      const wasLeader = (await leaderIndex()) === i
      const startedAt = Date.now()
      assert.equal(await cluster.servers[i].stop(15_000), 0)
      await restartServer(i)
      console.log(`rolling restart: server-${i + 1}${wasLeader ? ' (leader)' : ''} back in ${Date.now() - startedAt} ms`)
      // The restarted server is a healthy voter again before the next one goes, as an operator waits.
      await allVoters()
      await assertUnchanged(`rolling restart, server-${i + 1}`, before, 1000)
    }
  })

  it('the holder\'s node dies (agent and coord lock kill -9): the standby runs within 5 s; the other lock is untouched', async () => {
    const before = await holders()
    const {log, contenders} = locks.get('a')!
    const holder = contenders.find((c) => c.client === 0)!
    const killedAt = Date.now()
    holder.proc.kill('SIGKILL')
    await cluster.clients[0].kill9()
    await waitDead(before.get('a')!.pid, 5000)
    log.assertStoppedBeforeTakeover(before.get('a')!.token)
    const next = await log.holderAfter(before.get('a')!.token, 30_000, describeAll)
    const tookMs = next.at - killedAt
    console.log(`holder's node killed: standby on client-2 running after ${tookMs} ms (goal: < 5000 ms; serfHealth detection + lock-delay 2 s, at least last renewal + 4.5 s)`)
    assert.equal(contenders[next.line.contender].client, 1)
    // Generous for a loaded CI box; the figure above is what the goal is judged on.
    assert.ok(tookMs < 10_000, `standby took ${tookMs} ms`)
    log.assertExclusive()
    const b = locks.get('b')!
    assert.equal(b.log.lines().at(-1)!.token, before.get('b')!.token, 'lock b changed hands when the other client died')
    assert.ok(alive(before.get('b')!.pid))
    b.log.assertExclusive()
  })
})
