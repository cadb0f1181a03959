// The Raft driver applies committed entries that are already on its disk before it writes the next
// Ready's entries: a write (and a read waiting for it) is answered without waiting for the fsync of
// proposals that came after it. Entries not yet on disk are still applied only after they are.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MemoryDurableStorage} from '../../../src/lib/raft/file-storage.js'
import type {Entry, SnapshotMeta} from '../../../src/lib/raft/types.js'
import {LogHub} from '../../../src/lib/logger.js'
import {RaftDriver, stableCount} from '../../../src/lib/server/raft-driver.js'
import type {PeerTransport, ReplicatedState} from '../../../src/lib/server/driver-ports.js'

class Sum implements ReplicatedState<Uint8Array, number> {
  total = 0
  apply(_index: number, command: Uint8Array): number {
    this.total += command[0]
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
    return {chunks: () => [bytes], install: () => this.restore(bytes)}
  }
}

interface Gate {opened: Promise<void>; open: () => void}

function gate(): Gate {
  let open!: () => void
  const opened = new Promise<void>((resolve) => { open = resolve })
  return {opened, open}
}

/** Memory storage whose appends of entries wait, one gate each in order, until the test opens them; snapshot writes and compactions wait on their own gates. */
class GatedAppends extends MemoryDurableStorage {
  snapshotGate: Gate | undefined
  compactGate: Gate | undefined
  written: number[] = []
  compacting = 0
  override async writeSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array>): Promise<boolean> {
    await this.snapshotGate?.opened
    this.written.push(meta.index)
    return super.writeSnapshot(meta, chunks)
  }
  override async compact(meta: SnapshotMeta): Promise<void> {
    this.compacting++
    try {
      await this.compactGate?.opened
    } finally {
      this.compacting--
    }
    return super.compact(meta)
  }
  readonly gates: Array<{opened: Promise<void>; open: () => void}> = []
  appending = 0
  hold(): () => void {
    let open!: () => void
    const opened = new Promise<void>((resolve) => { open = resolve })
    this.gates.push({opened, open})
    return open
  }
  override async append(entries: Entry[]): Promise<void> {
    if (entries.length > 0) {
      const gate = this.gates.shift()
      this.appending++
      try {
        if (gate) await gate.opened
      } finally {
        this.appending--
      }
    }
    return super.append(entries)
  }
}

const transport = {send: () => true, onMessage: () => {}, request: async () => undefined, onRequest: () => {}} as unknown as PeerTransport
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`)
    await sleep(2)
  }
}

/** A one-server driver on `storage`, bootstrapped and started (it elects itself). */
async function startAlone(storage: GatedAppends, state: Sum, snapshotThreshold: number): Promise<RaftDriver<Uint8Array, number>> {
  const logger = new LogHub('error', (line) => { throw new Error(`logged: ${line}`) }).logger('raft')
  const driver = new RaftDriver<Uint8Array, number>({
    id: 'a', address: '127.0.0.1:1', state, codec: {encode: (c) => c, decode: (b) => b.slice()},
    storage, transport, logger, seed: 1, snapshotThreshold,
  })
  await driver.bootstrap({voters: ['a'], learners: []})
  driver.start(true)
  return driver
}

describe('RaftDriver apply order', () => {
  it('answers a write on disk while the append of a later one is still in flight', async () => {
    const storage = new GatedAppends()
    const state = new Sum()
    const driver = await startAlone(storage, state, 1_000_000)
    try {
      await until('leader', () => driver.isLeader())
      await driver.propose(Uint8Array.of(0)) // settle the leader's first entries
      const openA = storage.hold()
      const openB = storage.hold()
      let answeredA = false
      let answeredB = false
      const a = driver.propose(Uint8Array.of(1)).then((r) => { answeredA = true; return r })
      await until('A is being written', () => storage.appending === 1)
      const b = driver.propose(Uint8Array.of(2)).then((r) => { answeredB = true; return r })
      openA()
      // A is durable; B's append (the next Ready's) is held: A is applied and answered meanwhile.
      await until('A is answered', () => answeredA)
      assert.equal(storage.appending, 1, "B's append is still in flight")
      assert.equal(answeredB, false, 'B is not answered before it is on disk')
      assert.equal(state.total, 1, 'only A is applied')
      assert.equal((await a).result, 1)
      await sleep(20)
      assert.equal(answeredB, false, 'B waits for its own append')
      openB()
      assert.equal((await b).result, 3)
    } finally {
      for (const gate of storage.gates) gate.open()
      await driver.close()
    }
  })

  it('answers a write on disk before the log is compacted to a snapshot that became durable meanwhile', async () => {
    const storage = new GatedAppends()
    const state = new Sum()
    const driver = await startAlone(storage, state, 2)
    try {
      await until('leader', () => driver.isLeader())
      storage.snapshotGate = gate()
      storage.compactGate = gate()
      await driver.propose(Uint8Array.of(1))
      await driver.propose(Uint8Array.of(1))
      // A snapshot is due and held on its way to disk; A's append is held too.
      const openA = storage.hold()
      let answeredA = false
      const a = driver.propose(Uint8Array.of(5)).then((r) => { answeredA = true; return r })
      await until('A is being written', () => storage.appending === 1)
      storage.snapshotGate.open()
      await until('the snapshot is durable', () => storage.written.length === 1)
      openA()
      // A is on disk and committed; compacting the log to the snapshot is held: A is answered first.
      await until('A is answered', () => answeredA)
      assert.equal((await a).result, 7)
      await until('the compaction runs', () => storage.compacting === 1)
      storage.compactGate.open()
      await until('the log is compacted', () => storage.compacting === 0 && storage.snapshot().index >= storage.written[0] && storage.firstIndex() > storage.written[0])
      assert.equal((await driver.propose(Uint8Array.of(1))).result, 8, 'writes go on after the compaction')
    } finally {
      for (const g of storage.gates) g.open()
      storage.snapshotGate?.open()
      storage.compactGate?.open()
      await driver.close()
    }
  })

  it('applies a Ready of many committed entries in slices, answering each slice before the next and letting timers run', async () => {
    const storage = new GatedAppends()
    // Each apply takes ~2 ms, so 40 entries applied at one go would hold the loop ~80 ms.
    let ticks = 0
    const seenTicks = new Set<number>()
    const state = new (class extends Sum {
      override apply(index: number, command: Uint8Array): number {
        seenTicks.add(ticks)
        const until = performance.now() + 2
        while (performance.now() < until) { /* a slow command */ }
        return super.apply(index, command)
      }
    })()
    const driver = await startAlone(storage, state, 1_000_000)
    const ticker = setInterval(() => { ticks++ }, 1)
    try {
      await until('leader', () => driver.isLeader())
      await driver.propose(Uint8Array.of(0))
      const openFirst = storage.hold()
      const first = driver.propose(Uint8Array.of(1))
      await until('the first write is being written', () => storage.appending === 1)
      // These queue behind it and commit together in the next Ready.
      let totalWhenSecondAnswered = -1
      const rest = Array.from({length: 40}, (_, i) => driver.propose(Uint8Array.of(1)).then((r) => {
        if (i === 0) totalWhenSecondAnswered = state.total
        return r
      }))
      seenTicks.clear()
      openFirst()
      await first
      const results = await Promise.all(rest)
      assert.deepEqual(results.map((r) => r.result), Array.from({length: 40}, (_, i) => i + 2), 'every write applied once, in order')
      assert.ok(totalWhenSecondAnswered > 0 && totalWhenSecondAnswered < 41, `the first writes were answered before the last was applied (total then ${totalWhenSecondAnswered})`)
      assert.ok(seenTicks.size >= 3, `timers ran between slices of the Ready (${seenTicks.size} distinct timer counts seen across 41 applies)`)
    } finally {
      clearInterval(ticker)
      for (const gate of storage.gates) gate.open()
      await driver.close()
    }
  })

  it('a close while a Ready is applied in slices waits for the round: every entry of it applied and answered', async () => {
    const storage = new GatedAppends()
    const state = new (class extends Sum {
      override apply(index: number, command: Uint8Array): number {
        const until = performance.now() + 2
        while (performance.now() < until) { /* a slow command */ }
        return super.apply(index, command)
      }
    })()
    const driver = await startAlone(storage, state, 1_000_000)
    await until('leader', () => driver.isLeader())
    await driver.propose(Uint8Array.of(0))
    const openFirst = storage.hold()
    const first = driver.propose(Uint8Array.of(1))
    await until('the first write is being written', () => storage.appending === 1)
    let closing: Promise<void> | undefined
    const rest = Array.from({length: 40}, (_, i) => driver.propose(Uint8Array.of(1)).then((r) => {
      // The first answer comes after the first slice: the close starts with the rest unapplied.
      if (i === 0) closing = driver.close()
      return r
    }))
    openFirst()
    await first
    const results = await Promise.allSettled(rest)
    await closing
    assert.ok(closing !== undefined, 'the close started while the round was being applied')
    assert.deepEqual(results.map((r) => r.status === 'fulfilled' ? r.value.result : `rejected: ${String(r.reason)}`), Array.from({length: 40}, (_, i) => i + 2))
    assert.equal(state.total, 41)
  })

  it('counts the committed entries before the first one a Ready writes', () => {
    const e = (index: number): Entry => ({index, term: 1, type: 'command', data: new Uint8Array()}) as Entry
    assert.equal(stableCount([e(3), e(4), e(5)], undefined), 3)
    assert.equal(stableCount([e(3), e(4), e(5)], 5), 2)
    assert.equal(stableCount([e(3), e(4)], 3), 0)
    assert.equal(stableCount([], 7), 0)
  })
})
