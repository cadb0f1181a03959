// Consul's `telemetry` block (Consul docs: agent/config/config-files#telemetry-parameters): where
// metrics go besides /v1/agent/metrics. Problems name the key; Consul's other sinks (circonus,
// statsite, filters) are accepted with a warning and not acted on.
import {isIP} from 'node:net'
import {parseDuration} from '../duration.js'
import type {ProblemSink} from './config-problems.js'

export interface TelemetryConfig {
  /** statsd_address: "host:port" of a statsd server (UDP), '' = none. */
  readonly statsdAddress: string
  /** dogstatsd_addr: "host:port" of a DogStatsD agent (UDP), '' = none. */
  readonly dogstatsdAddr: string
  /** disable_hostname: no host name inside gauge names. */
  readonly disableHostname: boolean
  /** metrics_prefix (Consul: "consul"). */
  readonly metricsPrefix: string
  /** prometheus_retention_time: > 0 turns the Prometheus format on, and drops series idle longer. */
  readonly prometheusRetentionMs: number
}

export const TELEMETRY_KEYS: ReadonlySet<string> = new Set(['statsd_address', 'dogstatsd_addr', 'disable_hostname', 'metrics_prefix', 'prometheus_retention_time'])
export const TELEMETRY_ACCEPTED: ReadonlySet<string> = new Set([
  'statsite_address', 'dogstatsd_tags', 'filter_default', 'prefix_filter', 'enable_host_metrics', 'disable_compat_1.9',
  'retry_failed_connection', 'circonus_api_token', 'circonus_api_app', 'circonus_api_url', 'circonus_submission_interval',
  'circonus_submission_url', 'circonus_check_id', 'circonus_check_force_metric_activation', 'circonus_check_instance_id',
  'circonus_check_search_tag', 'circonus_check_display_name', 'circonus_check_tags', 'circonus_broker_id', 'circonus_broker_select_tag',
])

export const DEFAULT_TELEMETRY: TelemetryConfig = {statsdAddress: '', dogstatsdAddr: '', disableHostname: false, metricsPrefix: 'consul', prometheusRetentionMs: 0}

/** Reads the block; each problem is kept under its key (`telemetry.statsd_address`). */
export function parseTelemetryConfig(raw: Record<string, unknown>, problems: ProblemSink): TelemetryConfig {
  const string = (key: string, fallback: string): string => {
    const value = raw[key]
    if (value === undefined) return fallback
    if (typeof value === 'string') return value
    problems.add(`telemetry.${key}`, `telemetry.${key}: expected a string, got ${JSON.stringify(value)}`)
    return fallback
  }
  const address = (key: string): string => {
    const value = string(key, '').trim()
    if (value !== '' && !splitHostPort(value)) problems.add(`telemetry.${key}`, `telemetry.${key}: expected "host:port" (a UDP address), got ${JSON.stringify(value)}`)
    return value
  }
  let disableHostname = DEFAULT_TELEMETRY.disableHostname
  const flag = raw.disable_hostname
  if (typeof flag === 'boolean') disableHostname = flag
  else if (flag === 'true' || flag === 'false') disableHostname = flag === 'true'
  else if (flag !== undefined) problems.add('telemetry.disable_hostname', `telemetry.disable_hostname: expected true or false, got ${JSON.stringify(flag)}`)
  let prometheusRetentionMs = 0
  const retention = raw.prometheus_retention_time
  if (retention !== undefined) {
    try {
      if (typeof retention !== 'string') throw new Error('not a string')
      prometheusRetentionMs = Math.max(0, parseDuration(retention))
    } catch {
      problems.add('telemetry.prometheus_retention_time', `telemetry.prometheus_retention_time: expected a duration such as "60s", got ${JSON.stringify(retention)}`)
    }
  }
  const metricsPrefix = string('metrics_prefix', DEFAULT_TELEMETRY.metricsPrefix)
  if (/\s/.test(metricsPrefix)) problems.add('telemetry.metrics_prefix', `telemetry.metrics_prefix: must not contain spaces, got ${JSON.stringify(metricsPrefix)}`)
  return {statsdAddress: address('statsd_address'), dogstatsdAddr: address('dogstatsd_addr'), disableHostname, metricsPrefix, prometheusRetentionMs}
}

/** "127.0.0.1:8125" → {host, port}; "[::1]:8125" too; a host name is allowed, as Go's net.Dial takes one. */
export function splitHostPort(address: string): {host: string; port: number} | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address)
  if (!match) return undefined
  const host = match[1] ?? match[2]
  const port = Number(match[3])
  if (port < 1 || port > 65535) return undefined
  if (match[1] !== undefined && isIP(host) !== 6) return undefined
  return {host, port}
}
