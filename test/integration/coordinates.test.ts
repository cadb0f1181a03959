// Network coordinates on real agents (two servers and a client on loopback, coordinate sync every
// 300 ms instead of Consul's 15 s): gossip acks carry coordinates, every agent's LAN coordinate
// reaches /v1/coordinate/nodes, ?near= sorts by it (`_agent` on a client means the client), the
// servers' WAN coordinates show in /v1/coordinate/datacenters, `coord rtt` prints Consul's line,
// and the npm `consul` client reads them. Prints the estimated RTTs next to a measured loopback RTT.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createSocket} from 'node:dgram'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {setTimeout as delay} from 'node:timers/promises'
import {runCli, tempDir, useCluster} from '../helpers/agent.js'
import {consulClient, http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {distanceSeconds, type Coordinate} from '../../src/lib/coordinate/coordinate.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

interface Entry {Node: string; Segment: string; Coord: Coordinate}

const configDir = tempDir('coord-coordinates-config-')
const configFile = join(configDir.path, 'coordinates.json')
writeFileSync(configFile, JSON.stringify({
  sync_coordinate_interval_min: '300ms', coordinate_update_period: '100ms',
  // WAN probes every 300 ms rather than memberlist's 5 s, so WAN coordinates appear quickly.
  gossip_wan: {probe_interval: '300ms', probe_timeout: '150ms'},
}))

/** The shared bounded poll, with the generous bound these waits get on a loaded box. */
const poll = <T>(what: string, read: () => Promise<T | undefined | false>) => until(what, read, 20_000)

/** Median round trip of a UDP datagram through loopback to an echo socket in this process (ms). */
async function loopbackRttMs(host: string, samples = 20): Promise<number> {
  const echo = createSocket('udp4')
  const probe = createSocket('udp4')
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address))
  await new Promise<void>((resolve) => echo.bind(0, host, resolve))
  await new Promise<void>((resolve) => probe.bind(0, host, resolve))
  const times: number[] = []
  try {
    for (let i = 0; i < samples; i++) {
      const start = performance.now()
      const back = new Promise<void>((resolve) => probe.once('message', () => resolve()))
      probe.send(Buffer.from('x'), echo.address().port, host)
      await Promise.race([back, delay(1000)])
      times.push(performance.now() - start)
    }
  } finally {
    echo.close()
    probe.close()
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

describe('network coordinates on a two-server, one-client cluster', () => {
  const ctx = useCluster(2, 'coord-coordinates-', {clients: 1, extraArgs: [`-config-file=${configFile}`]})
  const server = (i: number) => ctx.cluster.servers[i].httpAddr
  const client = () => ctx.cluster.clients[0].httpAddr
  const names = ['server-1', 'server-2', 'client-1']

  /** Every node's coordinate, once each has been moved by real gossip observations (Error below the initial 1.5). */
  const settled = () => poll('a gossip-measured coordinate for every node', async () => {
    const res = await http(server(0), 'GET', '/v1/coordinate/nodes')
    const entries = res.json<Entry[]>()
    return names.every((n) => entries.some((e) => e.Node === n && e.Coord.Error < 1.5)) && entries
  })

  it('every node\'s LAN coordinate reaches /v1/coordinate/nodes, through every agent', async () => {
    const started = performance.now()
    const entries = await settled()
    console.log(`# coordinates for all ${names.length} nodes, measured by gossip, after ${Math.round(performance.now() - started)} ms`)
    assert.deepEqual(entries.map((e) => e.Node), [...names].sort(), 'one entry per node, by node name')
    for (const e of entries) {
      assert.equal(e.Segment, '')
      assert.equal(e.Coord.Vec.length, 8)
      assert.ok([e.Coord.Error, e.Coord.Adjustment, e.Coord.Height, ...e.Coord.Vec].every(Number.isFinite))
    }
    const viaClient = await http(client(), 'GET', '/v1/coordinate/nodes')
    assert.equal(viaClient.status, 200)
    assert.deepEqual(viaClient.json<Entry[]>().map((e) => e.Node), [...names].sort())
    const one = await http(client(), 'GET', '/v1/coordinate/node/client-1')
    assert.deepEqual(one.json<Entry[]>().map((e) => e.Node), ['client-1'])
    assert.equal((await http(client(), 'GET', '/v1/coordinate/node/no-such-node')).status, 404)
    const self = await http(client(), 'GET', '/v1/agent/self')
    assert.equal(self.json<{Coord: Coordinate}>().Coord.Vec.length, 8)
    await printEstimates('first coordinates', entries)
  })

  it('?near= sorts by estimated RTT: _agent is the agent answering, also on a client', async () => {
    await settled()
    const order = async (addr: string, path: string) => (await http(addr, 'GET', path)).json<Array<{Node: any}>>().map((e) => (typeof e.Node === 'string' ? e.Node : e.Node.Node))
    assert.equal((await order(client(), '/v1/catalog/nodes?near=_agent'))[0], 'client-1')
    assert.equal((await order(server(0), '/v1/catalog/nodes?near=_agent'))[0], 'server-1')
    assert.equal((await order(server(0), '/v1/catalog/nodes?near=server-2'))[0], 'server-2')
    assert.deepEqual(await order(server(0), '/v1/health/service/consul?near=server-2'), ['server-2', 'server-1'])
    assert.deepEqual(await order(server(1), '/v1/catalog/service/consul?near=server-1'), ['server-1', 'server-2'])
    // A source without a coordinate: Consul's order (by node name), unsorted.
    assert.deepEqual(await order(server(0), '/v1/catalog/nodes?near=nobody'), [...names].sort())
  })

  it('an update for a catalog node is stored, one for an unknown node dropped, bad ones refused; deregistering drops it', async () => {
    const coord: Coordinate = {Vec: [0.001, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5}
    assert.equal((await http(server(0), 'PUT', '/v1/catalog/register', JSON.stringify({Node: 'external', Address: '10.9.9.9'}))).status, 200)
    for (const node of ['external', 'ghost']) {
      assert.equal((await http(client(), 'PUT', '/v1/coordinate/update', JSON.stringify({Node: node, Coord: coord}))).status, 200)
    }
    const stored = await poll('the external node\'s coordinate', async () => {
      const res = await http(server(1), 'GET', '/v1/coordinate/node/external')
      return res.status === 200 && res.json<Entry[]>()
    })
    assert.deepEqual(stored, [{Node: 'external', Segment: '', Coord: coord}])
    assert.equal((await http(server(1), 'GET', '/v1/coordinate/node/ghost')).status, 404)
    const bad = await http(server(0), 'PUT', '/v1/coordinate/update', JSON.stringify({Node: 'external', Coord: {...coord, Vec: [1, 2]}}))
    assert.equal(bad.status, 400)
    assert.match(bad.text, /^rejected bad coordinate: 2 dimensions, expected 8$/)
    assert.equal((await http(server(0), 'PUT', '/v1/coordinate/update', '{"Coord": 1}')).status, 400)
    assert.equal((await http(server(0), 'PUT', '/v1/catalog/deregister', JSON.stringify({Node: 'external'}))).status, 200)
    assert.equal((await http(server(0), 'GET', '/v1/coordinate/node/external?consistent')).status, 404)
  })

  it('the servers\' WAN coordinates appear by datacenter; catalog datacenters lists dc1', async () => {
    const maps = await poll('both servers in /v1/coordinate/datacenters', async () => {
      const value = (await http(server(0), 'GET', '/v1/coordinate/datacenters')).json<Array<{Datacenter: string; AreaID: string; Coordinates: Array<{Node: string}>}>>()
      return value.length === 1 && value[0].Coordinates.length === 2 && value
    })
    assert.equal(maps[0].Datacenter, 'dc1')
    assert.equal(maps[0].AreaID, 'wan')
    assert.deepEqual(maps[0].Coordinates.map((c) => c.Node), ['server-1', 'server-2'])
    assert.deepEqual((await http(client(), 'GET', '/v1/catalog/datacenters')).json(), ['dc1'])
  })

  it('coord rtt prints Consul\'s line (LAN and WAN) and names an unknown node', async () => {
    await settled()
    const two = await runCli(['rtt', 'server-1', 'client-1'], {httpAddr: server(1)})
    assert.equal(two.code, 0, two.stderr)
    assert.match(two.stdout, /^Estimated server-1 <-> client-1 rtt: \d+\.\d{3} ms \(using LAN coordinates\)\n$/)
    console.log(`# ${two.stdout.trim()}`)
    const one = await runCli(['rtt', 'server-2'], {httpAddr: client()})
    assert.match(one.stdout, /^Estimated server-2 <-> client-1 rtt: \d+\.\d{3} ms \(using LAN coordinates\)\n$/)
    const wan = await runCli(['rtt', '-wan', 'server-2.dc1'], {httpAddr: server(0)})
    assert.equal(wan.code, 0, wan.stderr)
    assert.match(wan.stdout, /^Estimated server-2\.dc1 <-> server-1\.dc1 rtt: \d+\.\d{3} ms \(using WAN coordinates\)\n$/)
    const unknown = await runCli(['rtt', 'nope'], {httpAddr: client()})
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stderr.trim(), 'Could not find a coordinate for node "nope"')
    const none = await runCli(['rtt'], {httpAddr: client()})
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^One or two node names must be specified/)
  })

  /** Estimated RTT of every pair next to a measured loopback round trip (printed, not asserted: a loaded box stretches both). */
  async function printEstimates(when: string, entries: Entry[]): Promise<void> {
    const loopback = await loopbackRttMs(ctx.cluster.addresses[0])
    const pairs: string[] = []
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) pairs.push(`${entries[i].Node}<->${entries[j].Node} ${(distanceSeconds(entries[i].Coord, entries[j].Coord) * 1000).toFixed(3)} ms`)
    }
    console.log(`# ${when}: estimated ${pairs.join(', ')}; measured loopback UDP round trip (median of 20, this process) ${loopback.toFixed(3)} ms`)
  }

  it('the npm consul client reads coordinates and sorts service nodes with near', async () => {
    await settled()
    const consul = consulClient(client())
    const entries: Entry[] = await consul._get({name: 'coordinate.nodes', path: '/coordinate/nodes'}, (request: any, next: any) => {
      if (request.err) return next(false, request.err)
      next(false, undefined, request.res.body)
    })
    assert.deepEqual(entries.map((e) => e.Node), [...names].sort())
    const near = await consulClient(server(1)).catalog.service.nodes({service: 'consul', near: '_agent'})
    assert.deepEqual(near.map((n: any) => n.Node), ['server-2', 'server-1'])
    await printEstimates('after the whole file (~10 s of gossip)', entries)
  })
})

process.on('exit', () => configDir.cleanup())
