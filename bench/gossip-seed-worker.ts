// One gossip simulation seed on a worker thread (bench/gossip-suite.ts runs a profile's seeds on as
// many threads as the machine has cores). A seed is deterministic in simulated time, so a thread
// gives the same outcome as the main thread would; its outcome is plain data and crosses as a clone.
import {parentPort, workerData} from 'node:worker_threads'
import {runGossipSeed} from '../test/sim/gossip-runner.js'
import type {GossipParamOverrides} from '../test/sim/gossip-params.js'

const {seed, overrides} = workerData as {seed: number; overrides: GossipParamOverrides}
parentPort!.postMessage(runGossipSeed(seed, overrides))
