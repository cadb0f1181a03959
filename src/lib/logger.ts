// The agent's logger, in hclog's line format so operators' log tooling keeps working:
//   2024-01-01T00:00:00.000Z [INFO]  agent: Started HTTP server: address=127.0.0.1:8500 network=tcp
// Subscribers (the /v1/agent/monitor stream, tests) receive every record at or above their level.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

const levelRank: Record<LogLevel, number> = {trace: 0, debug: 1, info: 2, warn: 3, error: 4}
const levelTag: Record<LogLevel, string> = {
  trace: '[TRACE] ', debug: '[DEBUG] ', info: '[INFO]  ', warn: '[WARN]  ', error: '[ERROR] ',
}

export interface LogRecord {
  time: Date
  level: LogLevel
  module: string
  message: string
  fields: Record<string, unknown>
}

export function parseLogLevel(text: string): LogLevel | undefined {
  const lower = text.trim().toLowerCase()
  if (lower === 'warning') return 'warn'
  if (lower === 'err') return 'error'
  return lower in levelRank ? (lower as LogLevel) : undefined
}

export function levelEnabled(level: LogLevel, threshold: LogLevel): boolean {
  return levelRank[level] >= levelRank[threshold]
}

/** Go's "2006-01-02T15:04:05.000Z0700": local time with its offset, `Z` in UTC. */
function formatTime(time: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const offsetMin = -time.getTimezoneOffset()
  const zone = offsetMin === 0
    ? 'Z'
    : `${offsetMin > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offsetMin) / 60))}${pad(Math.abs(offsetMin) % 60)}`
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}T${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}${zone}`
}

function formatValue(value: unknown): string {
  const text = value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value)
  return /[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text
}

export function formatRecord(record: LogRecord, json = false): string {
  if (json) {
    return JSON.stringify({
      '@level': record.level, '@message': record.message, '@module': record.module,
      '@timestamp': record.time.toISOString(), ...record.fields,
    })
  }
  const fields = Object.entries(record.fields).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ')
  return `${formatTime(record.time)} ${levelTag[record.level]}${record.module}: ${record.message}${fields ? `: ${fields}` : ''}`
}

type Sink = (record: LogRecord) => void

/** Shared by every module of one agent; `named()` gives a child with its own module name. */
export class LogHub {
  level: LogLevel
  #sinks = new Set<{threshold: LogLevel; sink: Sink}>()
  /** The last lines, replayed to a new monitor so it starts with context (as Consul's monitor does). */
  readonly recent: LogRecord[] = []
  static readonly recentMax = 512

  constructor(level: LogLevel, private readonly write: (line: string) => void, private readonly json = false) {
    this.level = level
  }

  logger(module: string): Logger {
    return new Logger(this, module)
  }

  subscribe(threshold: LogLevel, sink: Sink): () => void {
    const entry = {threshold, sink}
    this.#sinks.add(entry)
    return () => this.#sinks.delete(entry)
  }

  emit(record: LogRecord): void {
    if (levelEnabled(record.level, this.level)) this.write(formatRecord(record, this.json))
    this.recent.push(record)
    if (this.recent.length > LogHub.recentMax) this.recent.shift()
    for (const {threshold, sink} of this.#sinks) {
      if (levelEnabled(record.level, threshold)) sink(record)
    }
  }
}

export class Logger {
  constructor(private readonly hub: LogHub, readonly module: string) {}

  named(name: string): Logger {
    return new Logger(this.hub, `${this.module}.${name}`)
  }

  trace(message: string, fields: Record<string, unknown> = {}): void { this.log('trace', message, fields) }
  debug(message: string, fields: Record<string, unknown> = {}): void { this.log('debug', message, fields) }
  info(message: string, fields: Record<string, unknown> = {}): void { this.log('info', message, fields) }
  warn(message: string, fields: Record<string, unknown> = {}): void { this.log('warn', message, fields) }
  error(message: string, fields: Record<string, unknown> = {}): void { this.log('error', message, fields) }

  private log(level: LogLevel, message: string, fields: Record<string, unknown>): void {
    this.hub.emit({time: new Date(), level, module: this.module, message, fields})
  }
}
