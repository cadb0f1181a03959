// Sessions and locks over HTTP: one winner per lock, TTL expiry releases, lock-delay holds off
// a new holder after an invalidation but not after an explicit release.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

describe('sessions and locks', () => {
  let agent: TestAgent
  const dir = tempDir()
  before(async () => {
    // session_ttl_min lowered so the TTL test runs in seconds (an operator may do the same).
    const config = join(dir.path, 'fast.json')
    writeFileSync(config, JSON.stringify({session_ttl_min: '1s'}))
    agent = await startAgent({args: [`-config-file=${config}`]})
  })
  after(async () => {
    await agent.stop()
    dir.cleanup()
  })

  const createSession = async (body: object) => {
    const res = await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify(body))
    assert.equal(res.status, 200, res.text)
    return res.json<{ID: string}>().ID
  }
  const kv = async (path: string) => (await http(agent.httpAddr, 'GET', `/v1/kv/${path}`)).json<Array<Record<string, unknown>>>()[0]

  it('two sessions acquiring the same key: exactly one wins', async () => {
    const a = await createSession({Name: 'a'})
    const b = await createSession({Name: 'b'})
    const [ra, rb] = await Promise.all([
      http(agent.httpAddr, 'PUT', `/v1/kv/lock/one?acquire=${a}`, 'a'),
      http(agent.httpAddr, 'PUT', `/v1/kv/lock/one?acquire=${b}`, 'b'),
    ])
    assert.deepEqual([ra.text.trim(), rb.text.trim()].sort(), ['false', 'true'])
    const winner = ra.text.trim() === 'true' ? a : b
    const pair = await kv('lock/one')
    assert.equal(pair.Session, winner)
    assert.equal(pair.LockIndex, 1)
    // Re-acquire by the holder keeps the LockIndex; release clears the Session.
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/one?acquire=${winner}`, 'again')).text.trim(), 'true')
    assert.equal((await kv('lock/one')).LockIndex, 1)
    const loser = winner === a ? b : a
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/one?release=${loser}`)).text.trim(), 'false')
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/one?release=${winner}`)).text.trim(), 'true')
    assert.equal((await kv('lock/one')).Session, undefined)
    // An explicit release starts no lock-delay: the other session acquires at once.
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/one?acquire=${loser}`)).text.trim(), 'true')
    assert.equal((await kv('lock/one')).LockIndex, 2)
  })

  it('TTL expiry invalidates the session and releases its lock (within TTL × 2)', async () => {
    const id = await createSession({TTL: '1s', LockDelay: '0s'})
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/ttl?acquire=${id}`, 'x')).text.trim(), 'true')
    const renew = await http(agent.httpAddr, 'PUT', `/v1/session/renew/${id}`)
    assert.equal(renew.status, 200)
    const started = Date.now()
    let released = false
    while (Date.now() - started < 5000) {
      if ((await kv('lock/ttl')).Session === undefined) { released = true; break }
      await sleep(100)
    }
    const elapsed = Date.now() - started
    assert.ok(released, 'lock released after the TTL expired')
    assert.ok(elapsed >= 1000 && elapsed <= 3000, `released after ${elapsed} ms (TTL 1s, grace ×2, room for a busy box)`)
    const renewAfter = await http(agent.httpAddr, 'PUT', `/v1/session/renew/${id}`)
    assert.equal(renewAfter.status, 404)
    assert.equal(renewAfter.text, `Session id '${id}' not found`)
  })

  it('lock-delay blocks acquisition after the holder is invalidated, until its last sign of life + lock-delay + 2 s (coord)', async () => {
    const createdAt = Date.now()
    const holder = await createSession({LockDelay: '1s'})
    const next = await createSession({})
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/delay?acquire=${holder}`)).text.trim(), 'true')
    await http(agent.httpAddr, 'PUT', `/v1/session/destroy/${holder}`)
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/delay?acquire=${next}`)).text.trim(), 'false')
    await sleep(1100)
    // Consul would grant it now; coord's failover allowance (state/sessions.ts) counts from the creation.
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/lock/delay?acquire=${next}`)).text.trim(), 'false')
    let acquired = false
    for (let i = 0; i < 60 && !acquired; i++) {
      acquired = (await http(agent.httpAddr, 'PUT', `/v1/kv/lock/delay?acquire=${next}`)).text.trim() === 'true'
      if (!acquired) await sleep(100)
    }
    assert.ok(acquired)
    assert.ok(Date.now() - createdAt >= 3000, `granted ${Date.now() - createdAt} ms after the holder's creation`)
  })

  it('delete behaviour removes held keys when the session ends', async () => {
    const id = await createSession({Behavior: 'delete', LockDelay: 0})
    await http(agent.httpAddr, 'PUT', `/v1/kv/eph/key?acquire=${id}`, 'x')
    await http(agent.httpAddr, 'PUT', `/v1/session/destroy/${id}`)
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/eph/key')).status, 404)
  })

  it('lists sessions by node and validates create bodies', async () => {
    const list = await http(agent.httpAddr, 'GET', '/v1/session/node/test-node')
    assert.equal(list.status, 200)
    assert.ok(list.json<unknown[]>().length > 0)
    assert.ok(Number(list.headers['x-consul-index']) > 0)
    const badTtl = await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({TTL: '100h'}))
    assert.equal(badTtl.status, 400)
    assert.match(badTtl.text, /^Invalid Session TTL '360000000000000', must be between \[1s=24h0m0s\]$/)
    const badBehavior = await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({Behavior: 'explode'}))
    assert.equal(badBehavior.status, 400)
    assert.equal(badBehavior.text, "Invalid Behavior setting 'explode'")
    const badNode = await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({Node: 'nowhere'}))
    assert.equal(badNode.status, 400)
    const unknownAcquire = await http(agent.httpAddr, 'PUT', '/v1/kv/x?acquire=00000000-0000-0000-0000-000000000000')
    assert.equal(unknownAcquire.status, 400)
    assert.match(unknownAcquire.text, /session/i)
  })
})
