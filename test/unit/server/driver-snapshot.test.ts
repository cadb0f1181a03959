// The Raft driver's snapshots: due by entry count or by bytes, written beside the Ready loop (writes
// keep committing while a snapshot is on its way to disk), the log compacted to it once durable.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MemoryDurableStorage} from '../../../src/lib/raft/file-storage.js'
import type {SnapshotMeta} from '../../../src/lib/raft/types.js'
import {LogHub} from '../../../src/lib/logger.js'
import {RaftDriver} from '../../../src/lib/server/raft-driver.js'
import type {PeerTransport, ReplicatedState} from '../../../src/lib/server/driver-ports.js'
import {HandedBytes} from '../../../src/lib/handed-bytes.js'

/** A state machine that keeps the bytes of every command; its snapshot is their total size. */
class Bytes implements ReplicatedState<Uint8Array, number> {
  total = 0
  apply(_index: number, command: Uint8Array): number {
    this.total += command.length
    return this.total
  }
  snapshotChunks(): Iterable<Uint8Array> {
    return [new TextEncoder().encode(String(this.total))]
  }
  restore(bytes: Uint8Array): void {
    this.total = Number(new TextDecoder().decode(bytes))
  }
  *prepareRestore(bytes: Uint8Array): Generator<void, {chunks: () => Iterable<Uint8Array>; install: () => void}> {
    yield
    const total = Number(new TextDecoder().decode(bytes))
    if (!Number.isInteger(total)) throw new Error('not a snapshot')
    return {chunks: () => [bytes], install: () => { this.total = total }}
  }
}

/** Memory storage whose snapshot writes wait until the test lets them through. */
class GatedStorage extends MemoryDurableStorage {
  gate: Promise<void> = Promise.resolve()
  stageGate: Promise<void> = Promise.resolve()
  written: number[] = []
  appended: Uint8Array[] = []
  override async append(entries: Parameters<MemoryDurableStorage['append']>[0]): Promise<void> {
    for (const entry of entries) this.appended.push(entry.data)
    return super.append(entries)
  }
  override async stageSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<void> {
    await this.stageGate
    return super.stageSnapshot(meta, chunks)
  }
  override async writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<boolean> {
    await this.gate
    this.written.push(meta.index)
    return super.writeSnapshot(meta, chunks)
  }
}

const transport: PeerTransport = {send: () => true, onMessage: () => {}, request: async () => undefined, onRequest: () => {}} as unknown as PeerTransport

async function singleServer(storage: GatedStorage, opts: {snapshotThreshold: number; snapshotMaxBytes?: number}, state = new Bytes()): Promise<RaftDriver<Uint8Array, number>> {
  const logger = new LogHub('error', (line) => { throw new Error(`logged: ${line}`) }).logger('raft')
  const driver = new RaftDriver<Uint8Array, number>({
    id: 'a', address: '127.0.0.1:1', state, codec: {encode: (c) => c, decode: (b) => b.slice()},
    storage, transport, logger, seed: 1, ...opts,
  })
  await driver.bootstrap({voters: ['a'], learners: []})
  driver.start(true)
  const deadline = Date.now() + 5000
  while (!driver.isLeader() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  assert.ok(driver.isLeader())
  return driver
}

describe('RaftDriver snapshots', () => {
  it('are taken by bytes as well as by entry count, and compact the log', async () => {
    const storage = new GatedStorage()
    const driver = await singleServer(storage, {snapshotThreshold: 1_000_000, snapshotMaxBytes: 20_000})
    try {
      for (let i = 0; i < 30; i++) await driver.propose(new Uint8Array(1000))
      const deadline = Date.now() + 5000
      while (storage.snapshot().index === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
      assert.ok(storage.written.length >= 1, 'a snapshot was written after ~20 KB of entries')
      assert.ok(storage.snapshot().index >= 20, `compacted to ${storage.snapshot().index}`)
      assert.ok(storage.firstIndex() > 20)
    } finally {
      await driver.close()
    }
  })

  it('writes keep committing while a snapshot is being written, and the log is compacted once it is durable', async () => {
    const storage = new GatedStorage()
    let open!: () => void
    storage.gate = new Promise((resolve) => { open = resolve })
    const driver = await singleServer(storage, {snapshotThreshold: 5})
    try {
      for (let i = 0; i < 5; i++) await driver.propose(new Uint8Array(10))
      // The snapshot at ~index 6 is held at the gate; the Ready loop must not be.
      const before = driver.appliedIndex
      for (let i = 0; i < 20; i++) await driver.propose(new Uint8Array(10))
      assert.equal(driver.appliedIndex, before + 20, 'writes committed while the snapshot was held')
      assert.equal(storage.snapshot().index, 0, 'nothing compacted before the snapshot is durable')
      open()
      const deadline = Date.now() + 5000
      while (storage.snapshot().index === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
      // The held snapshot was the one taken at the threshold (at most `before`); later ones follow it.
      assert.ok(storage.written[0] > 0 && storage.written[0] <= before, `the held snapshot was at ${storage.written[0]}`)
      assert.ok(storage.snapshot().index >= storage.written[0], `compacted to ${storage.snapshot().index}`)
    } finally {
      await driver.close()
    }
  })

  it('a restore is installed as a snapshot past the log, never appended; writes wait for it and then go on', async () => {
    const storage = new GatedStorage()
    const state = new Bytes()
    const driver = await singleServer(storage, {snapshotThreshold: 1_000_000}, state)
    try {
      for (let i = 0; i < 5; i++) await driver.propose(new Uint8Array(10))
      const last = driver.core.status().lastIndex
      let openStage!: () => void
      storage.stageGate = new Promise((resolve) => { openStage = resolve })
      const archive = new TextEncoder().encode('123456789')
      const restoring = driver.restore(new HandedBytes(archive), 100)
      // A write made while the restore is staged waits for it, and lands after it.
      await new Promise((r) => setTimeout(r, 20))
      const during = driver.propose(new Uint8Array(7))
      await new Promise((r) => setTimeout(r, 20))
      assert.equal(state.total, 50, 'nothing restored or applied while the restore is being staged')
      openStage()
      const meta = await restoring
      assert.equal(meta.index, Math.max(last, 100) + 1, 'the restore took the index past the log and the restored state')
      assert.equal(storage.snapshot().index, meta.index, 'the restore is the snapshot')
      assert.equal(storage.firstIndex(), meta.index + 1, 'the log restarts after it')
      const {index, result} = await during
      assert.equal(index, meta.index + 1)
      assert.equal(result, 123456789 + 7, 'the held write applied on the restored state')
      assert.ok(!storage.appended.some((data) => data.length === archive.length && data.every((b, i) => b === archive[i])), 'no log entry carries the restored state')
      await assert.rejects(driver.restore(new HandedBytes(new TextEncoder().encode('nope')), 0), /not a snapshot/)
      assert.equal(state.total, 123456789 + 7, 'a restore whose state cannot be used changes nothing')
      assert.equal((await driver.propose(new Uint8Array(1))).result, 123456789 + 8, 'writes go on after a refused restore')
    } finally {
      await driver.close()
    }
  })
})
