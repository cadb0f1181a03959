// The locks section's measurement: lock takeover when the holder's node dies. A real cluster of 3
// servers and 2 client agents (src/lib/devcluster); a `coord lock` holder runs through one client
// agent, a standby `coord lock` on the same prefix waits through the other. Each child appends
// "<contender> <pid> <epoch ms>" to a shared file as it starts. A round kill -9s the holder's
// agent and times: the node's serfHealth check turning critical on a server (failure detection),
// the old child being stopped, and the standby's child having started (takeover). The killed
// agent is restarted with the same flags and a new standby starts on it, so the next round kills
// the other client. Rounds run with coord's default lock-delay and with Consul's (15 s).
// Every process (agents, `coord lock`s, their children) is stopped by PID at the end.
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {coordBin, spawnAgent, type AgentProcess} from '../src/lib/devcluster/agent-process.js'
import {randomSubnet, startCluster, type Cluster} from '../src/lib/devcluster/cluster.js'
import {sleep} from './process.js'

export interface LocksPlan {
  rounds: number
  /** One series of rounds per entry; undefined = `coord lock`'s default (no -lock-delay flag). */
  lockDelays: Array<{label: string; flag?: string; delayMs: number}>
  pollMs: number
  limitMs: number
}

export interface LocksSeries {
  label: string
  delayMs: number
  /** Per round: kill -9 of the holder's agent → its serfHealth critical on a server. */
  detectMs: number[]
  /** Per round: kill → the old holder's child gone. */
  stoppedMs: number[]
  /** Per round: kill → the standby's child started (its own timestamp). */
  takeoverMs: number[]
  /** Rounds not counted: the holder lost the lock before its agent was killed (e.g. its node falsely suspected under load). */
  lostBeforeKill: number
  error?: string
}

export interface LocksRun {
  servers: number
  clients: number
  series: LocksSeries[]
  error?: string
}

interface Contender {
  name: string
  proc: ChildProcess
  output: string
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Still the `sleep 3600` a child exec'd (not a reused PID)? */
const isOurSleep = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\u00003600')
  } catch {
    return false
  }
}

/** The node's serfHealth status as a server's catalog has it ('' while unknown). */
async function serfHealth(httpAddr: string, node: string): Promise<string> {
  const res = await request(`http://${httpAddr}/v1/health/node/${node}`, {headersTimeout: 1000, bodyTimeout: 1000})
  const text = await res.body.text()
  if (res.statusCode !== 200) return ''
  return (JSON.parse(text) as Array<{CheckID: string; Status: string}>).find((c) => c.CheckID === 'serfHealth')?.Status ?? ''
}

async function sessionsOf(httpAddr: string, node: string): Promise<number> {
  const res = await request(`http://${httpAddr}/v1/session/node/${node}`, {headersTimeout: 1000, bodyTimeout: 1000})
  const text = await res.body.text()
  return res.statusCode === 200 ? (JSON.parse(text) as unknown[]).length : 0
}

async function until<T>(what: string, limitMs: number, pollMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    await sleep(pollMs)
  }
  throw new Error(`${what}: not within ${limitMs} ms`)
}

export async function runLocksSuite(plan: LocksPlan, log: (line: string) => void): Promise<LocksRun> {
  const run: LocksRun = {servers: 3, clients: 2, series: []}
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-locks-'))
  const file = join(dir, 'started.log')
  const contenders: Contender[] = []
  const restarted: AgentProcess[] = []
  let cluster: Cluster | undefined
  let next = 0

  const lines = (): Array<{name: string; pid: number; at: number}> => (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n').filter(Boolean).map((l) => {
      const [name, pid, at] = l.split(' ')
      return {name, pid: Number(pid), at: Number(at)}
    })

  const startContender = (agent: AgentProcess, prefix: string, flag: string | undefined): Contender => {
    const name = `c${next++}`
    // The child stamps its start (same wall clock as ours), then stays up until stopped.
    const child = `echo "${name} $$ $(date +%s%3N)" >> ${file}; exec sleep 3600`
    const proc = spawn(process.execPath, [coordBin, 'lock', ...(flag ? [flag] : []), prefix, child], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe'],
    })
    const entry = {name, proc, output: ''}
    const add = (chunk: Buffer): void => { entry.output = (entry.output + chunk.toString()).slice(-4000) }
    proc.stdout!.on('data', add)
    proc.stderr!.on('data', add)
    contenders.push(entry)
    return entry
  }

  const stopContender = async (c: Contender): Promise<void> => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return
    const exited = new Promise((resolve) => c.proc.once('exit', resolve))
    c.proc.kill('SIGTERM')
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }

  try {
    cluster = await startCluster({servers: 3, clients: 2, dir: join(dir, 'cluster'), subnet: randomSubnet(), timeoutMs: 60_000})
    const observer = cluster.servers[0].httpAddr
    const agents = [...cluster.clients]
    for (const [s, variant] of plan.lockDelays.entries()) {
      const series: LocksSeries = {label: variant.label, delayMs: variant.delayMs, detectMs: [], stoppedMs: [], takeoverMs: [], lostBeforeKill: 0}
      run.series.push(series)
      const prefix = `bench/locks/${s}`
      const active: Contender[] = []
      try {
        // holderSide: index in `agents` of the agent the current holder runs through.
        let holderSide = 0
        const first = startContender(agents[0], prefix, variant.flag)
        active.push(first)
        await until(`first holder ${first.name} running`, plan.limitMs, plan.pollMs, async () => lines().find((l) => l.name === first.name))
        // A round whose holder lost the lock before the kill does not count (bounded retries).
        for (let attempt = 0; series.takeoverMs.length < plan.rounds && attempt < plan.rounds * 2; attempt++) {
          const round = series.takeoverMs.length
          const holder = active.at(-1)!
          const holderLine = lines().find((l) => l.name === holder.name)!
          const standbySide = 1 - holderSide
          const standby = startContender(agents[standbySide], prefix, variant.flag)
          active.push(standby)
          // The standby is waiting once its lock session exists on its node.
          await until(`standby ${standby.name} session`, plan.limitMs, plan.pollMs, async () => ((await sessionsOf(observer, agents[standbySide].name)) > 0 ? true : undefined))
          await sleep(500)
          if (lines().some((l) => l.name === standby.name) || !alive(holderLine.pid)) {
            series.lostBeforeKill++
            const health = await serfHealth(observer, agents[holderSide].name).catch(() => '?')
            log(`locks ${variant.label}: ${holder.name} lost the lock before the kill (its node's serfHealth now ${health}); round not counted; it printed: ${holder.output.trim().split('\n').slice(-3).join(' | ') || '(nothing)'}`)
            await until(`standby ${standby.name} running`, plan.limitMs + variant.delayMs, plan.pollMs, async () => lines().find((l) => l.name === standby.name))
            await stopContender(holder)
            holderSide = standbySide
            continue
          }
          const victim = agents[holderSide]
          const killedAt = Date.now()
          await victim.kill9()
          const [detect, stopped, takeover] = await Promise.all([
            until('serfHealth critical', plan.limitMs, plan.pollMs, async () => ((await serfHealth(observer, victim.name)) === 'critical' ? Date.now() - killedAt : undefined)),
            until('old child stopped', plan.limitMs, plan.pollMs, async () => (alive(holderLine.pid) ? undefined : Date.now() - killedAt)),
            until(`standby ${standby.name} running`, plan.limitMs + variant.delayMs, plan.pollMs, async () => {
              const line = lines().find((l) => l.name === standby.name)
              return line ? line.at - killedAt : undefined
            }),
          ])
          if (takeover <= 0) {
            series.lostBeforeKill++
            log(`locks ${variant.label}: ${standby.name} started ${-takeover} ms before the kill (${holder.name} lost the lock first); round not counted`)
          } else {
            series.detectMs.push(detect)
            series.stoppedMs.push(stopped)
            series.takeoverMs.push(takeover)
            log(`locks ${variant.label} round ${round + 1}: kill -9 ${victim.name} → serfHealth critical ${detect} ms, old child stopped ${stopped} ms, standby's child running ${takeover} ms`)
          }
          // The old holder's `coord lock` lost its agent; end it, then bring the agent back.
          await stopContender(holder)
          const back = await spawnAgent({name: victim.name, args: victim.args.slice(2), timeoutMs: plan.limitMs, waitForLeader: true})
          restarted.push(back)
          agents[holderSide] = back
          await until(`${victim.name} passing again`, plan.limitMs, plan.pollMs, async () => ((await serfHealth(observer, victim.name)) === 'passing' ? true : undefined))
          holderSide = standbySide
        }
      } catch (err) {
        series.error = err instanceof Error ? err.message.split('\n')[0] : String(err)
        log(`locks ${variant.label} failed: ${series.error}\n${active.map((c) => `${c.name}: ${c.output.trim().split('\n').slice(-3).join(' | ')}`).join('\n')}`)
      } finally {
        await Promise.all(active.map(stopContender))
      }
    }
  } catch (err) {
    run.error = err instanceof Error ? err.message.split('\n')[0] : String(err)
    log(`locks failed: ${run.error}`)
  } finally {
    await Promise.all(contenders.map(stopContender))
    // Children whose `coord lock` was lost with its agent and did not stop them.
    for (const l of lines()) if (alive(l.pid) && isOurSleep(l.pid)) process.kill(l.pid, 'SIGKILL')
    await Promise.all([cluster?.stop(), ...restarted.map((a) => a.stop())])
    rmSync(dir, {recursive: true, force: true})
  }
  return run
}
