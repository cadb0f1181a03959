// A follower's reads of one event-loop turn share one read-index trip (read-index-batch.ts), and
// the trip runs in its first joiner's async context. A client agent's read waits at most
// CLIENT_AGENT_HOLD_MS for a leader (client-agent-hold.ts, through LeaderHold's waitCapMs): sharing
// a trip with it would cap a direct read's wait too (or lift the cap off the client agent's read,
// when the direct read joined first). ReadBarrier gives capped reads their own trip; this checks it
// on three real drivers in the simulation: the leader dies and no new one can be elected for 3 s,
// while a capped and an uncapped read are asked on a follower in the same turn, in both orders.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {NoLeaderError} from '../../src/lib/consensus.js'
import {SeededRng} from '../../src/lib/rng.js'
import {CLIENT_AGENT_HOLD_MS, clientAgentWaitCapMs, holdForClientAgent} from '../../src/lib/server/client-agent-hold.js'
import {SmallRun} from './driver-small-run.js'

const HOLD_MS = 6_000
const NO_LEADER_MS = 3_000

interface Outcome {
  atMs: number
  error?: unknown
}

function watch(run: SmallRun, read: Promise<void>): {outcome?: Outcome} {
  const box: {outcome?: Outcome} = {}
  read.then(() => { box.outcome = {atMs: run.scheduler.nowMs} }, (error: unknown) => { box.outcome = {atMs: run.scheduler.nowMs, error} })
  return box
}

async function scenario(seed: number, cappedFirst: boolean): Promise<void> {
  const run = new SmallRun(new SeededRng(seed), {holdMs: HOLD_MS, waitCapMs: clientAgentWaitCapMs})
  await run.start()
  await run.write({key: 'k', value: 'v'})
  const leader = run.leader()!
  const [follower, other] = run.nodes.filter((n) => n !== leader)
  // No quorum is left for HOLD_MS > NO_LEADER_MS > the cap: only the cap can end a capped read early.
  leader.kill()
  other.kill()
  const askedAt = run.scheduler.nowMs
  const capped = () => holdForClientAgent(() => follower.barrier.barrier('leader', 0))
  const direct = () => follower.barrier.barrier('leader', 0)
  // Both asked in one synchronous run: the same event-loop turn of the follower.
  const [first, second] = cappedFirst ? [capped(), direct()] : [direct(), capped()]
  const [cappedRead, directRead] = cappedFirst ? [watch(run, first), watch(run, second)] : [watch(run, second), watch(run, first)]

  await run.until('the capped read gives up', () => cappedRead.outcome !== undefined, NO_LEADER_MS)
  const gaveUp = cappedRead.outcome!
  assert.ok(gaveUp.error instanceof NoLeaderError, `the capped read answers No cluster leader (got ${String(gaveUp.error)})`)
  const waited = gaveUp.atMs - askedAt
  assert.ok(waited >= CLIENT_AGENT_HOLD_MS && waited < NO_LEADER_MS, `the capped read waited its cap of ${CLIENT_AGENT_HOLD_MS} ms, not less nor the full hold (${waited} ms)`)
  assert.equal(directRead.outcome, undefined, 'the direct read, asked in the same turn, still waits for a leader')

  await run.sleep(NO_LEADER_MS - (run.scheduler.nowMs - askedAt))
  assert.equal(directRead.outcome, undefined, `the direct read is still held ${NO_LEADER_MS} ms after it was asked (its hold is ${HOLD_MS} ms)`)
  other.start()
  await run.until('the direct read is answered by the new leader', () => directRead.outcome !== undefined, HOLD_MS)
  assert.equal(directRead.outcome!.error, undefined, `the direct read succeeds once a leader is elected (got ${String(directRead.outcome!.error)})`)
  assert.ok(run.leader() !== undefined, 'a leader was elected')
}

describe('raft driver simulation: a client agent\'s capped read does not cap a direct read in the same turn', () => {
  for (const seed of [21, 22, 23]) {
    it(`seed ${seed}: capped read asked first`, async () => { await scenario(seed, true) })
    it(`seed ${seed}: direct read asked first`, async () => { await scenario(seed, false) })
  }
})
