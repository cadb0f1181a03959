// Runs one watch plan: a blocking-query loop that calls the handler once per real change. Shared by
// `coord watch` and the agent's configured `watches`.
//
// Contract: the handler runs for the first result, then only when the result's JSON differs from
// the last one delivered (an index that moves without a change, or a wake-up on timeout, is not a
// change); calls never overlap, so a burst of writes is coalesced and the next read after the
// handler returns sees the latest state: the final state of a burst is always delivered. Errors
// back off (1 s doubling to 30 s) and the loop keeps going, so it survives agent restarts; it ends
// only when `signal` aborts or the handler throws.
import {type ApiClient, exactIndex} from '../api/client.js'
import {blockingQuery} from '../api/blocking.js'
import {stringifyJson} from '../json.js'
import {type WatchPlan} from './plan.js'

export interface WatchEvent {
  /** The blocking index of the result (a number: rounded above 2^53, as the event list's can be). */
  index: number
  /** The index exactly as the agent sent it (handlers get it as CONSUL_INDEX / X-Consul-Index). */
  indexText: string
  value: unknown
  /** Compact JSON of `value` (bigint Flags exact). */
  json: string
}

export interface RunWatchOptions {
  signal: AbortSignal
  onError?: (error: unknown) => void
  /** Per-read blocking wait. Default 5 minutes. */
  waitMs?: number
  /** Back-off bounds after errors. */
  baseMs?: number
  maxMs?: number
}

export async function runWatch(client: ApiClient, plan: WatchPlan, handler: (event: WatchEvent) => Promise<void>, options: RunWatchOptions): Promise<void> {
  let last: string | undefined
  const fetch = async (q: {waitIndex?: number | bigint; waitMs?: number; signal?: AbortSignal}) => {
    try {
      return await plan.fetch(client, {waitIndex: q.waitIndex ?? 0, waitMs: q.waitMs ?? 0, signal: q.signal})
    } catch (error) {
      if (!options.signal.aborted) options.onError?.(error)
      throw error
    }
  }
  for await (const {value, meta} of blockingQuery(fetch, {signal: options.signal, waitMs: options.waitMs, baseMs: options.baseMs ?? 1000, maxMs: options.maxMs ?? 30_000})) {
    const selected = plan.select ? plan.select(value) : value
    const json = stringifyJson(selected, 0)
    if (plan.select) {
      if (last !== undefined && Array.isArray(selected) && selected.length === 0) continue
    } else if (json === last) {
      continue
    }
    last = json
    await handler({index: meta.lastIndex, indexText: String(exactIndex(meta)), value: selected, json})
    if (options.signal.aborted) return
  }
}
