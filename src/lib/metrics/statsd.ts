// statsd and DogStatsD sinks (telemetry.statsd_address, telemetry.dogstatsd_addr), as go-metrics'
// StatsdSink and datadog-go: lines "name:value|g", "|c" and "|ms" over UDP, packed into datagrams of
// at most 1432 bytes and flushed every 100 ms. statsd has no labels: their values join the name, as
// go-metrics' flattenKeyLabels; DogStatsD sends them as "|#name:value" tags. A send error is dropped
// (a metric is never worth failing a request), as UDP sinks do.
import {createSocket, type Socket} from 'node:dgram'
import type {Labels, MetricsSink} from './metrics.js'

const MAX_PACKET = 1432
const FLUSH_MS = 100

export class UdpStatsSink implements MetricsSink {
  private readonly socket: Socket
  private buffer = ''
  private readonly timer: NodeJS.Timeout

  constructor(private readonly host: string, private readonly port: number, private readonly dog: boolean) {
    this.socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    this.socket.on('error', () => {})
    this.socket.unref()
    this.timer = setInterval(() => this.flush(), FLUSH_MS)
    this.timer.unref()
  }

  setGauge(name: string, value: number, labels: Labels): void {
    this.push(name, `${value}|g`, labels)
  }

  incrCounter(name: string, value: number, labels: Labels): void {
    this.push(name, `${value}|c`, labels)
  }

  addSample(name: string, value: number, labels: Labels): void {
    this.push(name, `${value}|ms`, labels)
  }

  close(): void {
    clearInterval(this.timer)
    this.flush()
    try { this.socket.close() } catch { /* already closed */ }
  }

  private push(name: string, value: string, labels: Labels): void {
    const entries = Object.entries(labels)
    let line: string
    if (this.dog) {
      line = `${clean(name)}:${value}${entries.length > 0 ? `|#${entries.map(([k, v]) => `${clean(k)}:${clean(v)}`).join(',')}` : ''}`
    } else {
      line = `${clean([name, ...entries.map(([, v]) => v)].join('.'))}:${value}`
    }
    if (this.buffer.length + line.length + 1 > MAX_PACKET) this.flush()
    this.buffer += `${line}\n`
  }

  private flush(): void {
    if (this.buffer === '') return
    const packet = Buffer.from(this.buffer)
    this.buffer = ''
    this.socket.send(packet, this.port, this.host, () => {})
  }
}

/** go-metrics' statsd flattening: ':' and ' ' become '_' (they would break the line format); '|' and newlines too. */
function clean(text: string): string {
  return text.replace(/[: |\n,#]/g, '_')
}
