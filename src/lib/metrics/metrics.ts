// The agent's metrics, in Consul's names (Consul docs: agent/monitor/telemetry): one process-wide
// Metrics, as Consul's global go-metrics, so every layer that has something to count emits it without
// threading a handle through (the pure cores do not: their drivers emit what the cores report).
// A key is Consul's name without the prefix (['kvs', 'apply']); the prefix (telemetry.metrics_prefix,
// "consul") and, for gauges, the host name (unless telemetry.disable_hostname) are added here, as
// go-metrics does, and the value goes to every sink: the in-memory one /v1/agent/metrics reads,
// Prometheus (prometheus_retention_time), statsd and DogStatsD.
//
// Metrics sit on every request's path (two HTTP timings per request, plus the endpoint's own), so a
// value costs one map lookup and a few additions: each series (name + labels) is resolved once into
// a Series holding one writer per sink, and sinks aggregate in place (Prometheus renders its
// aggregates at scrape time, statsd formats its lines once per series and sends per flush interval).
import {performance} from 'node:perf_hooks'
import {InmemSink, seriesKey, type Labels, type MetricKind, type SeriesWriter} from './inmem.js'

export type {Labels, MetricKind, SeriesWriter}
export const NO_LABELS: Labels = Object.freeze({})

/** Where values go once named in full ("consul.kvs.apply"). */
export interface MetricsSink {
  /** The writer for one series; asked once per series and configuration, then kept. */
  series(name: string, kind: MetricKind, labels: Labels): SeriesWriter
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

/** One resolved series: its writers, in sink order (the in-memory one first). */
class Series {
  constructor(readonly writers: readonly SeriesWriter[]) {}

  write(value: number, now: number): void {
    const writers = this.writers
    for (let i = 0; i < writers.length; i++) writers[i].write(value, now)
  }
}

/** One timing series kept by a caller on a hot path (an HTTP route): no lookup per value. */
export interface Timer {
  /** A timing in milliseconds since `start` (a performance.now() reading). */
  measureSince(start: number): void
  /** A timing the caller measured itself, in milliseconds (a driver's own clock). */
  add(ms: number): void
}

export class Metrics {
  private prefix = 'consul'
  private hostname = ''
  private sinks: MetricsSink[] = []
  readonly inmem: InmemSink
  /** Resolved series by kind, then by the key's joined text; labelled ones by label object, then by content. */
  private plain = new Map<string, Series>()
  private labelled = new WeakMap<Labels, Map<string, Series>>()
  private byContent = new Map<string, Series>()
  /** Moves on each configure/close, so a Timer resolves its series again. */
  private generation = 0

  constructor(private readonly now: () => number = () => Date.now()) {
    this.inmem = new InmemSink(INMEM_INTERVAL_MS, INMEM_RETAIN_MS, now)
  }

  /** Applies the agent's telemetry block; closes the sinks of a previous setup. */
  configure(setup: MetricsSetup): void {
    for (const sink of this.sinks) sink.close?.()
    this.prefix = setup.prefix
    this.hostname = setup.hostname
    this.sinks = setup.sinks
    this.forget()
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
    this.series('gauge', key, labels).write(value, this.now())
  }

  incrCounter(key: readonly string[], value = 1, labels: Labels = NO_LABELS): void {
    this.series('counter', key, labels).write(value, this.now())
  }

  addSample(key: readonly string[], value: number, labels: Labels = NO_LABELS): void {
    this.series('sample', key, labels).write(value, this.now())
  }

  /** A timing in milliseconds since `start` (a performance.now() reading), as go-metrics' MeasureSince. */
  measureSince(key: readonly string[], start: number, labels: Labels = NO_LABELS): void {
    this.addSample(key, performance.now() - start, labels)
  }

  /** The series of `key` + `labels` as a Timer, resolved on its first value and again after a configure. */
  timer(key: readonly string[], labels: Labels = NO_LABELS): Timer {
    let series: Series | undefined
    let generation = -1
    const add = (ms: number) => {
      if (!series || generation !== this.generation) {
        series = this.series('sample', key, labels)
        generation = this.generation
      }
      series.write(ms, this.now())
    }
    return {measureSince: (start) => add(performance.now() - start), add}
  }

  /** The counter of `key` + `labels` kept by a hot-path caller, resolved as a Timer is. */
  counter(key: readonly string[], labels: Labels = NO_LABELS): {incr(value?: number): void} {
    let series: Series | undefined
    let generation = -1
    return {
      incr: (value = 1) => {
        if (!series || generation !== this.generation) {
          series = this.series('counter', key, labels)
          generation = this.generation
        }
        series.write(value, this.now())
      },
    }
  }

  close(): void {
    for (const sink of this.sinks) sink.close?.()
    this.sinks = []
    this.forget()
  }

  private forget(): void {
    this.generation++
    this.plain = new Map()
    this.labelled = new WeakMap()
    this.byContent = new Map()
  }

  /** The series of `key` + `labels`: a lookup once resolved (callers keep their label objects, so the identity cache hits). */
  private series(kind: MetricKind, key: readonly string[], labels: Labels): Series {
    const id = kind === 'sample' ? key.join('.') : `${kind}:${key.join('.')}`
    let table = this.plain
    if (labels !== NO_LABELS) {
      let byLabels = this.labelled.get(labels)
      if (!byLabels) this.labelled.set(labels, byLabels = new Map())
      table = byLabels
    }
    let series = table.get(id)
    if (!series) {
      const name = this.name(key, kind === 'gauge')
      const canonical = `${kind}:${seriesKey(name, labels)}`
      series = this.byContent.get(canonical)
      if (!series) {
        series = new Series([this.inmem.series(name, kind, labels), ...this.sinks.map((sink) => sink.series(name, kind, labels))])
        this.byContent.set(canonical, series)
      }
      table.set(id, series)
    }
    return series
  }
}

/** The process's metrics (one agent per process). */
export const metrics = new Metrics()
