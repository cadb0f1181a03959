// Deterministic gossip simulation in `npm test` (ARCHITECTURE.md, house rule 6): fixed seeds at 5, 20 and 100
// members with coord's default profile, both scenarios (crash + one stalled member on a lossy
// network; partition and heal), plus a few random seeds printed with their parameters. Every crash
// must be declared failed by every live member and no running member (the stalled one included)
// may be declared failed: zero false positives. A failure prints the command that replays its seed;
// add a seed that once failed to REGRESSION_SEEDS. Bigger runs: test/sim/gossip-run.ts.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {describeGossipParams, type GossipParamOverrides} from './gossip-params.js'
import {describeFigures, runGossipSeed, summarize, type GossipSeedOutcome} from './gossip-runner.js'

/** Seeds that once exposed a bug, with the size they failed at (kept forever). */
const REGRESSION_SEEDS: Array<[number, GossipParamOverrides]> = [
  [3917910511, {members: 5}],
  [68802766, {members: 5}],
  [351574597, {members: 100}],
]

function runBatch(label: string, seeds: Array<[number, GossipParamOverrides]>, verbose: boolean): GossipSeedOutcome[] {
  const outcomes = seeds.map(([seed, o]) => {
    const outcome = runGossipSeed(seed, o)
    if (verbose) console.log(describeGossipParams(outcome.params))
    return outcome
  })
  console.log(describeFigures(label, summarize(outcomes)))
  const failures = outcomes.flatMap((o) => (o.failure ? [o.failure] : []))
  assert.deepEqual(failures, [], failures.join('\n\n'))
  return outcomes
}

describe('gossip simulation (coord defaults)', () => {
  it('regression seeds detect every crash with no false positive', () => {
    runBatch('regression', REGRESSION_SEEDS, false)
  })

  for (const [members, runs] of [[5, 40], [20, 16], [100, 8]] as const) {
    for (const scenario of ['crash', 'partition'] as const) {
      const seeds = Array.from({length: runs}, (_, i): [number, GossipParamOverrides] => [members * 1000 + (scenario === 'crash' ? 0 : 500) + i, {members, scenario}])
      it(`${members} members, ${scenario}: every crash declared by all, none healthy declared, views agree (seeds ${seeds[0][0]}..${seeds.at(-1)?.[0]})`, () => {
        const outcomes = runBatch(`${members} members ${scenario}`, seeds, false)
        for (const o of outcomes) assert.equal(o.result?.falsePositives, 0)
      })
    }
  }

  it('random seeds (printed; replay with SEED=… MEMBERS=…)', () => {
    const seeds = Array.from({length: 3}, (): [number, GossipParamOverrides] => [Math.floor(Math.random() * 2 ** 32), {members: 20}])
    runBatch('random', seeds, true)
  })
})
