// Builds the agent's metrics from its telemetry block: the process-wide Metrics gets the prefix,
// the host name for gauges, and the sinks asked for (Prometheus, statsd, DogStatsD); the runtime
// gauges start sampling. Stopped with the agent.
import {hostname} from 'node:os'
import type {AgentConfig} from '../agent/config.js'
import {splitHostPort} from '../agent/telemetry-config.js'
import type {AgentTelemetry} from '../http/context.js'
import {metrics, type MetricsSink} from '../metrics/metrics.js'
import {PrometheusSink} from '../metrics/prometheus.js'
import {UdpStatsSink} from '../metrics/statsd.js'
import {METRIC_DEFINITIONS} from '../metrics/definitions.js'
import {startRuntimeMetrics} from '../metrics/runtime.js'

export interface RunningTelemetry extends AgentTelemetry {
  /** Adds gauges sampled every second with the runtime's (sessions, leases, ...). */
  addCollector(collect: () => void): void
  stop(): void
}

export function startTelemetry(config: AgentConfig): RunningTelemetry {
  const collectors: Array<() => void> = []
  const {telemetry} = config
  const sinks: MetricsSink[] = []
  const prometheus = telemetry.prometheusRetentionMs > 0 ? new PrometheusSink(telemetry.prometheusRetentionMs) : undefined
  if (prometheus) sinks.push(prometheus)
  for (const [address, dog] of [[telemetry.statsdAddress, false], [telemetry.dogstatsdAddr, true]] as const) {
    const target = address === '' ? undefined : splitHostPort(address)
    if (target) sinks.push(new UdpStatsSink(target.host, target.port, dog))
  }
  metrics.configure({
    prefix: telemetry.metricsPrefix,
    hostname: telemetry.disableHostname ? '' : hostname(),
    sinks,
    definitions: METRIC_DEFINITIONS,
  })
  const runtime = startRuntimeMetrics(metrics, collectors)
  return {
    metrics, prometheus,
    addCollector: (collect) => { collectors.push(collect) },
    stop: () => {
      runtime.stop()
      metrics.close()
    },
  }
}
