// Runs one seed and turns any failure (a checker's SimFailure or a core assertion) into a report
// that names the seed and the command that replays it exactly.
import {Simulation, type RunResult} from './cluster.js'
import {deriveParams, describeParams, type ParamOverrides, type SimParams} from './params.js'

export interface SeedOutcome {
  params: SimParams
  result?: RunResult
  failure?: string
}

export function replayCommand(seed: number, overrides: ParamOverrides = {}): string {
  const env = [`SEED=${seed}`]
  if (overrides.nodes !== undefined) env.push(`NODES=${overrides.nodes}`)
  if (overrides.safetySteps !== undefined) env.push(`STEPS=${overrides.safetySteps}`)
  return `${env.join(' ')} node dist/test/sim/run.js`
}

export function runSeed(seed: number, overrides: ParamOverrides = {}): SeedOutcome {
  const params = deriveParams(seed, overrides)
  const sim = new Simulation(params)
  try {
    return {params, result: sim.run()}
  } catch (error) {
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error)
    return {
      params,
      failure: `seed ${seed} failed at step ${sim.step} (t=${sim.realMs}ms): ${why}\n${describeParams(params)}\nreplay: ${replayCommand(seed, overrides)}`,
    }
  }
}
