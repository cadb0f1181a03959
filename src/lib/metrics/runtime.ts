// The process's runtime gauges, sampled every second as go-metrics' runtime stats are. Node's twins
// of Consul's consul.runtime.* (alloc_bytes = V8 heap in use, sys_bytes = RSS, GC runs and pauses)
// keep Consul's names; what Go has no word for gets its own (heap_total_bytes, event loop lag and
// utilisation, from perf_hooks).
import {PerformanceObserver, monitorEventLoopDelay, performance, type EventLoopUtilization} from 'node:perf_hooks'
import {getHeapStatistics} from 'node:v8'
import type {Metrics} from './metrics.js'

const SAMPLE_MS = 1000

export interface RuntimeCollector {
  stop(): void
}

function residentSetSize(): number | undefined {
  try {
    return process.memoryUsage.rss()
  } catch {
    return undefined
  }
}

/** `extra` runs on every sample too (the agent's own gauges); the caller may add to it later. */
export function startRuntimeMetrics(metrics: Metrics, extra: ReadonlyArray<() => void> = []): RuntimeCollector {
  let gcRuns = 0
  let gcPauseNs = 0
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcRuns++
      const ns = Math.round(entry.duration * 1e6)
      gcPauseNs += ns
      metrics.addSample(['runtime', 'gc_pause_ns'], ns)
    }
  })
  gc.observe({entryTypes: ['gc']})
  const delay = monitorEventLoopDelay({resolution: 10})
  delay.enable()
  let elu: EventLoopUtilization = performance.eventLoopUtilization()
  const sample = () => {
    const heap = getHeapStatistics()
    metrics.setGauge(['runtime', 'alloc_bytes'], heap.used_heap_size)
    metrics.setGauge(['runtime', 'heap_total_bytes'], heap.total_heap_size)
    // RSS is read from /proc: with every file descriptor in use (a flood of connections) the read
    // fails with EMFILE, and a gauge must not take the agent down; it keeps its last reading.
    const rss = residentSetSize()
    if (rss !== undefined) metrics.setGauge(['runtime', 'sys_bytes'], rss)
    metrics.setGauge(['runtime', 'total_gc_runs'], gcRuns)
    metrics.setGauge(['runtime', 'total_gc_pause_ns'], gcPauseNs)
    // The event loop's worst delay in the last second (p99, ms) and the share of it spent busy.
    metrics.setGauge(['runtime', 'event_loop_lag_ms'], delay.count > 0 ? delay.percentile(99) / 1e6 : 0)
    // ...and the single worst one: a stall (a large snapshot, a huge answer) shows here, not in the p99.
    metrics.setGauge(['runtime', 'event_loop_delay_max_ms'], delay.count > 0 ? delay.max / 1e6 : 0)
    delay.reset()
    const next = performance.eventLoopUtilization()
    metrics.setGauge(['runtime', 'event_loop_utilization'], performance.eventLoopUtilization(next, elu).utilization)
    elu = next
    for (const collect of extra) collect()
  }
  sample()
  const timer = setInterval(sample, SAMPLE_MS)
  timer.unref()
  return {
    stop: () => {
      clearInterval(timer)
      gc.disconnect()
      delay.disable()
    },
  }
}
