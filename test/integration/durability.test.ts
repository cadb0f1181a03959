// Restart with -data-dir: every acknowledged write is still there, after a clean stop and after
// kill -9 in the middle of a write load; a damaged log is reported, not silently dropped.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {appendFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {startAgent, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

describe('durability across restarts', () => {
  it('keeps every acknowledged write across a clean restart and a kill -9 under load', async () => {
    const dir = tempDir()
    try {
      let agent = await startAgent({dataDir: dir.path})
      for (let i = 0; i < 50; i++) assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/d/${i}?flags=${i}`, `v${i}`)).text.trim(), 'true')
      await agent.stop()
      agent = await startAgent({dataDir: dir.path})
      const listed = (await http(agent.httpAddr, 'GET', '/v1/kv/d/?recurse')).json<Array<{Flags: number}>>()
      assert.equal(listed.length, 50)

      // Load from 8 writers; kill -9 mid-stream; every write answered `true` must survive.
      const acknowledged: string[] = []
      let stop = false
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const res = await http(agent.httpAddr, 'PUT', `/v1/kv/load/${w}/${i}`, `w${w}-${i}`)
            if (res.text.trim() === 'true') acknowledged.push(`load/${w}/${i}`)
          } catch {
            return // the agent is gone
          }
        }
      }
      const writers = Array.from({length: 8}, (_, w) => writer(w))
      // Kill once the load is well under way: at least 700 ms and 21 acknowledged writes (a loaded box
      // may need longer for that; bounded at 20 s).
      const loadStart = Date.now()
      await sleep(700)
      while (acknowledged.length <= 20 && Date.now() - loadStart < 20_000) await sleep(50)
      await agent.kill9()
      stop = true
      await Promise.all(writers)
      assert.ok(acknowledged.length > 20, `only ${acknowledged.length} writes acknowledged before the kill`)

      agent = await startAgent({dataDir: dir.path})
      const keys = new Set((await http(agent.httpAddr, 'GET', '/v1/kv/load/?keys')).json<string[]>())
      const missing = acknowledged.filter((key) => !keys.has(key))
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged writes lost`)
      const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/d/0')).headers['x-consul-index'])
      assert.ok(index > 0)
      await agent.stop()
    } finally {
      dir.cleanup()
    }
  })

  it('drops a torn final record but refuses a log corrupted in the middle', async () => {
    const dir = tempDir()
    try {
      let agent = await startAgent({dataDir: dir.path})
      for (let i = 0; i < 5; i++) await http(agent.httpAddr, 'PUT', `/v1/kv/t/${i}`, 'x')
      await agent.stop()
      const logPath = join(dir.path, 'raft', 'log.dat')
      appendFileSync(logPath, Buffer.from([9, 0, 0, 0, 1, 2, 3]))
      agent = await startAgent({dataDir: dir.path})
      assert.match(agent.output(), /torn record/)
      assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/t/?keys')).json<string[]>().length, 5)
      await agent.stop()

      const bytes = readFileSync(logPath)
      bytes[40] ^= 0xff // inside the first record's payload; later records stay intact
      writeFileSync(logPath, bytes)
      await assert.rejects(startAgent({dataDir: dir.path}), /corrupt/)
    } finally {
      dir.cleanup()
    }
  })
})
