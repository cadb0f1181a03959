// Anti-entropy on a three-server cluster: every agent, leader or follower, puts its own services
// into the shared catalog (followers' proposals are forwarded to the leader) and takes them out.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API */

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

describe('anti-entropy on a three-server cluster', () => {
  const ctx = useCluster(3, 'coord-agent-local-cluster-')

  it('each agent registers its own instance; every server sees all three; a deregister removes only that one', async () => {
    const {servers} = ctx.cluster
    for (const [i, server] of servers.entries()) {
      const res = await http(server.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({Name: 'web', ID: `web-${i}`, Port: 8000 + i, Check: {TTL: '1m', Status: 'passing'}}))
      assert.equal(res.status, 200, res.text)
    }
    const nodesOf = async (addr: string) => (await http(addr, 'GET', '/v1/catalog/service/web')).json<any[]>().map((e) => `${e.Node}/${e.ServiceID}`).sort()
    const want = servers.map((s, i) => `${s.name}/web-${i}`).sort()
    for (const server of servers) {
      const seen = await until(`three instances on ${server.name}`, async () => {
        const nodes = await nodesOf(server.httpAddr)
        return nodes.length === 3 ? nodes : undefined
      })
      assert.deepEqual(seen, want)
    }
    const passing = (await http(servers[0].httpAddr, 'GET', '/v1/health/service/web?passing')).json<any[]>()
    assert.equal(passing.length, 3, 'the passing TTL checks came along')
    assert.equal((await http(servers[1].httpAddr, 'PUT', '/v1/agent/service/deregister/web-1')).status, 200)
    const left = await until('web-1 gone', async () => {
      const nodes = await nodesOf(servers[2].httpAddr)
      return nodes.length === 2 ? nodes : undefined
    })
    assert.deepEqual(left, want.filter((n) => !n.endsWith('/web-1')))
  })
})
