// Blocking-query loop (Consul docs: api-docs/features/blocking) as an async generator. Who calls: `coord watch`, lock helpers,
// anything that follows a value. Contract with the caller:
// - each yield is a result whose index differs from the previously yielded one (the first read
//   always yields);
// - an index that goes backwards (snapshot restore, leader change) resets to 0: a full re-read,
//   which yields only if its index differs from the last yielded one;
// - a returned index of 0 is treated as 1, so the next request still blocks;
// - indexes are carried exactly (bigint) and handed to `fetch` as a number when they fit in one,
//   else as a bigint: the event list's X-Consul-Index is a uint64 hash, and a rounded one would
//   never match the agent's, so every request would answer at once (a spin);
// - errors back off exponentially (baseMs doubling, capped at maxMs); after maxRetries consecutive
//   failures the last error is thrown. Aborting `signal` ends the generator quietly.
import {abortableSleep} from './abortable-sleep.js'
import {exactIndex, type QueryMeta, type QueryOptions} from './client.js'

export interface BlockingOptions {
  /** Maximum block time per request (the server clamps to 10m). Default 5 minutes. */
  waitMs?: number
  /** First back-off after an error. Default 1000. */
  baseMs?: number
  /** Back-off ceiling. Default 30000. */
  maxMs?: number
  /** Consecutive failures tolerated before the error is thrown. Default Infinity. */
  maxRetries?: number
  /** Index to start from (0 = read immediately). */
  startIndex?: number | bigint
  signal?: AbortSignal
  /** Sleep used between retries; tests inject a fake. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Told of each failure that will be retried, with the back-off before the retry. */
  onRetry?: (error: unknown, delayMs: number) => void
}

export type BlockingFetch<T> = (q: QueryOptions) => Promise<{value: T; meta: QueryMeta}>

export async function* blockingQuery<T>(fetch: BlockingFetch<T>, options: BlockingOptions = {}): AsyncGenerator<{value: T; meta: QueryMeta}> {
  const waitMs = options.waitMs ?? 300_000
  const baseMs = options.baseMs ?? 1000
  const maxMs = options.maxMs ?? 30_000
  const maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY
  const sleep = options.sleep ?? abortableSleep
  let index = BigInt(options.startIndex ?? 0)
  let yielded: bigint | undefined
  let failures = 0
  while (!options.signal?.aborted) {
    let result: {value: T; meta: QueryMeta}
    try {
      result = await fetch({waitIndex: wireIndex(index), waitMs, signal: options.signal})
    } catch (error) {
      if (options.signal?.aborted) return
      failures += 1
      if (failures > maxRetries) throw error
      const delayMs = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30))
      options.onRetry?.(error, delayMs)
      await sleep(delayMs, options.signal)
      continue
    }
    failures = 0
    let next = exactIndex(result.meta)
    if (next === 0n) next = 1n
    const changed = next !== yielded
    yielded = next
    index = next < index ? 0n : next
    if (changed) yield result
  }
}

/** A number while it is exact (every Raft index), so fetches written for numbers keep working. */
function wireIndex(index: bigint): number | bigint {
  return index <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(index) : index
}
