// uint64 values a JS number cannot hold cross the wire exactly, against a real agent:
// - KV Flags up to 2^64-1 through /v1/txn (request JSON in, JSON out), as they already do through
//   /v1/kv?flags=; out-of-range or non-integer Flags are a 400 one-liner, a huge CAS Index a 409;
// - the event list's X-Consul-Index (a uint64 hash): a blocking list through the API client parks
//   until a new event instead of spinning on a rounded index.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {ApiClient} from '../../src/lib/api/client.js'
import {txn} from '../../src/lib/api/txn.js'
import {kvGet} from '../../src/lib/api/kv.js'
import {blockingQuery} from '../../src/lib/api/blocking.js'
import {eventFire, type UserEventEntry} from '../../src/lib/api/event.js'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

const MAX = 18446744073709551615n
const ABOVE_2_53 = 9007199254740993n // 2^53 + 1: the first integer a double rounds

let agent: TestAgent
let client: ApiClient
before(async () => {
  agent = await startAgent()
  client = new ApiClient({address: agent.httpAddr})
})
after(async () => {
  await client.close()
  await agent.stop()
})

const b64 = (text: string) => Buffer.from(text).toString('base64')
/** The agent may indent its JSON: compare the raw digits without the layout. */
const flat = (text: string) => text.replace(/\n\s*/g, '').replace(/": /g, '":')

describe('uint64 KV Flags through /v1/txn', () => {
  it('a raw JSON txn stores Flags 2^64-1 and 2^53+1 exactly, and txn get renders them as plain digits', async () => {
    const body = `[{"KV":{"Verb":"set","Key":"big/max","Value":"${b64('m')}","Flags":${MAX}}},` +
      `{"KV":{"Verb":"set","Key":"big/odd","Value":"${b64('o')}","Flags":${ABOVE_2_53}}}]`
    const put = await http(agent.httpAddr, 'PUT', '/v1/txn', body)
    assert.equal(put.status, 200, put.text)
    assert.match(flat(put.text), new RegExp(`"Key":"big/max","Flags":${MAX},`))
    const plain = await http(agent.httpAddr, 'GET', '/v1/kv/big/odd')
    assert.match(flat(plain.text), new RegExp(`"Flags":${ABOVE_2_53},`), 'the KV endpoint reads back the exact value')
    const read = await http(agent.httpAddr, 'PUT', '/v1/txn', '[{"KV":{"Verb":"get","Key":"big/max"}},{"KV":{"Verb":"get","Key":"big/odd"}}]')
    assert.equal(read.status, 200, read.text)
    assert.match(flat(read.text), new RegExp(`"Key":"big/max","Flags":${MAX},"Value":"${b64('m')}"`))
    assert.match(flat(read.text), new RegExp(`"Key":"big/odd","Flags":${ABOVE_2_53},`))
  })

  it('round-trips through the API client: /v1/kv?flags= in, txn out, and txn in, kv out', async () => {
    const put = await client.call('PUT', '/v1/kv/big/viakv', {params: {flags: MAX - 1n}, body: 'k'})
    assert.equal(put.body.toString().trim(), 'true')
    const viaTxn = await txn(client, [{verb: 'get', key: 'big/viakv'}])
    assert.equal(viaTxn.ok, true)
    assert.equal(viaTxn.results[0].flags, MAX - 1n)
    const written = await txn(client, [{verb: 'set', key: 'big/viatxn', value: 't', flags: ABOVE_2_53 + 2n}])
    assert.equal(written.ok, true, JSON.stringify(written.errors))
    assert.equal((await kvGet(client, 'big/viatxn')).pair?.flags, ABOVE_2_53 + 2n)
  })

  it('Flags outside uint64 or not an integer is a 400 naming the operation; a huge CAS Index just fails the CAS', async () => {
    for (const flags of [`${MAX + 1n}`, '-1', '1.5', '"7"']) {
      const res = await http(agent.httpAddr, 'PUT', '/v1/txn', `[{"KV":{"Verb":"set","Key":"big/x","Flags":0}},{"KV":{"Verb":"set","Key":"big/bad","Flags":${flags}}}]`)
      assert.equal(res.status, 400, flags)
      assert.equal(res.text, 'Operation 1: Flags must be an unsigned 64-bit integer', flags)
    }
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/big/x')).status, 404, 'nothing of a refused txn was applied')
    const cas = await http(agent.httpAddr, 'PUT', '/v1/txn', `[{"KV":{"Verb":"cas","Key":"big/max","Value":"${b64('z')}","Index":${MAX}}}]`)
    assert.equal(cas.status, 409, cas.text)
    assert.match(flat(cas.text), /"OpIndex":0/)
    const still = await kvGet(client, 'big/max')
    assert.equal(still.pair?.value.toString(), 'm')
    assert.equal(still.pair?.flags, MAX)
  })
})

describe('the event list\'s uint64 index through the API client', () => {
  it('a blocking list parks until a new event (no spin) and carries the index exactly', async () => {
    // The index is a hash of the newest event's ID: fire until it is one a double cannot hold
    // (each try misses with odds 2^-11).
    let index = 0n
    for (let i = 0; i < 20 && index <= BigInt(Number.MAX_SAFE_INTEGER); i++) {
      await eventFire(client, 'u64', 'seed')
      index = BigInt(String((await http(agent.httpAddr, 'GET', '/v1/event/list?name=u64')).headers['x-consul-index']))
    }
    assert.ok(index > BigInt(Number.MAX_SAFE_INTEGER), `index ${index} is above 2^53`)

    const controller = new AbortController()
    let requests = 0
    const sent: Array<number | bigint | undefined> = []
    const iterator = blockingQuery(async (q) => {
      requests += 1
      sent.push(q.waitIndex)
      return client.getJson('/v1/event/list', {...q, params: {name: 'u64'}})
    }, {signal: controller.signal, waitMs: 60_000, maxRetries: 3, baseMs: 100})
    try {
      const first = await iterator.next()
      assert.equal(first.done, false)
      assert.equal(first.value!.meta.lastIndexExact, index, 'the first read has the agent\'s exact index')
      const next = iterator.next()
      const quietMs = 1500
      await sleep(quietMs)
      const parkedRequests = requests
      console.log(`# event list: ${parkedRequests} requests in the first read plus ${quietMs} ms with no new event`)
      assert.ok(parkedRequests <= 2, `${parkedRequests} requests: the blocking read parked (a rounded index would spin)`)
      assert.equal(sent[1], index, 'the exact uint64 index went back to the agent')

      const fired = await eventFire(client, 'u64', 'wake')
      let timer: NodeJS.Timeout | undefined
      const woke = await Promise.race([next, new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), 15_000) })])
      clearTimeout(timer)
      assert.notEqual(woke, 'timeout', 'the parked list woke on the new event')
      const result = woke as IteratorResult<{value: unknown; meta: {lastIndexExact?: bigint}}>
      const events = result.value!.value as UserEventEntry[]
      assert.equal(events.at(-1)?.ID, fired.ID)
      const now = BigInt(String((await http(agent.httpAddr, 'GET', '/v1/event/list?name=u64')).headers['x-consul-index']))
      assert.equal(result.value!.meta.lastIndexExact, now)
      assert.ok(requests <= parkedRequests + 2, `${requests} requests in all: at most one re-read after a wake-up`)
    } finally {
      controller.abort()
      await iterator.return(undefined)
    }
  })
})
