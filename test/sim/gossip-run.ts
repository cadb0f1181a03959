// CLI entry of the gossip simulation (bigger runs than npm test):
//   SEED=123 MEMBERS=500 node dist/test/sim/gossip-run.js      replay one seed (parameters printed first)
//   RUNS=20 MEMBERS=100 PROFILE=lan node dist/test/sim/gossip-run.js   that many random seeds, then figures
//   PROFILE=coord|lan|wan|local  SCENARIO=crash|partition  STALL_MS=1000  CRASHES=5  CONFIG='{"suspicionMult":3}'
//   WIRE=coord|memberlist (whose message sizes the run packs and counts; default: the profile's own)
import type {GossipProfile} from '../../src/lib/gossip/config.js'
import {describeGossipParams, type GossipParamOverrides, type GossipScenario} from './gossip-params.js'
import {describeFigures, runGossipSeed, summarize, type GossipSeedOutcome} from './gossip-runner.js'

const overrides: GossipParamOverrides = {}
if (process.env.MEMBERS) overrides.members = Number(process.env.MEMBERS)
if (process.env.PROFILE) overrides.profile = process.env.PROFILE as GossipProfile
if (process.env.SCENARIO) overrides.scenario = process.env.SCENARIO as GossipScenario
if (process.env.STALL_MS) overrides.stallMs = Number(process.env.STALL_MS)
if (process.env.CRASHES) overrides.crashes = Number(process.env.CRASHES)
if (process.env.WIRE === 'coord' || process.env.WIRE === 'memberlist') overrides.wire = process.env.WIRE
if (process.env.CONFIG) overrides.config = JSON.parse(process.env.CONFIG) as GossipParamOverrides['config']

const seeds = process.env.SEED !== undefined
  ? [Number(process.env.SEED)]
  : Array.from({length: Number(process.env.RUNS ?? 10)}, () => Math.floor(Math.random() * 2 ** 32))
const outcomes: GossipSeedOutcome[] = []
for (const seed of seeds) {
  const o = runGossipSeed(seed, overrides)
  outcomes.push(o)
  console.log(describeGossipParams(o.params))
  if (o.failure) console.error(o.failure)
  else console.log(`  ok in ${(o.wallMs / 1000).toFixed(1)}s wall: ${JSON.stringify(o.result)}`)
}
console.log(describeFigures(`profile=${overrides.profile ?? 'coord'} members=${overrides.members ?? 'mixed'}`, summarize(outcomes)))
process.exit(outcomes.some((o) => o.failure) ? 1 : 0)
