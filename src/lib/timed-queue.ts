// A FIFO of values with a timed take: `next(ms)` resolves with the next value, 'idle' when none
// arrived within `ms`, or 'end' once the producer called end() and the queue is drained. Remote
// exec uses it on both sides: the agent's output chunks (idle = send a heartbeat) and the CLI's
// results (idle = the quiet period that ends the job). One consumer at a time.
export class TimedQueue<T> {
  readonly #items: T[] = []
  #ended = false
  #waiter?: () => void

  push(item: T): void {
    if (this.#ended) return
    this.#items.push(item)
    this.#wake()
  }

  end(): void {
    this.#ended = true
    this.#wake()
  }

  get ended(): boolean {
    return this.#ended
  }

  async next(timeoutMs: number, signal?: AbortSignal): Promise<T | 'idle' | 'end'> {
    if (this.#items.length > 0) return this.#items.shift() as T
    if (this.#ended) return 'end'
    if (signal?.aborted) return 'end'
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const timedOut = await new Promise<boolean>((resolve) => {
      this.#waiter = () => resolve(false)
      timer = setTimeout(() => resolve(true), Math.max(0, timeoutMs))
      onAbort = () => resolve(false)
      signal?.addEventListener('abort', onAbort, {once: true})
    })
    clearTimeout(timer)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    this.#waiter = undefined
    if (this.#items.length > 0) return this.#items.shift() as T
    if (this.#ended || signal?.aborted) return 'end'
    return timedOut ? 'idle' : this.next(timeoutMs, signal)
  }

  #wake(): void {
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.()
  }
}
