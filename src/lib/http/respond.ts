// Writing responses the way Consul's HTTP server does: compact JSON (or 4-space indented with a
// trailing newline under ?pretty), gzip when asked, query metadata headers on reads.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {gzip, gzipSync} from 'node:zlib'

const BIG = '\u0000big:'

/** JSON.stringify that writes bigint values (uint64 KV Flags) as exact numbers. */
export function toJson(value: unknown, pretty: boolean): string {
  // Without a replacer V8 serializes on its fast path (a replacer costs a call per value, the top
  // frame of a GET's profile); only a value holding a bigint, which plain JSON.stringify refuses
  // with a TypeError, takes the slow one below.
  if (!pretty) {
    try {
      return JSON.stringify(value) ?? 'null'
    } catch (error) {
      if (!(error instanceof TypeError)) throw error
    }
  }
  let sawBig = false
  const text = JSON.stringify(value, (_key, v) => {
    if (typeof v !== 'bigint') return v
    sawBig = true
    return `${BIG}${v}`
  }, pretty ? 4 : undefined) ?? 'null'
  const out = sawBig ? text.replace(/"\\u0000big:(\d+)"/g, '$1') : text
  return pretty ? `${out}\n` : out
}

export interface QueryMeta {
  index: number
  knownLeader: boolean
  lastContactMs: number
  consistency?: 'leader' | 'consistent' | 'stale'
}

/**
 * A header value carrying client text (a service name in X-Consul-Reason), on the wire as Go
 * writes it: the UTF-8 bytes as they are, line breaks as spaces (net/http's headerNewlineToSpace).
 * Node takes header strings as Latin-1 and refuses control characters, hence the byte-wise form.
 */
export function headerValue(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, ' ')
}

export function setQueryMeta(res: ServerResponse, meta: QueryMeta): void {
  // An index of 0 would make clients spin: Consul never returns it, and neither do we.
  res.setHeader('X-Consul-Index', String(Math.max(1, meta.index)))
  res.setHeader('X-Consul-KnownLeader', String(meta.knownLeader))
  res.setHeader('X-Consul-LastContact', String(meta.lastContactMs))
  if (meta.consistency) res.setHeader('X-Consul-Effective-Consistency', meta.consistency)
}

/** Bodies this large are gzip'd on libuv's thread pool, not on the event loop (a 1 MB answer takes tens of ms). */
export const LARGE_BODY_BYTES = 64 * 1024
/**
 * The gzip of large Buffer bodies, by the Buffer: cached answers (answer-cache.ts) hand out the same
 * Buffer until their index moves, so a repeated read is not compressed again; a dropped answer's
 * entry goes with it.
 */
const zippedBodies = new WeakMap<Buffer | readonly Buffer[], Buffer>()

/**
 * A body in parts sent one after another (a kept list answer's blocks: service-list.ts), so a
 * multi-megabyte answer is not copied into one fresh buffer per change.
 */
export type Chunks = readonly Buffer[]

export function bodyLength(body: string | Buffer | Chunks): number {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body.length
  let length = 0
  for (const chunk of body) length += chunk.length
  return length
}

export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer | string | Chunks, contentType?: string): void {
  const payload = typeof body === 'string' ? Buffer.from(body) : body
  if (contentType) res.setHeader('Content-Type', contentType)
  const length = bodyLength(payload)
  if (length === 0 || !/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return finish(res, status, payload)
  res.setHeader('Content-Encoding', 'gzip')
  res.setHeader('Vary', 'Accept-Encoding')
  const whole = (): Buffer => Buffer.isBuffer(payload) ? payload : Buffer.concat(payload)
  if (length < LARGE_BODY_BYTES) return finish(res, status, gzipSync(whole()))
  const memo = zippedBodies.get(payload)
  if (memo !== undefined) return finish(res, status, memo)
  gzip(whole(), (error, zipped) => {
    if (error) {
      res.destroy(error)
      return
    }
    // Only a body the caller holds on to (a cached answer) can be asked for again.
    if (typeof body !== 'string') zippedBodies.set(payload, zipped)
    finish(res, status, zipped)
  })
}

function finish(res: ServerResponse, status: number, payload: Buffer | Chunks): void {
  res.statusCode = status
  res.setHeader('Content-Length', bodyLength(payload))
  if (Buffer.isBuffer(payload)) {
    res.end(payload)
    return
  }
  // Corked: the headers and every part leave in one writev.
  res.cork()
  for (const chunk of payload) res.write(chunk)
  res.end()
}

export function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown, pretty: boolean, status = 200): void {
  sendBody(req, res, status, toJson(value, pretty), 'application/json')
}

export function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  sendBody(req, res, status, text, text ? 'text/plain; charset=utf-8' : undefined)
}
