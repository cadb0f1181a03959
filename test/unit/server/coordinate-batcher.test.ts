// The servers' coordinate batcher (Consul's Coordinate.Update + batchUpdate): the latest update per
// node wins, entries of at most batchSize, at most maxBatches a period (the rest dropped with a
// warning), bad updates refused at enqueue, a failed proposal logged and dropped.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {CoordinateBatcher} from '../../../src/lib/server/coordinate-batcher.js'
import {CoordinateError, type Coordinate} from '../../../src/lib/coordinate/coordinate.js'
import {LogHub} from '../../../src/lib/logger.js'
import type {Command} from '../../../src/lib/state/types.js'

const at = (x: number): Coordinate => ({Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.5, Adjustment: 0, Height: 1e-5})

function batcher(propose: (command: Command) => Promise<unknown>, lines: string[] = []): CoordinateBatcher {
  // A period far beyond the test: flush() is called by hand.
  return new CoordinateBatcher({
    periodMs: 3_600_000, batchSize: 2, maxBatches: 2, dimensionality: 8, propose, now: () => 42,
    log: new LogHub('warn', (line) => lines.push(line), false).logger('test'),
  })
}

describe('coordinate batcher', () => {
  it('keeps the latest update per node and proposes entries of at most batchSize', async () => {
    const proposed: Command[] = []
    const b = batcher(async (c) => { proposed.push(c) })
    b.enqueue({Node: 'a', Coord: at(1)})
    b.enqueue({Node: 'b', Coord: at(2)})
    b.enqueue({Node: 'a', Coord: at(3)})
    b.enqueue({Node: 'c', Segment: '', Coord: at(4)})
    await b.flush()
    b.stop()
    const updates = proposed.map((c) => (c.type === 'coordinate-batch-update' ? c.updates.map((u) => `${u.node}:${u.coord.Vec[0]}`) : []))
    assert.deepEqual(updates, [['a:3', 'b:2'], ['c:4']])
    assert.ok(proposed.every((c) => c.now === 42))
    await b.flush() // nothing pending: nothing proposed
    assert.equal(proposed.length, 2)
  })

  it('drops what exceeds batchSize × maxBatches in one period, with a warning', async () => {
    const proposed: Command[] = []
    const lines: string[] = []
    const b = batcher(async (c) => { proposed.push(c) }, lines)
    for (let i = 0; i < 7; i++) b.enqueue({Node: `n${i}`, Coord: at(i)})
    await b.flush()
    b.stop()
    assert.equal(proposed.length, 2)
    assert.equal(proposed.flatMap((c) => (c.type === 'coordinate-batch-update' ? c.updates : [])).length, 4)
    assert.ok(lines.some((l) => /Discarded coordinate updates/.test(l) && /number_discarded=3/.test(l)), lines.join('\n'))
  })

  it('refuses updates without a node or with a bad coordinate', () => {
    const b = batcher(async () => {})
    for (const bad of [{Coord: at(1)}, {Node: '', Coord: at(1)}, {Node: 'a'}, {Node: 'a', Coord: {...at(1), Vec: [1]}}, {Node: 'a', Coord: {...at(1), Error: Infinity}}, {Node: 'a', Segment: 3, Coord: at(1)}]) {
      assert.throws(() => b.enqueue(bad), CoordinateError, JSON.stringify(bad))
    }
    b.stop()
  })

  it('a failed proposal (no leader) is logged and its updates dropped', async () => {
    const lines: string[] = []
    const b = batcher(async () => { throw new Error('No cluster leader') }, lines)
    b.enqueue({Node: 'a', Coord: at(1)})
    await b.flush()
    b.stop()
    assert.ok(lines.some((l) => /Failed to apply coordinate updates/.test(l)), lines.join('\n'))
  })
})
