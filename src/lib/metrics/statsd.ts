// statsd and DogStatsD sinks (telemetry.statsd_address, telemetry.dogstatsd_addr), as go-metrics'
// StatsdSink and datadog-go: lines "name:value|g", "|c" and "|ms" over UDP, packed into datagrams of
// at most 1432 bytes and sent every 100 ms. statsd has no labels: their values join the name, as
// go-metrics' flattenKeyLabels; DogStatsD sends them as "|#name:value" tags. A send error is dropped
// (a metric is never worth failing a request), as UDP sinks do.
//
// Off the request path: each series' line text is built once; a counter adds up and a gauge keeps
// its last value until the flush (statsd itself sums counters and keeps the last gauge per flush
// interval, so the server sees the same figures in fewer lines); timings, which statsd needs one by
// one for its percentiles, are appended as lines; datagrams go out on the flush timer only.
import {createSocket, type Socket} from 'node:dgram'
import type {Labels, MetricKind, MetricsSink, SeriesWriter} from './metrics.js'

const MAX_PACKET = 1432
const FLUSH_MS = 100
/** Datagrams held between flushes at most (~1.4 MB): beyond, timings are dropped, as a full UDP buffer would. */
const MAX_PENDING_PACKETS = 1000

/** A counter or gauge: one line per flush while it changed. */
class Aggregate implements SeriesWriter {
  value = 0
  dirty = false

  constructor(private readonly sink: UdpStatsSink, private readonly head: string, private readonly tail: string, private readonly counter: boolean) {}

  write(value: number): void {
    this.value = this.counter ? this.value + value : value
    if (!this.dirty) {
      this.dirty = true
      this.sink.changed(this)
    }
  }

  line(): string {
    const line = `${this.head}${this.value}${this.tail}`
    this.dirty = false
    if (this.counter) this.value = 0
    return line
  }
}

export class UdpStatsSink implements MetricsSink {
  private readonly socket: Socket
  private buffer = ''
  private packets: string[] = []
  private changedSeries: Aggregate[] = []
  private readonly timer: NodeJS.Timeout
  private inFlight = 0
  private closing = false
  private connected = false
  private closed = false

  constructor(host: string, port: number, private readonly dog: boolean) {
    this.socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    // A send or connect error is dropped; one while closing (a connect that failed) just closes.
    this.socket.on('error', () => {
      if (this.closing && this.inFlight === 0) this.closeSocket()
    })
    // Connected once, so a send names no address (an address per send costs a lookup each time);
    // until then datagrams wait, bounded as ever.
    this.socket.connect(port, host, () => {
      this.connected = true
      if (this.closing) this.finish()
    })
    this.socket.unref()
    this.timer = setInterval(() => this.flush(), FLUSH_MS)
    this.timer.unref()
  }

  series(name: string, kind: MetricKind, labels: Labels): SeriesWriter {
    const entries = Object.entries(labels)
    const type = kind === 'gauge' ? 'g' : kind === 'counter' ? 'c' : 'ms'
    let head: string
    let tail: string
    if (this.dog) {
      head = `${clean(name)}:`
      tail = `|${type}${entries.length > 0 ? `|#${entries.map(([k, v]) => `${clean(k)}:${clean(v)}`).join(',')}` : ''}\n`
    } else {
      head = `${clean([name, ...entries.map(([, v]) => v)].join('.'))}:`
      tail = `|${type}\n`
    }
    if (kind !== 'sample') return new Aggregate(this, head, tail, kind === 'counter')
    // Timings to the microsecond (statsd timers are milliseconds): a short number packs more lines
    // into each datagram than performance.now()'s full precision.
    return {write: (value) => this.append(`${head}${millis(value)}${tail}`)}
  }

  /** An aggregate with news for the next flush. */
  changed(series: Aggregate): void {
    this.changedSeries.push(series)
  }

  close(): void {
    clearInterval(this.timer)
    this.closing = true
    // Not connected yet: the connect callback finishes (or the error handler closes).
    if (this.connected) this.finish()
  }

  /** The last flush; the socket closes once its datagrams are out. */
  private finish(): void {
    this.flush()
    if (this.inFlight === 0) this.closeSocket()
  }

  private closeSocket(): void {
    if (this.closed) return
    this.closed = true
    try { this.socket.close() } catch { /* already closed */ }
  }

  private append(line: string): void {
    if (this.buffer.length + line.length > MAX_PACKET) {
      if (this.packets.length >= MAX_PENDING_PACKETS) return
      if (this.buffer !== '') this.packets.push(this.buffer)
      this.buffer = ''
    }
    this.buffer += line
  }

  private flush(): void {
    const changed = this.changedSeries
    this.changedSeries = []
    for (const series of changed) this.append(series.line())
    if (this.buffer !== '') this.packets.push(this.buffer)
    this.buffer = ''
    if (!this.connected) return
    const packets = this.packets
    this.packets = []
    for (const packet of packets) {
      // A send callback costs about a third of a send: only the last flush (close) waits for
      // its datagrams, and libuv sends in order, so once they are out every earlier one is too.
      if (!this.closing) {
        this.socket.send(packet)
        continue
      }
      this.inFlight++
      this.socket.send(packet, () => {
        if (--this.inFlight === 0) this.closeSocket()
      })
    }
  }
}

/** ".001" … ".999" without trailing zeros, and "" for a whole number: the fraction of a timing to the µs. */
const FRACTIONS = Array.from({length: 1000}, (_, us) => us === 0 ? '' : `.${String(us).padStart(3, '0').replace(/0+$/, '')}`)

/**
 * `ms` rounded to the microsecond, as `String(Math.round(ms * 1000) / 1000)` prints it, by integer
 * arithmetic and a table: printing a fractional double costs about three times as much, and every
 * timing of every request goes through here.
 */
export function millis(ms: number): string {
  const us = Math.round(ms * 1000)
  if (!(us >= 0 && us <= Number.MAX_SAFE_INTEGER)) return String(Math.round(ms * 1000) / 1000)
  const whole = Math.floor(us / 1000)
  return `${whole}${FRACTIONS[us - whole * 1000]}`
}

/** go-metrics' statsd flattening: ':' and ' ' become '_' (they would break the line format); '|' and newlines too. */
function clean(text: string): string {
  return text.replace(/[: |\n,#]/g, '_')
}
