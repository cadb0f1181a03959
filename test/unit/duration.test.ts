// Go durations at their limits: beyond int64 nanoseconds ParseDuration fails (as Go's does), and
// timer delays stay within what Node's setTimeout can hold (fuzz finding: Interval "1000h" became
// a 1 ms timer, a check in a tight loop).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseDuration, timerDelayMs} from '../../src/lib/duration.js'

describe('parseDuration limits', () => {
  it('takes up to ~292 years and refuses more, with Go\'s message', () => {
    assert.equal(parseDuration('2562047h'), 2562047 * 3_600_000)
    assert.throws(() => parseDuration('9999999999h'), /^Error: time: invalid duration "9999999999h"$/)
    assert.throws(() => parseDuration('-9999999999h'), /invalid duration/)
  })
})

describe('timerDelayMs', () => {
  it('keeps delays Node can hold and cuts longer ones to 2^31 - 1 ms', () => {
    assert.equal(timerDelayMs(1500), 1500)
    assert.equal(timerDelayMs(1000 * 3_600_000), 2 ** 31 - 1)
    assert.equal(timerDelayMs(-5), 0)
  })
})
