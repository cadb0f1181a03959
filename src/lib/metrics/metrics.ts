// The agent's metrics, in Consul's names (Consul docs: agent/monitor/telemetry): one process-wide
// Metrics, as Consul's global go-metrics, so every layer that has something to count emits it without
// threading a handle through (the pure cores do not: their drivers emit what the cores report).
// A key is Consul's name without the prefix (['kvs', 'apply']); the prefix (telemetry.metrics_prefix,
// "consul") and, for gauges, the host name (unless telemetry.disable_hostname) are added here, as
// go-metrics does, and the value goes to every sink: the in-memory one /v1/agent/metrics reads,
// Prometheus (prometheus_retention_time), statsd and DogStatsD.
import {performance} from 'node:perf_hooks'
import {InmemSink, type Labels} from './inmem.js'

export type {Labels}
export const NO_LABELS: Labels = Object.freeze({})

export type MetricKind = 'gauge' | 'counter' | 'sample'

/** Where values go once named in full ("consul.kvs.apply"). */
export interface MetricsSink {
  setGauge(name: string, value: number, labels: Labels): void
  incrCounter(name: string, value: number, labels: Labels): void
  addSample(name: string, value: number, labels: Labels): void
  /** A metric announced before it happens (Consul's Prometheus definitions): listed from the start. */
  define?(name: string, kind: MetricKind, help: string): void
  close?(): void
}

export interface MetricsSetup {
  /** telemetry.metrics_prefix (Consul: "consul"); '' adds none. */
  prefix: string
  /** Inserted into gauge names after the prefix, unless telemetry.disable_hostname ('' = none). */
  hostname: string
  /** Sinks besides the in-memory one. */
  sinks: MetricsSink[]
  /** Known metrics announced to the sinks that list them ahead (definitions.ts). */
  definitions?: ReadonlyArray<{key: readonly string[]; kind: MetricKind; help: string}>
}

/** Consul's InmemSink: 10 s intervals, one minute kept. */
export const INMEM_INTERVAL_MS = 10_000
export const INMEM_RETAIN_MS = 60_000

export class Metrics {
  private prefix = 'consul'
  private hostname = ''
  private sinks: MetricsSink[] = []
  readonly inmem: InmemSink

  constructor(now: () => number = () => Date.now()) {
    this.inmem = new InmemSink(INMEM_INTERVAL_MS, INMEM_RETAIN_MS, now)
  }

  /** Applies the agent's telemetry block; closes the sinks of a previous setup. */
  configure(setup: MetricsSetup): void {
    for (const sink of this.sinks) sink.close?.()
    this.prefix = setup.prefix
    this.hostname = setup.hostname
    this.sinks = setup.sinks
    for (const def of setup.definitions ?? []) {
      const name = this.name(def.key, def.kind === 'gauge')
      for (const sink of this.sinks) sink.define?.(name, def.kind, def.help)
    }
  }

  /** The full name of `key` as sinks see it. */
  name(key: readonly string[], gauge = false): string {
    const parts = [...(this.prefix ? [this.prefix] : []), ...(gauge && this.hostname ? [this.hostname] : []), ...key]
    return parts.join('.')
  }

  setGauge(key: readonly string[], value: number, labels: Labels = NO_LABELS): void {
    const name = this.name(key, true)
    this.inmem.setGauge(name, value, labels)
    for (const sink of this.sinks) sink.setGauge(name, value, labels)
  }

  incrCounter(key: readonly string[], value = 1, labels: Labels = NO_LABELS): void {
    const name = this.name(key)
    this.inmem.incrCounter(name, value, labels)
    for (const sink of this.sinks) sink.incrCounter(name, value, labels)
  }

  addSample(key: readonly string[], value: number, labels: Labels = NO_LABELS): void {
    const name = this.name(key)
    this.inmem.addSample(name, value, labels)
    for (const sink of this.sinks) sink.addSample(name, value, labels)
  }

  /** A timing in milliseconds since `start` (a performance.now() reading), as go-metrics' MeasureSince. */
  measureSince(key: readonly string[], start: number, labels: Labels = NO_LABELS): void {
    this.addSample(key, performance.now() - start, labels)
  }

  close(): void {
    for (const sink of this.sinks) sink.close?.()
    this.sinks = []
  }
}

/** The process's metrics (one agent per process). */
export const metrics = new Metrics()
