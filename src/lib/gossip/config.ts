// The one config type of the gossip core (ARCHITECTURE.md, house rule 3), after memberlist's config.go: named
// profiles rather than one default, each knob a trade between detection speed / convergence and
// bandwidth / false positives. Durations are ms on the driver's monotonic clock. Consul's
// `gossip_lan` / `gossip_wan` agent keys map one-to-one onto the SWIM fields (Consul's agent/config/default.go and memberlist's config.go).
// Nothing is reloadable: timings must roughly agree across a pool (suspicion timeouts assume
// everyone probes at the same pace); a change means a rolling restart.

export interface GossipConfig {
  /**
   * Each member probes one other member this often (SWIM's protocol period), scaled up by the
   * local health score (Lifeguard). Smaller: faster detection, more packets (2 per period per member).
   */
  probeIntervalMs: number
  /**
   * Wait this long for a direct ack before asking `indirectChecks` members to probe for us; scaled
   * by local health. Should be well above the network's p99 RTT, or a slow path looks like a failure.
   */
  probeTimeoutMs: number
  /** Members asked to probe indirectly when the direct probe times out. More: fewer false suspicions, more packets. */
  indirectChecks: number
  /**
   * Minimum suspicion timeout = suspicionMult × max(1, log10(N)) × probeIntervalMs (suspicion.ts).
   * Larger: a suspected member has longer to refute (tolerates longer stalls, more loss), slower detection.
   */
  suspicionMult: number
  /**
   * Maximum suspicion timeout = this × the minimum; it applies when no one else confirms the
   * suspicion, and shrinks (Lifeguard) towards the minimum as independent confirmations arrive.
   * Larger: one misbehaving accuser needs longer to cause a false positive alone.
   */
  suspicionMaxTimeoutMult: number
  /**
   * coord's addition: a floor under the minimum suspicion timeout, whatever the pool size. The
   * formula above gives small pools (N ≤ 10) only suspicionMult × probeIntervalMs, which with fast
   * probing is shorter than a GC pause; the floor is, roughly, the stall a member survives without
   * being declared failed. 0: none (memberlist behaviour).
   */
  suspicionFloorMs: number
  /** A broadcast is piggybacked retransmitMult × ceil(log10(N + 1)) times. More: reliable on lossy links, more bytes. */
  retransmitMult: number
  /** Send pending broadcasts to `gossipNodes` random members this often. Smaller: faster dissemination, more packets. */
  gossipIntervalMs: number
  gossipNodes: number
  /** Keep gossiping to a failed member this long, so it learns it was declared failed and refutes. */
  gossipToTheDeadMs: number
  /**
   * Full state exchange with one random member this often (scaled up beyond 32 members, as
   * memberlist does). Repairs what lost piggybacks missed; costs a stream of O(N) bytes. 0 disables.
   */
  pushPullIntervalMs: number
  /**
   * coord's addition: after a join, exchange full state with this many random live members (the
   * first after max(probeIntervalMs, 4 × gossipIntervalMs), each next one twice as late), and the
   * seed that served the join does one such exchange too. A join otherwise relies on the joiner's
   * alive broadcast reaching everyone; when those datagrams are lost, a member would not learn of
   * the joiner (nor it of them) before the next periodic push-pull, up to pushPullIntervalMs later.
   * 0 disables (memberlist behaviour).
   */
  joinSyncs: number
  /** Try a push-pull with one random failed member this often, so healed partitions merge (serf's reconnect). 0 disables. */
  reconnectIntervalMs: number
  /** A failed member is forgotten (reaped) after this long (Consul's reconnect_timeout, 72h). */
  reconnectTimeoutMs: number
  /** A left member is forgotten after this long (serf's tombstone timeout, 24h). */
  tombstoneTimeoutMs: number
  /** How often failed and left members are checked for reaping. */
  reapIntervalMs: number
  /**
   * Lifeguard local health: timeouts and the probe interval are multiplied by (score + 1), score
   * in [0, awarenessMaxMultiplier − 1]. 1 disables. Larger: a struggling node backs off further.
   */
  awarenessMaxMultiplier: number
  /** Byte budget of one datagram, probe plus piggybacked broadcasts (memberlist's UDPBufferSize, below a typical MTU). */
  packetBudgetBytes: number
  /**
   * coord's addition to Lifeguard: a gap longer than this between two tick() calls means this
   * process was not running (GC pause, CPU starvation, a stopped VM). The core then blames no peer
   * for probes that ran out during the gap, lets pending refutations be read before any suspicion
   * it holds expires, and raises its local health score. Must comfortably exceed the driver's tick
   * period. 0 disables (memberlist behaviour).
   */
  localStallThresholdMs: number
  /** Timeout the driver applies to a push-pull stream (memberlist's TCPTimeout). The core does not use it. */
  streamTimeoutMs: number
}

/** memberlist DefaultLANConfig: tuned for a LAN; a crash is detected in ~9 s at 100 members. */
export function lanGossipConfig(): GossipConfig {
  return {
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    suspicionFloorMs: 0,
    retransmitMult: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadMs: 30_000,
    pushPullIntervalMs: 30_000,
    joinSyncs: 0,
    reconnectIntervalMs: 30_000,
    reconnectTimeoutMs: 72 * 3600_000,
    tombstoneTimeoutMs: 24 * 3600_000,
    reapIntervalMs: 15_000,
    awarenessMaxMultiplier: 8,
    packetBudgetBytes: 1400,
    localStallThresholdMs: 500,
    streamTimeoutMs: 10_000,
  }
}

/** memberlist DefaultWANConfig: higher latency and loss between datacenters; slower, cheaper. */
export function wanGossipConfig(): GossipConfig {
  return {
    ...lanGossipConfig(),
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    suspicionMult: 6,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadMs: 60_000,
    pushPullIntervalMs: 60_000,
    localStallThresholdMs: 2000,
    streamTimeoutMs: 30_000,
  }
}

/** memberlist DefaultLocalConfig: loopback or one host; fast and chatty. */
export function localGossipConfig(): GossipConfig {
  return {
    ...lanGossipConfig(),
    probeIntervalMs: 1000,
    probeTimeoutMs: 200,
    indirectChecks: 1,
    suspicionMult: 3,
    retransmitMult: 2,
    gossipIntervalMs: 100,
    gossipToTheDeadMs: 15_000,
    pushPullIntervalMs: 15_000,
    streamTimeoutMs: 1000,
  }
}

/**
 * coord's default LAN profile, chosen from the seeded simulation (test/sim/gossip-*.ts): a crashed
 * member is declared failed by every member within 3 s p99 in pools of 100 to 2,000 members
 * (memberlist's LAN defaults: 10–20 s), with no false positive while one member's CPU stalls for a
 * second. It probes 6.7× as often as memberlist's LAN profile; the bytes sent are of the same order
 * as a model of memberlist's LAN profile in the same simulation (its message sizes and compression,
 * test/sim/memberlist-wire-size.ts; the bench's gossip section has the figures per size).
 *
 * suspicionMult is 3 (memberlist and Consul: 4). The 1.5 s floor, not the log10(N) scaling, is what
 * lets a stalled member refute in time, and with mult 4 the scaling lifts the minimum above the
 * floor from about 320 members on (1.8 s at 1,000, 2 s at 2,000); with 3 the floor holds up to about 2,150
 * members. It also makes one independent confirmation (mult − 2) enough to reach the minimum.
 */
export function coordGossipConfig(): GossipConfig {
  return {
    ...lanGossipConfig(),
    probeIntervalMs: 150,
    probeTimeoutMs: 80,
    suspicionMult: 3,
    suspicionMaxTimeoutMult: 6,
    suspicionFloorMs: 1500,
    retransmitMult: 4,
    gossipIntervalMs: 50,
    gossipNodes: 3,
    pushPullIntervalMs: 30_000,
    joinSyncs: 2,
    reconnectIntervalMs: 10_000,
    localStallThresholdMs: 200,
  }
}

/** The named profiles (memberlist's Default{LAN,WAN,Local}Config plus coord's own). */
export const gossipProfiles = {
  lan: lanGossipConfig,
  wan: wanGossipConfig,
  local: localGossipConfig,
  coord: coordGossipConfig,
} as const

export type GossipProfile = keyof typeof gossipProfiles

/** coord's default: the `coord` profile. */
export function defaultGossipConfig(): GossipConfig {
  return coordGossipConfig()
}

/** Every problem with `config`, each naming the field; empty when valid. */
export function validateGossipConfig(config: GossipConfig): string[] {
  const problems: string[] = []
  const positiveInt = (field: keyof GossipConfig): void => {
    const value = config[field]
    if (!Number.isSafeInteger(value) || value <= 0) problems.push(`${field} must be a positive integer, got ${value}`)
  }
  const nonNegativeInt = (field: keyof GossipConfig): void => {
    const value = config[field]
    if (!Number.isSafeInteger(value) || value < 0) problems.push(`${field} must be a non-negative integer, got ${value}`)
  }
  for (const field of ['probeIntervalMs', 'probeTimeoutMs', 'suspicionMult', 'suspicionMaxTimeoutMult', 'retransmitMult', 'gossipIntervalMs', 'gossipNodes', 'reconnectTimeoutMs', 'tombstoneTimeoutMs', 'reapIntervalMs', 'awarenessMaxMultiplier', 'packetBudgetBytes', 'streamTimeoutMs'] as const) positiveInt(field)
  for (const field of ['indirectChecks', 'gossipToTheDeadMs', 'pushPullIntervalMs', 'joinSyncs', 'reconnectIntervalMs', 'localStallThresholdMs', 'suspicionFloorMs'] as const) nonNegativeInt(field)
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    problems.push(`probeTimeoutMs (${config.probeTimeoutMs}) must be less than probeIntervalMs (${config.probeIntervalMs}): indirect probes need the rest of the period`)
  }
  if (config.packetBudgetBytes < 256) problems.push(`packetBudgetBytes must be at least 256, got ${config.packetBudgetBytes}`)
  if (config.localStallThresholdMs > 0 && config.localStallThresholdMs < 2 * config.gossipIntervalMs) {
    problems.push(`localStallThresholdMs (${config.localStallThresholdMs}) must be 0 or at least 2 × gossipIntervalMs (${config.gossipIntervalMs}); the driver ticks at least that often`)
  }
  return problems
}
