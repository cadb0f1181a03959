// A snapshot file sent to a follower as its bytes (FileSnapshotStore.openImage / receiveImage,
// server/snapshot-transfer.ts): read by offset on one side, appended in order on the other, checked
// against the header's crc32, and staged so adoptStaged makes it the snapshot.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FileSnapshotStore} from '../../../src/lib/raft/snapshot-store.js'
import {HandedBytes} from '../../../src/lib/handed-bytes.js'

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
      assert.equal(stored.stateBytes, state.length)
      // The state comes as a reader of the staged file (decoded a chunk at a time), not read whole.
      assert.ok(stored.state !== null && !(stored.state instanceof Uint8Array))
      assert.ok(Buffer.from(await new HandedBytes(stored.state, stored.stateBytes).whole()).equals(state))
      assert.ok(chunks > 70)
      assert.ok(!existsSync(follower.receivingPath), 'the receiving file was moved aside')
      follower.adoptStaged()
      assert.ok(readFileSync(follower.path).equals(readFileSync(leader.path)))
      assert.ok(Buffer.from(follower.load()!.state!).equals(state))
    } finally {
      cleanup()
    }
  })

  it('a received state is read from the file it was staged as, even after a newer transfer is staged over it', async () => {
    const {leader, follower, cleanup} = stores()
    try {
      const receive = async (fill: number) => {
        leader.save(meta, conf, Buffer.alloc(3_000_000, fill))
        const image = (await leader.openImage())!
        const sink = await follower.receiveImage()
        for (let offset = 0; offset < image.size; offset += 1 << 20) await sink.write(await image.read(offset, 1 << 20))
        await image.close()
        return await sink.finish()
      }
      const older = await receive(1)
      const newer = await receive(2)
      const read = async (state: typeof older.state, bytes: number) => Buffer.from(await new HandedBytes(state as Exclude<typeof state, null | Uint8Array>, bytes).whole())
      assert.ok((await read(older.state, older.stateBytes)).equals(Buffer.alloc(3_000_000, 1)), 'the older state, though its staged file was replaced')
      assert.ok((await read(newer.state, newer.stateBytes)).equals(Buffer.alloc(3_000_000, 2)))
      follower.adoptStaged()
      assert.ok(Buffer.from(follower.load()!.state!).equals(Buffer.alloc(3_000_000, 2)))
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
