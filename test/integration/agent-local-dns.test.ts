// End to end through the agent's local state: a service registered on the agent, with a TTL check,
// reaches the catalog by anti-entropy and answers in DNS while passing; a failing check or
// maintenance mode takes it out of the answers, and passing / leaving maintenance brings it back.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {agentDnsPort, dnsUdp} from '../helpers/dns.js'

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (await probe()) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

describe('agent-registered services in DNS', () => {
  let agent: TestAgent
  let port: number
  before(async () => {
    agent = await startAgent()
    port = await agentDnsPort(agent, 15_000)
  })
  after(() => agent.stop())

  it('follows the TTL check and maintenance mode', async () => {
    const put = (path: string, body?: unknown) => http(agent.httpAddr, 'PUT', path, body === undefined ? undefined : JSON.stringify(body))
    assert.equal((await put('/v1/agent/service/register', {Name: 'shop', Address: '10.1.2.3', Port: 80, Check: {CheckID: 'shop-ttl', TTL: '1m'}})).status, 200)
    const answers = async () => (await dnsUdp(port, 'shop.service.consul', 'A')).answers?.length ?? 0
    assert.equal(await answers(), 0, 'critical at first: not in DNS')
    await put('/v1/agent/check/pass/shop-ttl')
    const inAfter = await until('shop in DNS', async () => (await answers()) === 1)
    await put('/v1/agent/check/fail/shop-ttl')
    const outAfter = await until('shop out of DNS after fail', async () => (await answers()) === 0)
    await put('/v1/agent/check/pass/shop-ttl')
    await until('shop back', async () => (await answers()) === 1)
    await put('/v1/agent/service/maintenance/shop?enable=true&reason=deploy')
    const maintAfter = await until('shop out of DNS in maintenance', async () => (await answers()) === 0)
    await put('/v1/agent/service/maintenance/shop?enable=false')
    await until('shop back after maintenance', async () => (await answers()) === 1)
    // Figures for the notes: from the agent API call to the DNS answer changing (anti-entropy delta + Raft write).
    console.log(`# agent-local→DNS ms: pass→in ${inAfter}, fail→out ${outAfter}, maintenance→out ${maintAfter}`)
  })
})
