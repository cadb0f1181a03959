// KV set-up and checks for tests on a real multi-server cluster: which server leads, many keys
// written in transactions, and how many keys a server's own state holds.
import assert from 'node:assert/strict'
import {http, sleep} from './http.js'

/** The position in `addrs` of the server that says it leads (/v1/agent/self), polled until `timeoutMs`. */
export async function leaderIndex(addrs: string[], timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (let i = 0; i < addrs.length; i++) {
      try {
        const self = await http(addrs[i], 'GET', '/v1/agent/self')
        if (self.json<{Stats: {consul: {leader: string}}}>().Stats.consul.leader === 'true') return i
      } catch {
        // not answering: try the next one
      }
    }
    await sleep(50)
  }
  throw new Error(`no leader within ${timeoutMs} ms`)
}

/** Writes `${prefix}0` … `${prefix}${count - 1}` (base64 values from `valueOf`) in /v1/txn batches of `perTxn`. */
export async function putMany(addr: string, prefix: string, count: number, valueOf: (i: number) => string, perTxn = 50): Promise<void> {
  for (let first = 0; first < count; first += perTxn) {
    const ops = Array.from({length: Math.min(perTxn, count - first)}, (_, i) => ({KV: {Verb: 'set', Key: `${prefix}${first + i}`, Value: valueOf(first + i)}}))
    const res = await http(addr, 'PUT', '/v1/txn', JSON.stringify(ops))
    assert.equal(res.status, 200, res.text)
  }
}

/** Keys under `prefix` as this server's own state has them (?stale: no leader involved). */
export async function keyCount(addr: string, prefix: string): Promise<number> {
  const res = await http(addr, 'GET', `/v1/kv/${prefix}?keys&stale`)
  if (res.status === 404) return 0
  assert.equal(res.status, 200, res.text)
  return res.json<string[]>().length
}
