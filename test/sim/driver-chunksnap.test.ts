// A snapshot sent to a lagging follower in chunks (server/snapshot-transfer.ts) in the driver
// simulation: three real drivers, 4 KiB chunks, a network that loses, duplicates and reorders
// frames, the log compacted every 20 entries. A follower partitioned away while ~60 KiB of values
// are written rejoins behind the leader's snapshot and must catch up with every key, in a run of
// its own per seed: plainly with writes going on (so newer snapshots replace the one in transfer),
// with the follower restarted mid-transfer (it starts over), or with the leader killed mid-transfer
// (the new leader's transfer replaces the old one). The simulation's checkers run after every instant.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {SeededRng} from '../../src/lib/rng.js'
import {SNAPSHOT_CHUNK_METHOD, type ChunkRequest} from '../../src/lib/server/snapshot-transfer.js'
import {SmallRun} from './driver-small-run.js'

const SEEDS = [21, 22, 23, 24, 25, 26, 27, 28, 29]
const CHUNK = 4096
const MODES = ['writes going on', 'follower restarted mid-transfer', 'leader killed mid-transfer'] as const
const VALUE = 'v'.repeat(1000)

async function runSeed(seed: number): Promise<string> {
  const rng = new SeededRng(seed)
  const mode = MODES[seed % MODES.length]
  const run = new SmallRun(rng, {
    snapshotThreshold: 20, snapshotChunkBytes: CHUNK,
    net: {lossRate: rng.pick([0.02, 0.05, 0.1]), duplicateRate: 0.05, reorderRate: rng.pick([0, 0.1])},
  })
  // Every chunk request put on the wire, and the data bytes they carry (resends included).
  let chunkFrames = 0
  let chunkBytesSent = 0
  const send = run.net.send.bind(run.net)
  run.net.send = (frame, nowMs) => {
    if (frame.kind === 'req' && frame.method === SNAPSHOT_CHUNK_METHOD) {
      chunkFrames++
      chunkBytesSent += (frame.body as ChunkRequest).data?.length ?? 0
    }
    send(frame, nowMs)
  }
  await run.start()
  await run.write({key: 'first', value: 'f'})
  const leader = run.leader()!
  const lagging = rng.pick(run.nodes.filter((n) => n !== leader))
  run.net.isolate(lagging.id, run.scheduler.nowMs)
  const keys: string[] = []
  for (let i = 0; i < 60; i++) {
    keys.push(`k${i}`)
    await run.write({key: `k${i}`, value: `${VALUE}${i}`})
  }
  await run.until('the leader compacted past the cut-off follower', () => (run.leader()?.storage.snapshot().index ?? 0) > lagging.core.status().lastIndex)
  assert.equal(lagging.storage.chunksReceived, 0)
  run.net.heal(run.scheduler.nowMs)

  if (mode === 'writes going on') {
    for (let i = 60; i < 90; i++) {
      keys.push(`k${i}`)
      await run.write({key: `k${i}`, value: `${VALUE}${i}`})
    }
  } else {
    await run.until('some chunks arrived', () => lagging.storage.chunksReceived >= 3, 20_000)
    const victim = mode === 'leader killed mid-transfer' ? run.leader()! : lagging
    victim.kill()
    await run.sleep(rng.pick([20, 200]))
    victim.start()
  }
  const hasAll = () => lagging.status === 'up' && keys.every((key) => lagging.kv.get(key)?.value.startsWith(VALUE))
  await run.until('the lagging follower has every key', hasAll, 30_000)
  assert.ok(lagging.storage.installs >= 1, 'it caught up by a snapshot')
  // A snapshot of ~60 KiB in 4 KiB chunks: many chunks, each within the bound.
  assert.ok(lagging.storage.chunksReceived >= 14, `many chunks were written (${lagging.storage.chunksReceived})`)
  if (mode !== 'writes going on') assert.ok(lagging.storage.receives >= 2, `the transfer started over (${lagging.storage.receives} transfers)`)
  // Lost and duplicated chunks are resent, but the snapshot is not sent again and again.
  assert.ok(chunkBytesSent <= 4 * lagging.storage.receivedBytes + 8 * CHUNK, `bytes sent in chunks ${chunkBytesSent} vs received ${lagging.storage.receivedBytes}`)

  // Installed: no more chunks go out while nothing new needs them.
  await run.until('every server has every key', () => run.nodes.every((n) => n.status === 'up' && keys.every((key) => n.kv.get(key) !== undefined)), 10_000)
  const framesBefore = chunkFrames
  await run.sleep(2000)
  assert.ok(chunkFrames - framesBefore <= 2, `chunk requests after the install: ${chunkFrames - framesBefore}`)
  await run.write({key: 'after', value: 'a'})
  await run.until('every server has the write after', () => run.nodes.every((n) => n.kv.get('after')?.value === 'a'))
  return `${mode}: ${lagging.storage.receives} transfer(s), ${lagging.storage.chunksReceived} chunks written (${lagging.storage.receivedBytes} B), ${chunkFrames} chunk requests sent (${chunkBytesSent} B of data)`
}

describe('raft driver simulation: snapshots sent in chunks', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: a follower behind the snapshot catches up through 4 KiB chunks (${MODES[seed % MODES.length]})`, async (t) => {
      t.diagnostic(await runSeed(seed))
    })
  }
})
