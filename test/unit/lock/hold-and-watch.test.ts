// Pure pieces of locks and watches: the hold monitor's decisions (with a scripted check), the
// lock-delay arithmetic, watch parameter validation, config `watches` parsing, and the watch loop's
// one-run-per-real-change rule (with a scripted plan; no agent needed).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {ApiClient} from '../../../src/lib/api/client.js'
import {ApiConnectionError, ApiResponseError} from '../../../src/lib/api/errors.js'
import {monitorHold, type HoldCheck} from '../../../src/lib/api/hold-monitor.js'
import {confirmWindowMs, killGraceMs, renewEveryMs} from '../../../src/lib/cli/lock-runner.js'
import {FAILOVER_ALLOWANCE_MS, HOLDER_LATENESS_MARGIN_MS} from '../../../src/lib/state/sessions.js'
import {parseWatches} from '../../../src/lib/agent/watch-config.js'
import {lineSink} from '../../../src/lib/agent/config-problems.js'
import {buildPlan, type WatchPlan} from '../../../src/lib/watch/plan.js'
import {runWatch, type WatchEvent} from '../../../src/lib/watch/watcher.js'

const scripted = (steps: Array<'held' | 'taken' | Error | 'hang'>): HoldCheck => {
  let i = 0
  return async ({signal}) => {
    const step = steps[Math.min(i++, steps.length - 1)]
    if (step === 'hang') {
      // A real hanging request holds a socket that keeps the process alive; AbortSignal.timeout does not.
      const keepAlive = setInterval(() => {}, 1000)
      await new Promise((_, reject) => signal.addEventListener('abort', () => {
        clearInterval(keepAlive)
        reject(new Error('aborted'))
      }, {once: true}))
    }
    if (step instanceof Error) throw step
    return {held: step === 'held', index: i}
  }
}

describe('hold monitor', () => {
  it('reports taken as soon as a read shows another holder', async () => {
    const result = await monitorHold(scripted(['held', 'held', 'taken']), {signal: new AbortController().signal})
    assert.equal(result.reason, 'taken')
  })

  it('rides out retryable errors up to `retries`, then gives up', async () => {
    const down = new ApiResponseError(500, 'No cluster leader')
    assert.equal((await monitorHold(scripted([down, 'held', 'taken']), {retries: 1, retryMs: 1, signal: new AbortController().signal})).reason, 'taken')
    assert.equal((await monitorHold(scripted([down, down, 'held']), {retries: 1, retryMs: 1, signal: new AbortController().signal})).reason, 'error')
    const refused = new ApiConnectionError('dial tcp: connect: connection refused', 'ECONNREFUSED')
    assert.equal((await monitorHold(scripted([refused, 'taken']), {retries: 3, retryMs: 1, signal: new AbortController().signal})).reason, 'taken')
  })

  it('a non-retryable error ends the hold at once', async () => {
    assert.equal((await monitorHold(scripted([new ApiResponseError(403, 'denied')]), {retries: 5, retryMs: 1, signal: new AbortController().signal})).reason, 'error')
  })

  it('with a confirmation window, a read that hangs past it loses the hold (a paused agent)', async () => {
    const started = Date.now()
    const result = await monitorHold(scripted(['hang']), {confirmWithinMs: 300, signal: new AbortController().signal})
    assert.equal(result.reason, 'unconfirmed')
    assert.ok(Date.now() - started < 2000)
  })

  it('stopping ends it quietly', async () => {
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 50)
    assert.equal((await monitorHold(scripted(['hang']), {signal: stop.signal})).reason, 'stopped')
  })

  it('grace and window always fit inside the lock-delay', () => {
    for (const delay of [0, 600, 2000, 15_000, 60_000]) {
      const window = confirmWindowMs(delay)
      assert.ok(killGraceMs(delay) + (window ?? 0) <= delay)
    }
    assert.equal(killGraceMs(15_000), 5000)
    assert.equal(confirmWindowMs(15_000), 10_000)
    assert.equal(confirmWindowMs(0), undefined)
  })

  it('with renewals as proofs: the window is lock-delay + allowance − lateness margin − grace, and several renewals fit in it', () => {
    for (const delay of [600, 2000, 15_000, 60_000]) {
      const window = confirmWindowMs(delay, true)!
      assert.equal(killGraceMs(delay) + window + HOLDER_LATENESS_MARGIN_MS, delay + FAILOVER_ALLOWANCE_MS)
      assert.ok(renewEveryMs(window) * 3 <= window)
    }
    assert.equal(confirmWindowMs(0, true), undefined)
  })

  it('with renewals as proofs: reads that hang (an election) do not lose the hold while renewals succeed; it ends when they stop', async () => {
    let proof = Date.now()
    const renewing = setInterval(() => { proof = Date.now() }, 50)
    const started = Date.now()
    const stop = new AbortController()
    setTimeout(() => clearInterval(renewing), 900)
    const result = await monitorHold(scripted(['hang']), {confirmWithinMs: 300, proofAt: () => proof, signal: stop.signal})
    const lasted = Date.now() - started
    clearInterval(renewing)
    assert.equal(result.reason, 'unconfirmed')
    assert.ok(lasted >= 900 && lasted < 3000, `lasted ${lasted} ms: past the renewals (900 ms), ended within the window after them`)
    assert.ok(Math.abs(result.confirmedAt - proof) < 5)
  })

  it('with renewals as proofs: read errors are retried until the deadline, and a taken lock still ends it at once', async () => {
    const down = new ApiResponseError(500, 'No cluster leader')
    const result = await monitorHold(scripted([down, down, down, 'held', 'taken']), {confirmWithinMs: 2000, retries: 0, retryMs: 10, proofAt: () => Date.now(), signal: new AbortController().signal})
    assert.equal(result.reason, 'taken')
  })
})

describe('watch parameters', () => {
  it('Consul\'s validation messages', () => {
    assert.throws(() => buildPlan({type: 'key'}), /Must specify a single key to watch/)
    assert.throws(() => buildPlan({type: 'service'}), /Must specify a single service to watch/)
    assert.throws(() => buildPlan({type: 'checks', service: 'a', state: 'passing'}), /Cannot specify service and state/)
    assert.throws(() => buildPlan({type: 'checks', state: 'bogus'}), /Invalid state/)
    assert.throws(() => buildPlan({type: 'bogus' as never}), /Unsupported watch type: bogus/)
    assert.ok(buildPlan({type: 'keyprefix', prefix: ''}))
  })

  it('config `watches`: script, shell handler, http; every problem named', () => {
    const problems: string[] = []
    const defs = parseWatches([
      {type: 'key', key: 'a', args: ['/bin/true']},
      {type: 'services', handler: 'echo hi'},
      {type: 'event', name: 'deploy', handler_type: 'http', http_handler_config: {path: 'http://127.0.0.1:1/x', timeout: '2s', header: {'X-A': ['b']}}},
    ], lineSink(problems))
    assert.deepEqual(problems, [])
    assert.deepEqual(defs.map((d) => d.handler.kind), ['script', 'script', 'http'])
    assert.equal(defs[1].handler.kind === 'script' && defs[1].handler.shell, true)
    const bad: string[] = []
    parseWatches([{type: 'key', key: 'a'}, {type: 'key', key: 'a', args: ['x'], bogus: 1}, 'x', {type: 'nodes', handler_type: 'ftp'}], lineSink(bad))
    assert.equal(bad.length, 4, bad.join('; '))
    const notList: string[] = []
    parseWatches({type: 'key'}, lineSink(notList))
    assert.match(notList[0], /watches: expected a list/)
  })

  it('identity ignores key order, so an unchanged watch is recognised on reload', () => {
    const problems: string[] = []
    const [a] = parseWatches([{type: 'key', key: 'k', args: ['x']}], lineSink(problems))
    const [b] = parseWatches([{args: ['x'], key: 'k', type: 'key'}], lineSink(problems))
    assert.equal(a.identity, b.identity)
  })
})

describe('watch loop', () => {
  const client = new ApiClient({address: '127.0.0.1:1'})
  const fakePlan = (results: Array<{value: unknown; index: number}>, stop: AbortController): WatchPlan => {
    let i = 0
    return {
      params: {type: 'key', key: 'k'},
      fetch: async () => {
        if (i >= results.length) {
          stop.abort()
          throw new Error('done')
        }
        const r = results[i++]
        return {value: r.value, meta: {lastIndex: r.index, knownLeader: true, lastContactMs: 0}}
      },
    }
  }

  it('runs the handler for the first result and each real change, not for an index move without a change', async () => {
    const stop = new AbortController()
    const seen: WatchEvent[] = []
    const plan = fakePlan([
      {value: null, index: 5}, {value: null, index: 5}, {value: {v: 1}, index: 6}, {value: {v: 1}, index: 7}, {value: {v: 2}, index: 9},
    ], stop)
    await runWatch(client, plan, async (e) => { seen.push(e) }, {signal: stop.signal, baseMs: 1, maxMs: 1})
    assert.deepEqual(seen.map((e) => [e.json, e.index]), [['null', 5], ['{"v":1}', 6], ['{"v":2}', 9]])
  })

  it('event watches deliver only events newer than the last delivered', async () => {
    const stop = new AbortController()
    const seen: unknown[] = []
    const plan = {...buildPlan({type: 'event', name: 'x'})}
    const inner = fakePlan([
      {value: [{ID: 'a'}], index: 1}, {value: [{ID: 'a'}, {ID: 'b'}], index: 2}, {value: [{ID: 'a'}, {ID: 'b'}, {ID: 'c'}], index: 3},
    ], stop)
    plan.fetch = inner.fetch
    await runWatch(client, plan, async (e) => { seen.push(e.value) }, {signal: stop.signal, baseMs: 1, maxMs: 1})
    assert.deepEqual(seen, [[{ID: 'a'}], [{ID: 'b'}], [{ID: 'c'}]])
  })
})
