import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {decode, encode, type Answer, type DecodedPacket, type Packet} from 'dns-packet'
import {defaultDnsConfig, parseDnsConfig, serviceTtl, type DnsConfig} from '../../../src/lib/agent/dns-config.js'
import {lineSink} from '../../../src/lib/agent/config-problems.js'
import {MemoryDnsCatalog} from '../../../src/lib/dns/catalog.js'
import {DnsResolver, type Transport} from '../../../src/lib/dns/resolver.js'
import {ipToHex, matchZone, parseLookup, reverseName} from '../../../src/lib/dns/names.js'

type Decoded = DecodedPacket & {rcode: string}

function query(name: string, type: Packet['questions'] extends Array<infer Q> | undefined ? Q extends {type: infer T} ? T : never : never, edns = 0): DecodedPacket {
  const packet: Packet = {type: 'query', id: 4242, flags: 1 << 8, questions: [{name, type, class: 'IN'}]}
  if (edns) packet.additionals = [{type: 'OPT', name: '.', udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: []}]
  return decode(encode(packet))
}

async function ask(resolver: DnsResolver, name: string, type: Parameters<typeof query>[1], transport: Transport = 'udp', edns = 0): Promise<Decoded> {
  const reply = await resolver.resolve(query(name, type, edns), transport)
  assert.ok('packet' in reply)
  // Round-trip through the wire format, as a client would see it.
  return decode(encode(reply.packet)) as Decoded
}

function webCatalog(): MemoryDnsCatalog {
  return new MemoryDnsCatalog('dc1')
    .addNode({node: 'n1', address: '10.0.0.1', meta: {rack: 'r1'}})
    .addInstance({node: 'n1', nodeAddress: '10.0.0.1', serviceId: 'web1', service: 'web', port: 8080, tags: ['primary', 'v1']})
    .addInstance({node: 'n2', nodeAddress: '10.0.0.2', serviceId: 'web2', service: 'web', port: 8081, tags: ['v1'], health: 'warning'})
    .addInstance({node: 'n3', nodeAddress: '10.0.0.3', serviceId: 'web3', service: 'web', port: 8082, health: 'critical'})
    .addInstance({node: 'n4', nodeAddress: '10.0.0.4', serviceId: 'db1', service: 'db', serviceAddress: '192.168.1.9', port: 5432})
    .addInstance({node: 'n5', nodeAddress: 'fd00::5', serviceId: 'v6', service: 'six', port: 99})
    .addInstance({node: 'n6', nodeAddress: '10.0.0.6', serviceId: 'ext', service: 'ext', serviceAddress: 'example.org', port: 443})
}

function resolverWith(catalog = webCatalog(), config: Partial<DnsConfig> = {}): DnsResolver {
  return new DnsResolver({config: {...defaultDnsConfig, ...config}, datacenter: 'dc1', catalog, now: () => 1_700_000_000_000})
}

const data = (answers: Answer[] | undefined, type: string) => (answers ?? []).filter((a) => a.type === type).map((a) => ('data' in a ? a.data : undefined))

describe('DNS names', () => {
  it('splits the zone off, longest zone first, case-insensitively', () => {
    assert.deepEqual(matchZone('Web.Service.Consul', ['consul.']), {zone: 'consul.', labels: ['web', 'service']})
    assert.deepEqual(matchZone('a.node.x.consul.', ['consul.', 'x.consul.']), {zone: 'x.consul.', labels: ['a', 'node']})
    assert.equal(matchZone('example.com', ['consul.']), undefined)
  })

  it('reads every Consul name form', () => {
    assert.deepEqual(parseLookup(['web', 'service'], 'A', 'dc1'), {kind: 'service', service: 'web', tag: '', datacenter: 'dc1'})
    assert.deepEqual(parseLookup(['v1', 'web', 'service', 'dc2'], 'A', 'dc1'), {kind: 'service', service: 'web', tag: 'v1', datacenter: 'dc2'})
    assert.deepEqual(parseLookup(['web', 'service', 'dc2', 'dc'], 'A', 'dc1'), {kind: 'service', service: 'web', tag: '', datacenter: 'dc2'})
    assert.deepEqual(parseLookup(['_web', '_tcp', 'service'], 'SRV', 'dc1'), {kind: 'service', service: 'web', tag: '', datacenter: 'dc1'})
    assert.deepEqual(parseLookup(['_web', '_v1', 'service'], 'SRV', 'dc1'), {kind: 'service', service: 'web', tag: 'v1', datacenter: 'dc1'})
    assert.deepEqual(parseLookup(['_web', '_tcp'], 'SRV', 'dc1'), {kind: 'service', service: 'web', tag: '', datacenter: 'dc1'})
    assert.deepEqual(parseLookup(['my', 'host', 'node'], 'A', 'dc1'), {kind: 'node', node: 'my.host', datacenter: 'dc1'})
    assert.deepEqual(parseLookup(['0a000001', 'addr', 'dc1'], 'A', 'dc1'), {kind: 'addr', ip: '10.0.0.1', family: 4})
    assert.deepEqual(parseLookup(['q', 'query'], 'A', 'dc1'), {kind: 'query', query: 'q', datacenter: 'dc1'})
    assert.deepEqual(parseLookup(['my', 'q', 'query', 'dc2'], 'SRV', 'dc1'), {kind: 'query', query: 'my.q', datacenter: 'dc2'})
    assert.deepEqual(parseLookup(['query'], 'A', 'dc1'), {kind: 'invalid'})
    assert.deepEqual(parseLookup(['web', 'service', 'a', 'b', 'c'], 'A', 'dc1'), {kind: 'invalid'})
    assert.deepEqual(parseLookup(['nothing'], 'A', 'dc1'), {kind: 'invalid'})
  })

  it('hex and reverse forms of addresses', () => {
    assert.equal(ipToHex('127.0.0.1'), '7f000001')
    assert.equal(ipToHex('fd00::5'), 'fd000000000000000000000000000005')
    assert.equal(reverseName('10.0.0.1'), '1.0.0.10.in-addr.arpa.')
  })
})

describe('DNS config', () => {
  it('reads dns_config with Consul defaults and names bad keys', () => {
    const problems: string[] = []
    const config = parseDnsConfig({
      domain: 'Coord', alt_domain: 'alt.', recursors: ['8.8.8.8', '[::1]:5353'],
      dns_config: {node_ttl: '10s', service_ttl: {'*': '5s', 'web*': '7s', web: '9s'}, only_passing: true, udp_answer_limit: 5, bogus: 1},
    }, lineSink(problems), () => {})
    assert.deepEqual(problems, ['invalid config key dns_config.bogus'])
    assert.equal(config.domain, 'coord.')
    assert.equal(config.altDomain, 'alt.')
    assert.deepEqual(config.recursors, ['8.8.8.8:53', '[::1]:5353'])
    assert.equal(config.nodeTtlSec, 10)
    assert.equal(serviceTtl(config, 'web'), 9)
    assert.equal(serviceTtl(config, 'webby'), 7)
    assert.equal(serviceTtl(config, 'db'), 5)
    assert.equal(config.onlyPassing, true)
    assert.equal(config.udpAnswerLimit, 5)
    const bad: string[] = []
    parseDnsConfig({recursors: ['nope'], dns_config: {node_ttl: 5, allow_stale: 'yes'}}, lineSink(bad), () => {})
    assert.equal(bad.length, 3, bad.join('\n'))
  })
})

describe('DNS resolver', () => {
  it('A answers every passing and warning instance, never a critical one, authoritative', async () => {
    const reply = await ask(resolverWith(), 'web.service.consul', 'A')
    assert.equal(reply.rcode, 'NOERROR')
    assert.equal(reply.flag_aa, true)
    assert.equal(reply.id, 4242)
    assert.deepEqual((data(reply.answers, 'A') as string[]).sort(), ['10.0.0.1', '10.0.0.2'])
    assert.equal(reply.answers?.[0].name, 'web.service.consul')
  })

  it('only_passing drops warning instances', async () => {
    const reply = await ask(resolverWith(webCatalog(), {onlyPassing: true}), 'web.service.consul', 'A')
    assert.deepEqual(data(reply.answers, 'A'), ['10.0.0.1'])
  })

  it('tag filters, case-insensitively, in both name forms', async () => {
    const resolver = resolverWith()
    assert.deepEqual(data((await ask(resolver, 'PRIMARY.web.service.consul', 'A')).answers, 'A'), ['10.0.0.1'])
    const srv = await ask(resolver, '_web._primary.service.consul', 'SRV')
    assert.deepEqual(data(srv.answers, 'SRV'), [{priority: 1, weight: 1, port: 8080, target: 'n1.node.dc1.consul'}])
    const tcp = await ask(resolver, '_web._tcp.service.consul', 'SRV')
    assert.equal(tcp.answers?.length, 2)
  })

  it('SRV targets the node name with its A record in the additional section; service addresses use the addr form', async () => {
    const resolver = resolverWith()
    const web = await ask(resolver, 'web.service.consul', 'SRV')
    const targets = (data(web.answers, 'SRV') as Array<{target: string; port: number}>).map((s) => `${s.target}:${s.port}`).sort()
    assert.deepEqual(targets, ['n1.node.dc1.consul:8080', 'n2.node.dc1.consul:8081'])
    assert.deepEqual(web.additionals?.filter((a) => a.type === 'A').map((a) => `${a.name}=${String((a as {data: string}).data)}`).sort(),
      ['n1.node.dc1.consul=10.0.0.1', 'n2.node.dc1.consul=10.0.0.2'])
    const db = await ask(resolver, 'db.service.consul', 'SRV')
    assert.deepEqual(data(db.answers, 'SRV'), [{priority: 1, weight: 1, port: 5432, target: 'c0a80109.addr.dc1.consul'}])
    assert.deepEqual(data(db.additionals, 'A'), ['192.168.1.9'])
    const addr = await ask(resolver, 'c0a80109.addr.dc1.consul', 'A')
    assert.deepEqual(data(addr.answers, 'A'), ['192.168.1.9'])
  })

  it('AAAA for IPv6 instances; an A question on them is NODATA with the SOA', async () => {
    const resolver = resolverWith()
    assert.deepEqual(data((await ask(resolver, 'six.service.consul', 'AAAA')).answers, 'AAAA'), ['fd00::5'])
    const a = await ask(resolver, 'six.service.consul', 'A')
    assert.equal(a.rcode, 'NOERROR')
    assert.equal(a.answers?.length, 0)
    assert.equal(a.authorities?.[0].type, 'SOA')
  })

  it('a host-name service address answers a CNAME', async () => {
    const reply = await ask(resolverWith(), 'ext.service.consul', 'A')
    assert.deepEqual(reply.answers?.map((a) => [a.type, (a as {data: string}).data]), [['CNAME', 'example.org']])
  })

  it('unknown names, services and datacenters are NXDOMAIN with Consul\'s SOA in the authority section', async () => {
    const resolver = resolverWith()
    for (const name of ['nope.service.consul', 'x.query.consul', 'web.service.dc9.consul', 'ghost.node.consul', 'consul-only.consul']) {
      const reply = await ask(resolver, name, 'A')
      assert.equal(reply.rcode, 'NXDOMAIN', name)
      const soa = reply.authorities?.[0] as unknown as {type: string; name: string; data: Record<string, unknown>}
      assert.equal(soa.type, 'SOA', name)
      assert.equal(soa.name, 'consul')
      assert.deepEqual(soa.data, {mname: 'ns.consul', rname: 'hostmaster.consul', serial: 1_700_000_000, refresh: 3600, retry: 600, expire: 86400, minimum: 0})
    }
  })

  it('nodes: A with meta TXT in the additional section; TXT answers the meta; SRV is NODATA', async () => {
    const resolver = resolverWith()
    const a = await ask(resolver, 'n1.node.consul', 'A')
    assert.deepEqual(data(a.answers, 'A'), ['10.0.0.1'])
    assert.deepEqual(data(a.additionals, 'TXT').map((t) => (t as Buffer[]).map(String)), [['rack=r1']])
    const txt = await ask(resolver, 'n1.node.dc1.consul', 'TXT')
    assert.deepEqual(data(txt.answers, 'TXT').map((t) => (t as Buffer[]).map(String)), [['rack=r1']])
    const srv = await ask(resolver, 'n1.node.consul', 'SRV')
    assert.equal(srv.rcode, 'NOERROR')
    assert.equal(srv.answers?.length, 0)
    assert.equal(srv.authorities?.[0].type, 'SOA')
  })

  it('TTLs come from node_ttl and service_ttl', async () => {
    const config = {...defaultDnsConfig, nodeTtlSec: 30, serviceTtlSec: {'*': 5, web: 15}}
    const resolver = resolverWith(webCatalog(), config)
    assert.equal(((await ask(resolver, 'n1.node.consul', 'A')).answers?.[0] as {ttl?: number}).ttl, 30)
    assert.equal(((await ask(resolver, 'web.service.consul', 'A')).answers?.[0] as {ttl?: number}).ttl, 15)
    assert.equal(((await ask(resolver, 'db.service.consul', 'A')).answers?.[0] as {ttl?: number}).ttl, 5)
  })

  it('answers are shuffled', async () => {
    const catalog = new MemoryDnsCatalog()
    for (let i = 1; i <= 8; i++) catalog.addInstance({node: `n${i}`, nodeAddress: `10.1.0.${i}`, serviceId: `s${i}`, service: 'many', port: 1})
    const resolver = resolverWith(catalog)
    const orders = new Set<string>()
    for (let i = 0; i < 20; i++) orders.add(JSON.stringify(data((await ask(resolver, 'many.service.consul', 'A', 'tcp')).answers, 'A')))
    assert.ok(orders.size > 1, 'twenty queries gave one order')
  })

  it('UDP keeps udp_answer_limit answers (Consul caps it at 8), TCP keeps all; TC only with enable_truncate', async () => {
    const catalog = new MemoryDnsCatalog()
    for (let i = 1; i <= 40; i++) catalog.addInstance({node: `node-${i}`, nodeAddress: `10.2.0.${i}`, serviceId: `s${i}`, service: 'big', port: 1000 + i})
    const plain = resolverWith(catalog)
    const udp = await ask(plain, 'big.service.consul', 'A')
    assert.equal(udp.answers?.length, 3)
    assert.equal(udp.flag_tc, false)
    const srv = await ask(plain, 'big.service.consul', 'SRV')
    assert.equal(srv.answers?.length, 3)
    // The additional section follows the SRV answers that were kept.
    const targets = new Set(data(srv.answers, 'SRV').map((s) => (s as {target: string}).target))
    assert.deepEqual(new Set(srv.additionals?.map((a) => a.name)), targets)
    assert.equal((await ask(plain, 'big.service.consul', 'A', 'tcp')).answers?.length, 40)
    assert.equal((await ask(plain, 'big.service.consul', 'SRV', 'tcp')).answers?.length, 40)
    const truncating = resolverWith(catalog, {enableTruncate: true, udpAnswerLimit: 100})
    const capped = await ask(truncating, 'big.service.consul', 'A')
    assert.equal(capped.answers?.length, 8)
    assert.equal(capped.flag_tc, true)
    // EDNS lifts the answer cap; the byte limit (advertised size) still applies.
    const edns = await ask(truncating, 'big.service.consul', 'SRV', 'udp', 1232)
    assert.ok(encode(edns).length <= 1232, `EDNS reply of ${encode(edns).length} bytes`)
    assert.ok((edns.answers?.length ?? 0) > 8 && (edns.answers?.length ?? 0) < 40, `answers ${edns.answers?.length}`)
    assert.equal(edns.flag_tc, true)
    assert.equal(edns.additionals?.find((a) => a.type === 'OPT')?.type, 'OPT')
  })

  it('a_record_limit caps A answers on every transport', async () => {
    const resolver = resolverWith(webCatalog(), {aRecordLimit: 1})
    assert.equal((await ask(resolver, 'web.service.consul', 'A', 'tcp')).answers?.length, 1)
  })

  it('alt_domain answers under the zone that was asked', async () => {
    const resolver = resolverWith(webCatalog(), {altDomain: 'coord.'})
    const srv = await ask(resolver, 'web.service.coord', 'SRV')
    assert.ok(data(srv.answers, 'SRV').every((s) => (s as {target: string}).target.endsWith('.node.dc1.coord')))
    const miss = await ask(resolver, 'nope.service.coord', 'A')
    assert.equal(miss.authorities?.[0].name, 'coord')
  })

  it('SOA and NS at the apex name the healthy consul servers', async () => {
    const catalog = webCatalog().addInstance({node: 'srv1', nodeAddress: '10.9.0.1', serviceId: 'consul', service: 'consul', port: 8300})
    const resolver = resolverWith(catalog)
    const ns = await ask(resolver, 'consul', 'NS')
    assert.deepEqual(data(ns.answers, 'NS'), ['srv1.node.dc1.consul'])
    assert.deepEqual(data(ns.additionals, 'A'), ['10.9.0.1'])
    const soa = await ask(resolver, 'consul', 'SOA')
    assert.equal(soa.answers?.[0].type, 'SOA')
    assert.equal(soa.authorities?.[0].type, 'NS')
  })

  it('PTR names a node by its address; names outside the zone are REFUSED without recursors', async () => {
    const resolver = resolverWith()
    const ptr = await ask(resolver, '1.0.0.10.in-addr.arpa', 'PTR')
    assert.deepEqual(data(ptr.answers, 'PTR'), ['n1.node.dc1.consul'])
    const other = await ask(resolver, 'example.com', 'A')
    assert.equal(other.rcode, 'REFUSED')
    assert.equal((await ask(resolver, 'consul', 'AXFR', 'tcp')).rcode, 'NOTIMP')
  })

  it('a catalog failure is SERVFAIL, never a throw', async () => {
    const broken = {serviceInstances: () => Promise.reject(new Error('no leader')), node: () => Promise.reject(new Error('x')), nodes: () => Promise.resolve([])}
    const resolver = new DnsResolver({config: defaultDnsConfig, datacenter: 'dc1', catalog: broken})
    assert.equal((await ask(resolver, 'web.service.consul', 'A')).rcode, 'SERVFAIL')
  })
})

describe('DNS in the agent config', () => {
  it('domain, alt_domain, recursors and dns_config reach AgentConfig.dns; bad values name the key', async () => {
    const {buildConfig, ConfigError} = await import('../../../src/lib/agent/config.js')
    const config = buildConfig({domain: 'coord', alt_domain: 'alt', recursors: ['1.1.1.1'], dns_config: {only_passing: true}, ports: {dns: -1}}, {dev: true})
    assert.equal(config.dns.domain, 'coord.')
    assert.equal(config.dns.altDomain, 'alt.')
    assert.deepEqual(config.dns.recursors, ['1.1.1.1:53'])
    assert.equal(config.dns.onlyPassing, true)
    assert.equal(config.ports.dns, -1)
    assert.throws(() => buildConfig({dns_config: {udp_answer_limit: 'x'}}, {dev: true}), (e: unknown) => e instanceof ConfigError && /dns_config\.udp_answer_limit/.test(e.message))
  })
})
