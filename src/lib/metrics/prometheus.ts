// The Prometheus side (telemetry.prometheus_retention_time > 0), on prom-client: counters stay
// counters, samples become summaries (quantiles over the last 10 s, as go-metrics' sink), gauges
// gauges. Names are go-metrics' flattening ("consul.kvs.apply" → consul_kvs_apply); a series not
// updated within the retention time is dropped from the output, unless it is a defined one.
import {Counter, Gauge, Registry, Summary, type Metric} from 'prom-client'
import type {Labels, MetricKind, MetricsSink} from './metrics.js'

/** go-metrics' flattenKey for Prometheus: anything outside [a-zA-Z0-9_:] becomes '_'. */
export function prometheusName(name: string): string {
  const flat = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[0-9]/.test(flat) ? `_${flat}` : flat
}

interface Entry {
  kind: MetricKind
  metric: Metric
  labelNames: readonly string[]
  /** When it was last written; undefined for a defined metric not written yet. */
  updated?: number
  defined: boolean
}

export class PrometheusSink implements MetricsSink {
  readonly registry = new Registry()
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly retentionMs: number, private readonly now: () => number = () => Date.now()) {}

  define(name: string, kind: MetricKind, help: string): void {
    const entry = this.entry(prometheusName(name), kind, [], help)
    if (entry) entry.defined = true
  }

  setGauge(name: string, value: number, labels: Labels): void {
    this.write(name, 'gauge', labels, (metric, l) => (metric as Gauge).set(l, value))
  }

  incrCounter(name: string, value: number, labels: Labels): void {
    // prom-client refuses negative increments; go-metrics counters only go up as well.
    if (value < 0) return
    this.write(name, 'counter', labels, (metric, l) => (metric as Counter).inc(l, value))
  }

  addSample(name: string, value: number, labels: Labels): void {
    this.write(name, 'sample', labels, (metric, l) => (metric as Summary).observe(l, value))
  }

  /** The text exposition format, after dropping series older than the retention time. */
  async render(): Promise<string> {
    const now = this.now()
    for (const [name, entry] of this.entries) {
      if (!entry.defined && entry.updated !== undefined && now - entry.updated > this.retentionMs) {
        this.registry.removeSingleMetric(name)
        this.entries.delete(name)
      }
    }
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private write(name: string, kind: MetricKind, labels: Labels, apply: (metric: Metric, labels: Record<string, string>) => void): void {
    const promName = prometheusName(name)
    const labelNames = Object.keys(labels).map(prometheusName)
    const entry = this.entry(promName, kind, labelNames, name)
    if (!entry) return
    const values: Record<string, string> = {}
    for (const [k, v] of Object.entries(labels)) values[prometheusName(k)] = v
    // A metric first defined without labels and then written with some is re-made with them.
    if (!sameNames(entry.labelNames, labelNames)) {
      if (entry.updated !== undefined) return // one label set per name, as Prometheus requires
      this.registry.removeSingleMetric(promName)
      this.entries.delete(promName)
      return this.write(name, kind, labels, apply)
    }
    apply(entry.metric, values)
    entry.updated = this.now()
  }

  private entry(promName: string, kind: MetricKind, labelNames: readonly string[], help: string): Entry | undefined {
    const found = this.entries.get(promName)
    if (found) return found.kind === kind ? found : undefined
    const config = {name: promName, help, labelNames: [...labelNames], registers: [this.registry]}
    const metric = kind === 'gauge' ? new Gauge(config)
      : kind === 'counter' ? new Counter(config)
      : new Summary({...config, percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 10, ageBuckets: 1})
    const entry: Entry = {kind, metric, labelNames, defined: false}
    this.entries.set(promName, entry)
    return entry
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name))
}
