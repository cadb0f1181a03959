// An operator's snapshot restore (RaftDriver.restore, RaftCore.installLocalSnapshot) in the driver
// simulation: three real drivers on simulated time, storage and a lossy network, with the
// simulation's checkers (log matching, state machine safety, election safety, leader completeness)
// after every instant. In each seeded run one follower is partitioned away and the other lags behind
// a lossy, slow link when the leader restores; the restore must reach both by InstallSnapshot (no
// log entry ever carries the restored state), a write after it must commit on the restored state,
// and a leader restarted afterwards must come back with it from its own storage.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {SeededRng} from '../../src/lib/rng.js'
import {SmallRun} from './driver-small-run.js'
import {Kv} from './kv.js'
import {HandedBytes} from '../../src/lib/handed-bytes.js'

const SEEDS = [11, 12, 13, 14, 15, 16, 17, 18]

async function runSeed(seed: number): Promise<void> {
  const rng = new SeededRng(seed)
  const run = new SmallRun(rng)
  await run.start()
  for (let i = 0; i < 5; i++) await run.write({key: `old${i}`, value: `v${i}`})
  const leader = run.leader()!
  const cut = rng.pick(run.nodes.filter((n) => n !== leader))
  // One follower is partitioned away and misses writes; the other lags behind a lossy link.
  run.net.isolate(cut.id, run.scheduler.nowMs)
  for (let i = 5; i < 10; i++) await run.write({key: `old${i}`, value: `v${i}`})
  run.net.opts = {...run.net.opts, lossRate: 0.2, delayMeanMs: 15}
  await run.until('the leader settles', () => run.leader() !== undefined)
  const restoring = run.leader()!

  const archive = new Kv()
  archive.apply(40, new TextEncoder().encode('restored=yes'))
  archive.apply(41, new TextEncoder().encode('other=1'))
  const archiveBytes = archive.serialize()
  const lastBefore = restoring.core.status().lastIndex
  const meta = await run.settle('the restore', restoring.driver.restore(new HandedBytes(archiveBytes), archive.applied))
  assert.equal(meta.index, Math.max(lastBefore, 41) + 1, 'the restore takes the index past the log and the archive')
  // Acknowledged once a quorum holds it (one follower is cut off: the lagging one installed it).
  const holding = run.nodes.filter((n) => n.storage.snapshot().index >= meta.index && n.driver.appliedIndex >= meta.index)
  assert.ok(holding.length >= 2 && !holding.includes(cut), `a quorum held the restore when it was acknowledged: ${holding.map((n) => n.id).join(', ')} (${run.roles()})`)
  run.checker.restoreInstalled(meta.index, meta.term)
  assert.equal(restoring.storage.snapshot().index, meta.index, 'the leader\'s snapshot is the restore')
  assert.equal(restoring.storage.lastIndex(), meta.index, 'the leader\'s log restarts after it')
  assert.equal(restoring.kv.get('restored')?.value, 'yes')
  assert.equal(restoring.kv.get('old0'), undefined, 'the state before the restore is gone')

  // A write after the restore commits on the restored state: a quorum must have installed it.
  const after = await run.write({key: 'after', value: 'a'})
  assert.ok(after > meta.index)
  run.net.opts = {...run.net.opts, lossRate: 0.02, delayMeanMs: 3}
  run.net.heal(run.scheduler.nowMs)
  const converged = () => run.nodes.every((n) => n.status === 'up' && n.kv.get('after')?.value === 'a' && n.kv.get('restored')?.value === 'yes' && n.kv.get('old0') === undefined)
  await run.until('every server has the restored state and the write after it', converged)
  for (const node of run.nodes) {
    assert.ok(node.storage.snapshot().index >= meta.index, `${node.id} holds the restore as its snapshot`)
    if (node !== restoring) assert.ok(node.storage.installs >= 1, `${node.id} received it by InstallSnapshot`)
  }
  const restoredText = new TextDecoder().decode(archiveBytes)
  assert.ok(!run.persisted.some((e) => new TextDecoder().decode(e.data).includes('restored')), `no log entry carries the restored state (${restoredText.length} bytes)`)

  // The leader restarts: it comes back with the restored state from its own storage.
  const again = run.leader()!
  again.kill()
  await run.sleep(50)
  again.start()
  await run.until('the restarted server has the restored state', () => again.kv.get('restored')?.value === 'yes' && again.kv.get('after')?.value === 'a')
  await run.write({key: 'later', value: 'l'})
  await run.until('every server has the later write', () => run.nodes.every((n) => n.kv.get('later')?.value === 'l' && n.kv.get('restored')?.value === 'yes'))
}

describe('raft driver simulation: snapshot restore', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: a restore with one follower partitioned and one lagging reaches all by InstallSnapshot`, async () => {
      await runSeed(seed)
    })
  }
})
