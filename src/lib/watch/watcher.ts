// Runs one watch plan: a blocking-query loop that calls the handler once per real change. Shared by
// `coord watch` and the agent's configured `watches`.
//
// Contract: the handler runs for the first result, then only when the result's JSON differs from
// the last one delivered (an index that moves without a change, or a wake-up on timeout, is not a
// change); calls never overlap, so a burst of writes is coalesced and the next read after the
// handler returns sees the latest state: the final state of a burst is always delivered. Errors are
// reported through onError with the back-off (Consul's "Watch errored ... retry in" line), then
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
  /** Each failed read, with the back-off before the next one (Consul logs "Watch errored"). */
  onError?: (error: unknown, retryMs: number) => void
  /** Per-read blocking wait. Default 5 minutes. */
  waitMs?: number
  /** Back-off bounds after errors. */
  baseMs?: number
  maxMs?: number
}

export async function runWatch(client: ApiClient, plan: WatchPlan, handler: (event: WatchEvent) => Promise<void>, options: RunWatchOptions): Promise<void> {
  let last: string | undefined
  const fetch = (q: {waitIndex?: number | bigint; waitMs?: number; signal?: AbortSignal}) =>
    plan.fetch(client, {waitIndex: q.waitIndex ?? 0, waitMs: q.waitMs ?? 0, signal: q.signal})
  const onRetry = (error: unknown, delayMs: number): void => { if (!options.signal.aborted) options.onError?.(error, delayMs) }
  for await (const {value, meta} of blockingQuery(fetch, {signal: options.signal, waitMs: options.waitMs, baseMs: options.baseMs ?? 1000, maxMs: options.maxMs ?? 30_000, onRetry})) {
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

/** A back-off as Go's time.Duration prints it for whole seconds and milliseconds ("2s", "500ms"). */
export function formatRetry(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/** Consul's line for a failed watch read (api/watch/plan.go, RunWithClientAndLogger). */
export function watchErroredLine(type: string, error: unknown, retryMs: number): string {
  const message = error instanceof Error ? error.message : String(error)
  return `[ERR] consul.watch: Watch (type: ${type}) errored: ${message}, retry in ${formatRetry(retryMs)}`
}
