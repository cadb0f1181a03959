// A small in-memory pool for gossip core scenarios: datagrams and streams are delivered at once
// (unless a filter drops them), time advances in fixed ticks. The seeded simulation (test/sim)
// covers delay, loss and scale; these tests pin single behaviours.
import {GossipCore} from '../../../src/lib/gossip/core.js'
import {coordGossipConfig, type GossipConfig} from '../../../src/lib/gossip/config.js'
import {SeededRng} from '../../../src/lib/rng.js'
import type {GossipMessage, MemberEvent, MemberState, Packet, PingResult, ProbeTiming, QueryResult, ReceivedQuery, ReceivedUserEvent} from '../../../src/lib/gossip/types.js'

export const PORT = 8301

export interface Sent {
  from: string
  to: string
  packet: Packet
  atMs: number
}

export class Pool {
  nowMs = 0
  readonly cores = new Map<string, GossipCore>()
  readonly down = new Set<string>()
  readonly events: Array<MemberEvent & {observer: string}> = []
  /** User events as members delivered them, with when. */
  readonly userEvents: Array<ReceivedUserEvent & {observer: string; atMs: number}> = []
  readonly sent: Sent[] = []
  /** Queries delivered to members and the outcomes of members' own queries (core-query.ts). */
  readonly queries: Array<ReceivedQuery & {observer: string}> = []
  readonly queryResults: Array<QueryResult & {observer: string}> = []
  /** Direct probes acked with a payload (ack payloads: network coordinates). */
  readonly pingResults: Array<PingResult & {observer: string}> = []
  /** Every probe round that ended, with its timing (consul.memberlist.probeNode) and when. */
  readonly probes: Array<ProbeTiming & {observer: string; atMs: number}> = []
  /** Return true to drop a datagram. */
  drop: (from: string, to: string, m: GossipMessage[]) => boolean = () => false

  constructor(names: string[], readonly config: GossipConfig = testConfig(), seed = 1) {
    const rng = new SeededRng(seed)
    for (const name of names) this.cores.set(name, new GossipCore({config, name, address: name, port: PORT, rng: rng.fork(), nowMs: 0}))
  }

  core(name: string): GossipCore {
    return this.cores.get(name) as GossipCore
  }

  /** Everyone joins the first member and the pool settles. */
  joinAll(): void {
    const [seed, ...rest] = [...this.cores.keys()]
    for (const name of rest) {
      this.core(name).join([{address: seed, port: PORT}])
      this.flush()
    }
    this.advance(2000)
  }

  stateOf(observer: string, subject: string): MemberState | undefined {
    return this.core(observer).member(subject)?.state
  }

  /** Deliver everything pending, transitively. */
  flush(): void {
    for (let progress = true; progress;) {
      progress = false
      for (const [name, core] of this.cores) {
        if (this.down.has(name) || !core.hasReady()) continue
        progress = true
        const ready = core.ready()
        for (const e of ready.events) this.events.push({...e, observer: name})
        for (const e of ready.userEvents) this.userEvents.push({...e, observer: name, atMs: this.nowMs})
        for (const q of ready.queries) this.queries.push({...q, observer: name})
        for (const r of ready.queryResults) this.queryResults.push({...r, observer: name})
        for (const r of ready.pingResults) this.pingResults.push({...r, observer: name})
        for (const r of ready.probes) this.probes.push({...r, observer: name, atMs: this.nowMs})
        for (const p of ready.packets) {
          const to = p.toName ?? p.to.address
          this.sent.push({from: name, to, packet: p.packet, atMs: this.nowMs})
          if (this.down.has(to) || this.drop(name, to, p.packet.messages)) continue
          this.cores.get(to)?.receive({address: name, port: PORT}, p.packet, this.nowMs)
        }
        for (const s of ready.streams) {
          const to = this.cores.get(s.toName ?? s.to.address)
          // A filter that cuts two members apart whatever they send (it ignores the messages) cuts their streams too.
          if (!to || this.down.has(to.name) || this.drop(name, to.name, [])) continue
          core.pushPullResult(to.pushPullReply(s.state, this.nowMs), this.nowMs)
        }
      }
    }
  }

  tick(name: string, atMs = this.nowMs): void {
    this.core(name).tick(atMs)
    this.flush()
  }

  /** Advance `ms` in steps of `stepMs`, ticking every running member except those in `skip`. */
  advance(ms: number, stepMs = 10, skip: ReadonlySet<string> = new Set()): void {
    const end = this.nowMs + ms
    while (this.nowMs < end) {
      this.nowMs += stepMs
      for (const [name, core] of this.cores) if (!this.down.has(name) && !skip.has(name)) core.tick(this.nowMs)
      this.flush()
    }
  }
}

/** coord's profile with a long push-pull and reconnect period, so scenarios see gossip alone. */
export function testConfig(overrides: Partial<GossipConfig> = {}): GossipConfig {
  return {...coordGossipConfig(), pushPullIntervalMs: 0, reconnectIntervalMs: 0, ...overrides}
}
