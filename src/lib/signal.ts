// A tiny synchronous event: listeners subscribe, an emit calls each in order. The Raft driver uses
// it to tell the pieces around it that the leader, the applied index or the loop's state moved, so
// they wait on events (clock.ts waitFor) instead of polling.
export class Signal<T = void> {
  readonly #listeners = new Set<(value: T) => void>()

  /** Adds a listener; the function returned removes it. */
  on(listener: (value: T) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  emit(value: T): void {
    if (this.#listeners.size === 0) return
    for (const listener of [...this.#listeners]) listener(value)
  }
}
