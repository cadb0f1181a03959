// Malformed requests get a clear 4xx with a one-line reason, and the agent stays up.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

describe('bad input battery', () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent() })
  after(async () => { await agent.stop() })

  const cases: Array<{name: string; method: string; path: string; body?: string | Buffer; status: number; text?: RegExp}> = [
    {name: 'missing key on PUT', method: 'PUT', path: '/v1/kv/', body: 'x', status: 400, text: /^Missing key name$/},
    {name: 'missing key on GET', method: 'GET', path: '/v1/kv/', status: 400, text: /^Missing key name$/},
    {name: 'missing key on DELETE', method: 'DELETE', path: '/v1/kv/', status: 400, text: /^Missing key name$/},
    {name: 'control character in key', method: 'PUT', path: '/v1/kv/a%01b', body: 'x', status: 400, text: /non-printable/},
    {name: 'broken percent-encoding', method: 'GET', path: '/v1/kv/a%zz', status: 400, text: /percent-encoding/},
    {name: 'value over 512 KiB', method: 'PUT', path: '/v1/kv/huge', body: Buffer.alloc(512 * 1024 + 1, 97), status: 413, text: /too large, max size: 524288 bytes/},
    {name: 'non-numeric flags', method: 'PUT', path: '/v1/kv/k?flags=abc', body: 'x', status: 400, text: /flags/},
    {name: 'flags beyond uint64', method: 'PUT', path: '/v1/kv/k?flags=18446744073709551616', body: 'x', status: 400, text: /flags/},
    {name: 'non-numeric cas', method: 'PUT', path: '/v1/kv/k?cas=-1', body: 'x', status: 400, text: /cas/},
    {name: 'cas with acquire', method: 'PUT', path: '/v1/kv/k?cas=1&acquire=abc', body: 'x', status: 400, text: /^Conflicting flags: /},
    {name: 'recurse with cas on delete', method: 'DELETE', path: '/v1/kv/k?recurse&cas=1', status: 400, text: /^Conflicting flags: /},
    {name: 'bad index', method: 'GET', path: '/v1/kv/k?index=abc', status: 400, text: /^Invalid index$/},
    {name: 'bad wait', method: 'GET', path: '/v1/kv/k?index=1&wait=forever', status: 400, text: /^Invalid wait time$/},
    {name: 'stale with consistent', method: 'GET', path: '/v1/kv/k?stale&consistent', status: 400, text: /conflicting semantics/},
    {name: 'bad max_stale', method: 'GET', path: '/v1/kv/k?max_stale=soon', status: 400, text: /^Invalid max_stale value "soon"$/},
    {name: 'unknown datacenter', method: 'GET', path: '/v1/kv/k?dc=mars', status: 500, text: /^No path to datacenter$/},
    {name: 'txn with bad JSON', method: 'PUT', path: '/v1/txn', body: '[{"KV": ', status: 400, text: /^Failed to parse body/},
    {name: 'txn not an array', method: 'PUT', path: '/v1/txn', body: '{"KV": {}}', status: 400, text: /JSON array/},
    {name: 'txn with bad base64', method: 'PUT', path: '/v1/txn', body: '[{"KV": {"Verb": "set", "Key": "k", "Value": "!!!"}}]', status: 400, text: /base64/},
    {name: 'txn with unknown verb', method: 'PUT', path: '/v1/txn', body: '[{"KV": {"Verb": "explode", "Key": "k"}}]', status: 400, text: /unknown KV verb/},
    {name: 'txn over 64 ops', method: 'PUT', path: '/v1/txn', body: JSON.stringify(Array.from({length: 65}, (_, i) => ({KV: {Verb: 'set', Key: `k${i}`}}))), status: 413, text: /too many operations \(65 > 64\)/},
    {name: 'session body not JSON', method: 'PUT', path: '/v1/session/create', body: '{name:', status: 400, text: /^Failed to parse session body/},
    {name: 'session TTL unparsable', method: 'PUT', path: '/v1/session/create', body: '{"TTL": "soon"}', status: 400, text: /^Session TTL 'soon' invalid/},
    {name: 'session LockDelay wrong type', method: 'PUT', path: '/v1/session/create', body: '{"LockDelay": true}', status: 400, text: /LockDelay/},
    {name: 'session destroy without id', method: 'PUT', path: '/v1/session/destroy/', status: 400, text: /^Missing session$/},
    {name: 'renew unknown session', method: 'PUT', path: '/v1/session/renew/nope', status: 404, text: /^Session id 'nope' not found$/},
    {name: 'wrong method', method: 'PATCH', path: '/v1/kv/k', status: 405, text: /^method PATCH not allowed$/},
    {name: 'unknown route', method: 'GET', path: '/v1/nothing/here', status: 404},
    {name: 'enterprise namespace', method: 'GET', path: '/v1/kv/k?ns=team', status: 400, text: /Enterprise/},
  ]

  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const res = await http(agent.httpAddr, c.method, c.path, c.body)
      assert.equal(res.status, c.status, `${c.method} ${c.path}: ${res.text}`)
      if (c.text) assert.match(res.text, c.text)
      assert.ok(!res.text.includes('\n'), 'one-line reason')
    })
  }

  it('survives a garbage request line and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const [host, port] = agent.httpAddr.split(':')
      const socket = connect(Number(port), host, () => socket.end('\x00\x01 NOT HTTP\r\n\r\n'))
      socket.on('close', () => resolve())
      socket.on('error', () => resolve())
      socket.resume()
    })
    const res = await http(agent.httpAddr, 'PUT', '/v1/kv/still-up', 'yes')
    assert.equal(res.text.trim(), 'true')
  })

  it('answers OPTIONS with the allowed methods', async () => {
    const res = await http(agent.httpAddr, 'OPTIONS', '/v1/kv/k')
    assert.equal(res.status, 200)
    assert.equal(res.headers.allow, 'OPTIONS,GET,PUT,POST,DELETE')
  })
})
