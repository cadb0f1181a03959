// The Raft driver's metrics port on the agent's metrics: timings and counters come many times per
// write, so each key's series is resolved once, by the key's identity (the driver passes constant
// key arrays), and kept as a Timer or counter; gauges come once a second and take the plain path.
// A WeakMap: a key array made per call (a role change's counter) costs a new entry, collected with it.
import {metrics, type Timer} from '../metrics/metrics.js'
import type {RaftMetricsSink} from './driver-ports.js'

export function raftMetrics(): RaftMetricsSink {
  const timers = new WeakMap<readonly string[], Timer>()
  const counters = new WeakMap<readonly string[], {incr(value?: number): void}>()
  return {
    counter: (key, value) => {
      let counter = counters.get(key)
      if (!counter) counters.set(key, counter = metrics.counter(key))
      counter.incr(value)
    },
    sample: (key, ms) => {
      let timer = timers.get(key)
      if (!timer) timers.set(key, timer = metrics.timer(key))
      timer.add(ms)
    },
    gauge: (key, value) => metrics.setGauge(key, value),
  }
}
