// RemoteDnsCatalog's reads of another datacenter: the URL names it with ?dc= (and ?stale as
// allow_stale says), Consul's "No path to datacenter" is an unknown datacenter (NXDOMAIN), and a
// datacenter that never answers is a failure (SERVFAIL) after the read's bound, not after the HTTP
// hop's 35 s. `get` stands for the agent's request pipeline, which the multi-dc integration test runs.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {decode, encode} from 'dns-packet'
import {RemoteDnsCatalog} from '../../../src/lib/dns/remote-catalog.js'
import {UnknownDatacenterError} from '../../../src/lib/dns/catalog.js'
import {DnsResolver} from '../../../src/lib/dns/resolver.js'
import {defaultDnsConfig} from '../../../src/lib/agent/dns-config.js'
import {noPathToDatacenter} from '../../../src/lib/errors.js'

const stale = {allowStale: true, maxStaleMs: 10_000}
const entry = {Node: {Node: 'far', Address: '10.9.0.1', Datacenter: 'dc2'}, Service: {ID: 'web1', Service: 'web', Port: 80}, Checks: [{Status: 'passing'}]}

describe('RemoteDnsCatalog across datacenters', () => {
  it('names another datacenter with ?dc= (lower case), its own without; ?stale follows allow_stale', async () => {
    const urls: string[] = []
    const catalog = new RemoteDnsCatalog(async (url) => { urls.push(url); return url.includes('health') ? [entry] : url.startsWith('/v1/catalog/nodes') ? [entry.Node] : {Node: entry.Node} }, 'dc1')
    const instances = await catalog.serviceInstances('web', {datacenter: 'DC2', ...stale})
    assert.deepEqual(instances.map((i) => [i.node, i.datacenter, i.nodeAddress]), [['far', 'dc2', '10.9.0.1']])
    assert.equal((await catalog.node('far', {datacenter: 'dc2', allowStale: false, maxStaleMs: 0}))?.datacenter, 'dc2')
    await catalog.serviceInstances('web', {datacenter: 'dc1', ...stale})
    await catalog.nodes({datacenter: 'dc1', allowStale: false, maxStaleMs: 0})
    assert.deepEqual(urls, ['/v1/health/service/web?stale&dc=dc2', '/v1/catalog/node/far?dc=dc2', '/v1/health/service/web?stale', '/v1/catalog/nodes'])
  })

  it('"No path to datacenter" is an unknown datacenter; other failures pass through', async () => {
    const noPath = new RemoteDnsCatalog(async () => { throw noPathToDatacenter() }, 'dc1')
    await assert.rejects(noPath.serviceInstances('web', {datacenter: 'mars', ...stale}), UnknownDatacenterError)
    const broken = new RemoteDnsCatalog(async () => { throw new Error('rpc error: timeout') }, 'dc1')
    await assert.rejects(broken.node('x', {datacenter: 'dc2', ...stale}), (error: Error) => !(error instanceof UnknownDatacenterError) && /timeout/.test(error.message))
  })

  it('a datacenter that never answers fails after the bound: the resolver answers SERVFAIL, the unknown one NXDOMAIN', async () => {
    const pending: Array<() => void> = []
    const get = (url: string) => new Promise<unknown>((resolve, reject) => {
      if (url.includes('dc=mars')) reject(noPathToDatacenter())
      else pending.push(() => resolve([]))
    })
    const resolver = new DnsResolver({config: defaultDnsConfig, datacenter: 'dc1', catalog: new RemoteDnsCatalog(get, 'dc1', 200)})
    const ask = async (name: string) => {
      const reply = await resolver.resolve(decode(encode({type: 'query', id: 7, questions: [{name, type: 'A'}]})), 'udp')
      assert.ok('packet' in reply)
      return (decode(encode(reply.packet)) as unknown as {rcode: string}).rcode
    }
    const started = performance.now()
    assert.equal(await ask('web.service.dc2.consul'), 'SERVFAIL')
    const ms = performance.now() - started
    console.log(`# remote-catalog: a silent datacenter answered SERVFAIL after ${Math.round(ms)} ms (bound 200 ms)`)
    assert.ok(ms >= 150, `waited for the bound (${ms} ms)`)
    assert.equal(await ask('web.service.mars.consul'), 'NXDOMAIN')
    for (const release of pending) release()
  })
})
