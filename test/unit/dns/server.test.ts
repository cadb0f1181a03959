// The DNS server on real UDP and TCP sockets: answers, truncation with the full answer over TCP,
// malformed input, pipelined TCP queries, recursor forwarding, and dig when it is installed.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createSocket} from 'node:dgram'
import {connect} from 'node:net'
import {execFile, execFileSync} from 'node:child_process'
import {decode, encode, type DecodedPacket, type Packet} from 'dns-packet'
import {defaultDnsConfig, type DnsConfig} from '../../../src/lib/agent/dns-config.js'
import {MemoryDnsCatalog} from '../../../src/lib/dns/catalog.js'
import {DnsResolver} from '../../../src/lib/dns/resolver.js'
import {startDnsServer, type DnsServerHandle} from '../../../src/lib/dns/server.js'

type Decoded = DecodedPacket & {rcode: string}

export function udpExchange(port: number, bytes: Buffer, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    const timer = setTimeout(() => { socket.close(); resolve(undefined) }, timeoutMs)
    socket.on('message', (msg) => { clearTimeout(timer); socket.close(); resolve(msg) })
    socket.on('error', (error) => { clearTimeout(timer); socket.close(); reject(error) })
    socket.send(bytes, port, '127.0.0.1')
  })
}

/** Sends every message on one TCP connection and collects as many framed replies. */
export function tcpExchange(port: number, messages: Buffer[], timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({host: '127.0.0.1', port})
    const replies: Buffer[] = []
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`TCP: ${replies.length}/${messages.length} replies in ${timeoutMs} ms`)) }, timeoutMs)
    socket.on('connect', () => {
      socket.write(Buffer.concat(messages.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]))))
    })
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        replies.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)))
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0))
      }
      if (replies.length === messages.length) { clearTimeout(timer); socket.destroy(); resolve(replies) }
    })
    socket.on('error', (error) => { clearTimeout(timer); reject(error) })
  })
}

const q = (name: string, type: 'A' | 'SRV' | 'AAAA' | 'TXT', id = 7): Buffer => encode({type: 'query', id, flags: 1 << 8, questions: [{name, type, class: 'IN'}]} as Packet)

async function serve(catalog: MemoryDnsCatalog, config: Partial<DnsConfig> = {}): Promise<DnsServerHandle> {
  const resolver = new DnsResolver({config: {...defaultDnsConfig, ...config}, datacenter: 'dc1', catalog})
  return startDnsServer({host: '127.0.0.1', port: 0, resolver})
}

describe('DNS server (UDP and TCP sockets)', () => {
  const catalog = new MemoryDnsCatalog()
  for (let i = 1; i <= 30; i++) catalog.addInstance({node: `web-node-${i}`, nodeAddress: `10.3.0.${i}`, serviceId: `web${i}`, service: 'web', port: 9000 + i})
  let server: DnsServerHandle
  before(async () => { server = await serve(catalog, {enableTruncate: true}) })
  after(() => server.close())

  it('answers over UDP; a trimmed UDP answer sets TC and TCP carries them all', async () => {
    const udp = decode((await udpExchange(server.port, q('web.service.consul', 'SRV')))!) as Decoded
    assert.equal(udp.rcode, 'NOERROR')
    assert.equal(udp.id, 7)
    assert.equal(udp.answers?.length, 3)
    assert.equal(udp.flag_tc, true)
    const [tcp] = await tcpExchange(server.port, [q('web.service.consul', 'SRV')])
    const full = decode(tcp) as Decoded
    assert.equal(full.answers?.length, 30)
    assert.equal(full.additionals?.length, 30)
    assert.equal(full.flag_tc, false)
  })

  it('pipelined TCP queries each get their reply', async () => {
    const replies = await tcpExchange(server.port, [q('web.service.consul', 'A', 1), q('web-node-3.node.consul', 'A', 2), q('nope.service.consul', 'A', 3)])
    const byId = new Map(replies.map((r) => [decode(r).id, decode(r) as Decoded]))
    assert.equal(byId.get(1)?.answers?.length, 30)
    assert.equal((byId.get(2)?.answers?.[0] as {data: string}).data, '10.3.0.3')
    assert.equal(byId.get(3)?.rcode, 'NXDOMAIN')
  })

  it('malformed packets get FORMERR or silence, and the server keeps answering', async () => {
    const garbage = [Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.concat([q('web.service.consul', 'A').subarray(0, 20)]),
      Buffer.from('00070100000100000000000003777777', 'hex'), Buffer.alloc(600, 0xff)]
    for (let i = 0; i < 200; i++) garbage.push(Buffer.from(Array.from({length: 12 + (i % 60)}, (_, j) => (i * 31 + j * 17) & 0xff)))
    // All on one socket, then a short wait: silence is a valid outcome for most of them.
    const socket = createSocket('udp4')
    let formErrs = 0
    socket.on('message', (reply) => { if ((decode(reply) as Decoded).rcode === 'FORMERR') formErrs++ })
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    for (const bytes of garbage) socket.send(bytes, server.port, '127.0.0.1')
    await new Promise((resolve) => setTimeout(resolve, 500))
    socket.close()
    assert.ok(formErrs >= 2, `FORMERR replies: ${formErrs}`)
    // A truncated TCP frame (length says more than is sent) must not hang the listener either.
    await tcpExchange(server.port, [q('web.service.consul', 'A').subarray(0, 5)], 300).catch(() => {})
    const after = decode((await udpExchange(server.port, q('web-node-1.node.consul', 'A')))!) as Decoded
    assert.equal((after.answers?.[0] as {data: string}).data, '10.3.0.1')
  })

  it('two questions in one packet are FORMERR; a non-QUERY opcode is NOTIMP', async () => {
    const two = encode({type: 'query', id: 9, questions: [{name: 'a.consul', type: 'A'}, {name: 'b.consul', type: 'A'}]})
    assert.equal((decode((await udpExchange(server.port, two))!) as Decoded).rcode, 'FORMERR')
    const update = Buffer.from(q('web.service.consul', 'A'))
    update[2] |= 5 << 3 // opcode UPDATE
    const notimp = decode((await udpExchange(server.port, update))!) as Decoded & {opcode: string}
    assert.equal(notimp.rcode, 'NOTIMP')
    assert.equal(notimp.opcode, 'UPDATE')
  })
})

describe('DNS recursors', () => {
  let upstream: DnsServerHandle
  let server: DnsServerHandle
  let noRecursor: DnsServerHandle
  let deadRecursor: DnsServerHandle
  before(async () => {
    // The "upstream" resolver is another coord DNS server whose domain is example.
    upstream = await serve(new MemoryDnsCatalog().addNode({node: 'www', address: '10.8.8.8'}), {domain: 'example.'})
    server = await serve(new MemoryDnsCatalog(), {recursors: [`127.0.0.1:${upstream.port}`], recursorTimeoutMs: 1000})
    noRecursor = await serve(new MemoryDnsCatalog())
    // A port nothing answers on: the exchange times out, then SERVFAIL.
    const silent = createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve))
    const silentPort = silent.address().port
    after(() => silent.close())
    deadRecursor = await serve(new MemoryDnsCatalog(), {recursors: [`127.0.0.1:${silentPort}`], recursorTimeoutMs: 300})
  })
  after(async () => { await Promise.all([upstream.close(), server.close(), noRecursor.close(), deadRecursor.close()]) })

  it('forwards names outside the domain over UDP and TCP, and says recursion is available', async () => {
    const udp = decode((await udpExchange(server.port, q('www.node.example', 'A')))!) as Decoded
    assert.equal(udp.rcode, 'NOERROR')
    assert.equal((udp.answers?.[0] as {data: string}).data, '10.8.8.8')
    const [tcp] = await tcpExchange(server.port, [q('www.node.example', 'A')])
    assert.equal(((decode(tcp) as Decoded).answers?.[0] as {data: string}).data, '10.8.8.8')
    const local = decode((await udpExchange(server.port, q('nope.service.consul', 'A')))!) as Decoded
    assert.equal(local.flag_ra, true)
  })

  it('without recursors: REFUSED; with a dead one: SERVFAIL within the recursor timeout', async () => {
    assert.equal((decode((await udpExchange(noRecursor.port, q('www.example.com', 'A')))!) as Decoded).rcode, 'REFUSED')
    const started = Date.now()
    const reply = decode((await udpExchange(deadRecursor.port, q('www.example.com', 'A')))!) as Decoded
    const took = Date.now() - started
    assert.equal(reply.rcode, 'SERVFAIL')
    assert.ok(took >= 250 && took < 2500, `SERVFAIL after ${took} ms`)
  })
})

describe('dig against the DNS server', () => {
  let dig: string | undefined
  try {
    dig = execFileSync('sh', ['-c', 'command -v dig'], {encoding: 'utf8'}).trim() || undefined
  } catch {
    dig = undefined
  }
  const skip = dig ? false : 'dig is not installed (Debian package dnsutils)'
  if (skip) console.log(`# skipping dig tests: ${skip}`)
  const catalog = new MemoryDnsCatalog()
  for (let i = 1; i <= 12; i++) catalog.addInstance({node: `n${i}`, nodeAddress: `10.4.0.${i}`, serviceId: `api${i}`, service: 'api', port: 7000 + i, tags: ['v2']})
  let server: DnsServerHandle | undefined
  before(async () => { if (!skip) server = await serve(catalog, {enableTruncate: true}) })
  after(() => server?.close())
  const run = (args: string[]) => new Promise<string>((resolve, reject) => {
    execFile(dig!, ['@127.0.0.1', '-p', String(server!.port), '+time=3', '+tries=1', ...args], {timeout: 10_000}, (error, stdout) => (error ? reject(error) : resolve(stdout)))
  })

  it('dig SRV lists the instances with their targets; TC makes dig retry over TCP for all 12', {skip}, async () => {
    const short = await run(['+short', '_api._v2.service.consul', 'SRV'])
    const lines = short.trim().split('\n')
    assert.equal(lines.length, 12, short)
    assert.match(lines[0], /^1 1 70\d\d n\d+\.node\.dc1\.consul\.$/)
  })

  it('dig A and NXDOMAIN with the SOA', {skip}, async () => {
    assert.match(await run(['+short', 'n1.node.consul', 'A']), /^10\.4\.0\.1$/m)
    const miss = await run(['nope.service.consul', 'A'])
    assert.match(miss, /status: NXDOMAIN/)
    assert.match(miss, /consul\.\s+0\s+IN\s+SOA\s+ns\.consul\. hostmaster\.consul\./)
  })
})
