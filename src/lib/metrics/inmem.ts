// go-metrics' InmemSink, which Consul always runs and GET /v1/agent/metrics renders: values are
// aggregated per interval (Consul: 10 s intervals, one minute retained); the endpoint shows the last
// complete interval, or the current one while it is the only one (go-metrics inmem_endpoint.go).
// The clock is an input, so the aggregation is tested without waiting.

/** A metric's labels (go-metrics' []Label), name → value. */
export type Labels = Readonly<Record<string, string>>

export type MetricKind = 'gauge' | 'counter' | 'sample'

/** Receives every value of one series; `now` is the wall clock (ms) read once for all sinks. */
export interface SeriesWriter {
  write(value: number, now: number): void
}

export interface AggregateSample {
  count: number
  sum: number
  sumSq: number
  min: number
  max: number
}

interface Series<T> {
  name: string
  labels: Labels
  value: T
}

interface Interval {
  start: number
  gauges: Map<string, Series<number>>
  counters: Map<string, Series<AggregateSample>>
  samples: Map<string, Series<AggregateSample>>
}

/** One value as Consul's MetricsSummary lists it (counters and samples: SampledValue). */
export interface SampledValue {
  Name: string
  Count: number
  Rate: number
  Sum: number
  Min: number
  Max: number
  Mean: number
  Stddev: number
  Labels: Labels
}

/** The JSON body of GET /v1/agent/metrics (go-metrics MetricsSummary). */
export interface MetricsSummary {
  Timestamp: string
  Gauges: Array<{Name: string; Value: number; Labels: Labels}>
  Points: Array<{Name: string; Points: number[]}>
  Counters: SampledValue[]
  Samples: SampledValue[]
}

/** The series' key: name plus labels in a stable order, as go-metrics flattens them. */
export function seriesKey(name: string, labels: Labels): string {
  const names = Object.keys(labels)
  if (names.length === 0) return name
  return `${name};${names.sort().map((k) => `${k}=${labels[k]}`).join(';')}`
}

export class InmemSink {
  private readonly intervals: Interval[] = []
  /** The interval in progress and the time it ends, so a value checks the clock with one comparison. */
  private open: Interval | undefined
  private openUntil = -Infinity

  constructor(private readonly intervalMs: number, private readonly retainMs: number, private readonly now: () => number) {}

  /** A writer for one series (Metrics resolves it once): it keeps its aggregate until the interval rolls over. */
  series(name: string, kind: MetricKind, labels: Labels): SeriesWriter {
    const key = seriesKey(name, labels)
    if (kind === 'gauge') {
      return {write: (value, now) => { this.at(now).gauges.set(key, {name, labels, value}) }}
    }
    let interval: Interval | undefined
    let aggregate: AggregateSample | undefined
    return {
      write: (value, now) => {
        const current = this.at(now)
        if (current !== interval || !aggregate) {
          interval = current
          const table = kind === 'counter' ? current.counters : current.samples
          aggregate = table.get(key)?.value
          if (!aggregate) {
            table.set(key, {name, labels, value: {count: 1, sum: value, sumSq: value * value, min: value, max: value}})
            aggregate = table.get(key)!.value
            return
          }
        }
        add(aggregate, value)
      },
    }
  }

  setGauge(name: string, value: number, labels: Labels): void {
    const key = seriesKey(name, labels)
    this.current().gauges.set(key, {name, labels, value})
  }

  incrCounter(name: string, value: number, labels: Labels): void {
    ingest(this.current().counters, name, value, labels)
  }

  addSample(name: string, value: number, labels: Labels): void {
    ingest(this.current().samples, name, value, labels)
  }

  /** Consul's DisplayMetrics: the last complete interval (the current one while it is alone); undefined before any. */
  summary(): MetricsSummary | undefined {
    this.current()
    const n = this.intervals.length
    const interval = n === 1 ? this.intervals[0] : this.intervals[n - 2]
    return interval && render(interval, this.intervalMs / 1000)
  }

  /** The interval in progress, after rolling over to a new one if its time came. */
  private current(): Interval {
    return this.at(this.now())
  }

  private at(now: number): Interval {
    if (this.open && now < this.openUntil && now >= this.openUntil - this.intervalMs) return this.open
    const start = now - (now % this.intervalMs)
    const last = this.intervals[this.intervals.length - 1]
    if (last && last.start === start) return this.keepOpen(last)
    // A gauge holds its value until set again (so a gauge set once, such as a leader flag, is not
    // blank in the next interval): coord carries gauges forward; counters and samples start empty.
    const next: Interval = {start, gauges: new Map(last?.gauges ?? []), counters: new Map(), samples: new Map()}
    this.intervals.push(next)
    while (this.intervals.length > 0 && this.intervals[0].start < now - this.retainMs) this.intervals.shift()
    return this.keepOpen(next)
  }

  private keepOpen(interval: Interval): Interval {
    this.open = interval
    this.openUntil = interval.start + this.intervalMs
    return interval
  }
}

function add(s: AggregateSample, value: number): void {
  s.count++
  s.sum += value
  s.sumSq += value * value
  if (value < s.min) s.min = value
  if (value > s.max) s.max = value
}

function ingest(table: Map<string, Series<AggregateSample>>, name: string, value: number, labels: Labels): void {
  const key = seriesKey(name, labels)
  const found = table.get(key)
  if (!found) {
    table.set(key, {name, labels, value: {count: 1, sum: value, sumSq: value * value, min: value, max: value}})
    return
  }
  add(found.value, value)
}

/** Go's time.Time.String() of the interval's start in UTC: "2024-05-01 12:00:00 +0000 UTC". */
export function goTimestamp(ms: number): string {
  return `${new Date(Math.round(ms / 1000) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`
}

function sampled(series: Series<AggregateSample>, rateDenom: number): SampledValue {
  const {count, sum, sumSq, min, max} = series.value
  const mean = sum / count
  // go-metrics' Stddev: sample standard deviation (n - 1), 0 for a single value.
  const variance = count > 1 ? (sumSq - (sum * sum) / count) / (count - 1) : 0
  return {Name: series.name, Count: count, Rate: sum / rateDenom, Sum: sum, Min: min, Max: max, Mean: mean, Stddev: Math.sqrt(Math.max(0, variance)), Labels: series.labels}
}

function render(interval: Interval, rateDenom: number): MetricsSummary {
  const byName = <T extends {Name: string}>(a: T, b: T) => a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0
  return {
    Timestamp: goTimestamp(interval.start),
    Gauges: [...interval.gauges.values()].map((g) => ({Name: g.name, Value: g.value, Labels: g.labels})).sort(byName),
    Points: [],
    Counters: [...interval.counters.values()].map((c) => sampled(c, rateDenom)).sort(byName),
    Samples: [...interval.samples.values()].map((s) => sampled(s, rateDenom)).sort(byName),
  }
}
