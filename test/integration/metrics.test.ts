// Metrics end to end on a real agent: /v1/agent/metrics in Consul's JSON shape, ?format=prometheus
// read by a real Prometheus text parser with every defined metric listed and the edge ones moving
// when their cause happens (a KV write, a txn, a session, a catalog register, a DNS query, a blocking
// query parked), a statsd listener receiving them, Consul's 415 without prometheus_retention_time,
// /v1/agent/host and /v1/agent/version, and the profile endpoints off without enable_debug.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createSocket, type Socket} from 'node:dgram'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {agentDnsPort, dnsUdp} from '../helpers/dns.js'
import {parsePrometheus, type PromFamily} from '../helpers/prometheus.js'
import {until} from '../helpers/wait.js'
import {METRIC_DEFINITIONS} from '../../src/lib/metrics/definitions.js'
import {prometheusName} from '../../src/lib/metrics/prometheus.js'
import {PROMETHEUS_DISABLED} from '../../src/lib/http/agent-metrics-endpoint.js'

/** A summary's or counter's running count, or a gauge's value, as a number (0 when absent). */
function reading(families: Map<string, PromFamily>, name: string): number {
  const metric = families.get(name)?.metrics[0]
  if (!metric) return 0
  return Number(metric.count ?? metric.value ?? 0)
}

describe('agent metrics: JSON, Prometheus, statsd', () => {
  const dir = tempDir('coord-metrics-')
  let agent: TestAgent
  let statsd: Socket
  const statsdLines: string[] = []
  let plain: TestAgent

  before(async () => {
    statsd = createSocket('udp4')
    await new Promise<void>((resolve) => statsd.bind(0, '127.0.0.1', () => resolve()))
    statsd.on('message', (msg) => statsdLines.push(...msg.toString().split('\n').filter(Boolean)))
    const file = join(dir.path, 'telemetry.json')
    writeFileSync(file, JSON.stringify({telemetry: {prometheus_retention_time: '60s', disable_hostname: true, statsd_address: `127.0.0.1:${statsd.address().port}`}}))
    agent = await startAgent({args: [`-config-file=${file}`]})
    plain = await startAgent()
  })
  after(async () => {
    await agent?.stop()
    await plain?.stop()
    statsd?.close()
    dir.cleanup()
  })

  const scrape = async (): Promise<Map<string, PromFamily>> => {
    const res = await http(agent.httpAddr, 'GET', '/v1/agent/metrics?format=prometheus')
    assert.equal(res.status, 200, res.text)
    assert.match(String(res.headers['content-type']), /^text\/plain/)
    return parsePrometheus(res.text)
  }

  it('GET /v1/agent/metrics answers Consul\'s summary shape', async () => {
    const res = await http(agent.httpAddr, 'GET', '/v1/agent/metrics')
    assert.equal(res.status, 200, res.text)
    const body = res.json<Record<string, unknown> & {Gauges: Array<{Name: string; Value: number}>}>()
    assert.deepEqual(Object.keys(body), ['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples'])
    assert.match(body.Timestamp as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/)
    const heap = body.Gauges.find((g) => g.Name === 'consul.runtime.alloc_bytes')
    assert.ok(heap && heap.Value > 0, JSON.stringify(body.Gauges.map((g) => g.Name)))
  })

  it('?format=prometheus lists every defined metric, and the edge metrics move with their causes', async () => {
    let families = await scrape()
    const missing = METRIC_DEFINITIONS.map((d) => prometheusName(['consul', ...d.key].join('.'))).filter((name) => !families.has(name))
    assert.deepEqual(missing, [])
    const before = families
    // The causes: a KV write, a txn, a session with a TTL, a catalog register, a DNS query, a GET.
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/kv/metrics/a', 'x')).status, 200)
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/txn', JSON.stringify([{KV: {Verb: 'set', Key: 'metrics/b', Value: 'eA=='}}]))).status, 200)
    const session = (await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({TTL: '60s'}))).json<{ID: string}>().ID
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify({Node: 'ext', Address: '10.0.0.9', Service: {Service: 'web'}}))).status, 200)
    const reply = await dnsUdp(await agentDnsPort(agent), 'web.service.consul', 'A')
    assert.equal(reply.rcode, 'NOERROR')
    // A blocking query parks: the gauge shows it while it waits.
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/metrics/a')).headers['x-consul-index'])
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/metrics/a?index=${index}&wait=5s`)
    families = await until('the parked query in consul_rpc_queries_blocking', async () => {
      const now = await scrape()
      return reading(now, 'consul_rpc_queries_blocking') >= 1 && reading(now, 'consul_session_ttl_active') >= 1 && now
    }, 10_000)
    for (const name of ['consul_kvs_apply', 'consul_txn_apply', 'consul_session_apply', 'consul_catalog_register', 'consul_dns_domain_query', 'consul_rpc_query', 'consul_http_PUT_v1_kv__', 'consul_http_GET_v1_kv__']) {
      assert.ok(reading(families, name) > reading(before, name), `${name}: ${reading(before, name)} → ${reading(families, name)}`)
    }
    assert.equal(reading(families, 'consul_sessions_count'), 1)
    assert.ok(reading(families, 'consul_runtime_sys_bytes') > 0)
    assert.ok(reading(families, 'consul_runtime_event_loop_utilization') > 0)
    console.log(`kvs.apply ${reading(families, 'consul_kvs_apply')}, http GET kv ${reading(families, 'consul_http_GET_v1_kv__')}, heap ${reading(families, 'consul_runtime_alloc_bytes')} B, lag p99 ${reading(families, 'consul_runtime_event_loop_lag_ms')} ms`)
    await http(agent.httpAddr, 'PUT', '/v1/kv/metrics/a', 'y')
    assert.equal((await parked).status, 200)
    await http(agent.httpAddr, 'PUT', `/v1/session/destroy/${session}`)
  })

  it('a statsd listener receives the metrics', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/metrics/statsd', 'x')
    await until('statsd lines for kvs.apply and the runtime gauges', () =>
      statsdLines.some((l) => /^consul\.kvs\.apply:[\d.]+\|ms$/.test(l)) && statsdLines.some((l) => /^consul\.runtime\.alloc_bytes:\d+\|g$/.test(l)), 10_000)
    assert.ok(statsdLines.some((l) => /^consul\.http\.PUT\.v1\.kv\._:[\d.]+\|ms$/.test(l)), statsdLines.slice(0, 20).join('\n'))
  })

  it('without prometheus_retention_time: Consul\'s 415 and wording; JSON still served', async () => {
    const res = await http(plain.httpAddr, 'GET', '/v1/agent/metrics?format=prometheus')
    assert.equal(res.status, 415)
    assert.equal(res.text, PROMETHEUS_DISABLED)
    assert.equal((await http(plain.httpAddr, 'GET', '/v1/agent/metrics')).status, 200)
  })

  it('/v1/agent/host and /v1/agent/version in Consul\'s shapes', async () => {
    const host = (await http(agent.httpAddr, 'GET', '/v1/agent/host')).json<{Memory: {total: number; used: number}; CPU: unknown[]; Host: {hostname: string; os: string}; Disk: {path: string; total: number}; CollectionTime: number; Errors: unknown}>()
    assert.ok(host.Memory.total > 0 && host.Memory.used > 0)
    assert.ok(host.CPU.length > 0)
    assert.equal(host.Host.os, 'linux')
    assert.equal(host.Disk.path, '/')
    assert.ok(host.Disk.total > 0)
    assert.ok(Math.abs(host.CollectionTime / 1e6 - Date.now()) < 60_000)
    assert.equal(host.Errors, null)
    const version = (await http(agent.httpAddr, 'GET', '/v1/agent/version')).json<Record<string, string>>()
    assert.deepEqual(Object.keys(version), ['SHA', 'BuildDate', 'HumanVersion', 'FIPS'])
    assert.match(version.HumanVersion, /^\d+\.\d+\.\d+/)
  })

  it('profile endpoints are off without enable_debug', async () => {
    const res = await http(agent.httpAddr, 'GET', '/v1/agent/debug/pprof/heap')
    assert.equal(res.status, 404)
    assert.match(res.text, /enable_debug/)
  })
})
