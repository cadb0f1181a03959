// The leader's side of a restore a follower uploads in chunks (server/restore-upload.ts), with real
// files in a temporary dir and a clock the test moves: what is staged, what is given back, and that
// every way an upload ends short (a chunk twice, a gap, a quiet spell, leadership lost, a stop, a
// crash before the start) leaves no file behind.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import type {Clock, Timer} from '../../../src/lib/clock.js'
import {LogHub} from '../../../src/lib/logger.js'
import {CoordError} from '../../../src/lib/errors.js'
import {NoLeaderError} from '../../../src/lib/consensus.js'
import {RestoreUploads} from '../../../src/lib/server/restore-upload.js'
import {SNAPSHOT_MAX_BYTES} from '../../../src/lib/snapshot/archive.js'
import {HandedBytes} from '../../../src/lib/handed-bytes.js'
import {until} from '../../helpers/wait.js'

/** A clock whose timers fire only when the test advances it. */
function testClock(): Clock & {advance(ms: number): void} {
  let now = 0
  const timers = new Set<{at: number; fn: () => void}>()
  return {
    now: () => now,
    after(ms: number, fn: () => void): Timer {
      const timer = {at: now + ms, fn}
      timers.add(timer)
      return {cancel: () => timers.delete(timer)}
    },
    every: () => { throw new Error('not used') },
    defer: (fn) => queueMicrotask(fn),
    advance(ms: number) {
      now += ms
      for (const timer of [...timers]) if (timer.at <= now) { timers.delete(timer); timer.fn() }
    },
  }
}

function setup(opts: {memory?: boolean} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'coord-restore-upload-'))
  const clock = testClock()
  const lines: string[] = []
  let leading = true
  const uploads = new RestoreUploads({
    dir: opts.memory ? undefined : dir, clock, logger: new LogHub('info', (line) => lines.push(line)).logger('raft'),
    isLeader: () => leading, idleMs: 1000,
  })
  return {
    dir, clock, lines, uploads,
    staged: () => readdirSync(dir).filter((name) => name.startsWith('restore-upload-')),
    lose: () => { leading = false },
    done: () => rmSync(dir, {recursive: true, force: true}),
  }
}

const STATE = randomBytes(10_000)
const CHUNK = 4096
const chunkAt = (upload: string, offset: number) => ({upload, offset, size: STATE.length, data: STATE.subarray(offset, offset + CHUNK)})
const refused = (pattern: RegExp) => (error: unknown) => error instanceof CoordError && error.code === 'RESTORE_UPLOAD_FAILED' && pattern.test(error.message)

async function sendAll(uploads: RestoreUploads, upload: string, from = 'f1'): Promise<void> {
  for (let offset = 0; offset < STATE.length; offset += CHUNK) {
    assert.deepEqual(await uploads.chunk(from, chunkAt(upload, offset)), {next: Math.min(STATE.length, offset + CHUNK)})
  }
}

describe('restore uploads staged on the leader', () => {
  for (const memory of [false, true]) {
    it(`a complete upload is given back byte for byte and removed (${memory ? 'in memory' : 'in a file, read as a stream'})`, async () => {
      const t = setup({memory})
      try {
        await sendAll(t.uploads, 'u1')
        assert.equal(t.staged().length, memory ? 0 : 1)
        const taken = await t.uploads.take('f1', 'u1', STATE.length)
        assert.equal(taken instanceof Uint8Array, memory, 'in memory: the bytes; in a file: a reader')
        const bytes = taken instanceof Uint8Array ? taken : await new HandedBytes(taken, STATE.length).whole()
        assert.ok(Buffer.from(bytes).equals(STATE))
        assert.deepEqual(t.staged(), [], 'the file is gone once read to its end')
        assert.equal(t.uploads.size, 0)
        await assert.rejects(t.uploads.take('f1', 'u1', STATE.length), refused(/not staged here/))
      } finally {
        t.done()
      }
    })
  }

  it('a staged file whose reader is cancelled part way is removed', async () => {
    const t = setup()
    try {
      await sendAll(t.uploads, 'u2')
      const reader = await t.uploads.take('f1', 'u2', STATE.length)
      assert.ok(!(reader instanceof Uint8Array))
      assert.deepEqual(t.staged().length, 1, 'still staged while it is read')
      reader.cancel(new Error('the decode failed'))
      await until('the staged file removed', () => t.staged().length === 0)
    } finally {
      t.done()
    }
  })

  it('a chunk twice, a gap, another sender or an early restore drops the upload and its file', async () => {
    const t = setup()
    try {
      await t.uploads.chunk('f1', chunkAt('twice', 0))
      await assert.rejects(t.uploads.chunk('f1', chunkAt('twice', 0)), refused(/arrived twice/))
      await t.uploads.chunk('f1', chunkAt('gap', 0))
      await assert.rejects(t.uploads.chunk('f1', chunkAt('gap', 2 * CHUNK)), refused(/out of order/))
      assert.deepEqual(t.staged(), [])
      await t.uploads.chunk('f1', chunkAt('other', 0))
      await assert.rejects(t.uploads.chunk('f2', chunkAt('other', CHUNK)), refused(/another sender/))
      await t.uploads.chunk('f1', chunkAt('early', 0))
      await assert.rejects(t.uploads.take('f1', 'early', STATE.length), refused(/incomplete \(4096 of 10000 bytes\)/))
      assert.deepEqual(t.staged(), [])
      assert.equal(t.uploads.size, 0)
      // A later chunk of a dropped upload is refused, never starts a new one.
      await assert.rejects(t.uploads.chunk('f1', chunkAt('twice', CHUNK)), refused(/not staged here/))
      await assert.rejects(t.uploads.chunk('f1', {upload: 'x', offset: -1, size: 1, data: new Uint8Array(1)}), (e: CoordError) => e.code === 'RESTORE_UPLOAD_INVALID' && e.httpStatus === 400)
    } finally {
      t.done()
    }
  })

  it('an upload announcing more than a restore may hold is refused at its first chunk, with nothing staged', async () => {
    const t = setup()
    try {
      const tooLarge = (e: CoordError) => e.code === 'RESTORE_UPLOAD_TOO_LARGE' && e.httpStatus === 413
      await assert.rejects(t.uploads.chunk('f1', {upload: 'big', offset: 0, size: SNAPSHOT_MAX_BYTES + 1, data: new Uint8Array(8)}), tooLarge)
      assert.deepEqual(t.staged(), [])
      assert.equal(t.uploads.size, 0)
      // The largest a restore accepts is staged as any other.
      assert.deepEqual(await t.uploads.chunk('f1', {upload: 'max', offset: 0, size: SNAPSHOT_MAX_BYTES, data: new Uint8Array(8)}), {next: 8})
      assert.equal(t.staged().length, 1)
      await t.uploads.dropAll('test over')
    } finally {
      t.done()
    }
  })

  it('a quiet upload is dropped after its idle bound, and not before', async () => {
    const t = setup()
    try {
      await t.uploads.chunk('f1', chunkAt('quiet', 0))
      t.clock.advance(900)
      await t.uploads.chunk('f1', chunkAt('quiet', CHUNK))
      t.clock.advance(900)
      assert.equal(t.uploads.size, 1, 'each chunk restarts the bound')
      assert.equal(t.staged().length, 1)
      t.clock.advance(200)
      // The drop closes the file, then removes it (a few I/O turns): bounded wait.
      for (let i = 0; i < 100 && t.staged().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.deepEqual(t.staged(), [])
      assert.ok(t.lines.some((line) => /dropped a snapshot restore uploaded by a follower.*no chunk for 1000 ms/.test(line)), t.lines.join('\n'))
      await assert.rejects(t.uploads.chunk('f1', chunkAt('quiet', 2 * CHUNK)), refused(/not staged here/))
    } finally {
      t.done()
    }
  })

  it('leadership lost or a stop drops every upload; files of a crash are removed at start', async () => {
    const t = setup()
    try {
      await t.uploads.chunk('f1', chunkAt('a', 0))
      await t.uploads.chunk('f2', chunkAt('b', 0))
      await assert.rejects(t.uploads.chunk('f3', chunkAt('c', 0)), (e: CoordError) => e.code === 'RESTORE_UPLOAD_BUSY' && e.httpStatus === 429)
      await t.uploads.dropAll('the server is stopping')
      assert.deepEqual(t.staged(), [])
      await t.uploads.chunk('f1', chunkAt('d', 0))
      t.lose()
      await assert.rejects(t.uploads.chunk('f1', chunkAt('d', CHUNK)), (e: unknown) => e instanceof NoLeaderError)
      assert.deepEqual(t.staged(), [])
      assert.equal(t.uploads.size, 0)
      writeFileSync(join(t.dir, 'restore-upload-left-by-a-crash.tmp'), 'x')
      writeFileSync(join(t.dir, 'snapshot.dat'), 'kept')
      new RestoreUploads({dir: t.dir, clock: t.clock, logger: new LogHub('info', () => undefined).logger('raft'), isLeader: () => true})
      assert.deepEqual(readdirSync(t.dir), ['snapshot.dat'])
    } finally {
      t.done()
    }
  })
})
