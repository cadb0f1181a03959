import {describe, it} from 'node:test'
import {performance} from 'node:perf_hooks'
import assert from 'node:assert/strict'
import {blockingRead} from '../../../src/lib/http/blocking.js'
import {parseQueryOptions} from '../../../src/lib/http/query.js'
import {toJson} from '../../../src/lib/http/respond.js'

describe('blockingRead', () => {
  const never = new Promise<void>(() => {})

  it('answers at once without an index', async () => {
    const result = await blockingRead(() => ({index: 5, value: 'x'}), () => () => {}, {minIndex: 0, waitMs: 1000, closed: never})
    assert.deepEqual(result, {index: 5, value: 'x'})
  })

  it('parks until the index passes minIndex, ignoring wake-ups that do not', async () => {
    let index = 5
    const wakes: Array<() => void> = []
    const pending = blockingRead(() => ({index, value: index}), (wake) => { wakes.push(wake); return () => {} }, {minIndex: 5, waitMs: 10_000, closed: never})
    await new Promise((r) => setImmediate(r))
    wakes.at(-1)!() // spurious: index unchanged
    await new Promise((r) => setImmediate(r))
    assert.equal(wakes.length, 2, 're-parked after a spurious wake-up')
    index = 6
    wakes.at(-1)!()
    assert.deepEqual(await pending, {index: 6, value: 6})
  })

  it('times out with the current result', async () => {
    const started = Date.now()
    const result = await blockingRead(() => ({index: 3, value: 'same'}), () => () => {}, {minIndex: 3, waitMs: 100, closed: never, random: () => 0})
    assert.deepEqual(result, {index: 3, value: 'same'})
    assert.ok(Date.now() - started >= 95)
  })

  it('stops and releases its watcher when the client goes away', async () => {
    let cancelled = 0
    let close!: () => void
    const closed = new Promise<void>((r) => { close = r })
    const pending = blockingRead(() => ({index: 1, value: 0}), () => () => { cancelled++ }, {minIndex: 1, waitMs: 10_000, closed})
    close()
    assert.equal(await pending, undefined)
    assert.equal(cancelled, 1)
  })

  it('answers many parked reads at their own deadlines from the shared timer wheel, never early', async () => {
    const started = performance.now()
    const waits = [40, 260, 120, 60, 200, 120]
    const answered = await Promise.all(waits.map(async (waitMs, i) => {
      const result = await blockingRead(() => ({index: 1, value: i}), () => () => {}, {minIndex: 1, waitMs, closed: never, random: () => 0})
      return {i, waitMs, at: performance.now() - started, value: result?.value}
    }))
    console.log(answered.map((a) => `wait ${a.waitMs} ms answered at ${a.at.toFixed(0)} ms`).join('; '))
    for (const a of answered) {
      assert.equal(a.value, a.i)
      assert.ok(a.at >= a.waitMs - 1, `wait ${a.waitMs} answered at ${a.at.toFixed(1)} ms, not early`)
      assert.ok(a.at < a.waitMs + 2000, 'answered, with a bound generous for a loaded box')
    }
  })

  it('a read that throws on a wake-up rejects the request and frees its watcher', async () => {
    let calls = 0
    let wake!: () => void
    let watching = 0
    const pending = blockingRead(() => {
      if (++calls > 1) throw new Error('ACL not found')
      return {index: 1, value: 0}
    }, (w) => { wake = w; watching++; return () => { watching-- } }, {minIndex: 1, waitMs: 10_000, closed: never})
    wake()
    wake() // a second wake-up before the re-read costs no second read
    await assert.rejects(pending, /ACL not found/)
    assert.equal(calls, 2)
    assert.equal(watching, 0, 'every watcher it took is released')
  })

  it('a timed-out read and a closed one leave no wheel entry that fires later', async () => {
    let close!: () => void
    const closed = new Promise<void>((r) => { close = r })
    let reads = 0
    const pending = blockingRead(() => ({index: 1, value: ++reads}), () => () => {}, {minIndex: 1, waitMs: 50, closed, random: () => 0})
    close()
    assert.equal(await pending, undefined)
    // No timer of the wheel is left behind once no read is parked (the agent's shutdown checks for open handles).
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    assert.equal(timers, 0, `${timers} timers still armed`)
    await new Promise((r) => setTimeout(r, 150))
    assert.equal(reads, 1, 'the deadline of a closed read does not read again')
  })
})

describe('query options', () => {
  it('clamps wait to 10 minutes and parses Go durations', () => {
    assert.equal(parseQueryOptions(new URLSearchParams('wait=1h'), false).waitMs, 600_000)
    assert.equal(parseQueryOptions(new URLSearchParams('wait=1m30s&index=7'), false).waitMs, 90_000)
    assert.equal(parseQueryOptions(new URLSearchParams('index=7'), false).index, 7)
  })

  it('rejects conflicting or malformed options', () => {
    assert.throws(() => parseQueryOptions(new URLSearchParams('index=-1'), false), /Invalid index/)
    assert.throws(() => parseQueryOptions(new URLSearchParams('stale&consistent'), false), /conflicting semantics/)
  })
})

describe('toJson', () => {
  it('writes uint64 flags exactly', () => {
    assert.equal(toJson({Flags: 18446744073709551615n, n: 1}, false), '{"Flags":18446744073709551615,"n":1}')
    assert.equal(toJson([1], true), '[\n    1\n]\n')
  })
})
