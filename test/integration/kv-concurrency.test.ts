// Concurrent check-and-set: 20 incrementers racing on one counter lose no update.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

describe('concurrent CAS', () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent() })
  after(async () => { await agent.stop() })

  it('20 concurrent CAS incrementers lose no update', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/counter', '0')
    const perWorker = 25
    let conflicts = 0
    const worker = async () => {
      // Bounded: a worker gives up after 2000 attempts, which the final count would then expose.
      for (let done = 0, attempts = 0; done < perWorker && attempts < 2000; attempts++) {
        const res = await http(agent.httpAddr, 'GET', '/v1/kv/counter')
        const [pair] = res.json<Array<{Value: string; ModifyIndex: number}>>()
        const next = Number(Buffer.from(pair.Value, 'base64').toString()) + 1
        const put = await http(agent.httpAddr, 'PUT', `/v1/kv/counter?cas=${pair.ModifyIndex}`, String(next))
        if (put.text.trim() === 'true') done++
        else conflicts++
      }
    }
    await Promise.all(Array.from({length: 20}, worker))
    const final = await http(agent.httpAddr, 'GET', '/v1/kv/counter?raw')
    assert.equal(final.text, String(20 * perWorker))
    assert.ok(conflicts > 0, 'the workers really raced (some CAS attempts failed)')
  })
})
