import {describe, it} from 'node:test'
import {performance} from 'node:perf_hooks'
import assert from 'node:assert/strict'
import {ParkedRequest, blockingDeadline, blockingRead, readOrPark, type Watch} from '../../../src/lib/http/blocking.js'
import type {Indexed} from '../../../src/lib/state/types.js'
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

/** A request that parks without its handler: each run is `readOrPark`, as consistentRead does; answers are collected. */
class TestRequest<T> extends ParkedRequest {
  runs = 0
  readonly answers: Array<Indexed<T>> = []
  constructor(readonly read: () => Indexed<T>, readonly watchWith: Watch, minIndex: number, waitMs: number) {
    super(minIndex, blockingDeadline(waitMs, () => 0))
  }

  /** One run of the request (the first, or one a wake-up or the deadline started). */
  async run(): Promise<void> {
    this.runs++
    const result = readOrPark(this.read, this.watchWith, this)
    if (result) this.answers.push(result)
  }

  protected rerun(): Promise<void> {
    return this.run()
  }

  hangUp(): void {
    this.close()
  }
}

const turn = () => new Promise((r) => setImmediate(r))

describe('ParkedRequest (a read parked without its handler)', () => {
  it('runs again on a wake-up, parks the same record again on a spurious one, answers when the index passes', async () => {
    let index = 5
    const wakes: Array<() => void> = []
    let watching = 0
    const request = new TestRequest(() => ({index, value: index}), (wake) => { wakes.push(wake); watching++; return () => { watching-- } }, 5, 10_000)
    await request.run()
    assert.equal(request.answers.length, 0, 'parked: the run answered nothing')
    assert.ok(request.waiting)
    wakes.at(-1)!()
    wakes.at(-1)!() // a second wake-up before the re-run costs no second run
    await turn()
    assert.equal(request.runs, 2)
    assert.ok(request.waiting, 'parked again')
    assert.equal(watching, 1, 'one watcher at a time')
    index = 6
    wakes.at(-1)!()
    await turn()
    assert.deepEqual(request.answers, [{index: 6, value: 6}])
    assert.ok(request.closed)
    assert.equal(watching, 0)
  })

  it('answers the current result at its deadline, never early, and leaves no timer armed', async () => {
    const started = performance.now()
    const request = new TestRequest(() => ({index: 3, value: 'same'}), () => () => {}, 3, 120)
    await request.run()
    for (let i = 0; i < 200 && !request.closed; i++) await new Promise((r) => setTimeout(r, 20))
    const at = performance.now() - started
    assert.deepEqual(request.answers, [{index: 3, value: 'same'}])
    assert.ok(at >= 119, `answered at ${at.toFixed(1)} ms, not before the wait`)
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 0)
  })

  it('a hang-up frees the watcher and the wheel slot, and nothing runs it again', async () => {
    let watching = 0
    let wake!: () => void
    const request = new TestRequest(() => ({index: 1, value: 0}), (w) => { wake = w; watching++; return () => { watching-- } }, 1, 60)
    await request.run()
    request.hangUp()
    assert.equal(watching, 0)
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 0, 'no wheel timer left')
    wake()
    await new Promise((r) => setTimeout(r, 150))
    assert.equal(request.runs, 1, 'neither the wake-up nor the deadline ran it again')
  })

  it('a run whose read throws (a deleted token) frees the watcher and closes the record', async () => {
    let calls = 0
    let wake!: () => void
    let watching = 0
    const request = new TestRequest(() => {
      if (++calls > 1) throw new Error('ACL not found')
      return {index: 1, value: 0}
    }, (w) => { wake = w; watching++; return () => { watching-- } }, 1, 10_000)
    await request.run()
    wake()
    await turn()
    assert.equal(calls, 2)
    assert.equal(watching, 0)
    assert.ok(request.closed)
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
