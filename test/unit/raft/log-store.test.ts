import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync} from 'node:fs'
import {crc32} from 'node:zlib'
import {encode} from '@msgpack/msgpack'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FileLogStore, LogCorruptError, MemoryLogStore, RESIDENT_LOG_BYTES, type LogEntry} from '../../../src/lib/raft/log-store.js'
import {FileSnapshotStore} from '../../../src/lib/raft/snapshot-store.js'
import {deletedFilesOpen} from '../../helpers/open-files.js'
import {waitFor} from '../../helpers/wait.js'

const entry = (index: number, text = `cmd-${index}`): LogEntry => ({index, term: 1, data: new TextEncoder().encode(text)})

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-log-'))
  try {
    await fn(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('FileLogStore', () => {
  it('reopens with every appended entry', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2)])
    await store.append([entry(3)])
    await store.close()
    const reopened = await FileLogStore.open(dir, 0)
    assert.deepEqual(reopened.entries(1, 3).map((e) => new TextDecoder().decode(e.data)), ['cmd-1', 'cmd-2', 'cmd-3'])
    assert.equal(reopened.lastIndex(), 3)
    await reopened.close()
  }))

  it('keeps indexes and terms past 2^32 exact, record by record', () => withDir(async (dir) => {
    const base = 2 ** 40 + 5
    const store = await FileLogStore.open(dir, base)
    const written = [1, 2, 3].map((n) => ({index: base + n, term: 2 ** 33 + n, data: new Uint8Array(n * 7).fill(n)}))
    await store.append(written.slice(0, 2))
    await store.append(written.slice(2))
    await store.close()
    // Each record as the format says: [u32 length][u32 crc][u64 index][u64 term][data].
    const bytes = readFileSync(join(dir, 'log.dat'))
    let at = 8
    for (const e of written) {
      assert.equal(bytes.readUInt32LE(at), e.data.length)
      assert.equal(bytes.readBigUInt64LE(at + 8), BigInt(e.index))
      assert.equal(bytes.readBigUInt64LE(at + 16), BigInt(e.term))
      assert.equal(bytes.readUInt32LE(at + 4), crc32(bytes.subarray(at + 8, at + 24 + e.data.length)))
      at += 24 + e.data.length
    }
    assert.equal(at, bytes.length)
    const reopened = await FileLogStore.open(dir, base)
    assert.deepEqual(reopened.entries(base + 1, base + 3).map((e) => ({index: e.index, term: e.term, data: [...e.data]})), written.map((e) => ({index: e.index, term: e.term, data: [...e.data]})))
    await reopened.close()
  }))

  it('rejects an append that skips an index', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await assert.rejects(store.append([entry(2)]), /out of order/)
    await store.close()
  }))

  it('cuts off a torn final record and reports it', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2)])
    await store.close()
    const path = join(dir, 'log.dat')
    const whole = readFileSync(path)
    writeFileSync(path, whole.subarray(0, whole.length - 3)) // the last record lost its tail
    let dropped = 0
    const reopened = await FileLogStore.open(dir, 0, (bytes) => { dropped = bytes })
    assert.equal(reopened.lastIndex(), 1)
    assert.ok(dropped > 0)
    await reopened.append([entry(2, 'again')]) // and the log continues cleanly after the cut
    await reopened.close()
    const third = await FileLogStore.open(dir, 0)
    assert.equal(third.lastIndex(), 2)
    await third.close()
  }))

  it('cuts off a final record the disk never wrote (zero sectors), but refuses a whole final record that rotted', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2, 'x'.repeat(1500))])
    await store.close()
    const path = join(dir, 'log.dat')
    const whole = readFileSync(path)
    const lastStart = whole.length - (24 + 1500)
    // The file's length covers record 2, but one of its sectors reads as zeros: a torn write.
    const torn = Buffer.from(whole)
    torn.fill(0, 1024, 1536)
    writeFileSync(path, torn)
    const reopened = await FileLogStore.open(dir, 0, () => {})
    assert.equal(reopened.lastIndex(), 1)
    await reopened.close()
    // Record 2 whole, every sector written, one bit flipped: possibly acknowledged, so refused.
    const rotted = Buffer.from(whole)
    rotted[lastStart + 100] ^= 0x01
    writeFileSync(path, rotted)
    await assert.rejects(FileLogStore.open(dir, 0), (error: Error) => error instanceof LogCorruptError && /log\.dat: the last record \(byte \d+, index 2\) is whole but fails its checksum/.test(error.message))
  }))

  it('refuses a log whose middle is corrupt', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2), entry(3)])
    await store.close()
    const path = join(dir, 'log.dat')
    const bytes = readFileSync(path)
    bytes[8 + 24] ^= 0x55 // first record's payload
    writeFileSync(path, bytes)
    await assert.rejects(FileLogStore.open(dir, 0), LogCorruptError)
  }))

  it('refuses a file that is not a coord log', () => withDir(async (dir) => {
    writeFileSync(join(dir, 'log.dat'), 'hello, this is not a log file')
    await assert.rejects(FileLogStore.open(dir, 0), /bad magic/)
  }))

  describe('entries beyond the resident tail', () => {
    // 100 KB entries, each filled with its own index: 14 MiB in all, so the oldest leave memory.
    const big = (index: number): LogEntry => ({index, term: 2, data: new Uint8Array(100_000).fill(index % 251)})
    const count = Math.ceil((RESIDENT_LOG_BYTES * 1.75) / 100_000)
    const intact = (entries: LogEntry[], from: number, to: number): void => {
      assert.deepEqual(entries.map((e) => e.index), Array.from({length: to - from + 1}, (_, i) => from + i))
      for (const e of entries) assert.ok(e.data.length === 100_000 && e.data.every((b) => b === e.index % 251) && e.term === 2, `entry ${e.index}`)
    }
    /** Flips a byte in the data of `index`'s record (the file holds records of 24 + 100,000 bytes after an 8-byte magic, from index `first`). */
    const rot = (dir: string, index: number, first = 1): void => {
      const path = join(dir, 'log.dat')
      const bytes = readFileSync(path)
      bytes[8 + (index - first) * 100_024 + 24 + 500] ^= 0xff
      writeFileSync(path, bytes)
    }

    it('are read back from the file whole and checked (the newest stay in memory)', () => withDir(async (dir) => {
      const store = await FileLogStore.open(dir, 0)
      for (let i = 1; i <= count; i++) await store.append([big(i)])
      intact(store.entries(1, count), 1, count)
      assert.equal(store.termAt(1), 2)
      // Rot the oldest and the newest record on disk: only the oldest is read from the file.
      rot(dir, 1)
      rot(dir, count)
      intact(store.entries(count - 3, count), count - 3, count)
      assert.throws(() => store.entries(1, 2), (e: unknown) => e instanceof LogCorruptError && /index 1 at byte 8 no longer reads back intact/.test(e.message))
      await store.close()
    }))

    it('stop at maxBytes (at least one), and survive compaction, truncation and a reopen', () => withDir(async (dir) => {
      const store = await FileLogStore.open(dir, 0)
      for (let i = 1; i <= count; i += 4) await store.append([big(i), big(i + 1), big(i + 2), big(i + 3)].filter((e) => e.index <= count))
      intact(store.entries(1, count, 250_000), 1, 2)
      intact(store.entries(5, count, 10), 5, 5)
      await store.compact(3)
      intact(store.entries(1, count), 4, count)
      await store.truncateFrom(count - 1)
      intact(store.entries(1, count), 4, count - 2)
      await store.append([big(count - 1)])
      await store.close()
      const reopened = await FileLogStore.open(dir, 3)
      intact(reopened.entries(1, count), 4, count - 1)
      // After the reopen too the oldest come from the file: rotting one is found when it is read.
      rot(dir, 4, 4)
      assert.throws(() => reopened.entries(4, 4), LogCorruptError)
      intact(reopened.entries(count - 1, count - 1), count - 1, count - 1)
      await reopened.close()
    }))
  })

  it('compacts entries covered by a snapshot', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2), entry(3)])
    await store.compact(2)
    assert.equal(store.firstIndex(), 3)
    // The rewritten file replaced the old one, whose read descriptor is let go off the event loop.
    await waitFor('the old log file to be closed', () => deletedFilesOpen(dir).length === 0, 5000)
    await store.append([entry(4)])
    await store.close()
    const reopened = await FileLogStore.open(dir, 2)
    assert.deepEqual(reopened.entries(0, 10).map((e) => e.index), [3, 4])
    await reopened.close()
  }))

  // The file is read 1 MiB at a time with records checked as they arrive (LogScan); these span pieces.
  it('reads a log of several read pieces back whole, and refuses or cuts what is damaged past the first piece', () => withDir(async (dir) => {
    const big = (index: number): LogEntry => ({index, term: 3, data: Buffer.alloc(70_000, index % 251)})
    const store = await FileLogStore.open(dir, 0)
    for (let i = 1; i <= 40; i += 8) await store.append(Array.from({length: 8}, (_, j) => big(i + j)))
    await store.close()
    const path = join(dir, 'log.dat')
    const whole = readFileSync(path)
    assert.ok(whole.length > 2 * (1 << 20), `log is ${whole.length} bytes`)
    const reopened = await FileLogStore.open(dir, 0)
    const read = reopened.entries(1, 40)
    assert.deepEqual(read.map((e) => e.index), Array.from({length: 40}, (_, i) => i + 1))
    assert.ok(read.every((e) => e.term === 3 && e.data.length === 70_000 && e.data.every((b) => b === e.index % 251)))
    // Kept past a compaction, an entry no longer holds the whole file read at open in memory.
    await reopened.compact(38)
    assert.ok(reopened.entries(39, 40).every((e) => e.data.buffer.byteLength < whole.length), 'kept entries are copied out of the file read at open')
    await reopened.append([big(41)])
    await reopened.close()
    const again = await FileLogStore.open(dir, 38)
    assert.deepEqual(again.entries(0, 100).map((e) => e.index), [39, 40, 41])
    await again.close()
    // A payload byte flipped in the 2nd MiB, intact records after it: corruption.
    const rotted = Buffer.from(whole)
    rotted[(1 << 20) + 5000] ^= 0x10
    writeFileSync(path, rotted)
    await assert.rejects(FileLogStore.open(dir, 0), (error: Error) => error instanceof LogCorruptError && /checksum mismatch in the record at byte \d+ with intact records after it/.test(error.message))
    // The file ends inside a record in the 3rd MiB: the torn tail is cut, everything before it kept.
    writeFileSync(path, whole.subarray(0, whole.length - 1000))
    let dropped = 0
    const cut = await FileLogStore.open(dir, 0, (bytes) => { dropped = bytes })
    assert.equal(cut.lastIndex(), 39)
    assert.equal(dropped, 70_024 - 1000)
    await cut.close()
    // After a start no entry is a view of the file read whole (the newest are copied out, the rest
    // read back when asked), and cutting a long tail, then compacting, keeps them right.
    writeFileSync(path, whole)
    const follower = await FileLogStore.open(dir, 0)
    assert.ok(follower.entries(1, 40).every((e) => e.data.buffer.byteLength < whole.length), 'no entry holds the whole file read at open')
    await follower.truncateFrom(30)
    assert.ok(follower.entries(1, 40).every((e) => e.index < 30 && e.data.every((b) => b === e.index % 251)))
    await follower.compact(28)
    assert.deepEqual(follower.entries(0, 100).map((e) => e.index), [29])
    assert.ok(follower.entries(29, 29).every((e) => e.data.every((b) => b === 29 % 251)))
    await follower.close()
  }))

  it('detects a gap between the snapshot and the log', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2), entry(3)])
    await store.compact(2)
    await store.close()
    await assert.rejects(FileLogStore.open(dir, 0), /entries are missing/)
  }))
})

describe('MemoryLogStore', () => {
  it('follows the same contract', async () => {
    const store = new MemoryLogStore()
    await store.append([entry(1), entry(2)])
    await store.compact(1)
    assert.equal(store.firstIndex(), 2)
    assert.equal(store.lastIndex(), 2)
    await assert.rejects(store.append([entry(5)]), /out of order/)
  })
})

describe('FileSnapshotStore', () => {
  const conf = {voters: ['a', 'b'], learners: []}

  it('round-trips and detects damage', () => withDir(async (dir) => {
    const snapshots = new FileSnapshotStore(dir)
    assert.equal(snapshots.load(), undefined)
    snapshots.save({index: 7, term: 2}, conf, new Uint8Array([1, 2, 3]))
    const loaded = snapshots.load()
    assert.deepEqual(loaded?.meta, {index: 7, term: 2})
    assert.deepEqual(loaded?.conf, conf)
    assert.deepEqual([...loaded!.state!], [1, 2, 3])
    appendFileSync(snapshots.path, Buffer.from([9]))
    assert.throws(() => snapshots.load(), /checksum mismatch/)
  }))

  it('a state of several read pieces reads back whole; a byte flipped past the first piece is refused', () => withDir(async (dir) => {
    const snapshots = new FileSnapshotStore(dir)
    const state = Buffer.alloc(3 * (1 << 20) + 123)
    for (let i = 0; i < state.length; i++) state[i] = (i * 7) % 256
    snapshots.save({index: 9, term: 4}, conf, state)
    assert.ok(Buffer.from(snapshots.load()!.state!).equals(state))
    const bytes = readFileSync(snapshots.path)
    bytes[bytes.length - 50] ^= 0x01
    writeFileSync(snapshots.path, bytes)
    assert.throws(() => snapshots.load(), /snapshot checksum mismatch; the file is damaged/)
  }))

  it('an empty state (a bootstrapped cluster) reads back as null', () => withDir(async (dir) => {
    const snapshots = new FileSnapshotStore(dir)
    snapshots.save({index: 0, term: 0}, conf, null)
    assert.equal(snapshots.load()?.state, null)
  }))

  it('streams chunks to the file and reads them back as one state', () => withDir(async (dir) => {
    const snapshots = new FileSnapshotStore(dir)
    snapshots.save({index: 3, term: 1}, conf, new Uint8Array([9]))
    // More than one write's worth (1 MiB), in uneven chunks.
    const chunks = Array.from({length: 40}, (_, i) => new Uint8Array(40_000 + i).fill(i))
    assert.equal(await snapshots.write({index: 9, term: 2}, conf, chunks, () => true), true)
    const loaded = snapshots.load()!
    assert.deepEqual(loaded.meta, {index: 9, term: 2})
    assert.deepEqual(loaded.state, Buffer.concat(chunks))
    assert.deepEqual(readdirSync(dir).sort(), ['snapshot.dat'])
  }))

  it('a streamed snapshot no longer wanted once durable leaves the current one in place', () => withDir(async (dir) => {
    const snapshots = new FileSnapshotStore(dir)
    snapshots.save({index: 12, term: 3}, conf, new Uint8Array([1]))
    assert.equal(await snapshots.write({index: 9, term: 2}, conf, [new Uint8Array([2])], () => false), false)
    assert.deepEqual(snapshots.load()?.meta, {index: 12, term: 3})
    assert.deepEqual(readdirSync(dir).sort(), ['snapshot.dat'])
  }))

  it('reads the earlier CRDSNP01 format', () => withDir(async (dir) => {
    const payload = encode({conf, state: new Uint8Array([5, 6])})
    const header = Buffer.alloc(32)
    header.write('CRDSNP01', 0)
    header.writeBigUInt64LE(4n, 8)
    header.writeBigUInt64LE(1n, 16)
    header.writeUInt32LE(crc32(payload), 24)
    writeFileSync(join(dir, 'snapshot.dat'), Buffer.concat([header, payload]))
    const loaded = new FileSnapshotStore(dir).load()!
    assert.deepEqual(loaded.meta, {index: 4, term: 1})
    assert.deepEqual(loaded.conf, conf)
    assert.deepEqual([...loaded.state!], [5, 6])
  }))
})

describe('log truncation and reset', () => {
  it('truncateFrom drops the conflicting tail durably', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2), entry(3)])
    await store.truncateFrom(2)
    await store.append([entry(2, 'new-2')])
    await store.close()
    const reopened = await FileLogStore.open(dir, 0)
    assert.deepEqual(reopened.entries(1, 5).map((e) => new TextDecoder().decode(e.data)), ['cmd-1', 'new-2'])
    await reopened.close()
  }))

  it('reset restarts the log after a snapshot index', () => withDir(async (dir) => {
    const store = await FileLogStore.open(dir, 0)
    await store.append([entry(1), entry(2)])
    await store.reset(10)
    assert.equal(store.lastIndex(), 10)
    await store.append([entry(11)])
    await store.close()
    const reopened = await FileLogStore.open(dir, 10)
    assert.deepEqual(reopened.entries(0, 20).map((e) => e.index), [11])
    await reopened.close()
  }))
})

describe('FileStableStore', () => {
  it('persists term, vote and commit, and detects damage', () => withDir(async (dir) => {
    const {FileStableStore} = await import('../../../src/lib/raft/stable-store.js')
    const stable = new FileStableStore(dir)
    assert.deepEqual(stable.load(), {term: 0, vote: '', commit: 0})
    stable.save({term: 7, vote: 'server-b', commit: 42})
    assert.deepEqual(new FileStableStore(dir).load(), {term: 7, vote: 'server-b', commit: 42})
    const bytes = readFileSync(stable.path)
    bytes[bytes.length - 1] ^= 1
    writeFileSync(stable.path, bytes)
    assert.throws(() => stable.load(), /checksum mismatch/)
  }))
})
