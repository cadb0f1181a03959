// GossipNode: the driver of a GossipCore on real sockets (etcd's node.go to the core's rawnode.go).
// It owns the clock (a monotonic timer calling tick), the transport (UDP + TCP, transport.ts) and
// the codec, and does what every ready() asks (core.ts's top comment is the contract): after each
// input (tick, datagram, stream, join, leave) it drains ready(), sends the packets, runs the
// push-pull exchanges and delivers member and user events to listeners, in order.
//
// Nothing leaves a timer or socket callback as an exception: errors are logged through the injected
// logger. The one exception to "log and go on" is a broken core invariant (InvariantError, code GOSSIP_INVARIANT):
// the node then closes itself rather than gossip state it can no longer trust (ARCHITECTURE.md, house rule 7).
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import {randomInt} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import {CoordError} from '../errors.js'
import {SeededRng} from '../rng.js'
import {decodePacket, decodePushPull, encodePacket, encodePushPull} from './codec.js'
import {defaultGossipConfig, type GossipConfig} from './config.js'
import {GossipCore} from './core.js'
import {GossipConfigError} from './errors.js'
import type {PacketCipher} from './keyring.js'
import {GossipTransport, silentLogger, type GossipLogger, type TransportStats} from './transport.js'
import type {GossipStatus, Member, MemberEvent, OutboundPacket, PeerAddress, PingResult, QueryResult, ReceivedQuery, ReceivedUserEvent, StreamRequest, Tags} from './types.js'
import {defaultQueryTimeoutMs} from './core-query.js'
import {metrics, NO_LABELS, type Labels} from '../metrics/metrics.js'

/** Consul's serf LAN port, used when a join address has none. */
export const DEFAULT_GOSSIP_PORT = 8301

export interface GossipNodeOptions {
  /** Unique member name (Consul: the node name). */
  name: string
  /** Address to bind UDP and TCP to. Default 0.0.0.0 (then advertiseAddress is required). */
  bindAddress?: string
  /** Port for both UDP and TCP; 0 picks a free one (see GossipNode.port). Default 8301. */
  bindPort?: number
  /** Address peers reach us at. Default: bindAddress, unless that is a wildcard. */
  advertiseAddress?: string
  /** Port peers reach us at. Default: the bound port. */
  advertisePort?: number
  /** Protocol timings (config.ts). Default: the `coord` profile. */
  config?: GossipConfig
  tags?: Tags
  incarnation?: number
  /** Period of the tick timer. Default min(20, gossipIntervalMs / 2) ms (the core needs ≤ gossipIntervalMs / 2). */
  tickIntervalMs?: number
  /** Largest push-pull frame sent or accepted. Default 8 MiB (~50k members). */
  maxStreamBytes?: number
  /** Concurrent push-pull exchanges served / started; more are refused / skipped. Default 32 each. */
  maxInboundStreams?: number
  maxOutboundStreams?: number
  /** Seals every datagram and stream frame (keyring.ts). Default none (plaintext). */
  cipher?: PacketCipher | null
  /** Whom to hear: packets and streams from other addresses are dropped (memberlist's CIDRsAllowed). Absent: everyone. */
  acceptFrom?: (address: string) => boolean
  log?: GossipLogger
  /** Seed of the core's Rng. Default random. */
  seed?: number
  /** Monotonic ms. Default performance.now. */
  clock?: () => number
  /** Labels on this pool's memberlist and serf metrics (the agent: network = lan or wan). */
  metricLabels?: Labels
}

export interface GossipNodeEvents {
  member: (event: MemberEvent) => void
  userEvent: (event: ReceivedUserEvent) => void
  /** A direct probe acked with a payload (the peer's coordinate): its round trip in ms. */
  pingComplete: (result: PingResult) => void
}

export interface GossipNodeStats extends TransportStats {
  /** Datagrams or stream payloads that opened but did not decode. */
  decodeFailures: number
  /** Messages too large for any datagram (never sent). */
  messagesDropped: number
  /** Push-pull requests skipped because maxOutboundStreams were in flight. */
  streamsSkipped: number
}

/** Answers one kind of query (by name); the bytes go back to the query's origin. */
export type QueryHandler = (query: ReceivedQuery) => Uint8Array | Promise<Uint8Array>

export interface QueryOptions {
  /** Default: serf's gossip interval × 16 × ceil(log10(N + 1)). */
  timeoutMs?: number
  /** Answers also travel through this many random members (0..5). Default 0. */
  relayFactor?: number
}

export class GossipJoinError extends CoordError {
  constructor(message: string, readonly failures: string[]) {
    super('GOSSIP_JOIN_FAILED', message, {hint: 'check the address and port, that the agent there is running, and that both use the same gossip key'})
    this.name = 'GossipJoinError'
  }
}

const WILDCARDS = new Set(['0.0.0.0', '::', ''])

export class GossipNode {
  readonly #o: Required<Omit<GossipNodeOptions, 'advertiseAddress' | 'advertisePort' | 'tags' | 'incarnation' | 'cipher' | 'acceptFrom' | 'metricLabels'>> & Pick<GossipNodeOptions, 'advertiseAddress' | 'advertisePort' | 'tags' | 'incarnation'>
  readonly #labels: Labels
  #metricsTimer: NodeJS.Timeout | undefined
  /** The core's suspect/dead counts last reported, so each report adds what is new. */
  #reported = {suspected: 0, declaredDead: 0}
  #packetsSent = 0
  readonly #transport: GossipTransport
  #core: GossipCore | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #draining = false
  #outbound = 0
  /** Set while join() drains, to collect the outcome of its streams. */
  #joinStreams: Promise<string | null>[] | null = null
  readonly #listeners: {[K in keyof GossipNodeEvents]: Set<GossipNodeEvents[K]>} = {member: new Set(), userEvent: new Set(), pingComplete: new Set()}
  readonly #stats = {decodeFailures: 0, messagesDropped: 0, streamsSkipped: 0}
  readonly #queryHandlers = new Map<string, QueryHandler>()
  readonly #queryWaiters = new Map<number, {resolve: (r: QueryResult) => void; reject: (e: Error) => void}>()

  constructor(options: GossipNodeOptions) {
    const config = options.config ?? defaultGossipConfig()
    this.#labels = options.metricLabels ?? NO_LABELS
    this.#o = {
      name: options.name,
      bindAddress: options.bindAddress ?? '0.0.0.0',
      bindPort: options.bindPort ?? DEFAULT_GOSSIP_PORT,
      advertiseAddress: options.advertiseAddress,
      advertisePort: options.advertisePort,
      config,
      tags: options.tags,
      incarnation: options.incarnation,
      tickIntervalMs: options.tickIntervalMs ?? Math.max(1, Math.min(20, Math.floor(config.gossipIntervalMs / 2))),
      maxStreamBytes: options.maxStreamBytes ?? 8 * 1024 * 1024,
      maxInboundStreams: options.maxInboundStreams ?? 32,
      maxOutboundStreams: options.maxOutboundStreams ?? 32,
      log: options.log ?? silentLogger,
      seed: options.seed ?? randomInt(2 ** 32 - 1),
      clock: options.clock ?? (() => performance.now()),
    }
    const problems: string[] = []
    if (!options.name) problems.push('name must be a non-empty string')
    if (!Number.isInteger(this.#o.bindPort) || this.#o.bindPort < 0 || this.#o.bindPort > 65535) problems.push(`bindPort must be 0..65535, got ${this.#o.bindPort}`)
    if (WILDCARDS.has(this.#o.bindAddress) && !options.advertiseAddress) problems.push(`advertiseAddress is required when bindAddress is ${this.#o.bindAddress || 'empty'}`)
    if (this.#o.tickIntervalMs * 2 > config.gossipIntervalMs) problems.push(`tickIntervalMs (${this.#o.tickIntervalMs}) must be at most gossipIntervalMs / 2 (${config.gossipIntervalMs / 2})`)
    if (problems.length > 0) throw new GossipConfigError(problems)
    const cipher = options.cipher ?? null
    this.#transport = new GossipTransport({
      bindAddress: this.#o.bindAddress,
      bindPort: this.#o.bindPort,
      maxDatagramBytes: config.packetBudgetBytes + (cipher?.overheadBytes ?? 0),
      maxStreamBytes: this.#o.maxStreamBytes,
      streamTimeoutMs: config.streamTimeoutMs,
      maxInboundStreams: this.#o.maxInboundStreams,
      cipher,
      log: this.#o.log,
      acceptFrom: options.acceptFrom,
      onPacket: (data, from) => this.#onPacket(data, from),
      onStream: (data) => this.#onStream(data),
    })
  }

  get name(): string {
    return this.#o.name
  }

  /** The bound port (after start). */
  get port(): number {
    return this.#transport.port
  }

  /** Bind the sockets, create the core and start ticking; resolves with the bound port. */
  async start(): Promise<number> {
    if (this.#core || this.#closed) throw new CoordError('GOSSIP_NODE_STATE', 'gossip node already started or closed')
    const port = await this.#transport.listen()
    this.#core = new GossipCore({
      config: this.#o.config,
      name: this.#o.name,
      address: this.#o.advertiseAddress ?? this.#o.bindAddress,
      port: this.#o.advertisePort ?? port,
      tags: this.#o.tags,
      incarnation: this.#o.incarnation,
      rng: new SeededRng(this.#o.seed),
      nowMs: this.#o.clock(),
    })
    this.#timer = setInterval(() => this.#tick(), this.#o.tickIntervalMs)
    this.#metricsTimer = setInterval(() => this.#reportMetrics(), 1000)
    this.#metricsTimer.unref()
    return port
  }

  /** One timer tick; a tick that sent packets is one gossip round for consul.memberlist.gossip. */
  #tick(): void {
    const start = performance.now()
    const before = this.#packetsSent
    this.#step((core) => core.tick(this.#o.clock()))
    if (this.#packetsSent !== before) metrics.measureSince(['memberlist', 'gossip'], start, this.#labels)
  }

  /** Once a second: Lifeguard's health score and the suspect/dead transitions since the last report. */
  #reportMetrics(): void {
    const core = this.#core
    if (!core || this.#closed) return
    const status = core.status()
    metrics.setGauge(['memberlist', 'health', 'score'], status.health, this.#labels)
    if (status.suspected > this.#reported.suspected) metrics.incrCounter(['memberlist', 'msg', 'suspect'], status.suspected - this.#reported.suspected, this.#labels)
    if (status.declaredDead > this.#reported.declaredDead) metrics.incrCounter(['memberlist', 'msg', 'dead'], status.declaredDead - this.#reported.declaredDead, this.#labels)
    this.#reported = {suspected: status.suspected, declaredDead: status.declaredDead}
  }

  /**
   * Push-pull with every seed ("host:port"; port defaults to 8301). Resolves with how many answered;
   * rejects with GossipJoinError when none did (memberlist's Join).
   */
  async join(addresses: readonly string[]): Promise<number> {
    const core = this.#started()
    const failures: string[] = []
    const seeds: PeerAddress[] = []
    for (const address of addresses) {
      try {
        seeds.push(await this.#resolve(address))
      } catch (error) {
        failures.push(`${address}: ${(error as Error).message}`)
      }
    }
    const streams: Promise<string | null>[] = []
    if (seeds.length > 0 && !this.#closed) {
      this.#joinStreams = streams
      try {
        this.#step(() => core.join(seeds))
      } finally {
        this.#joinStreams = null
      }
    }
    let joined = 0
    for (const failure of await Promise.all(streams)) {
      if (failure) failures.push(failure)
      else joined++
    }
    if (joined === 0 && addresses.length > 0) throw new GossipJoinError(`failed to join any of ${addresses.length} address(es): ${failures.join('; ')}`, failures)
    for (const failure of failures) this.#o.log.warn('gossip: join failed for one address', {failure})
    return joined
  }

  /** Graceful leave: resolves true once the core reports `left`, false if `timeoutMs` ran out first. */
  async leave(timeoutMs = 5000): Promise<boolean> {
    const core = this.#started()
    this.#step(() => core.leave())
    const deadline = this.#o.clock() + timeoutMs
    while (!this.#closed && core.status().state !== 'left' && this.#o.clock() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, this.#o.tickIntervalMs))
    }
    return core.status().state === 'left'
  }

  /** Stop ticking and close the sockets; in-flight exchanges fail. No leave is sent (see leave()). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    clearInterval(this.#metricsTimer)
    for (const waiter of this.#queryWaiters.values()) waiter.reject(new CoordError('GOSSIP_NODE_STATE', 'gossip node closed before the query finished'))
    this.#queryWaiters.clear()
    await this.#transport.close()
  }

  members(): Member[] {
    return this.#core?.members() ?? []
  }

  member(name: string): Member | undefined {
    return this.#core?.member(name)
  }

  status(): GossipStatus {
    return this.#started().status()
  }

  stats(): GossipNodeStats {
    return {...this.#transport.stats, ...this.#stats}
  }

  /** Force-leave (GossipCore.forceLeave); false when `name` is unknown or this node. */
  forceLeave(name: string, prune = false): boolean {
    this.#started()
    let found = false
    this.#step((core) => { found = core.forceLeave(name, prune) })
    return found
  }

  updateTags(tags: Tags): void {
    const core = this.#started()
    this.#step(() => core.updateTags(tags))
  }

  /** What our acks carry to pingers tagged ACK_PAYLOAD_TAG (GossipCore.setAckPayload); a no-op before start. */
  setAckPayload(payload: Uint8Array | null): void {
    this.#core?.setAckPayload(payload)
  }

  userEvent(name: string, payload: Uint8Array): void {
    const core = this.#started()
    this.#step(() => core.userEvent(name, payload))
  }

  /**
   * Ask every member (this one included) and collect the answers until all members live at send
   * time have answered or the timeout passes (serf's Query). Members answer through the handler
   * registered under `name` (setQueryHandler); a member without one stays silent.
   */
  query(name: string, payload: Uint8Array, options: QueryOptions = {}): Promise<QueryResult> {
    const core = this.#started()
    const status = core.status()
    const timeoutMs = options.timeoutMs ?? defaultQueryTimeoutMs(this.#o.config, status.alive + status.suspect)
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new CoordError('GOSSIP_NODE_STATE', 'gossip node is closed'))
      this.#step((c) => {
        const id = c.query(name, payload, timeoutMs, options.relayFactor ?? 0)
        this.#queryWaiters.set(id, {resolve, reject})
      })
    })
  }

  /** Answer queries called `name` with `handler` (replacing any previous one); returns the removal. */
  setQueryHandler(name: string, handler: QueryHandler): () => void {
    this.#queryHandlers.set(name, handler)
    return () => {
      if (this.#queryHandlers.get(name) === handler) this.#queryHandlers.delete(name)
    }
  }

  /** Subscribe; returns the unsubscribe function. Listener errors are logged, never propagated. */
  on<K extends keyof GossipNodeEvents>(event: K, listener: GossipNodeEvents[K]): () => void {
    const set = this.#listeners[event] as Set<GossipNodeEvents[K]>
    set.add(listener)
    return () => set.delete(listener)
  }

  #started(): GossipCore {
    if (!this.#core) throw new CoordError('GOSSIP_NODE_STATE', 'gossip node not started (call start() first)')
    return this.#core
  }

  /** Apply one input to the core, then drain; the only path into the core. */
  #step(input: (core: GossipCore) => void): void {
    const core = this.#core
    if (this.#closed || !core) return
    try {
      input(core)
      this.#drain(core)
    } catch (error) {
      this.#fail(error)
    }
  }

  #fail(error: unknown): void {
    const e = error as Error & {code?: string}
    this.#o.log.error('gossip: internal error', {error: e.message, code: e.code})
    if (e.code === 'GOSSIP_INVARIANT') void this.close()
  }

  #drain(core: GossipCore): void {
    if (this.#draining) return // a listener re-entered; the loop below picks its output up
    this.#draining = true
    try {
      while (!this.#closed && core.hasReady()) {
        const ready = core.ready()
        this.#packetsSent += ready.packets.length
        for (const p of ready.packets) this.#send(p)
        for (const s of ready.streams) this.#pushPull(s)
        for (const e of ready.events) {
          if (e.type === 'joined' || e.type === 'failed' || e.type === 'left') metrics.incrCounter(['serf', 'member', e.type === 'joined' ? 'join' : e.type], 1, this.#labels)
          this.#emit('member', e)
        }
        for (const u of ready.userEvents) this.#emit('userEvent', u)
        // consul.memberlist.probeNode times every probe round, acked or not (memberlist's probeNode).
        for (const probe of ready.probes) metrics.addSample(['memberlist', 'probeNode'], probe.ms, this.#labels)
        for (const r of ready.pingResults) this.#emit('pingComplete', r)
        for (const q of ready.queries) this.#answer(q)
        for (const r of ready.queryResults) {
          const waiter = this.#queryWaiters.get(r.id)
          this.#queryWaiters.delete(r.id)
          waiter?.resolve(r)
        }
      }
    } finally {
      this.#draining = false
    }
  }

  /** Runs the query's handler off the drain loop and sends its answer; handler errors are logged. */
  #answer(q: ReceivedQuery): void {
    const handler = this.#queryHandlers.get(q.name)
    if (!handler) return
    void Promise.resolve().then(() => handler(q)).then(
      (payload) => this.#step((core) => core.respond(q, payload, this.#o.clock())),
      (error: Error) => this.#o.log.error('gossip: query handler failed', {query: q.name, origin: q.origin, error: error.message}),
    )
  }

  #emit<K extends keyof GossipNodeEvents>(event: K, value: Parameters<GossipNodeEvents[K]>[0]): void {
    for (const listener of this.#listeners[event]) {
      try {
        ;(listener as (v: typeof value) => void)(value)
      } catch (error) {
        this.#o.log.error(`gossip: ${event} listener threw`, {error: (error as Error).message})
      }
    }
  }

  #send(p: OutboundPacket): void {
    const {datagrams, dropped} = encodePacket(p.packet, this.#transport.maxPlainDatagramBytes)
    if (dropped > 0) {
      this.#stats.messagesDropped += dropped
      this.#o.log.warn('gossip: message too large for a datagram, dropped', {to: p.toName, count: dropped})
    }
    for (const d of datagrams) this.#transport.sendPacket(p.to, d)
  }

  #pushPull(req: StreamRequest): void {
    const where = `${req.to.address}:${req.to.port}`
    let outcome: Promise<string | null>
    if (this.#outbound >= this.#o.maxOutboundStreams) {
      this.#stats.streamsSkipped++
      outcome = Promise.resolve(`${where}: too many push-pull exchanges in flight`)
    } else {
      this.#outbound++
      outcome = this.#transport.exchange(req.to, encodePushPull(req.state)).then(
        (reply) => {
          const remote = decodePushPull(reply)
          this.#step((core) => core.pushPullResult(remote, this.#o.clock()))
          return null
        },
      ).catch((error: Error & {code?: string}) => {
        if (error.code === 'GOSSIP_DECODE_FAILED') this.#stats.decodeFailures++
        this.#o.log.debug('gossip: push-pull failed', {to: where, name: req.toName, error: error.message})
        return `${where}: ${error.message}`
      }).finally(() => this.#outbound--)
    }
    if (req.state.join) this.#joinStreams?.push(outcome)
  }

  #onPacket(data: Uint8Array, from: PeerAddress): void {
    let packet
    try {
      packet = decodePacket(data)
    } catch (error) {
      this.#stats.decodeFailures++
      this.#o.log.debug('gossip: undecodable datagram dropped', {from: `${from.address}:${from.port}`, error: (error as Error).message})
      return
    }
    this.#step((core) => core.receive(from, packet, this.#o.clock()))
  }

  async #onStream(data: Uint8Array): Promise<Uint8Array> {
    let remote
    try {
      remote = decodePushPull(data)
    } catch (error) {
      this.#stats.decodeFailures++
      throw error
    }
    const core = this.#core
    if (this.#closed || !core) throw new CoordError('GOSSIP_NODE_STATE', 'gossip node is closed')
    let reply
    try {
      reply = core.pushPullReply(remote, this.#o.clock())
      this.#drain(core)
    } catch (error) {
      this.#fail(error)
      throw error
    }
    return encodePushPull(reply)
  }

  async #resolve(address: string): Promise<PeerAddress> {
    const match = /^\[(.+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address)
    if (!match) throw new GossipConfigError([`join address "${address}" is not host[:port]`])
    const port = match[2] === undefined ? DEFAULT_GOSSIP_PORT : Number(match[2])
    if (port < 1 || port > 65535) throw new GossipConfigError([`join address "${address}" has an invalid port`])
    const host = match[1]
    if (isIP(host)) return {address: host, port}
    const family = this.#o.bindAddress.includes(':') ? 6 : 4
    const resolved = await lookup(host, {family})
    return {address: resolved.address, port}
  }
}
