// A snapshot file sent to a follower as its bytes (FileSnapshotStore.openImage / receiveImage,
// server/snapshot-transfer.ts): read by offset on one side, appended in order on the other, checked
// against the header's crc32, and staged so adoptStaged makes it the snapshot.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FileSnapshotStore} from '../../../src/lib/raft/snapshot-store.js'

const conf = {voters: ['a', 'b', 'c'], learners: []}
const meta = {index: 42, term: 3}

function stores(): {leader: FileSnapshotStore; follower: FileSnapshotStore; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), 'coord-image-'))
  const leaderDir = join(dir, 'leader')
  const followerDir = join(dir, 'follower')
  for (const d of [leaderDir, followerDir]) mkdirSync(d)
  return {leader: new FileSnapshotStore(leaderDir), follower: new FileSnapshotStore(followerDir), cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

describe('snapshot images', () => {
  it('a leader\'s snapshot file read in chunks and received in order becomes the follower\'s snapshot, byte for byte', async () => {
    const {leader, follower, cleanup} = stores()
    try {
      const state = Buffer.alloc(300_000, 7)
      state.write('coord state', 1000)
      leader.save(meta, conf, state)
      const image = (await leader.openImage())!
      assert.deepEqual(image.meta, {...meta, conf})
      assert.equal(image.size, readFileSync(leader.path).length)
      const sink = await follower.receiveImage()
      let chunks = 0
      for (let offset = 0; offset < image.size; offset += 4096, chunks++) await sink.write(await image.read(offset, 4096))
      await image.close()
      assert.equal(sink.received, image.size)
      const stored = await sink.finish()
      assert.deepEqual(stored.meta, meta)
      assert.deepEqual(stored.conf, conf)
      assert.ok(Buffer.from(stored.state!).equals(state))
      assert.ok(chunks > 70)
      assert.ok(!existsSync(follower.receivingPath), 'the receiving file was moved aside')
      follower.adoptStaged()
      assert.ok(readFileSync(follower.path).equals(readFileSync(leader.path)))
      assert.ok(Buffer.from(follower.load()!.state!).equals(state))
    } finally {
      cleanup()
    }
  })

  it('a damaged byte or a missing chunk fails the check; nothing is staged', async () => {
    const {leader, follower, cleanup} = stores()
    try {
      leader.save(meta, conf, Buffer.alloc(50_000, 1))
      const bytes = readFileSync(leader.path)
      const damaged = Buffer.from(bytes)
      damaged[20_000] ^= 0xff
      const sink = await follower.receiveImage()
      await sink.write(damaged)
      await assert.rejects(sink.finish(), /checksum mismatch/)
      await sink.discard()
      assert.ok(!existsSync(follower.stagedPath) && !existsSync(follower.receivingPath))

      const short = await follower.receiveImage()
      await short.write(bytes.subarray(0, 10_000))
      await short.write(bytes.subarray(14_096))
      await assert.rejects(short.finish(), /checksum mismatch/)
      await short.discard()
      assert.ok(!existsSync(follower.stagedPath))

      const notSnapshot = await follower.receiveImage()
      await notSnapshot.write(Buffer.alloc(100, 9))
      await assert.rejects(notSnapshot.finish(), /not a coord snapshot/)
      await notSnapshot.discard()
    } finally {
      cleanup()
    }
  })

  it('an image stays readable after a newer snapshot replaces the file; none without a state', async () => {
    const {leader, cleanup} = stores()
    try {
      leader.save({index: 0, term: 0}, conf, null)
      assert.equal(await leader.openImage(), undefined, 'the bootstrap snapshot has no state to send')
      leader.save(meta, conf, Buffer.alloc(10_000, 2))
      const image = (await leader.openImage())!
      const before = readFileSync(leader.path)
      leader.save({index: 50, term: 3}, conf, Buffer.alloc(20_000, 3))
      const read = Buffer.from(await image.read(0, image.size))
      await image.close()
      assert.ok(read.equals(before), 'the open image still reads the file it opened')
    } finally {
      cleanup()
    }
  })
})
