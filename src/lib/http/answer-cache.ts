// Rendered answers of per-service reads (/v1/health/service/:name, /v1/catalog/service/:name),
// kept by (query, index). Such an answer is a function of the service's index (catalog.ts moves it
// on every change to an instance, its checks, its node or its node's checks), so while the index
// stands still the same query gets the same bytes: a busy service read by many clients is rendered
// once per change instead of once per request. A small LRU bounds the memory.
export class AnswerCache {
  readonly #entries = new Map<string, {index: number; body: string}>()

  constructor(readonly maxEntries = 64) {}

  /** The cached body for `key` rendered at `index`, or `render()`'s result (then cached). */
  get(key: string, index: number, render: () => string): string {
    const hit = this.#entries.get(key)
    if (hit !== undefined && hit.index === index) {
      // Refresh its place in the LRU order.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit.body
    }
    const body = render()
    this.#entries.delete(key)
    this.#entries.set(key, {index, body})
    if (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    return body
  }

  get size(): number {
    return this.#entries.size
  }
}
