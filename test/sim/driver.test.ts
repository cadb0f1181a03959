// The driver simulation in `npm test` (ARCHITECTURE.md, house rule 6): the real Raft driver, read
// barrier and leader hold on simulated time, storage and network (driver-cluster.ts), over a fixed
// range of seeds plus a few random ones. Every failure prints its seed and parameters;
// COORD_SIM_SEED=<seed> runs that seed alone (printing its parameters and figures), e.g.
//   COORD_SIM_SEED=7001234 node --test dist/test/sim/driver.test.js
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {describeDriverParams} from './driver-params.js'
import {runDriverSeed} from './driver-runner.js'

/** Seeds that once exposed a bug (kept forever). */
const REGRESSION_SEEDS = [900001646]
const FIXED_SEEDS = 500
const BATCH = 50
const RANDOM_SEEDS = 4
const FIRST_FIXED_SEED = 7_000_000

async function runBatch(seeds: number[], verbose: boolean): Promise<Record<string, number>> {
  const started = performance.now()
  const failures: string[] = []
  const totals: Record<string, number> = {}
  for (const seed of seeds) {
    const outcome = await runDriverSeed(seed)
    if (verbose) console.log(describeDriverParams(outcome.params))
    if (outcome.failure) failures.push(outcome.failure)
    for (const [name, value] of Object.entries(outcome.result?.stats ?? {})) totals[name] = (totals[name] ?? 0) + value
    if (verbose && outcome.result) console.log(`ok: ${outcome.result.simulatedMs} simulated ms, ${outcome.result.instants} instants ${JSON.stringify(outcome.result.stats)}`)
  }
  console.log(`${seeds.length} runs, ${failures.length} failed, ${Math.round(performance.now() - started)} ms: ${JSON.stringify(totals)}`)
  assert.deepEqual(failures, [], failures.join('\n\n'))
  return totals
}

const only = process.env.COORD_SIM_SEED
describe('raft driver simulation', () => {
  if (only !== undefined) {
    it(`seed ${only} (COORD_SIM_SEED)`, async () => {
      assert.match(only, /^\d+$/, 'COORD_SIM_SEED must be a seed number')
      await runBatch([Number(only)], true)
    })
    return
  }
  it('regression seeds stay safe and live', async () => { await runBatch(REGRESSION_SEEDS, false) })

  const totals: Record<string, number> = {}
  for (let first = FIRST_FIXED_SEED; first < FIRST_FIXED_SEED + FIXED_SEEDS; first += BATCH) {
    const seeds = Array.from({length: BATCH}, (_, i) => first + i)
    it(`fixed seeds ${seeds[0]}..${seeds.at(-1)}`, async () => {
      for (const [name, value] of Object.entries(await runBatch(seeds, false))) totals[name] = (totals[name] ?? 0) + value
    })
  }

  it('the fixed seeds exercised every fault and both read paths', () => {
    // A suite that never killed, paused, partitioned, installed a snapshot or read would prove nothing.
    for (const name of ['kills', 'pauses', 'partitions', 'snapshotsInstalled', 'compactions', 'joinersPromoted', 'transfersDone', 'leaseReads', 'readIndexReads', 'writesAcked']) {
      assert.ok((totals[name] ?? 0) > 0, `no ${name} in ${FIXED_SEEDS} seeds: ${JSON.stringify(totals)}`)
    }
  })

  it('random seeds (printed; replay with COORD_SIM_SEED=…)', async () => {
    const seeds = Array.from({length: RANDOM_SEEDS}, () => Math.floor(Math.random() * 2 ** 32))
    console.log(`random seeds: ${seeds.join(' ')}`)
    await runBatch(seeds, false)
  })
})
