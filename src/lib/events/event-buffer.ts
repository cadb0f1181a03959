// The agent's recent user events: a ring of the last 256 (Consul's eventBuf), oldest first when
// listed, with change listeners that wake blocking /v1/event/list requests. Pure (no timers).
import type {UserEvent} from './user-event.js'

/** Consul keeps the last 256 user events per agent (agent.go: eventBuf = make([]*UserEvent, 256)). */
export const EVENT_BUFFER_SIZE = 256

export class EventBuffer {
  readonly #ring: Array<UserEvent | undefined>
  /** Next slot to write; once the ring is full it is also the oldest entry. */
  #next = 0
  #count = 0
  readonly #listeners = new Set<() => void>()

  constructor(readonly capacity = EVENT_BUFFER_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event buffer capacity must be a positive integer, got ${capacity}`)
    this.#ring = new Array<UserEvent | undefined>(capacity)
  }

  get size(): number {
    return this.#count
  }

  /** Stores the event (overwriting the oldest when full) and wakes every listener once. */
  add(event: UserEvent): void {
    this.#ring[this.#next] = event
    this.#next = (this.#next + 1) % this.capacity
    this.#count = Math.min(this.#count + 1, this.capacity)
    const woken = [...this.#listeners]
    this.#listeners.clear()
    for (const wake of woken) wake()
  }

  /** Oldest first. */
  list(): UserEvent[] {
    const out: UserEvent[] = []
    const start = this.#count < this.capacity ? 0 : this.#next
    for (let i = 0; i < this.#count; i++) out.push(this.#ring[(start + i) % this.capacity] as UserEvent)
    return out
  }

  /** One-shot: `wake` runs on the next add. Returns the cancel function. */
  onChange(wake: () => void): () => void {
    this.#listeners.add(wake)
    return () => { this.#listeners.delete(wake) }
  }
}
