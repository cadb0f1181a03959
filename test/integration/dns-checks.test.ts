// The whole discovery path on one real agent: a service registered on the agent with an HTTP
// check against a real HTTP server; the agent runs the check, syncs the catalog, and DNS follows
// the server's health (2xx in, 5xx out, 429 = warning still in, refused out).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {agentDnsPort, dnsUdp, type DnsReply} from '../helpers/dns.js'

describe('DNS follows agent-run health checks', () => {
  let agent: TestAgent
  let port: number
  let code = 200
  let target: Server
  let targetPort: number
  before(async () => {
    target = createServer((_req, res) => { res.writeHead(code); res.end('ok') })
    targetPort = await new Promise((resolve) => target.listen(0, '127.0.0.1', () => resolve((target.address() as AddressInfo).port)))
    agent = await startAgent()
    port = await agentDnsPort(agent)
  })
  after(async () => {
    await agent.stop()
    target.closeAllConnections()
    target.close()
  })

  /** Polls DNS until `pred` holds; returns the milliseconds it took. Bounded by `timeoutMs`. */
  async function until(pred: (r: DnsReply) => boolean, timeoutMs = 15_000): Promise<number> {
    const started = Date.now()
    let last: DnsReply | undefined
    while (Date.now() - started < timeoutMs) {
      last = await dnsUdp(port, 'api.service.consul', 'A')
      if (pred(last)) return Date.now() - started
      await sleep(50)
    }
    throw new Error(`DNS did not change in ${timeoutMs} ms; last rcode ${last?.rcode}, answers ${last?.answers?.length}`)
  }

  it('2xx → answered, 5xx → NXDOMAIN, 429 → answered (warning), refused → NXDOMAIN', async () => {
    const res = await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({
      Name: 'api', ID: 'api-1', Port: targetPort, Address: '127.0.0.1',
      Check: {HTTP: `http://127.0.0.1:${targetPort}/health`, Interval: '1s', Timeout: '1s'},
    }))
    assert.equal(res.status, 200, res.text)
    const figures: string[] = []
    figures.push(`registered→answered ${await until((r) => r.rcode === 'NOERROR' && r.answers?.length === 1)} ms`)
    code = 500
    figures.push(`500→gone ${await until((r) => r.rcode === 'NXDOMAIN')} ms`)
    code = 429
    figures.push(`429→back ${await until((r) => r.rcode === 'NOERROR')} ms`)
    target.closeAllConnections()
    await new Promise<void>((resolve) => target.close(() => resolve()))
    const gone = await until((r) => r.rcode === 'NXDOMAIN')
    figures.push(`refused→gone ${gone} ms`)
    console.log(`# DNS after an agent HTTP check (interval 1s): ${figures.join(', ')}`)
    const health = await http(agent.httpAddr, 'GET', '/v1/health/service/api')
    const checks = health.json<Array<{Checks: Array<{Status: string; Output: string}>}>>()[0].Checks
    const http0 = checks.find((c) => c.Output.includes('127.0.0.1'))
    assert.equal(http0?.Status, 'critical')
    assert.match(http0?.Output ?? '', /connection refused/)
    await new Promise<void>((resolve) => target.listen(targetPort, '127.0.0.1', () => resolve()))
  })
})
