// A seeded simulation of the lock protocol across failovers (ARCHITECTURE.md, "Lock safety across
// failover"). The replicated state is the real StateMachine (state/): sessions, renewals, lock-delay
// and its failover allowance. Around it, a model of what the servers and the network do to time:
// one Raft log whose entries commit in order after a latency (sometimes a slow disk), leader
// crashes during which nothing commits (an uncommitted entry survives into the next term or is
// lost), a client agent cut off from the servers, health invalidation of a cut-off node after any
// detection time (zero included: gossip and RPC may fail apart), and operator destroys. Two
// contenders run coord lock's rule (lock-runner.ts): renew every `renewEveryMs`, trust the lock
// until the last successful renewal's send time + the window, then SIGTERM and SIGKILL after the
// grace; stop at once (plus grace) when a read or a renewal says the lock or session is gone.
//
// The checker: the running intervals of the children of different acquisitions never overlap in
// real time. Clocks: one wall clock (the argument's clock assumption). A holder on a busy machine
// may act late (`holderLateMs`): the part of the allowance it leaves unused covers that.
import {StateMachine} from '../../src/lib/state/state-machine.js'
import type {Command} from '../../src/lib/state/types.js'
import {SeededRng} from '../../src/lib/rng.js'
import {confirmWindowMs, killGraceMs, renewEveryMs} from '../../src/lib/cli/lock-runner.js'

export interface LockSimParams {
  seed: number
  durationMs: number
  lockDelayMs: number
  /** Longest election (no leader) after a leader crash. */
  maxElectionMs: number
  /** Fault kinds on: partitions of a client agent, health invalidations, operator destroys, slow disks. */
  partitions: boolean
  destroys: boolean
  slowDisks: boolean
  /** A deliberately wrong holder that trusts its lock this much longer (the checker must catch it). */
  holderExtraMs?: number
  /** A busy holder machine: each decision to stop the child takes effect up to this much late. */
  holderLateMs?: number
}

export interface LockSimResult {
  violations: string[]
  acquisitions: number
  /** Holds that ended while their client was connected and their session alive (elections only). */
  electionLosses: number
  elections: number
  longestElectionMs: number
  partitions: number
  invalidations: number
}

const TICK = 5
const KEY = 'jobs/sim/.lock'

interface Entry {
  cmd: Command
  commitAt: number
  /** Called with the apply result, at apply time (the reply travels NET ms more). */
  done?: (result: ReturnType<StateMachine['apply']>) => void
  /** Called when the entry is lost with its leader (the caller sees the connection close). */
  lost?: () => void
}

interface Contender {
  name: string
  session?: string
  creating: boolean
  holding: boolean
  /** Send time of the latest successful renewal (or of the session's creation). */
  lastProof: number
  nextRenewAt: number
  nextAttemptAt: number
  nextReadAt: number
  /** Renewals in flight: the renewer sends one per period without waiting (session-renewer.ts), at most 8. */
  renewing: Array<{giveUpAt: number}>
  creatingUntil: number
  /** When the child stops (SIGTERM at the decision, SIGKILL by + grace); undefined while it runs. */
  stopAt?: number
  cutUntil: number
  interval?: {token: number; start: number}
}

export function runLockSim(p: LockSimParams): LockSimResult {
  const rng = new SeededRng(p.seed)
  const sm = new StateMachine()
  let index = 0
  let t = 0
  const NET = 2
  const log: Entry[] = []
  let noLeaderUntil = 0
  let slowUntil = 0
  const window = confirmWindowMs(p.lockDelayMs, true)!
  const grace = killGraceMs(p.lockDelayMs)
  const trust = window + (p.holderExtraMs ?? 0)
  const renewPace = renewEveryMs(window)
  const intervals: Array<{token: number; start: number; stop: number; who: string}> = []
  const result: LockSimResult = {violations: [], acquisitions: 0, electionLosses: 0, elections: 0, longestElectionMs: 0, partitions: 0, invalidations: 0}
  let sessions = 0
  const pendingInvalidations: Array<{at: number; session: string}> = []

  const apply = (cmd: Command) => sm.apply(++index, cmd)
  apply({type: 'node-register', now: 0, node: {id: 'id-a', node: 'a', address: '127.0.0.1', datacenter: 'dc1'}, checks: [{node: 'a', checkId: 'serfHealth', name: 'serfHealth', status: 'passing', notes: '', output: ''}]})
  apply({type: 'node-register', now: 0, node: {id: 'id-b', node: 'b', address: '127.0.0.2', datacenter: 'dc1'}, checks: [{node: 'b', checkId: 'serfHealth', name: 'serfHealth', status: 'passing', notes: '', output: ''}]})

  /** A request reaches the servers at `t + NET` (held while there is no leader) and is appended. */
  const propose = (cmd: Command, done?: Entry['done'], lost?: Entry['lost']): void => {
    const latency = t < slowUntil ? rng.int(200, 1500) : rng.int(1, 20)
    const appendAt = Math.max(t + NET, noLeaderUntil)
    const last = log.at(-1)?.commitAt ?? 0
    log.push({cmd, commitAt: Math.max(appendAt + latency, last), done, lost})
  }

  const contenders: Contender[] = ['a', 'b'].map((name) => ({
    name, creating: false, holding: false, lastProof: 0, nextRenewAt: 0, nextAttemptAt: 0, nextReadAt: 0, creatingUntil: 0, cutUntil: 0, renewing: [],
  }))
  const connected = (c: Contender) => t >= c.cutUntil

  const stopChild = (c: Contender, reason: 'unconfirmed' | 'taken' | 'expired') => {
    if (!c.holding || c.stopAt !== undefined) return
    c.stopAt = t + rng.int(0, (p.holderLateMs ?? 0) + 1) + rng.int(0, Math.floor(grace) + 1)
    if (reason === 'unconfirmed' && connected(c) && c.session && sm.sessionGet(c.session).value) result.electionLosses += 1
  }

  const newSession = (c: Contender) => {
    const id = `${c.name}-${++sessions}`
    c.creating = true
    c.creatingUntil = t + 7000
    const sentAt = t
    propose({type: 'session-create', now: t + NET, session: {id, name: '', node: c.name, nodeChecks: ['serfHealth'], serviceChecks: [], lockDelayMs: p.lockDelayMs, behavior: 'release', ttl: '15s'}}, (r) => {
      c.creating = false
      if (r.type === 'session-create' && r.id) {
        c.session = id
        c.lastProof = sentAt
      }
    })
  }

  for (; t < p.durationMs; t += TICK) {
    // Faults.
    if (t >= noLeaderUntil && rng.next() < TICK / 4000) {
      const electionMs = rng.int(150, p.maxElectionMs + 1)
      noLeaderUntil = t + electionMs
      result.elections += 1
      result.longestElectionMs = Math.max(result.longestElectionMs, electionMs)
      // Entries not yet committed: each survives into the new term or is lost (never applied).
      for (let i = log.length - 1; i >= 0; i--) {
        if (log[i].commitAt <= t) break
        if (rng.next() < 0.5) log.splice(i, 1)[0].lost?.()
        else log[i].commitAt = Math.max(log[i].commitAt, noLeaderUntil + rng.int(1, 20))
      }
      for (let i = 1; i < log.length; i++) log[i].commitAt = Math.max(log[i].commitAt, log[i - 1].commitAt)
    }
    if (p.slowDisks && rng.next() < TICK / 20_000) slowUntil = t + rng.int(500, 2500)
    if (p.partitions && rng.next() < TICK / 15_000) {
      const c = contenders[rng.int(0, 2)]
      c.cutUntil = t + rng.int(300, 6000)
      result.partitions += 1
      // The node may be declared failed after any detection time: its session dies by health.
      if (rng.next() < 0.6 && c.session) {
        const victim = c.session
        const detectAt = t + rng.int(0, 3000)
        pendingInvalidations.push({at: Math.min(detectAt, c.cutUntil), session: victim})
      }
    }
    if (p.destroys && rng.next() < TICK / 30_000) {
      const holder = contenders.find((c) => c.holding && c.session)
      if (holder) pendingInvalidations.push({at: t, session: holder.session!})
    }
    for (let i = pendingInvalidations.length - 1; i >= 0; i--) {
      if (pendingInvalidations[i].at > t) continue
      const {session} = pendingInvalidations.splice(i, 1)[0]
      result.invalidations += 1
      propose({type: 'session-destroy', now: t + NET, id: session})
    }

    // Commits, in log order.
    while (log.length > 0 && log[0].commitAt <= t) {
      const entry = log.shift()!
      const r = apply(entry.cmd)
      entry.done?.(r)
    }

    for (const c of contenders) {
      // A stopped child ends its interval; the contender starts over with a fresh session.
      if (c.holding && c.stopAt !== undefined && t >= c.stopAt) {
        intervals.push({token: c.interval!.token, start: c.interval!.start, stop: c.stopAt, who: c.name})
        c.holding = false
        c.stopAt = undefined
        c.interval = undefined
        if (c.session && connected(c)) propose({type: 'session-destroy', now: t + NET, id: c.session})
        c.session = undefined
      }
      if (c.creating && t >= c.creatingUntil) c.creating = false
      c.renewing = c.renewing.filter((r) => t < r.giveUpAt)
      if (!c.session && !c.creating && !c.holding) {
        if (connected(c)) newSession(c)
        continue
      }
      if (!c.session) continue
      // Renewals: the proof is the send time, once the write applied and found the session.
      if (t >= c.nextRenewAt && c.renewing.length < 8) {
        c.nextRenewAt = t + renewPace
        if (connected(c)) {
          const sentAt = t
          const session = c.session
          const request = {giveUpAt: t + 15_000}
          c.renewing.push(request)
          const settle = () => { c.renewing = c.renewing.filter((r) => r !== request) }
          propose({type: 'session-renew', now: t + NET, id: session}, (r) => {
            settle()
            if (c.session !== session || r.type !== 'session-renew') return
            if (r.found) {
              c.lastProof = Math.max(c.lastProof, sentAt)
            } else if (c.holding) {
              stopChild(c, 'expired')
            } else {
              c.session = undefined
            }
          }, settle)
        }
      }
      if (c.holding) {
        if (t >= c.lastProof + trust) stopChild(c, 'unconfirmed')
        if (t >= c.nextReadAt && connected(c) && t >= noLeaderUntil) {
          c.nextReadAt = t + 100
          const entry = sm.kvGet(KEY).value
          if (entry?.session !== c.session) stopChild(c, 'taken')
        }
      } else if (t >= c.nextAttemptAt && connected(c)) {
        c.nextAttemptAt = t + Math.max(100, p.lockDelayMs / 8)
        const session = c.session
        propose({type: 'kv', now: t + NET, op: {verb: 'lock', key: KEY, session}}, (r) => {
          if (r.type !== 'kv' || !r.ok || c.session !== session || c.holding) return
          const token = sm.kvGet(KEY).value!.modifyIndex
          c.holding = true
          c.interval = {token, start: t + NET}
          c.nextReadAt = t + NET + 100
          result.acquisitions += 1
        })
      }
    }
  }
  for (const c of contenders) if (c.interval) intervals.push({token: c.interval.token, start: c.interval.start, stop: c.stopAt ?? t, who: c.name})

  intervals.sort((a, b) => a.start - b.start)
  for (let i = 1; i < intervals.length; i++) {
    const prev = intervals[i - 1]
    const next = intervals[i]
    if (next.start < prev.stop) result.violations.push(`token ${next.token} (${next.who}) started at ${next.start} ms while token ${prev.token} (${prev.who}) ran until ${prev.stop} ms`)
    if (next.token <= prev.token) result.violations.push(`token went from ${prev.token} to ${next.token}`)
  }
  return result
}
