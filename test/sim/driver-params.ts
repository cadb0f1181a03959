// The driver simulation's parameters, all drawn from the seed (swarm testing, as params.ts does for
// the core simulation): each seed runs its own mix of network faults, kills, pauses, fsync times and
// snapshot thresholds (a low threshold compacts often, so a follower back from a kill or a
// partition needs an InstallSnapshot).
import {SeededRng} from '../../src/lib/rng.js'
import type {NetworkOptions} from './network.js'

export interface DriverSimParams {
  seed: number
  nodes: number
  /** Servers that start empty, outside the configuration: the leader adds and promotes them. */
  joiners: number
  /** Simulated ms with faults on and clients busy; then faults heal and a write must commit within livenessMs. */
  safetyMs: number
  livenessMs: number
  /** Clients and faults act every stepMs. */
  stepMs: number
  electionTimeoutMs: number
  heartbeatIntervalMs: number
  leaseDriftRatio: number
  clockDriftMax: number
  network: NetworkOptions
  /** Upper bound of one simulated fsync. */
  fsyncMs: number
  /** Per node per step. */
  killRate: number
  downMs: [number, number]
  pauseRate: number
  pauseMs: [number, number]
  /** Per step. */
  writeRate: number
  readRate: number
  transferRate: number
  snapshotThreshold: number
}

export function deriveDriverParams(seed: number): DriverSimParams {
  const rng = new SeededRng(seed ^ 0xd21e)
  const pick = <T>(items: readonly T[]): T => rng.pick(items)
  const electionTimeoutMs = pick([100, 150, 200])
  const leaseDriftRatio = pick([0.05, 0.1, 0.2])
  return {
    seed,
    nodes: pick([3, 3, 5]),
    joiners: pick([0, 0, 1, 2]),
    safetyMs: 1000,
    livenessMs: 4000,
    stepMs: 5,
    electionTimeoutMs,
    heartbeatIntervalMs: Math.round(electionTimeoutMs / pick([4, 5])),
    leaseDriftRatio,
    clockDriftMax: (leaseDriftRatio / 2) * rng.next() * 0.95,
    network: {
      delayMinMs: pick([0, 1]),
      delayMeanMs: pick([1, 3, 10]),
      lossRate: pick([0, 0.01, 0.05]),
      duplicateRate: pick([0, 0.01]),
      reorderRate: pick([0, 0.05]),
      partitionRate: pick([0, 0.001, 0.003]),
      unpartitionRate: pick([0.002, 0.005]),
      partitionStabilityMs: pick([50, 300]),
      unpartitionStabilityMs: pick([100, 300]),
      asymmetricRate: pick([0, 0.3]),
    },
    fsyncMs: pick([0, 1, 4]),
    killRate: pick([0, 0.001, 0.004]),
    downMs: [10, pick([100, 400])],
    pauseRate: pick([0, 0.001, 0.004]),
    pauseMs: [10, pick([100, 400])],
    writeRate: pick([0.1, 0.3, 0.6]),
    readRate: pick([0.1, 0.3, 0.6]),
    transferRate: pick([0, 0.002]),
    snapshotThreshold: pick([3, 8, 1000]),
  }
}

export function describeDriverParams(p: DriverSimParams): string {
  const n = p.network
  return [
    `seed=${p.seed} nodes=${p.nodes}+${p.joiners} joining safety=${p.safetyMs}ms liveness≤${p.livenessMs}ms step=${p.stepMs}ms`,
    `raft: election=${p.electionTimeoutMs}ms heartbeat=${p.heartbeatIntervalMs}ms leaseDrift=${p.leaseDriftRatio} clockDrift≤${p.clockDriftMax.toFixed(4)} snapshotEvery=${p.snapshotThreshold} fsync≤${p.fsyncMs}ms`,
    `net: delay=${n.delayMinMs}+exp(${n.delayMeanMs})ms loss=${n.lossRate} dup=${n.duplicateRate} reorder=${n.reorderRate} partition=${n.partitionRate}/ms heal=${n.unpartitionRate}/ms asym=${n.asymmetricRate}`,
    `faults: kill=${p.killRate}/step down≤${p.downMs[1]}ms pause=${p.pauseRate}/step pause≤${p.pauseMs[1]}ms; load: write=${p.writeRate} read=${p.readRate} transfer=${p.transferRate}`,
  ].join('\n')
}
