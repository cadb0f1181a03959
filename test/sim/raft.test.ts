// Deterministic Raft simulation in `npm test` (ARCHITECTURE.md, house rule 6): a fixed list of seeds (3- and
// 5-node clusters, fault rates drawn from each seed) plus a few random seeds, each printed with its
// parameters. A failure names the seed and the command that replays it exactly; add a seed that
// once failed to REGRESSION_SEEDS.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {describeParams, type ParamOverrides} from './params.js'
import {runSeed} from './runner.js'

/** Seeds that once exposed a bug (kept forever). */
const REGRESSION_SEEDS = [427131814, 3075928799, 1795462060, 3705239950, 1973933331, 3133985445]
const FIXED_RUNS_PER_SIZE = 800
const RANDOM_RUNS = 6

function runBatch(seeds: number[], overrides: ParamOverrides, verbose: boolean): void {
  let steps = 0
  const failures: string[] = []
  for (const seed of seeds) {
    const outcome = runSeed(seed, overrides)
    if (verbose) console.log(describeParams(outcome.params))
    if (outcome.failure) failures.push(outcome.failure)
    steps += outcome.result?.steps ?? 0
  }
  console.log(`${seeds.length} runs, ${steps} steps, ${failures.length} failed`)
  assert.deepEqual(failures, [], failures.join('\n\n'))
}

describe('raft simulation', () => {
  it('regression seeds stay safe and live', () => runBatch(REGRESSION_SEEDS, {}, false))

  for (const nodes of [3, 5]) {
    for (let batch = 0; batch < 4; batch++) {
      const size = FIXED_RUNS_PER_SIZE / 4
      const seeds = Array.from({length: size}, (_, i) => nodes * 100_000 + batch * size + i)
      it(`${nodes}-node clusters, fixed seeds ${seeds[0]}..${seeds.at(-1)}`, () => runBatch(seeds, {nodes}, false))
    }
  }

  it('random seeds (printed; replay with SEED=…)', () => {
    const seeds = Array.from({length: RANDOM_RUNS}, () => Math.floor(Math.random() * 2 ** 32))
    runBatch(seeds, {}, true)
  })
})
