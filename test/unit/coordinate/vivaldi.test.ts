// The Vivaldi core (serf's coordinate package behaviour): simulated topologies with known RTTs
// converge; the latency filter takes the median; bad inputs are refused and change nothing.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {SeededRng} from '../../../src/lib/rng.js'
import {VivaldiClient} from '../../../src/lib/coordinate/client.js'
import {CoordinateError, defaultCoordinateConfig, distanceSeconds, originCoordinate, parseCoordinate, type Coordinate} from '../../../src/lib/coordinate/coordinate.js'
import {decodeCoordinate, encodeCoordinate} from '../../../src/lib/coordinate/wire.js'

/**
 * Every node repeatedly probes a random peer and observes the true RTT (± `noise`, relative),
 * as gossip does. Returns the clients; deterministic for a seed.
 */
function simulate(truth: number[][], rounds: number, seed: number, noise = 0): VivaldiClient[] {
  const rng = new SeededRng(seed)
  const clients = truth.map(() => new VivaldiClient(rng.fork()))
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < clients.length; i++) {
      let j = rng.int(0, clients.length - 1)
      if (j >= i) j++
      const rtt = truth[i][j] * (1 + noise * (rng.next() * 2 - 1))
      clients[i].update(`n${j}`, clients[j].coordinate, rtt)
    }
  }
  return clients
}

/** Mean and worst |estimate − truth| / truth over all pairs. */
function relativeErrors(truth: number[][], clients: VivaldiClient[]): {mean: number; worst: number} {
  let sum = 0
  let worst = 0
  let pairs = 0
  for (let i = 0; i < clients.length; i++) {
    for (let j = i + 1; j < clients.length; j++) {
      const err = Math.abs(distanceSeconds(clients[i].coordinate, clients[j].coordinate) - truth[i][j]) / truth[i][j]
      sum += err
      worst = Math.max(worst, err)
      pairs++
    }
  }
  return {mean: sum / pairs, worst}
}

describe('Vivaldi coordinates: convergence on known topologies', () => {
  it('nodes on a line, 10 ms apart, estimate every pairwise RTT within 5% on average (25% worst)', () => {
    const n = 10
    const truth = Array.from({length: n}, (_, i) => Array.from({length: n}, (_, j) => Math.abs(i - j) * 0.010))
    const clients = simulate(truth, 1000, 42)
    const {mean, worst} = relativeErrors(truth, clients)
    console.log(`# line of ${n}: mean relative error ${(mean * 100).toFixed(1)}%, worst ${(worst * 100).toFixed(1)}%`)
    assert.ok(mean < 0.05, `mean relative error ${mean}`)
    assert.ok(worst < 0.25, `worst relative error ${worst}`)
    // The ends are 90 ms apart, the neighbours 10 ms: order must be right.
    assert.ok(distanceSeconds(clients[0].coordinate, clients[1].coordinate) < distanceSeconds(clients[0].coordinate, clients[9].coordinate))
  })

  it('a 5×5 grid (10 ms per step, Euclidean) with ±5% jitter converges within 5% on average (25% worst)', () => {
    const side = 5
    const at = (k: number) => [k % side, Math.floor(k / side)]
    const truth = Array.from({length: side * side}, (_, i) => Array.from({length: side * side}, (_, j) => {
      const [x1, y1] = at(i)
      const [x2, y2] = at(j)
      return Math.hypot(x1 - x2, y1 - y2) * 0.010
    }))
    const clients = simulate(truth, 1000, 7, 0.05)
    const {mean, worst} = relativeErrors(truth, clients)
    console.log(`# 5x5 grid: mean relative error ${(mean * 100).toFixed(1)}%, worst ${(worst * 100).toFixed(1)}%`)
    assert.ok(mean < 0.05, `mean relative error ${mean}`)
    assert.ok(worst < 0.25, `worst relative error ${worst}`)
    for (const c of clients) assert.ok(c.coordinate.Error < 1.5, 'every node gained confidence')
  })

  it('is deterministic for a seed', () => {
    const truth = [[0, 0.005, 0.02], [0.005, 0, 0.015], [0.02, 0.015, 0]]
    assert.deepEqual(simulate(truth, 50, 3).map((c) => c.coordinate), simulate(truth, 50, 3).map((c) => c.coordinate))
  })
})

describe('Vivaldi coordinates: filter, shape and bad input', () => {
  it('a new coordinate has Consul\'s default shape', () => {
    const c = new VivaldiClient(new SeededRng(1)).coordinate
    assert.deepEqual(c, {Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5})
    assert.deepEqual(JSON.parse(JSON.stringify(c)), {Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5})
  })

  it('the latency filter uses the median of the last three samples', () => {
    // Two clients with identical history except one outlier sample: the median hides it.
    const peer: Coordinate = {...originCoordinate(defaultCoordinateConfig()), Vec: [0.01, 0, 0, 0, 0, 0, 0, 0]}
    const a = new VivaldiClient(new SeededRng(5))
    const b = new VivaldiClient(new SeededRng(5))
    for (const rtt of [0.010, 0.010]) {
      a.update('p', peer, rtt)
      b.update('p', peer, rtt)
    }
    a.update('p', peer, 0.010)
    b.update('p', peer, 5.0) // one 5 s stall: median of [0.010, 0.010, 5] is 0.010
    assert.deepEqual(b.coordinate, a.coordinate)
    // Samples are per peer: another peer's filter starts empty, so its first sample counts as is.
    const c = new VivaldiClient(new SeededRng(5))
    c.update('q', peer, 5.0)
    assert.notDeepEqual(c.coordinate, a.coordinate)
  })

  it('refuses NaN, infinite and mis-sized coordinates and out-of-range RTTs, unchanged', () => {
    const client = new VivaldiClient(new SeededRng(9))
    client.update('p', {Vec: [0.002, 0, 0, 0, 0, 0, 0, 0], Error: 1, Adjustment: 0, Height: 1e-5}, 0.004)
    const before = client.coordinate
    const good = originCoordinate(defaultCoordinateConfig())
    const bad: Array<[Coordinate, number]> = [
      [{...good, Vec: [NaN, 0, 0, 0, 0, 0, 0, 0]}, 0.01],
      [{...good, Height: Infinity}, 0.01],
      [{...good, Error: -Infinity}, 0.01],
      [{...good, Adjustment: NaN}, 0.01],
      [{...good, Vec: [0, 0, 0, 0]}, 0.01],
      [good, -0.001],
      [good, 10.5],
      [good, NaN],
    ]
    for (const [coord, rtt] of bad) {
      assert.throws(() => client.update('p', coord, rtt), (e: unknown) => e instanceof CoordinateError && e.code === 'COORDINATE_INVALID')
    }
    assert.deepEqual(client.coordinate, before)
    assert.throws(() => distanceSeconds(good, {...good, Vec: [0, 0]}), CoordinateError)
  })

  it('parses Consul\'s JSON and refuses what is not a coordinate', () => {
    assert.deepEqual(parseCoordinate({Vec: [1, 2], Error: 0.5, Adjustment: -0.1, Height: 0.001}, 2), {Vec: [1, 2], Error: 0.5, Adjustment: -0.1, Height: 0.001})
    for (const raw of [null, 3, [], {Vec: 'x', Error: 1, Adjustment: 0, Height: 0}, {Vec: [1, 2], Error: '1', Adjustment: 0, Height: 0}, {Vec: [1, 2], Error: 1, Height: 0}, {Vec: [1], Error: 1, Adjustment: 0, Height: 0}]) {
      assert.throws(() => parseCoordinate(raw, 2), CoordinateError, JSON.stringify(raw))
    }
  })

  it('round-trips through the 88-byte gossip payload and refuses a wrong size', () => {
    const c: Coordinate = {Vec: [0.001, -0.002, 0.003, 0, 0, 0, 0, 1e-9], Error: 0.4, Adjustment: -0.0001, Height: 2e-5}
    const bytes = encodeCoordinate(c)
    assert.equal(bytes.length, 88)
    assert.deepEqual(decodeCoordinate(bytes, 8), c)
    assert.throws(() => decodeCoordinate(bytes.subarray(8), 8), CoordinateError)
    const nan = encodeCoordinate({...c, Height: NaN})
    assert.throws(() => decodeCoordinate(nan, 8), CoordinateError)
  })

  it('distance adds both adjustments only while the result stays positive', () => {
    const a: Coordinate = {Vec: [0.010, 0], Error: 1, Adjustment: 0.002, Height: 0}
    const b: Coordinate = {Vec: [0, 0], Error: 1, Adjustment: 0.001, Height: 0}
    assert.ok(Math.abs(distanceSeconds(a, b) - 0.013) < 1e-12)
    assert.ok(Math.abs(distanceSeconds({...a, Adjustment: -0.02}, b) - 0.010) < 1e-12)
  })
})
