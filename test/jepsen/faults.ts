// The nemesis: one fault at a time, on a seeded schedule, so a three-server cluster never loses
// more than one server (a minority) and a seed names the run. Kinds:
//   kill      kill -9, down for a while, then restarted on its data dir (it must rejoin and catch up)
//   pause     SIGSTOP then SIGCONT: the server's clock runs on while it is frozen (a leader's lease
//             must not survive it)
//   partition the server cut off from its peers (clients still reach it), then healed
// Each fault hits the current leader half of the time, otherwise a random server. Every fault is
// undone before the next one starts, and all of them before `stopAtMs`, so the run ends with a
// quiet phase on a whole cluster.
import {SeededRng} from '../../src/lib/rng.js'
import type {JepsenCluster} from './servers.js'

export type FaultKind = 'kill' | 'pause' | 'partition'

export interface PlannedFault {
  kind: FaultKind
  /** Quiet time before the fault, ms. */
  gapMs: number
  /** How long the fault lasts (a killed server's restart comes on top), ms. */
  durationMs: number
  onLeader: boolean
  /** Used when not on the leader (or when no leader answers). */
  target: number
}

export interface FaultLog {
  counts: Record<FaultKind, number>
  /** One line per fault, for the report: "t=1200ms kill server-2 (leader), back after 2310ms". */
  events: string[]
}

/** A seeded schedule: `rounds` passes over `kinds` in a shuffled order. */
export function planFaults(seed: number, kinds: readonly FaultKind[], servers: number, rounds = 2): PlannedFault[] {
  const rng = new SeededRng(seed)
  const plan: PlannedFault[] = []
  for (let round = 0; round < rounds; round++) {
    const order = [...kinds]
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]]
    }
    for (const kind of order) {
      const durationMs = kind === 'kill' ? rng.int(300, 1_000) : kind === 'pause' ? rng.int(1_000, 2_500) : rng.int(1_200, 2_500)
      plan.push({kind, gapMs: rng.int(300, 900), durationMs, onLeader: rng.chance(0.5), target: rng.int(0, servers)})
    }
  }
  return plan
}

export function describePlan(plan: readonly PlannedFault[]): string {
  return plan.map((f) => `${f.kind}(${f.onLeader ? 'leader' : `server-${f.target + 1}`}, ${f.durationMs}ms)`).join(' ')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Plays `plan` against `cluster` from now on; a fault that would start later than `stopAtMs`
 * (performance.now() clock) is skipped. Always leaves every server running, resumed and connected.
 */
export async function runNemesis(cluster: JepsenCluster, plan: readonly PlannedFault[], stopAtMs: number, startMs: number): Promise<FaultLog> {
  const log: FaultLog = {counts: {kill: 0, pause: 0, partition: 0}, events: []}
  for (const fault of plan) {
    await sleep(fault.gapMs)
    const budgetMs = stopAtMs - performance.now()
    // A kill needs time for the restart on top of the downtime; leave it a couple of seconds.
    if (budgetMs < fault.durationMs + (fault.kind === 'kill' ? 2_500 : 0)) break
    if (fault.kind === 'partition' && cluster.network.partitionsUnavailable !== undefined) continue
    const leader = await cluster.leaderIndex()
    const target = fault.onLeader ? leader ?? fault.target : fault.target
    const server = cluster.servers[target]
    const at = `t=${(performance.now() - startMs).toFixed(0)}ms ${fault.kind} server-${target + 1}${target === leader ? ' (leader)' : ''}`
    const began = performance.now()
    switch (fault.kind) {
      case 'kill':
        await server.kill9()
        await sleep(fault.durationMs)
        await cluster.restart(target)
        break
      case 'pause':
        server.pause()
        try { await sleep(fault.durationMs) } finally { server.resume() }
        break
      case 'partition':
        cluster.network.isolate(target)
        try { await sleep(fault.durationMs) } finally { cluster.network.heal() }
        break
    }
    log.counts[fault.kind]++
    log.events.push(`${at}, undone after ${(performance.now() - began).toFixed(0)}ms`)
  }
  return log
}
