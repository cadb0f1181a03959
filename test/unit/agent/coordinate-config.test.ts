// Consul's coordinate keys in the agent config: defaults, durations, and refused values.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildConfig, ConfigError} from '../../../src/lib/agent/config.js'
import {rateScaledIntervalMs} from '../../../src/lib/agent/coordinate-sync.js'

describe('agent config: network coordinates', () => {
  it('defaults to Consul\'s values', () => {
    assert.deepEqual(buildConfig({}, {dev: true}).coordinates, {
      disabled: false, syncIntervalMinMs: 15_000, syncRateTarget: 64, updatePeriodMs: 5_000, updateBatchSize: 128, updateMaxBatches: 5,
    })
  })

  it('reads every key', () => {
    const c = buildConfig({
      disable_coordinates: true, sync_coordinate_interval_min: '250ms', sync_coordinate_rate_target: 8,
      coordinate_update_period: '100ms', coordinate_update_batch_size: 10, coordinate_update_max_batches: 2,
    }, {dev: true}).coordinates
    assert.deepEqual(c, {disabled: true, syncIntervalMinMs: 250, syncRateTarget: 8, updatePeriodMs: 100, updateBatchSize: 10, updateMaxBatches: 2})
  })

  it('refuses zero intervals and non-positive sizes, naming the key', () => {
    assert.throws(() => buildConfig({sync_coordinate_interval_min: '0s', coordinate_update_period: '0s', coordinate_update_batch_size: 0}, {dev: true}), (e: unknown) => {
      const text = (e as ConfigError).problems.join('\n')
      return e instanceof ConfigError && /sync_coordinate_interval_min/.test(text) && /coordinate_update_period/.test(text) && /coordinate_update_batch_size/.test(text)
    })
  })

  it('scales the sync interval with the pool (Consul\'s RateScaledInterval)', () => {
    assert.equal(rateScaledIntervalMs(64, 15_000, 3), 15_000)
    assert.equal(rateScaledIntervalMs(64, 15_000, 6400), 100_000)
  })
})
