// KV tombstones keep a prefix's index from going backwards after a delete (Consul docs: api-docs/features/blocking), but
// they must not pile up forever. As Consul's tombstone GC: the leader notes the log index every
// `granularityMs`, and once a note is older than `ttlMs` (15 minutes) it proposes a reap of every
// tombstone at or below that index. The reap is a replicated command, so every server forgets the
// same tombstones at the same point in the log.

export interface TombstoneGcOptions {
  ttlMs: number
  granularityMs: number
  lastIndex: () => number
  reap: (upToIndex: number) => Promise<void>
  onError: (error: Error) => void
}

export class TombstoneGc {
  #marks: Array<{atMs: number; index: number}> = []
  #timer: NodeJS.Timeout | undefined
  #reaped = 0

  constructor(private readonly opts: TombstoneGcOptions) {}

  start(): void {
    this.#timer = setInterval(() => this.tick(performance.now()), this.opts.granularityMs)
    this.#timer.unref()
  }

  /** One GC step at monotonic time `nowMs`; exposed so tests can drive it without waiting. */
  tick(nowMs: number): void {
    this.#marks.push({atMs: nowMs, index: this.opts.lastIndex()})
    let expired: number | undefined
    while (this.#marks.length > 0 && nowMs - this.#marks[0].atMs >= this.opts.ttlMs) expired = this.#marks.shift()!.index
    if (expired !== undefined && expired > this.#reaped) {
      const upTo = expired
      this.opts.reap(upTo).then(() => { this.#reaped = Math.max(this.#reaped, upTo) }, this.opts.onError)
    }
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
