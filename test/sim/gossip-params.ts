// Everything a gossip simulation run does follows from its seed and a few overrides (size,
// timing profile, scenario). Fault rates are drawn from the seed ("swarm" testing, VOPR-style), so
// each seed tries a different mix of delay, loss, crash times and stall placement.
import {SeededRng} from '../../src/lib/rng.js'
import {gossipProfiles, type GossipConfig, type GossipProfile} from '../../src/lib/gossip/config.js'
import type {GossipNetworkOptions} from './gossip-network.js'

/**
 * crash: crash k members while one member's CPU stalls, on a lossy network; every crash must be
 * detected by all, and nobody healthy (the stalled one included) may be declared failed.
 * partition: as crash, then cut off a group for a while and heal; the views must agree again.
 */
export type GossipScenario = 'crash' | 'partition'

export interface GossipSimParams {
  seed: number
  members: number
  profile: GossipProfile
  scenario: GossipScenario
  config: GossipConfig
  stepMs: number
  network: GossipNetworkOptions
  /** Members join one seed member at random times in [0, joinSpreadMs). */
  joinSpreadMs: number
  /** The pool must agree (everyone alive everywhere) within this long after the last join. */
  convergeBudgetMs: number
  /** How the run's messages are sized: coord's codec, or memberlist's encoding for memberlist's profiles. */
  wire: 'coord' | 'memberlist'
  /** After convergence, wait at most this long for every broadcast queue to drain before the crash phase. */
  drainBudgetMs: number
  /** Bytes are counted over this long from the start of the crash phase (the same for every profile). */
  measureMs: number
  /** Crashes happen at random times in this window after convergence. */
  crashWindowMs: number
  crashes: number
  /** One member (never a crashed one) stops running for stallMs, starting inside the crash window. */
  stallMs: number
  /** Each crash must be declared by every live member within this long. */
  detectBudgetMs: number
  /** partition scenario: a random group of this fraction of members is cut off for partitionMs. */
  partitionFraction: number
  partitionMs: number
  /** After healing, views must agree again within this long. */
  healBudgetMs: number
}

export interface GossipParamOverrides {
  members?: number
  profile?: GossipProfile
  scenario?: GossipScenario
  stallMs?: number
  crashes?: number
  /** Size messages as this wire does (default: coord's codec for the coord profile, memberlist's for memberlist's profiles). */
  wire?: 'coord' | 'memberlist'
  /** Fields replacing the profile's (CONFIG='{"suspicionMult":3}' on the CLI): to try a timing before changing a profile. */
  config?: Partial<GossipConfig>
}

export function deriveGossipParams(seed: number, overrides: GossipParamOverrides = {}): GossipSimParams {
  const rng = new SeededRng(seed)
  const members = overrides.members ?? rng.pick([5, 20, 100])
  const profile = overrides.profile ?? 'coord'
  const config = {...gossipProfiles[profile](), ...overrides.config}
  const scenario = overrides.scenario ?? (rng.chance(0.5) ? 'crash' : 'partition')
  const crashes = overrides.crashes ?? Math.max(1, Math.round(members * 0.05))
  return {
    seed,
    members,
    profile,
    scenario,
    config,
    stepMs: 10,
    network: {
      delayMinMs: rng.pick([0.1, 0.5, 1]),
      delayMeanMs: rng.pick([0.5, 2, 8]),
      lossRate: rng.pick([0, 0.01, 0.03]),
    },
    joinSpreadMs: 1000,
    convergeBudgetMs: 60_000,
    wire: overrides.wire ?? (profile === 'coord' ? 'coord' : 'memberlist'),
    drainBudgetMs: 120_000,
    // Long enough for memberlist LAN's detections at 2,000 members (max ~21 s after a crash) to land inside.
    measureMs: 10_000 + 30_000,
    crashWindowMs: 10_000,
    crashes: Math.min(crashes, members - 2),
    stallMs: overrides.stallMs ?? 1000,
    // Generous: up to the maximum suspicion timeout (no confirmations) at up to 1000 members, plus slack.
    detectBudgetMs: config.suspicionMaxTimeoutMult * config.suspicionMult * 3 * config.probeIntervalMs + 20_000,
    partitionFraction: rng.pick([0.2, 0.5]),
    partitionMs: 3 * config.suspicionMult * config.probeIntervalMs * 3,
    healBudgetMs: 4 * config.reconnectIntervalMs + 4 * config.pushPullIntervalMs,
  }
}

export function describeGossipParams(p: GossipSimParams): string {
  const c = p.config
  return `gossip sim seed=${p.seed} members=${p.members} profile=${p.profile} wire=${p.wire} scenario=${p.scenario} crashes=${p.crashes} stallMs=${p.stallMs}` +
    ` net{delay=${p.network.delayMinMs}+exp(${p.network.delayMeanMs})ms loss=${p.network.lossRate}}` +
    ` swim{probe=${c.probeIntervalMs}/${c.probeTimeoutMs}ms suspicionMult=${c.suspicionMult}x${c.suspicionMaxTimeoutMult} gossip=${c.gossipIntervalMs}ms×${c.gossipNodes} retransmitMult=${c.retransmitMult}}` +
    (p.scenario === 'partition' ? ` partition{fraction=${p.partitionFraction} ms=${p.partitionMs}}` : '')
}
