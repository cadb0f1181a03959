// CLI entry of the Raft simulation (`npm run sim`):
//   SEED=123 node dist/test/sim/run.js        replay one seed, printing its parameters first
//   RUNS=500 node dist/test/sim/run.js        that many random seeds (each printed on failure)
//   NODES=5 STEPS=3000                        override the cluster size / safety-phase length
import {describeParams, type ParamOverrides} from './params.js'
import {runSeed} from './runner.js'

const overrides: ParamOverrides = {}
if (process.env.NODES) overrides.nodes = Number(process.env.NODES)
if (process.env.STEPS) overrides.safetySteps = Number(process.env.STEPS)

function runOne(seed: number, verbose: boolean): boolean {
  const outcome = runSeed(seed, overrides)
  if (verbose) console.log(describeParams(outcome.params))
  if (outcome.failure) {
    console.error(outcome.failure)
    return false
  }
  if (verbose) console.log(`ok: ${outcome.result?.steps} steps (liveness in ${outcome.result?.livenessSteps}) ${JSON.stringify(outcome.result?.stats)}`)
  return true
}

if (process.env.SEED !== undefined) {
  process.exit(runOne(Number(process.env.SEED), true) ? 0 : 1)
}
const runs = Number(process.env.RUNS ?? 100)
const started = process.hrtime.bigint()
let failed = 0
let steps = 0
for (let i = 0; i < runs; i++) {
  const seed = Math.floor(Math.random() * 2 ** 32)
  const outcome = runSeed(seed, overrides)
  steps += outcome.result?.steps ?? 0
  if (outcome.failure) {
    failed++
    console.error(outcome.failure)
  }
}
const ms = Number(process.hrtime.bigint() - started) / 1e6
console.log(`${runs} runs, ${failed} failed, ${steps} steps in ${(ms / 1000).toFixed(1)}s`)
process.exit(failed > 0 ? 1 : 0)
