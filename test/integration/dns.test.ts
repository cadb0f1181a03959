// DNS on a real agent: a service registered through /v1/catalog/register answers over UDP and
// TCP (and dig, when installed); a failing check takes the instance out of the answers.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {agentDnsPort, dnsTcp, dnsUdp} from '../helpers/dns.js'
import {decode, encode} from 'dns-packet'
import {RemoteDnsCatalog} from '../../src/lib/dns/remote-catalog.js'
import {DnsResolver} from '../../src/lib/dns/resolver.js'
import {defaultDnsConfig} from '../../src/lib/agent/dns-config.js'

function register(agent: TestAgent, node: string, address: string, status: 'passing' | 'warning' | 'critical') {
  return http(agent.httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify({
    Node: node, Address: address,
    Service: {ID: 'web1', Service: 'web', Tags: ['primary'], Port: 8080},
    Check: {CheckID: 'web-alive', Name: 'web alive', Status: status, ServiceID: 'web1'},
  }))
}

describe('DNS on a real agent', () => {
  let agent: TestAgent
  let port: number
  before(async () => {
    agent = await startAgent()
    port = await agentDnsPort(agent)
  })
  after(() => agent.stop())

  it('a service registered over HTTP answers A and SRV over UDP and TCP', async () => {
    const res = await register(agent, 'app-node', '10.20.0.7', 'passing')
    assert.equal(res.status, 200, res.text)
    const a = await dnsUdp(port, 'web.service.consul', 'A')
    assert.equal(a.rcode, 'NOERROR')
    assert.deepEqual(a.answers?.map((r) => (r as {data: string}).data), ['10.20.0.7'])
    const srv = await dnsTcp(port, '_web._primary.service.dc1.consul', 'SRV')
    assert.deepEqual(srv.answers?.map((r) => (r as {data: unknown}).data), [{priority: 1, weight: 1, port: 8080, target: 'app-node.node.dc1.consul'}])
    assert.deepEqual(srv.additionals?.map((r) => [r.name, (r as {data: string}).data]), [['app-node.node.dc1.consul', '10.20.0.7']])
    const node = await dnsUdp(port, 'app-node.node.consul', 'A')
    assert.deepEqual(node.answers?.map((r) => (r as {data: string}).data), ['10.20.0.7'])
  })

  it('the agent\'s own node answers', async () => {
    const self = await dnsUdp(port, 'test-node.node.consul', 'A')
    assert.equal(self.rcode, 'NOERROR')
    assert.equal(self.answers?.length, 1)
  })

  it('a critical check removes the instance (NXDOMAIN with SOA); passing brings it back', async () => {
    assert.equal((await register(agent, 'app-node', '10.20.0.7', 'critical')).status, 200)
    const gone = await dnsUdp(port, 'web.service.consul', 'A')
    assert.equal(gone.rcode, 'NXDOMAIN')
    assert.equal(gone.authorities?.[0].type, 'SOA')
    assert.equal((await register(agent, 'app-node', '10.20.0.7', 'warning')).status, 200)
    assert.equal((await dnsTcp(port, 'web.service.consul', 'A')).answers?.length, 1)
  })

  it('RemoteDnsCatalog (for client agents) reads the same answers from a server\'s /v1 API', async () => {
    const get = async (url: string) => {
      const res = await http(agent.httpAddr, 'GET', url)
      if (res.status === 404) return undefined
      assert.equal(res.status, 200, `${url}: ${res.text}`)
      return res.json()
    }
    const resolver = new DnsResolver({config: defaultDnsConfig, datacenter: 'dc1', catalog: new RemoteDnsCatalog(get, 'dc1')})
    const ask = async (name: string, type: 'A' | 'SRV') => {
      const reply = await resolver.resolve(decode(encode({type: 'query', id: 1, questions: [{name, type}]})), 'tcp')
      assert.ok('packet' in reply)
      return decode(encode(reply.packet)) as ReturnType<typeof decode> & {rcode: string}
    }
    const srv = await ask('web.service.consul', 'SRV')
    assert.deepEqual(srv.answers?.map((r) => (r as {data: unknown}).data), [{priority: 1, weight: 1, port: 8080, target: 'app-node.node.dc1.consul'}])
    assert.deepEqual((await ask('app-node.node.consul', 'A')).answers?.map((r) => (r as {data: string}).data), ['10.20.0.7'])
    assert.equal((await ask('ghost.node.consul', 'A')).rcode, 'NXDOMAIN')
    assert.equal((await ask('nope.service.consul', 'A')).rcode, 'NXDOMAIN')
  })

  it('-dns-port=-1 starts no DNS server', async () => {
    const quiet = await startAgent({args: ['-dns-port=-1']})
    try {
      await sleep(300)
      assert.doesNotMatch(quiet.output(), /Started DNS server/)
      assert.match(quiet.output(), /Consul agent running!/)
    } finally {
      await quiet.stop()
    }
  })

  it('dig answers SRV from the agent', async (t) => {
    const dig = await new Promise<string | undefined>((resolve) => execFile('sh', ['-c', 'command -v dig'], (error, out) => resolve(error ? undefined : out.trim())))
    if (!dig) {
      t.skip('dig is not installed (Debian package dnsutils)')
      return
    }
    const out = await new Promise<string>((resolve, reject) => execFile(dig, ['@127.0.0.1', '-p', String(port), '+short', '+time=3', '+tries=1', 'web.service.consul', 'SRV'],
      {timeout: 10_000}, (error, stdout) => (error ? reject(error) : resolve(stdout))))
    assert.equal(out.trim(), '1 1 8080 app-node.node.dc1.consul.')
  })
})
