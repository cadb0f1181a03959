// How servers find each other and form a cluster before gossip exists: each server asks the
// `-retry-join` addresses (their server RPC ports) who they are. A server whose storage has never
// held a membership bootstraps once it knows `bootstrap_expect` servers and none of them belongs to
// a cluster already; every such server computes the same membership (all IDs, sorted), so their
// logs agree. A server with membership on disk never bootstraps again (restarts rejoin as they are).
import type {RpcTransport} from '../rpc/transport.js'
import type {DurableRaftStorage} from '../raft/file-storage.js'
import type {ConfState} from '../raft/types.js'
import type {Logger} from '../logger.js'
import {systemClock, waitFor, type Clock} from '../clock.js'

export interface ServerInfo {
  id: string
  name: string
  address: string
  /** True when this server's storage holds a membership (it belongs to a cluster). */
  member: boolean
  /**
   * The membership this server bootstrapped with, while its log has not been compacted past it.
   * A server named in it that has not bootstrapped yet adopts exactly this membership, so a
   * server that was a little slower to count its peers still joins the same cluster.
   */
  bootstrapConf?: ConfState
}

export function hasMembership(storage: DurableRaftStorage): boolean {
  const snapshot = storage.snapshot()
  return snapshot.index > 0 || snapshot.conf.voters.length > 0
}

export interface JoinLoopOptions {
  self: () => ServerInfo
  transport: RpcTransport
  retryJoin: string[]
  intervalMs: number
  /** 0: keep trying while the agent runs (Consul's -retry-max default). */
  maxAttempts: number
  logger: Logger
  onServer: (info: ServerInfo) => void
  /** Stop asking once this says so (the server is a voter and knows its peers). */
  done: () => boolean
  /** Subscribes to the events that may make `done()` true (the Raft driver's progress); returns the unsubscribe. */
  onChange: (wake: () => void) => () => void
  clock?: Clock
}

/**
 * Asks the retry-join addresses, a round every `intervalMs` (the peers cannot tell us when they
 * start listening), until `done()`; between rounds it waits for `onChange`, so it stops as soon as
 * this server is a voter with a leader. Bounded by maxAttempts when given.
 */
export function startJoinLoop(opts: JoinLoopOptions): {stop(): void} {
  const clock = opts.clock ?? systemClock
  let attempts = 0
  let stopped = false
  let stopWaiting = () => {}
  const round = async () => {
    if (stopped || opts.done()) return
    attempts++
    const answers = await Promise.allSettled(opts.retryJoin.map((address) =>
      opts.transport.request(address, 'server-info', opts.self(), Math.max(500, opts.intervalMs)) as Promise<ServerInfo>))
    let reached = 0
    for (const answer of answers) {
      if (answer.status !== 'fulfilled' || !answer.value?.id) continue
      reached++
      opts.onServer(answer.value)
    }
    if (reached < opts.retryJoin.length && attempts % 10 === 1) {
      opts.logger.info('retry-join: not every server answered yet', {reached, of: opts.retryJoin.length})
    }
    if (opts.maxAttempts > 0 && attempts >= opts.maxAttempts && !opts.done()) {
      opts.logger.error('retry-join: giving up', {attempts})
      return
    }
    if (stopped) return
    const done = await waitFor(clock, () => stopped || opts.done(), (wake) => {
      const unsubscribe = opts.onChange(wake)
      stopWaiting = () => { unsubscribe(); wake() }
      return unsubscribe
    }, opts.intervalMs)
    if (!done) void round()
  }
  void round()
  return {stop: () => { stopped = true; stopWaiting() }}
}

/**
 * The membership to bootstrap with: one a peer already bootstrapped with that names `selfId`, or,
 * once `expect` servers (self included) are known and none is a member yet, all of them.
 */
export function bootstrapMembership(selfId: string, known: Map<string, ServerInfo>, expect: number): ConfState | undefined {
  for (const info of known.values()) {
    if (info.bootstrapConf?.voters.includes(selfId)) return info.bootstrapConf
  }
  if (expect < 2 || known.size < expect) return undefined
  if ([...known.values()].some((info) => info.member)) return undefined
  return {voters: [...known.keys()].sort(), learners: []}
}
