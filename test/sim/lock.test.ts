// The lock protocol across failovers, simulated (lock-sim.ts; ARCHITECTURE.md, "Lock safety across
// failover"): fixed seeds with every fault (leader crashes with elections up to 3 s, a client agent
// cut off, health invalidation after any detection time, operator destroys, slow disks) never give
// two children of different acquisitions overlapping running time; with elections only (≤ 1.5 s, the
// cluster's usual), no holder loses its lock; and a holder that trusts its lock 1 s longer than the
// servers honour is caught, so the checker has teeth; one that acts late by up to the margin it
// leaves unused (a busy machine) is safe.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {HOLDER_LATENESS_MARGIN_MS} from '../../src/lib/state/sessions.js'
import {runLockSim, type LockSimParams} from './lock-sim.js'

const SEEDS = Array.from({length: 40}, (_, i) => 7000 + i)
const base = {durationMs: 120_000, lockDelayMs: 2000}

function sum(params: Omit<LockSimParams, 'seed'>, seeds = SEEDS) {
  const totals = {violations: [] as string[], acquisitions: 0, electionLosses: 0, elections: 0, longestElectionMs: 0, partitions: 0, invalidations: 0}
  for (const seed of seeds) {
    const r = runLockSim({seed, ...params})
    totals.violations.push(...r.violations.map((v) => `seed ${seed}: ${v}`))
    totals.acquisitions += r.acquisitions
    totals.electionLosses += r.electionLosses
    totals.elections += r.elections
    totals.longestElectionMs = Math.max(totals.longestElectionMs, r.longestElectionMs)
    totals.partitions += r.partitions
    totals.invalidations += r.invalidations
  }
  return totals
}

describe('lock simulation across failovers', () => {
  it('every fault: never two holders running at once', () => {
    const t = sum({...base, maxElectionMs: 3000, partitions: true, destroys: true, slowDisks: true})
    console.log(`all faults: ${SEEDS.length} seeds × ${base.durationMs / 1000} s: ${t.acquisitions} acquisitions, ${t.elections} elections (longest ${t.longestElectionMs} ms), ${t.partitions} partitions, ${t.invalidations} invalidations, ${t.violations.length} violations`)
    assert.ok(t.acquisitions > SEEDS.length * 3, 'the faults made holders change hands')
    assert.deepEqual(t.violations.slice(0, 5), [])
  })

  it('elections only (≤ 1.5 s): holders keep their locks', () => {
    const t = sum({...base, maxElectionMs: 1500, partitions: false, destroys: false, slowDisks: false})
    console.log(`elections only: ${t.elections} elections (longest ${t.longestElectionMs} ms), ${t.acquisitions} acquisitions, ${t.electionLosses} holds lost to an election`)
    assert.ok(t.elections > SEEDS.length * 10)
    assert.equal(t.electionLosses, 0)
    assert.equal(t.acquisitions, SEEDS.length, 'one acquisition per run: the first holder kept the lock')
    assert.deepEqual(t.violations, [])
  })

  it('every fault, with the holder acting up to its lateness margin late (a busy machine): never two holders', () => {
    const t = sum({...base, maxElectionMs: 3000, partitions: true, destroys: true, slowDisks: true, holderLateMs: HOLDER_LATENESS_MARGIN_MS})
    console.log(`late holder (≤ ${HOLDER_LATENESS_MARGIN_MS} ms): ${t.acquisitions} acquisitions, ${t.violations.length} violations`)
    assert.ok(t.acquisitions > SEEDS.length * 3)
    assert.deepEqual(t.violations.slice(0, 5), [])
  })

  it('a holder that trusts its lock 1 s longer than the servers honour is caught', () => {
    const t = sum({...base, maxElectionMs: 3000, partitions: true, destroys: true, slowDisks: true, holderExtraMs: 1000})
    console.log(`wrong holder rule: ${t.violations.length} violations found, e.g. ${t.violations[0]}`)
    assert.ok(t.violations.length > 0)
  })
})
