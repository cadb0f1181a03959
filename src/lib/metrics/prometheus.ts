// The Prometheus side (telemetry.prometheus_retention_time > 0): counters stay counters, samples
// become summaries (quantiles 0.5/0.9/0.99 over a sliding 10 s window in 5 age buckets, as
// go-metrics' PrometheusSink configures client_golang), gauges gauges. Names are go-metrics'
// flattening ("consul.kvs.apply" → consul_kvs_apply); a series not updated within the retention time
// is dropped from the output, unless its metric is a defined one.
//
// prom-client's registry renders the text format. Values are not fed to prom-client's own metric
// types one by one: a Summary's observe() hashes the labels and pushes into a t-digest on every
// request, which profiling showed as most of the sinks' cost. Each series here aggregates in place
// instead (a count, a sum, and a log-bucketed histogram per age bucket: quantiles within 2 % of the
// exact value), and the registry reads the aggregates when scraped, through each family's get().
import {Registry} from 'prom-client'
import type {Labels, MetricKind, MetricsSink, SeriesWriter} from './metrics.js'
import {seriesKey} from './inmem.js'

/** go-metrics' flattenKey for Prometheus: anything outside [a-zA-Z0-9_:] becomes '_'. */
export function prometheusName(name: string): string {
  const flat = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[0-9]/.test(flat) ? `_${flat}` : flat
}

/** One line of a family as prom-client's Registry formats it (its MetricValue). */
interface MetricValue {
  value: number
  labels: Record<string, string | number>
  metricName?: string
}

/** client_golang's summary window (go-metrics: MaxAge 10 s) and its default 5 age buckets. */
export const SUMMARY_MAX_AGE_MS = 10_000
const AGE_BUCKETS = 5
const SPAN_MS = SUMMARY_MAX_AGE_MS / AGE_BUCKETS
const QUANTILES = [0.5, 0.9, 0.99] as const

// Histogram buckets grow by 4 % from 1 ns (in ms): a bucket's middle is within 2 % of any value in it.
const GROWTH = 1.04
const SMALLEST = 1e-6
const BUCKETS = 900 // up to ~2e9 ms
const LOG_GROWTH = Math.log(GROWTH)

function bucketOf(value: number): number {
  if (!(value > SMALLEST)) return 0
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(value / SMALLEST) / LOG_GROWTH))
}

function bucketMiddle(bucket: number): number {
  return bucket === 0 ? 0 : SMALLEST * GROWTH ** (bucket - 0.5)
}

/** The values of one age bucket. */
class Window {
  counts: Uint32Array | undefined
  n = 0
  min = Infinity
  max = -Infinity
  start = 0

  reset(start: number): void {
    this.counts?.fill(0)
    this.n = 0
    this.min = Infinity
    this.max = -Infinity
    this.start = start
  }
}

/** One labelled series of a family; `updated` is when it was last written (retention). */
abstract class PromSeries implements SeriesWriter {
  updated = 0
  /** Set when retention dropped it from its family: the next write puts it back. */
  dropped?: () => void
  constructor(readonly labels: Record<string, string>) {}
  abstract write(value: number, now: number): void
  abstract values(name: string, now: number): MetricValue[]

  protected touch(now: number): void {
    this.updated = now
    if (this.dropped) {
      const back = this.dropped
      this.dropped = undefined
      back()
    }
  }
}

class GaugeSeries extends PromSeries {
  value = 0
  write(value: number, now: number): void {
    this.value = value
    this.touch(now)
  }

  values(): MetricValue[] {
    return [{value: this.value, labels: this.labels}]
  }
}

class CounterSeries extends PromSeries {
  total = 0
  write(value: number, now: number): void {
    // go-metrics counters only go up (prom-client and client_golang refuse negative increments).
    if (value < 0) return
    this.total += value
    this.touch(now)
  }

  values(): MetricValue[] {
    return [{value: this.total, labels: this.labels}]
  }
}

class SummarySeries extends PromSeries {
  count = 0
  sum = 0
  private readonly windows = Array.from({length: AGE_BUCKETS}, () => new Window())
  private head = 0

  constructor(labels: Record<string, string>, now: number) {
    super(labels)
    for (const w of this.windows) w.start = now
  }

  write(value: number, now: number): void {
    this.count++
    this.sum += value
    this.touch(now)
    let w = this.windows[this.head]
    if (now - w.start >= SPAN_MS) w = this.rotate(now)
    const counts = w.counts ??= new Uint32Array(BUCKETS)
    counts[bucketOf(value)]++
    w.n++
    if (value < w.min) w.min = value
    if (value > w.max) w.max = value
  }

  values(name: string, now: number): MetricValue[] {
    this.rotate(now)
    const live = this.windows.filter((w) => w.n > 0)
    const out: MetricValue[] = quantiles(live).map((value, i) => ({labels: {...this.labels, quantile: QUANTILES[i]}, value}))
    out.push({metricName: `${name}_sum`, labels: this.labels, value: this.sum})
    out.push({metricName: `${name}_count`, labels: this.labels, value: this.count})
    return out
  }

  /** Moves the head on by the whole age buckets that passed, clearing each one it enters. */
  private rotate(now: number): Window {
    const head = this.windows[this.head]
    const passed = Math.floor((now - head.start) / SPAN_MS)
    if (passed <= 0) return head
    const start = head.start
    for (let i = 1; i <= Math.min(passed, AGE_BUCKETS); i++) {
      this.head = (this.head + 1) % AGE_BUCKETS
      this.windows[this.head].reset(start + SPAN_MS * (passed - Math.min(passed, AGE_BUCKETS) + i))
    }
    return this.windows[this.head]
  }
}

/** The 0.5, 0.9 and 0.99 quantiles of the live windows' values, in one pass (NaN with none, as client_golang). */
function quantiles(live: readonly Window[]): number[] {
  const n = live.reduce((total, w) => total + w.n, 0)
  if (n === 0) return QUANTILES.map(() => Number.NaN)
  const min = Math.min(...live.map((w) => w.min))
  const max = Math.max(...live.map((w) => w.max))
  const out: number[] = []
  let seen = 0
  for (let b = 0; b < BUCKETS && out.length < QUANTILES.length; b++) {
    for (const w of live) seen += w.counts![b]
    while (out.length < QUANTILES.length && seen >= Math.max(1, Math.ceil(QUANTILES[out.length] * n))) {
      out.push(Math.min(max, Math.max(min, bucketMiddle(b))))
    }
  }
  while (out.length < QUANTILES.length) out.push(max)
  return out
}

/** One metric name: its kind, help and series; what the registry renders. */
class Family {
  readonly series = new Map<string, PromSeries>()
  defined = false

  constructor(readonly name: string, readonly kind: MetricKind, readonly help: string, private readonly sink: PrometheusSink) {}

  get type(): string {
    return this.kind === 'sample' ? 'summary' : this.kind
  }

  /** prom-client's Registry asks each registered metric for its values when scraped. */
  get(): {name: string; help: string; type: string; aggregator: string; values: MetricValue[]} {
    const now = this.sink.clock()
    const values: MetricValue[] = []
    for (const series of this.series.values()) values.push(...series.values(this.name, now))
    // A defined metric not written yet shows as go-metrics' definitions do: zero (a summary: no quantiles yet).
    if (values.length === 0 && this.defined) values.push(...this.empty(now))
    return {name: this.name, help: this.help, type: this.type, aggregator: 'sum', values}
  }

  private empty(now: number): MetricValue[] {
    if (this.kind === 'gauge') return new GaugeSeries({}).values()
    if (this.kind === 'counter') return new CounterSeries({}).values()
    return new SummarySeries({}, now).values(this.name, now)
  }
}

export class PrometheusSink implements MetricsSink {
  readonly registry = new Registry()
  private readonly families = new Map<string, Family>()

  constructor(private readonly retentionMs: number, private readonly now: () => number = () => Date.now()) {}

  /** The sink's clock (tests inject one). */
  clock(): number {
    return this.now()
  }

  define(name: string, kind: MetricKind, help: string): void {
    const family = this.family(prometheusName(name), kind, help)
    if (family) family.defined = true
  }

  series(name: string, kind: MetricKind, labels: Labels): SeriesWriter {
    const family = this.family(prometheusName(name), kind, name)
    // One kind per name, as Prometheus requires: a clash (a counter and a gauge flattening alike) is not exported.
    if (!family) return {write: () => {}}
    const values: Record<string, string> = {}
    for (const [k, v] of Object.entries(labels)) values[prometheusName(k)] = v
    const key = seriesKey('', values)
    const found = family.series.get(key)
    if (found) return found
    const now = this.now()
    const series = kind === 'gauge' ? new GaugeSeries(values) : kind === 'counter' ? new CounterSeries(values) : new SummarySeries(values, now)
    series.updated = now
    family.series.set(key, series)
    return series
  }

  /** The text exposition format, after dropping series older than the retention time. */
  async render(): Promise<string> {
    const now = this.now()
    for (const family of this.families.values()) {
      if (family.defined) continue
      for (const [key, series] of family.series) {
        // The writer stays with Metrics: a dropped series written again reappears.
        if (now - series.updated > this.retentionMs) {
          family.series.delete(key)
          series.dropped = () => family.series.set(key, series)
        }
      }
    }
    for (const family of this.families.values()) {
      if (family.series.size === 0 && !family.defined) this.registry.removeSingleMetric(family.name)
      else if (!this.registry.getSingleMetric(family.name)) this.registry.registerMetric(family as never)
    }
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private family(promName: string, kind: MetricKind, help: string): Family | undefined {
    const found = this.families.get(promName)
    if (found) return found.kind === kind ? found : undefined
    const family = new Family(promName, kind, help, this)
    this.families.set(promName, family)
    return family
  }
}
