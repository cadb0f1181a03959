// Blocking queries: wake fast on a change to what was read, time out at ?wait, ignore other writes,
// and hold ten thousand parked requests at once with bounded memory.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {Agent, request} from 'undici'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0)
}

describe('blocking KV queries', () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent() })
  after(async () => { await agent.stop() })

  it('wakes on a change to the key, long before its wait (latency printed)', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/block/key', 'v1')
    const first = await http(agent.httpAddr, 'GET', '/v1/kv/block/key')
    const index = Number(first.headers['x-consul-index'])
    const started = performance.now()
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/block/key?index=${index}&wait=30s`)
    await sleep(200)
    const changedAt = performance.now()
    await http(agent.httpAddr, 'PUT', '/v1/kv/block/key', 'v2')
    const woke = await parked
    const latency = performance.now() - changedAt
    assert.equal(woke.status, 200)
    assert.ok(Number(woke.headers['x-consul-index']) > index)
    assert.equal(Buffer.from(woke.json<Array<{Value: string}>>()[0].Value, 'base64').toString(), 'v2')
    // Speed is measured in the bench; here: woken by the write, not by the 30 s wait.
    console.log(`blocking KV read woke ${latency.toFixed(1)} ms after the write`)
    assert.ok(latency < 5000, `woke ${latency.toFixed(1)} ms after the write`)
    assert.ok(changedAt - started >= 190, 'stayed parked until the write')
  })

  it('times out at wait with the same index, and ignores writes to other keys', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/block/quiet', 'q')
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/block/quiet')).headers['x-consul-index'])
    const started = performance.now()
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/block/quiet?index=${index}&wait=1s`)
    // Writes to other keys until ~900 ms: a wait restarted by any of them would end after 1.9 s.
    for (let i = 0; i < 6; i++) {
      await http(agent.httpAddr, 'PUT', `/v1/kv/block/other${i}`, 'x')
      await sleep(150)
    }
    const res = await parked
    const elapsed = performance.now() - started
    assert.equal(Number(res.headers['x-consul-index']), index)
    // wait plus at most wait/16 of jitter, with room for a busy box below that 1.9 s
    assert.ok(elapsed >= 990 && elapsed < 1000 + 1000 / 16 + 700, `returned after ${elapsed.toFixed(0)} ms`)
  })

  it('a prefix query wakes on a delete under the prefix, and its index does not go backwards', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/pfx/a', '1')
    await http(agent.httpAddr, 'PUT', '/v1/kv/pfx/b', '2')
    const first = await http(agent.httpAddr, 'GET', '/v1/kv/pfx/?recurse')
    const index = Number(first.headers['x-consul-index'])
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/pfx/?recurse&index=${index}&wait=10s`)
    await sleep(50)
    await http(agent.httpAddr, 'DELETE', '/v1/kv/pfx/b')
    const res = await parked
    assert.ok(Number(res.headers['x-consul-index']) > index)
    assert.deepEqual(res.json<Array<{Key: string}>>().map((p) => p.Key), ['pfx/a'])
  })

  it('holds 10,000 parked GETs with bounded memory and wakes each on its own change only', async () => {
    const keys = 100
    const perKey = 100
    for (let k = 0; k < keys; k++) await http(agent.httpAddr, 'PUT', `/v1/kv/many/${k}`, 'v0')
    const index = Number((await http(agent.httpAddr, 'GET', `/v1/kv/many/${keys - 1}`)).headers['x-consul-index'])
    const rssBefore = rssKiB(agent.pid)
    const dispatcher = new Agent({connections: keys * perKey + 10, pipelining: 0, keepAliveTimeout: 1000})
    let answered = 0
    const parked: Array<Promise<{key: number; index: number}>> = []
    for (let k = 0; k < keys; k++) {
      for (let n = 0; n < perKey; n++) {
        parked.push(request(`http://${agent.httpAddr}/v1/kv/many/${k}?index=${index}&wait=120s`, {dispatcher})
          .then(async (res) => {
            await res.body.text()
            answered++
            return {key: k, index: Number(res.headers['x-consul-index'])}
          }))
      }
    }
    // Wait until the agent holds them all (each is one open connection).
    const deadline = Date.now() + 60_000
    let held = 0
    while (Date.now() < deadline) {
      const self = await http(agent.httpAddr, 'GET', '/v1/kv/many/0')
      assert.equal(self.status, 200)
      held = readdirSync(`/proc/${agent.pid}/fd`).length
      if (held >= keys * perKey) break
      await sleep(200)
    }
    await sleep(500)
    const rssParked = rssKiB(agent.pid)
    // Unrelated writes wake nobody.
    for (let i = 0; i < 20; i++) await http(agent.httpAddr, 'PUT', `/v1/kv/unrelated/${i}`, 'x')
    await sleep(300)
    assert.equal(answered, 0, 'no parked request answered for writes to other keys')
    for (let k = 0; k < keys; k++) await http(agent.httpAddr, 'PUT', `/v1/kv/many/${k}`, 'v1')
    const results = await Promise.all(parked)
    await dispatcher.close()
    assert.equal(results.length, keys * perKey)
    assert.ok(results.every((r) => r.index > index), 'every parked request saw its key change')
    const growthMiB = (rssParked - rssBefore) / 1024
    console.log(`# 10,000 parked blocking GETs: agent RSS ${(rssBefore / 1024).toFixed(0)} MiB → ${(rssParked / 1024).toFixed(0)} MiB (+${growthMiB.toFixed(1)} MiB)`)
    assert.ok(growthMiB < 256, `parked requests grew the agent by ${growthMiB.toFixed(1)} MiB`)
  })
})
