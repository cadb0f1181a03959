// Consul's http_config guards, end to end on a real agent: writes only from the allow-listed
// addresses (a second loopback address is the allowed client), blocked endpoints answer 403 to
// everyone, response headers on every answer; a request's ?token= never reaches the log.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {join} from 'node:path'
import {writeFileSync} from 'node:fs'
import {startAgent, tempDir, type TestAgent} from '../helpers/agent.js'

function call(httpAddr: string, method: string, path: string, opts: {from?: string; body?: string} = {}): Promise<{status: number; text: string; headers: Record<string, unknown>}> {
  const [host, port] = httpAddr.split(':')
  return new Promise((resolve, reject) => {
    const req = request({host, port: Number(port), method, path, localAddress: opts.from}, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => resolve({status: res.statusCode ?? 0, text, headers: res.headers}))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

describe('http_config: allow_write_http_from, block_endpoints, response_headers', () => {
  const dir = tempDir('coord-http-config-')
  let agent: TestAgent
  before(async () => {
    const file = join(dir.path, 'http.json')
    writeFileSync(file, JSON.stringify({http_config: {allow_write_http_from: ['127.0.0.2/32'], block_endpoints: ['/v1/agent/self'], response_headers: {'X-Frame-Options': 'DENY'}}}))
    agent = await startAgent({args: [`-config-file=${file}`]})
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('refuses a write from an address outside the list with 403 "Access is restricted"; reads stay open', async () => {
    const refused = await call(agent.httpAddr, 'PUT', '/v1/kv/guarded', {from: '127.0.0.1', body: 'v'})
    assert.equal(refused.status, 403)
    assert.equal(refused.text, 'Access is restricted')
    const read = await call(agent.httpAddr, 'GET', '/v1/kv/guarded', {from: '127.0.0.1'})
    assert.equal(read.status, 404, 'nothing was written')
  })

  it('takes a write from an allow-listed address', async () => {
    const written = await call(agent.httpAddr, 'PUT', '/v1/kv/guarded', {from: '127.0.0.2', body: 'v'})
    assert.equal(written.status, 200)
    assert.equal(written.text.trim(), 'true')
    const read = await call(agent.httpAddr, 'GET', '/v1/kv/guarded?raw', {from: '127.0.0.1'})
    assert.equal(read.text, 'v')
  })

  it('answers a blocked endpoint with 403 for everyone, and sets the response headers on every answer', async () => {
    for (const from of ['127.0.0.1', '127.0.0.2']) {
      const blocked = await call(agent.httpAddr, 'GET', '/v1/agent/self', {from})
      assert.equal(blocked.status, 403)
      assert.equal(blocked.text, 'Endpoint is blocked by agent configuration')
      assert.equal(blocked.headers['x-frame-options'], 'DENY')
    }
    const open = await call(agent.httpAddr, 'GET', '/v1/agent/members')
    assert.equal(open.status, 200)
    assert.equal(open.headers['x-frame-options'], 'DENY')
  })

  it('never logs a ?token= value', async () => {
    // An unknown session makes the request fail on the server side; whatever it logs must not hold the secret.
    await call(agent.httpAddr, 'PUT', '/v1/kv/t?acquire=not-a-session&token=very-secret-token', {from: '127.0.0.2', body: 'v'})
    await call(agent.httpAddr, 'GET', '/v1/kv/t?token=very-secret-token&index=abc')
    assert.doesNotMatch(agent.output(), /very-secret-token/)
  })
})
