// The metrics core: interval aggregation as go-metrics' InmemSink (which interval the endpoint
// shows, Rate and Stddev), names with prefix and host name, the Prometheus sink's text (parsed by a
// real parser) and its retention, and statsd/DogStatsD lines on a real UDP socket.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createSocket} from 'node:dgram'
import {performance} from 'node:perf_hooks'
import {Metrics} from '../../../src/lib/metrics/metrics.js'
import {InmemSink, goTimestamp} from '../../../src/lib/metrics/inmem.js'
import {PrometheusSink, prometheusName} from '../../../src/lib/metrics/prometheus.js'
import {UdpStatsSink, millis} from '../../../src/lib/metrics/statsd.js'
import {parsePrometheus} from '../../helpers/prometheus.js'

describe('in-memory sink (go-metrics InmemSink)', () => {
  it('shows the current interval while alone, then the last complete one', () => {
    let now = 1_000_000
    const sink = new InmemSink(10_000, 60_000, () => now)
    assert.equal(sink.summary()?.Counters.length, 0)
    sink.incrCounter('consul.kvs.x', 2, {})
    sink.incrCounter('consul.kvs.x', 4, {})
    sink.addSample('consul.kvs.apply', 1, {})
    sink.addSample('consul.kvs.apply', 3, {})
    sink.setGauge('consul.g', 7, {})
    let summary = sink.summary()!
    assert.equal(summary.Timestamp, goTimestamp(1_000_000))
    assert.match(summary.Timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/)
    assert.deepEqual(summary.Counters[0], {Name: 'consul.kvs.x', Count: 2, Rate: 0.6, Sum: 6, Min: 2, Max: 4, Mean: 3, Stddev: Math.SQRT2, Labels: {}})
    assert.equal(summary.Samples[0].Mean, 2)
    now += 10_000
    sink.incrCounter('consul.kvs.x', 100, {})
    summary = sink.summary()!
    // The complete interval is shown, not the one in progress; the gauge carries over.
    assert.equal(summary.Counters[0].Sum, 6)
    assert.deepEqual(sink.summary()!.Gauges, [{Name: 'consul.g', Value: 7, Labels: {}}])
    now += 10_000
    assert.equal(sink.summary()!.Counters[0].Sum, 100)
  })

  it('names: prefix, host name on gauges only, labels as given', () => {
    const m = new Metrics(() => 5_000)
    m.configure({prefix: 'coord', hostname: 'h1', sinks: []})
    m.setGauge(['runtime', 'alloc_bytes'], 1)
    m.incrCounter(['kvs', 'apply'], 1, {dc: 'dc1'})
    const summary = m.inmem.summary()!
    assert.equal(summary.Gauges[0].Name, 'coord.h1.runtime.alloc_bytes')
    assert.deepEqual(summary.Counters[0], {...summary.Counters[0], Name: 'coord.kvs.apply', Labels: {dc: 'dc1'}})
  })
})

describe('Prometheus sink', () => {
  it('renders text a real parser reads, with defined metrics listed before their first event', async () => {
    let now = 0
    const sink = new PrometheusSink(60_000, () => now)
    const m = new Metrics(() => now)
    m.configure({prefix: 'consul', hostname: '', sinks: [sink], definitions: [{key: ['raft', 'apply'], kind: 'counter', help: 'x'}, {key: ['kvs', 'apply'], kind: 'sample', help: 'y'}]})
    let families = parsePrometheus(await sink.render())
    assert.equal(families.get('consul_raft_apply')?.type, 'COUNTER')
    m.incrCounter(['raft', 'apply'], 3)
    m.addSample(['kvs', 'apply'], 5)
    m.incrCounter(['serf', 'member', 'join'], 2, {network: 'lan'})
    m.setGauge(['autopilot', 'healthy'], 1)
    families = parsePrometheus(await sink.render())
    assert.equal(families.get('consul_raft_apply')?.metrics[0].value, '3')
    assert.equal(families.get('consul_kvs_apply')?.type, 'SUMMARY')
    assert.equal(families.get('consul_kvs_apply')?.metrics[0].count, '1')
    assert.deepEqual(families.get('consul_serf_member_join')?.metrics[0], {value: '2', labels: {network: 'lan'}})
    assert.equal(families.get('consul_autopilot_healthy')?.metrics[0].value, '1')
    // Past the retention time a series written once is dropped; defined ones stay.
    now += 61_000
    families = parsePrometheus(await sink.render())
    assert.equal(families.has('consul_autopilot_healthy'), false)
    assert.equal(families.has('consul_raft_apply'), true)
    assert.equal(prometheusName('consul.http.GET.v1.kv._'), 'consul_http_GET_v1_kv__')
  })
})

describe('Prometheus summaries aggregated in place', () => {
  it('quantiles within 2 % of the exact ones, over a sliding 10 s window; count and sum cumulative', async () => {
    let now = 1_000_000
    const sink = new PrometheusSink(60_000, () => now)
    const m = new Metrics(() => now)
    m.configure({prefix: 'consul', hostname: '', sinks: [sink]})
    // A spread of timings from 0.01 ms to 500 ms, in a fixed scrambled order.
    const values = Array.from({length: 5000}, (_, i) => 0.01 * Math.exp(((i * 7919) % 5000) / 5000 * Math.log(50_000)))
    for (const v of values) m.addSample(['kvs', 'apply'], v)
    const sorted = [...values].sort((a, b) => a - b)
    const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1]
    let metric = parsePrometheus(await sink.render()).get('consul_kvs_apply')!.metrics[0]
    for (const q of ['0.5', '0.9', '0.99']) {
      const got = Number(metric.quantiles![q])
      assert.ok(Math.abs(got - exact(Number(q))) / exact(Number(q)) <= 0.02, `q${q}: ${got} vs ${exact(Number(q))}`)
    }
    assert.equal(metric.count, '5000')
    assert.ok(Math.abs(Number(metric.sum) - values.reduce((a, b) => a + b, 0)) < 1e-6)
    // 6 s later one value of 1000 ms: the window still holds the old ones.
    now += 6_000
    m.addSample(['kvs', 'apply'], 1000)
    metric = parsePrometheus(await sink.render()).get('consul_kvs_apply')!.metrics[0]
    assert.ok(Number(metric.quantiles!['0.5']) < 10)
    // 11 s after the first batch only the 1000 ms value is in the window; count and sum keep everything.
    now += 5_000
    metric = parsePrometheus(await sink.render()).get('consul_kvs_apply')!.metrics[0]
    assert.equal(metric.quantiles!['0.5'], '1000')
    assert.equal(metric.count, '5001')
    // Quiet for longer than the window: no quantiles (NaN, as client_golang), the totals stay.
    now += 20_000
    metric = parsePrometheus(await sink.render()).get('consul_kvs_apply')!.metrics[0]
    assert.ok(Number.isNaN(Number(metric.quantiles!['0.99'])), metric.quantiles!['0.99'])
    assert.equal(metric.count, '5001')
  })

  it('a Timer kept by a caller follows a new configuration (its sinks and prefix)', async () => {
    const m = new Metrics()
    const timer = m.timer(['kvs', 'apply'])
    timer.measureSince(performance.now())
    const sink = new PrometheusSink(60_000)
    m.configure({prefix: 'coord', hostname: '', sinks: [sink]})
    timer.measureSince(performance.now() - 5)
    const metric = parsePrometheus(await sink.render()).get('coord_kvs_apply')!.metrics[0]
    assert.equal(metric.count, '1')
    assert.ok(Number(metric.sum) >= 5)
    assert.deepEqual(m.inmem.summary()!.Samples.map((s) => [s.Name, s.Count]), [['consul.kvs.apply', 1], ['coord.kvs.apply', 1]])
  })

  it('kept counters and timings with a given value (the Raft driver\'s port) land in the same series as the plain calls', async () => {
    const m = new Metrics()
    const sink = new PrometheusSink(60_000)
    m.configure({prefix: 'consul', hostname: '', sinks: [sink]})
    const applies = m.counter(['raft', 'apply'])
    const commits = m.timer(['raft', 'commitTime'])
    applies.incr()
    applies.incr(2)
    m.incrCounter(['raft', 'apply'])
    commits.add(3)
    m.addSample(['raft', 'commitTime'], 5)
    const families = parsePrometheus(await sink.render())
    assert.equal(families.get('consul_raft_apply')!.metrics[0].value, '4')
    assert.equal(families.get('consul_raft_commitTime')!.metrics[0].count, '2')
    assert.equal(families.get('consul_raft_commitTime')!.metrics[0].sum, '8')
    const inmem = m.inmem.summary()!
    assert.deepEqual(inmem.Counters.map((c) => [c.Name, c.Count, c.Sum]), [['consul.raft.apply', 3, 4]])
    assert.deepEqual(inmem.Samples.map((c) => [c.Name, c.Count, c.Sum]), [['consul.raft.commitTime', 2, 8]])
  })

  it('a series dropped by retention comes back when written again', async () => {
    let now = 0
    const sink = new PrometheusSink(60_000, () => now)
    const m = new Metrics(() => now)
    m.configure({prefix: 'consul', hostname: '', sinks: [sink]})
    m.incrCounter(['serf', 'member', 'join'], 1, {network: 'lan'})
    now += 61_000
    assert.equal(parsePrometheus(await sink.render()).has('consul_serf_member_join'), false)
    m.incrCounter(['serf', 'member', 'join'], 1, {network: 'lan'})
    assert.deepEqual(parsePrometheus(await sink.render()).get('consul_serf_member_join')?.metrics[0], {value: '2', labels: {network: 'lan'}})
  })
})

describe('statsd and DogStatsD sinks', () => {
  it('a counter adds up and a gauge keeps its last value per flush; every timing is sent, to the microsecond', async () => {
    const server = createSocket('udp4')
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()))
    const lines: string[] = []
    let datagrams = 0
    server.on('message', (msg) => { datagrams++; lines.push(...msg.toString().split('\n').filter(Boolean)) })
    const sink = new UdpStatsSink('127.0.0.1', server.address().port, false)
    const m = new Metrics()
    m.configure({prefix: 'consul', hostname: '', sinks: [sink]})
    for (let i = 0; i < 500; i++) {
      m.incrCounter(['kvs', 'apply'], 2)
      m.setGauge(['rpc', 'queries_blocking'], i)
      m.addSample(['kvs', 'apply'], i)
    }
    m.addSample(['raft', 'commitTime'], 1.23456789)
    m.close()
    const deadline = Date.now() + 5000
    while (lines.length < 503 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    server.close()
    assert.deepEqual(lines.filter((l) => l.endsWith('|c')), ['consul.kvs.apply:1000|c'])
    assert.deepEqual(lines.filter((l) => l.endsWith('|g')), ['consul.rpc.queries_blocking:499|g'])
    assert.equal(lines.filter((l) => l.startsWith('consul.kvs.apply:') && l.endsWith('|ms')).length, 500)
    assert.ok(lines.includes('consul.raft.commitTime:1.235|ms'), 'timings to the microsecond')
    // ~20 bytes a line in datagrams of at most 1432 bytes: a handful, not one per value.
    assert.ok(datagrams <= 12, `${datagrams} datagrams`)
  })

  it('timings print to the microsecond exactly as the rounded double prints', () => {
    const values = [0, 0.0004, 0.0005, 0.001, 0.05, 1.23456789, 1.5, 7, 12.3456, 999.9995, 1234567, 86_400_000.25, -1, Number.NaN]
    for (let i = 0; i < 20_000; i++) values.push(Math.random() * 10 ** (i % 7 - 2))
    for (const v of values) assert.equal(millis(v), String(Math.round(v * 1000) / 1000), String(v))
  })

  for (const dog of [false, true]) {
    it(`${dog ? 'DogStatsD' : 'statsd'} lines reach a UDP listener`, async () => {
      const server = createSocket('udp4')
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()))
      const lines: string[] = []
      server.on('message', (msg) => lines.push(...msg.toString().split('\n').filter(Boolean)))
      const sink = new UdpStatsSink('127.0.0.1', server.address().port, dog)
      const m = new Metrics()
      m.configure({prefix: 'consul', hostname: '', sinks: [sink]})
      m.incrCounter(['kvs', 'apply'], 1)
      m.setGauge(['runtime', 'alloc_bytes'], 42)
      m.addSample(['api', 'http'], 1.5, {method: 'GET'})
      const deadline = Date.now() + 5000
      while (lines.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      m.close()
      server.close()
      assert.ok(lines.includes('consul.kvs.apply:1|c'), lines.join(' '))
      assert.ok(lines.includes('consul.runtime.alloc_bytes:42|g'))
      assert.ok(lines.includes(dog ? 'consul.api.http:1.5|ms|#method:GET' : 'consul.api.http.GET:1.5|ms'), lines.join(' '))
    })
  }
})
