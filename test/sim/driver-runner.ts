// Runs one seed of the driver simulation and turns any failure (a checker's SimFailure, an error
// the driver logged, a core assertion) into a report naming the seed and how to replay it.
import {DriverSimulation, type DriverRunResult} from './driver-cluster.js'
import {deriveDriverParams, describeDriverParams, type DriverSimParams} from './driver-params.js'

export interface DriverSeedOutcome {
  params: DriverSimParams
  result?: DriverRunResult
  failure?: string
}

export function driverReplayCommand(seed: number): string {
  return `COORD_SIM_SEED=${seed} node --test dist/test/sim/driver.test.js`
}

export async function runDriverSeed(seed: number): Promise<DriverSeedOutcome> {
  const params = deriveDriverParams(seed)
  const sim = new DriverSimulation(params)
  try {
    return {params, result: await sim.run()}
  } catch (error) {
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error)
    return {
      params,
      failure: `driver simulation seed ${seed} failed at t=${Math.round(sim.nowMs)}ms (instant ${sim.instants}): ${why}\n${describeDriverParams(params)}\nreplay: ${driverReplayCommand(seed)}`,
    }
  }
}
