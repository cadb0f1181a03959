// Seeded generative bad-input campaign over every /v1 route and method (test/helpers/http-fuzz.ts):
// on a -dev agent, on a server, and through a client agent. Every answer is < 500 (or one of
// Consul's own 500s), every error body one bounded line; the agent keeps answering, never exits,
// logs no crash; data written before the campaign is intact after it.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {useAgent, useCluster} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {agentDnsPort, dnsUdp} from '../helpers/dns.js'
import {frame, generateBadDns, judgeDnsReply, sendTcp, sendUdp, validQuery} from '../helpers/dns-fuzz.js'
import {RAW_REQUESTS, crashLines, describeFindings, sendRaw, generateRequests, queryParamNames, routeTable, runCampaign, type FuzzRequest} from '../helpers/http-fuzz.js'

/** Change to replay another campaign; the run prints it. */
const SEED = 20261125
const REQUESTS_PER_TARGET = 1000

const routes = routeTable()
const params = queryParamNames()

/** Keys and services written by valid requests before the campaign; they must come out unchanged. */
async function writeKeepers(httpAddr: string): Promise<Record<string, string>> {
  for (const [key, value] of [['keep/a', 'alpha'], ['keep/b', 'beta\u00e9'], ['keep/deep/c', 'gamma']]) {
    const res = await http(httpAddr, 'PUT', `/v1/kv/${key}?flags=7`, value)
    assert.equal(res.text.trim(), 'true', `seed ${key}: ${res.text}`)
  }
  const reg = await http(httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify({Node: 'keep-node', Address: '127.0.0.77', Service: {Service: 'keep-svc', Port: 7070, Tags: ['k']}}))
  assert.equal(reg.status, 200, reg.text)
  const local = await http(httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({Name: 'keep-local', ID: 'keep-local-1', Port: 7171}))
  assert.equal(local.status, 200, local.text)
  return snapshotKeepers(httpAddr)
}

async function snapshotKeepers(httpAddr: string): Promise<Record<string, string>> {
  const kv = await http(httpAddr, 'GET', '/v1/kv/keep/?recurse')
  const svc = await http(httpAddr, 'GET', '/v1/catalog/service/keep-svc')
  const local = await http(httpAddr, 'GET', '/v1/agent/service/keep-local-1')
  const entries = kv.json<Array<{Key: string; Value: string; Flags: number; ModifyIndex: number}>>()
  const instances = svc.json<Array<{Node: string; ServicePort: number; ServiceTags: string[]}>>()
  const agentService = local.json<{ID: string; Port: number}>()
  return {
    kv: JSON.stringify(entries.map((e) => [e.Key, Buffer.from(e.Value, 'base64').toString(), e.Flags, e.ModifyIndex])),
    catalog: JSON.stringify(instances.map((s) => [s.Node, s.ServicePort, s.ServiceTags])),
    local: JSON.stringify([agentService.ID, agentService.Port]),
  }
}

async function campaign(target: {httpAddr: string; exited(): boolean; output(): string}, seed: number, label: string): Promise<void> {
  const before = await writeKeepers(target.httpAddr)
  const requests: FuzzRequest[] = generateRequests(routes, params, {seed, count: REQUESTS_PER_TARGET})
  const started = Date.now()
  const result = await runCampaign(target.httpAddr, requests, {
    between: async (done) => {
      assert.ok(!target.exited(), `${label}: agent exited after ${done} requests:\n${target.output().slice(-3000)}`)
      const leader = await http(target.httpAddr, 'GET', '/v1/status/leader')
      assert.equal(leader.status, 200, `${label}: /v1/status/leader after ${done} requests: ${leader.text}`)
    },
  })
  // Framing and bytes a proper client never sends: an answer, if any, below 500; the agent stays up.
  const rawStatuses: string[] = []
  for (const raw of RAW_REQUESTS) {
    const answer = await sendRaw(target.httpAddr, raw)
    rawStatuses.push(`${raw.name}: ${answer.status || 'closed'}`)
    assert.ok(answer.status < 500, `${label} raw ${raw.name}: ${answer.text.slice(0, 300)}`)
    const leader = await http(target.httpAddr, 'GET', '/v1/status/leader')
    assert.equal(leader.status, 200, `${label}: /v1/status/leader after raw ${raw.name}`)
  }
  console.log(`# ${label} raw: ${rawStatuses.join('; ')}`)
  const statuses = [...result.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')
  console.log(`# ${label}: seed ${seed}, ${result.sent} requests (${result.refusedByClient} refused by the client) in ${Date.now() - started} ms; ${statuses}`)
  for (const [why, n] of result.allowed5xx) console.log(`# ${label}: ${n}× allowed 5xx: ${why}`)
  for (const line of describeFindings(result.findings)) console.log(`# finding ${label}: ${line}`)
  assert.deepEqual(describeFindings(result.findings), [], `${label}: ${result.findings.length} findings`)
  assert.ok(result.sent >= REQUESTS_PER_TARGET * 0.9, `${label}: only ${result.sent} requests answered`)
  assert.ok(!target.exited(), `${label}: agent exited`)
  assert.deepEqual(crashLines(target.output()), [], `${label}: crash lines in the agent log`)
  assert.deepEqual(await snapshotKeepers(target.httpAddr), before, `${label}: data written before the campaign changed`)
}

/**
 * What the campaigns found, kept as fixed cases (each fixed in the endpoint code): status, one line,
 * and the agent still up. Run on every target, so a forwarded request (client) is covered too.
 */
const REGRESSIONS: Array<{name: string; method: string; path: string; body?: string | Buffer; status: number; text?: RegExp; header?: [string, string]}> = [
  // A client forwarded an over-limit body; the server's error path tried to drain a stream the
  // captured request does not have: TypeError, server process gone.
  {name: 'over-limit body (forwarded on a client)', method: 'POST', path: '/v1/session/create', body: '['.repeat(100_000), status: 413, text: /too large/},
  {name: 'refused body before routing (forwarded on a client)', method: 'PUT', path: '/v1/kv/fuzz/x?flags=nope', body: 'v', status: 400, text: /^Invalid flags/},
  // Query values and body bytes quoted in a reason made it span lines.
  {name: 'newline in a quoted query value', method: 'GET', path: '/v1/session/list?ns=x%0Ay', status: 400, text: /^Invalid namespace "x\\ny"/},
  {name: 'raw bytes quoted by the JSON parser', method: 'PUT', path: '/v1/session/create', body: Buffer.from([0x7b, 0x0d, 0x0a, 0x01, 0xff]), status: 400, text: /^Failed to parse session body/},
  {name: 'newline in a JSON string quoted back', method: 'PUT', path: '/v1/session/create', body: '{"Behavior": "a\\nb"}', status: 400, text: /^Invalid Behavior setting 'a\\nb'$/},
  // A service name outside Latin-1 in X-Consul-Reason: Node refused the header, 500.
  {name: 'unicode service id in X-Consul-Reason', method: 'GET', path: `/v1/agent/health/service/id/${encodeURIComponent('ключ☃')}?format=text`, status: 404, text: /^ServiceId ключ☃ not found$/, header: ['x-consul-reason', Buffer.from('ServiceId ключ☃ not found').toString('latin1')]},
  // A wrong method naming another datacenter went to that datacenter (a HEAD then got a bodiless 500).
  {name: 'wrong method with ?dc= of another datacenter', method: 'HEAD', path: '/v1/operator/autopilot/health?dc=0', status: 405},
  {name: 'wrong method with ?dc=, with a body', method: 'PATCH', path: '/v1/kv/fuzz/x?dc=elsewhere', body: 'v', status: 405, text: /^method PATCH not allowed$/},
  // A filter nested a few thousand levels deep overflowed the parser's stack: 500.
  {name: 'deeply nested filter', method: 'GET', path: `/v1/catalog/nodes?filter=${encodeURIComponent(`${'('.repeat(3000)}Node == "a"${')'.repeat(3000)}`)}`, status: 400, text: /nested more than 1000 levels/},
  // An interval beyond what setTimeout holds became a 1 ms timer (a check in a tight loop); beyond
  // Go's int64 nanoseconds it is no duration at all.
  {name: 'check interval of 1000h', method: 'PUT', path: '/v1/agent/service/register', body: '{"Name": "fuzz-slow", "Check": {"TCP": "127.0.0.1:1", "Interval": "1000h", "Timeout": "1000h"}}', status: 200},
  {name: 'check interval beyond int64 nanoseconds', method: 'PUT', path: '/v1/agent/service/register', body: '{"Name": "fuzz-slow", "Check": {"TCP": "127.0.0.1:1", "Interval": "9999999999h"}}', status: 400, text: /Interval/},
  {name: 'wait beyond int64 nanoseconds', method: 'GET', path: '/v1/kv/fuzz/x?index=1&wait=9999999999h', status: 400, text: /^Invalid wait time$/},
  // A nanosecond TTL beyond int64 became "1.2e+23ms", which the check registry could not parse: 500.
  {name: 'check TTL beyond int64 nanoseconds', method: 'PUT', path: '/v1/agent/check/register', body: '{"Name": "c", "TTL": 123456789012345678901234567890}', status: 400, text: /TTL must be a duration/},
]

async function regressions(httpAddr: string, label: string): Promise<void> {
  for (const c of REGRESSIONS) {
    const res = await http(httpAddr, c.method, c.path, c.body)
    assert.equal(res.status, c.status, `${label} ${c.name}: ${res.text}`)
    if (c.text) assert.match(res.text, c.text, `${label} ${c.name}`)
    assert.ok(!/[\r\n]/.test(res.text), `${label} ${c.name}: one-line reason, got ${JSON.stringify(res.text)}`)
    if (c.header) assert.equal(res.headers[c.header[0]], c.header[1], `${label} ${c.name}: ${c.header[0]}`)
    const leader = await http(httpAddr, 'GET', '/v1/status/leader')
    assert.equal(leader.status, 200, `${label} after ${c.name}: ${leader.text}`)
  }
}

/**
 * Malformed DNS over UDP and on one TCP connection: every reply decodes as a response, broken
 * structure gets FORMERR (or nothing), and the listener answers a valid query on the same
 * connection and over UDP afterwards.
 */
async function dnsCampaign(target: {httpAddr: string; exited(): boolean; output(): string}, seed: number, label: string): Promise<void> {
  const host = target.httpAddr.slice(0, target.httpAddr.lastIndexOf(':'))
  const port = await agentDnsPort(target)
  const messages = generateBadDns(seed, 450)
  const byId = new Map(messages.map((m, i) => [i + 1, m]))
  const problems: string[] = []
  const judgeAll = (replies: Buffer[], how: string) => {
    let formErrs = 0
    for (const reply of replies) {
      const id = reply.length >= 2 ? reply.readUInt16BE(0) : -1
      const message = byId.get(id)
      const problem = judgeDnsReply(reply, message?.mustFormErr ?? false)
      if (problem) problems.push(`${how} ${message?.kind ?? 'random/bit-flip'} #${id}: ${problem}`)
      if (reply.length >= 4 && (reply[3] & 0x0f) === 1) formErrs++
    }
    return formErrs
  }
  const udpReplies = await sendUdp(host, port, messages.map((m) => m.bytes))
  const udpFormErrs = judgeAll(udpReplies, 'udp')
  const tcp = await sendTcp(host, port, [...messages.map((m) => frame(m.bytes)), frame(validQuery(0xbeef))], 0xbeef)
  const tcpFormErrs = judgeAll(tcp.replies.filter((r) => r.readUInt16BE(0) !== 0xbeef), 'tcp')
  console.log(`# ${label} DNS: ${messages.length} malformed messages over UDP (${udpReplies.length} replies, ${udpFormErrs} FORMERR) and TCP (${tcp.replies.length} replies, ${tcpFormErrs} FORMERR)`)
  assert.deepEqual(problems, [], `${label}: DNS replies`)
  assert.ok(udpFormErrs > 0 && tcpFormErrs > 0, `${label}: broken messages should get FORMERR`)
  assert.ok(tcp.sawId, `${label}: a valid query after ${messages.length} malformed frames on the same TCP connection got no answer`)
  // Framing: an empty frame, then a valid query on the same connection; a length that promises more than is sent.
  assert.ok((await sendTcp(host, port, [Buffer.from([0, 0]), frame(validQuery(0xbeef))], 0xbeef)).sawId, `${label}: query after an empty TCP frame`)
  await sendTcp(host, port, [Buffer.from([0xff, 0xff, 1, 2, 3])], 0xbeef, 300)
  // The node's own name: the HTTP campaign may legitimately have put the node in maintenance, which
  // hides its services from DNS, but never its node record.
  const self = (await http(target.httpAddr, 'GET', '/v1/agent/self')).json<{Config: {NodeName: string}}>()
  const after = await dnsUdp(port, `${self.Config.NodeName}.node.consul`, 'A', host)
  assert.equal(after.rcode, 'NOERROR', `${label}: DNS after the campaign`)
  assert.ok(!target.exited(), `${label}: agent exited`)
  assert.deepEqual(crashLines(target.output()), [], `${label}: crash lines in the agent log`)
}

describe('HTTP bad-input fuzzing', () => {
  it('enumerates the route table and the query parameters from the code', () => {
    const paths = routes.map((r) => r.path)
    for (const expected of ['/v1/kv/', '/v1/txn', '/v1/session/create', '/v1/agent/service/register', '/v1/catalog/register', '/v1/health/service/', '/v1/snapshot', '/v1/operator/keyring', '/v1/event/fire/']) {
      assert.ok(paths.includes(expected), `route table lacks ${expected}`)
    }
    for (const expected of ['index', 'wait', 'stale', 'consistent', 'max_stale', 'dc', 'recurse', 'cas', 'acquire', 'flags', 'filter', 'tag', 'node-meta', 'relay-factor', 'loglevel', 'enable', 'segment', 'ns']) {
      assert.ok(params.includes(expected), `query parameter scan missed ${expected}: ${params.join(',')}`)
    }
    const requests = generateRequests(routes, params, {seed: SEED, count: REQUESTS_PER_TARGET})
    const again = generateRequests(routes, params, {seed: SEED, count: REQUESTS_PER_TARGET})
    assert.deepEqual(again.map((r) => r.url), requests.map((r) => r.url), 'same seed, same campaign')
    for (const route of routes) {
      for (const method of route.methods) {
        if (route.path === '/v1/agent/leave') continue // a valid PUT stops the agent: only wrong methods are sent
        assert.ok(requests.some((r) => r.route === route && r.method === method), `no ${method} ${route.path} in the campaign`)
      }
    }
  })

  describe('on a -dev agent', () => {
    const ctx = useAgent()
    it('answers every fuzzed request with < 500 and one line, stays up, keeps its data', async () => {
      await regressions(ctx.agent.httpAddr, 'dev')
      await campaign(ctx.agent, SEED, 'dev')
    })
    it('DNS: malformed packets over UDP and TCP get FORMERR or silence, and DNS keeps answering', async () => {
      await dnsCampaign(ctx.agent, SEED, 'dev')
    })
  })

  describe('on a server and through a client agent', () => {
    const ctx = useCluster(1, 'coord-fuzz-', {clients: 1})
    it('server agent', async () => {
      await regressions(ctx.cluster.servers[0].httpAddr, 'server')
      await campaign(ctx.cluster.servers[0], SEED + 1, 'server')
    })
    it('client agent (forwarded and agent-local routes)', async () => {
      await regressions(ctx.cluster.clients[0].httpAddr, 'client')
      await campaign(ctx.cluster.clients[0], SEED + 2, 'client')
    })
    it('DNS on the server and on the client', async () => {
      await dnsCampaign(ctx.cluster.servers[0], SEED + 1, 'server')
      await dnsCampaign(ctx.cluster.clients[0], SEED + 2, 'client')
    })
  })
})
