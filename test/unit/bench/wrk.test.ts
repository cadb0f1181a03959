// The bench's wrk driver (bench/wrk.ts) against a local Node HTTP server whose latencies we set:
// its percentiles must be the closed loop's own (wrk's coordinated-omission correction taken back
// out), its error count must catch a wrong status and a body the target does not accept, and its
// CPU figures must be there. Skips where Debian's wrk is not installed (.ci/run installs it).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {LoadResult} from '../../../bench/load.js'
import {generatorText} from '../../../bench/report.js'
import {histPercentiles, runWrk, wrkBin} from '../../../bench/wrk.js'

const skip = existsSync(wrkBin) ? false : 'wrk is not installed (Debian package wrk)'

/** Answers `/slow/*` after `slowMs`, `/missing/*` with 404, everything else at once with `body`. */
async function serve(slowMs: number, body: string): Promise<{server: Server; address: string; requests: () => number}> {
  let n = 0
  const server = createServer((req, res) => {
    n++
    const answer = (): void => {
      if (req.url!.startsWith('/missing/')) res.writeHead(404).end('no such key')
      else res.writeHead(200, {'content-type': 'text/plain'}).end(body)
    }
    if (req.url!.startsWith('/slow/')) setTimeout(answer, slowMs)
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  return {server, address: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, requests: () => n}
}

describe('bench wrk driver', {skip}, () => {
  it('reports the closed loop\'s own latencies: one request in five 100 ms late leaves the median fast', async () => {
    const {server, address, requests} = await serve(100, 'true')
    try {
      // Keys 0..4: key 0 is slow, so a fifth of the requests of each connection wait 100 ms.
      const paths = ['/slow/0', '/fast/1', '/fast/2', '/fast/3', '/fast/4']
      const r = await runWrk([{address, connections: 4, op: {method: 'PUT', paths, bodies: paths.map(() => 'v'), headers: {}, equals: 'true'}}], {durationMs: 2000, warmupMs: 0})
      console.log(`ops ${r.ops}, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, generator ${r.generatorCpuMsPerOp?.toFixed(3)} ms/op, server saw ${requests()}`)
      assert.equal(r.errors, 0)
      assert.ok(r.ops > 20 && r.ops <= requests(), `ops ${r.ops} of ${requests()} answered`)
      // wrk's corrected histogram would put the median near the slow requests (copies at 100 ms
      // less one, two, … mean intervals of ~20 ms); the closed loop's own median is a fast answer.
      assert.ok(r.p50Ms < 50, `p50 ${r.p50Ms} ms`)
      assert.ok(r.p99Ms >= 100 && r.p99Ms < 1000, `p99 ${r.p99Ms} ms`)
      // wrk's own CPU comes in clock ticks (10 ms): this mostly idle run (400 requests, most of its
      // time waiting on the slow key) may use less than one, so 0 is a reading, not a failure.
      assert.ok(r.generatorCpuMsPerOp !== undefined && Number.isFinite(r.generatorCpuMsPerOp) && r.generatorCpuMsPerOp >= 0)
      assert.equal(r.generator, undefined) // runTargets names it; runWrk alone does not
    } finally {
      server.close()
    }
  })

  it('counts a status other than 200 and a body without the expected text as errors', async () => {
    const {server, address} = await serve(0, '{"header":{}}')
    try {
      const paths = ['/missing/0', '/fast/1']
      const wrong = await runWrk([{address, connections: 2, op: {method: 'GET', paths, headers: {}}}], {durationMs: 1000, warmupMs: 0})
      assert.ok(wrong.errors > 0 && wrong.ops > 0, `errors ${wrong.errors}, ops ${wrong.ops}`)
      assert.match(wrong.firstError ?? '', /HTTP 404/)
      const absent = await runWrk([{address, connections: 2, op: {method: 'POST', paths: ['/fast/0'], bodies: ['{}'], headers: {'Content-Type': 'application/json'}, contains: '"kvs"'}}], {durationMs: 1000, warmupMs: 0})
      assert.equal(absent.ops, 0)
      assert.ok(absent.errors > 0)
      assert.match(absent.firstError ?? '', /HTTP 200 \{"header"/)
    } finally {
      server.close()
    }
  })

  it('merges histograms by nearest rank', () => {
    assert.deepEqual(histPercentiles([[1000, 98], [5000, 1], [9000, 1]], [50, 99, 100]), [1000, 5000, 9000])
    assert.deepEqual(histPercentiles([[3, 1]], [50]), [3])
    assert.ok(Number.isNaN(histPercentiles([], [50])[0]))
  })
})

describe('bench report: the generator line', () => {
  const row = (generator: string | undefined, generatorCpuMsPerOp?: number): LoadResult =>
    ({workers: 1, ops: 1, errors: 0, seconds: 1, opsPerSec: 1, p50Ms: 1, p99Ms: 1, loadStart: 0, loadEnd: 0, ...(generator ? {generator} : {}), ...(generatorCpuMsPerOp ? {generatorCpuMsPerOp} : {})})

  it('names the generator the rows recorded, and its median CPU per request', () => {
    const wrk = generatorText([row('wrk', 0.02), row('wrk', 0.03), row('wrk', 0.05)])
    assert.match(wrk, /^Load generator: wrk/)
    assert.match(wrk, /median 0\.030 ms per request/)
    assert.doesNotMatch(wrk, /undici/)
    assert.match(generatorText([row(undefined)]), /^Load generator: Node workers .*undici Pool/)
    assert.match(generatorText([row('wrk'), row('undici')]), /wrk.*Some rows: .*undici/)
  })
})
