// Everything a simulation run does follows from its seed. "Swarm" testing (TigerBeetle's VOPR):
// the fault *rates* are themselves drawn from the seed, so each seed explores a different mix
// (a calm network with many crashes, a lossy one with partitions and paused nodes, ...).
import {SeededRng} from '../../src/lib/rng.js'
import type {NetworkOptions} from './network.js'

export interface SimParams {
  seed: number
  nodes: number
  /** Phase 1: faults on, clients busy; safety checked every step. */
  safetySteps: number
  /** Phase 2: faults healed; a leader must emerge and commit a write within this many steps. */
  livenessSteps: number
  stepMs: number
  electionTimeoutMs: number
  heartbeatIntervalMs: number
  leaseDriftRatio: number
  maxSizePerMsgBytes: number
  maxInflightMsgs: number
  network: NetworkOptions
  /** Max |rate − 1| of any node's clock; kept below leaseDriftRatio / 2 (the lease's assumption). */
  clockDriftMax: number
  /** Per node per step. */
  crashRate: number
  downMs: [number, number]
  pauseRate: number
  pauseMs: [number, number]
  /** Chance a Ready's fsync/send/apply half waits for a later step (a crash window after write). */
  splitPersistRate: number
  /** Per step. */
  writeRate: number
  readRate: number
  transferRate: number
  /** A node snapshots and compacts once it applied this many entries past its last snapshot. */
  snapshotEvery: number
}

export interface ParamOverrides {
  nodes?: number
  safetySteps?: number
  livenessSteps?: number
}

export function deriveParams(seed: number, overrides: ParamOverrides = {}): SimParams {
  const rng = new SeededRng(seed)
  const pick = <T>(items: readonly T[]): T => rng.pick(items)
  const between = (lo: number, hi: number): number => lo + rng.next() * (hi - lo)
  const electionTimeoutMs = pick([100, 150, 200])
  const leaseDriftRatio = pick([0.05, 0.1, 0.2])
  return {
    seed,
    nodes: overrides.nodes ?? pick([3, 3, 5]),
    safetySteps: overrides.safetySteps ?? 1200,
    livenessSteps: overrides.livenessSteps ?? 1000,
    stepMs: 5,
    electionTimeoutMs,
    heartbeatIntervalMs: Math.round(electionTimeoutMs / pick([4, 5, 8])),
    leaseDriftRatio,
    maxSizePerMsgBytes: pick([128, 1024, 65536]),
    maxInflightMsgs: pick([1, 4, 64]),
    network: {
      delayMinMs: pick([0, 1, 5]),
      delayMeanMs: pick([1, 5, 15, 40]),
      lossRate: pick([0, 0.01, 0.05, 0.2]),
      duplicateRate: pick([0, 0.01, 0.1]),
      reorderRate: pick([0, 0.05, 1]),
      partitionRate: pick([0, 0.0005, 0.002]),
      unpartitionRate: pick([0.001, 0.005]),
      partitionStabilityMs: pick([50, 300, 1000]),
      unpartitionStabilityMs: pick([100, 500]),
      asymmetricRate: pick([0, 0.3]),
    },
    clockDriftMax: (leaseDriftRatio / 2) * between(0, 0.95),
    crashRate: pick([0, 0.0005, 0.002]),
    downMs: [10, pick([100, 500, 1500])],
    pauseRate: pick([0, 0.0005, 0.002]),
    pauseMs: [10, pick([100, 400, 1200])],
    splitPersistRate: pick([0, 0.3, 0.7]),
    writeRate: pick([0.05, 0.2, 0.5]),
    readRate: pick([0.05, 0.2, 0.6]),
    transferRate: pick([0, 0.001, 0.005]),
    snapshotEvery: pick([5, 20, 1000]),
  }
}

export function describeParams(p: SimParams): string {
  const n = p.network
  return [
    `seed=${p.seed} nodes=${p.nodes} steps=${p.safetySteps}+${p.livenessSteps}×${p.stepMs}ms`,
    `raft: election=${p.electionTimeoutMs}ms heartbeat=${p.heartbeatIntervalMs}ms leaseDrift=${p.leaseDriftRatio} maxMsg=${p.maxSizePerMsgBytes}B inflight=${p.maxInflightMsgs}`,
    `net: delay=${n.delayMinMs}+exp(${n.delayMeanMs})ms loss=${n.lossRate} dup=${n.duplicateRate} reorder=${n.reorderRate} partition=${n.partitionRate}/ms heal=${n.unpartitionRate}/ms asym=${n.asymmetricRate}`,
    `nodes: clockDrift≤${p.clockDriftMax.toFixed(4)} crash=${p.crashRate}/step down≤${p.downMs[1]}ms pause=${p.pauseRate}/step pause≤${p.pauseMs[1]}ms splitPersist=${p.splitPersistRate}`,
    `load: write=${p.writeRate} read=${p.readRate} transfer=${p.transferRate} snapshotEvery=${p.snapshotEvery}`,
  ].join('\n')
}
