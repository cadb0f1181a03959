// Rendered answers of per-service reads (/v1/health/service/:name, /v1/catalog/service/:name),
// kept by (query, index). Such an answer is a function of the service's index (catalog.ts moves it
// on every change to an instance, its checks, its node or its node's checks), so while the index
// stands still the same query gets the same bytes: a busy service read by many clients is rendered
// once per change instead of once per request. An LRU bounded in entries and in bytes (string
// length, ~bytes for JSON) caps the memory. A large body is kept as its UTF-8 bytes, so a repeated
// read hands out the same Buffer (respond.ts keeps its gzip by that Buffer) instead of encoding
// (and hashing) a multi-megabyte string per request.
import {LARGE_BODY_BYTES, bodyLength, type Chunks} from './respond.js'

type Body = string | Buffer | Chunks
export class AnswerCache {
  readonly #entries = new Map<string, {index: number; body: Body}>()

  #chars = 0

  constructor(readonly maxEntries = 64, readonly maxChars = 16 * 1024 * 1024) {}

  /**
   * The cached body for `key` rendered at `index`, or `render()`'s result (then cached); a large
   * string comes back as its UTF-8 bytes. A key's renders all give the same kind of body.
   */
  get<T extends Body>(key: string, index: number, render: () => T): T | Buffer {
    const hit = this.#entries.get(key)
    if (hit !== undefined && hit.index === index) {
      // Refresh its place in the LRU order.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit.body as T | Buffer
    }
    const rendered = render()
    const body: T | Buffer = typeof rendered === 'string' && rendered.length >= LARGE_BODY_BYTES ? Buffer.from(rendered) : rendered
    if (hit !== undefined) {
      this.#entries.delete(key)
      this.#chars -= bodyLength(hit.body)
    }
    const length = bodyLength(body)
    if (length > this.maxChars) return body
    this.#entries.set(key, {index, body})
    this.#chars += length
    while (this.#entries.size > this.maxEntries || this.#chars > this.maxChars) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, {body: Body}]
      this.#entries.delete(oldest)
      this.#chars -= bodyLength(entry.body)
    }
    return body
  }

  get size(): number {
    return this.#entries.size
  }
}
