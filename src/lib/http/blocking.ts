// Consul's blocking queries (Consul docs: api-docs/features/blocking): a read with ?index=N parks until what it read changes
// to an index above N, or until wait (+ up to wait/16 jitter) passes, then answers with the current
// result either way. Parking costs one watcher entry and one timer, so thousands can wait at once.
//
// The watcher is registered *before* each read, so a change landing between the read and the park
// still wakes us (no lost wake-ups). A wake-up whose re-read shows no index past N parks again.
import type {Indexed} from '../state/types.js'
import {metrics} from '../metrics/metrics.js'

/** Blocking reads parked on this agent now (Consul's consul.rpc.queries_blocking gauge). */
let parked = 0

export type Watch = (wake: () => void) => () => void

export interface BlockingOptions {
  minIndex: number
  waitMs: number
  /** Resolves when the client has gone away: stop waiting and free the watcher. */
  closed: Promise<void>
  /** Injected for tests; defaults to Math.random. */
  random?: () => number
}

export async function blockingRead<T>(read: () => Indexed<T>, watch: Watch, opts: BlockingOptions): Promise<Indexed<T> | undefined> {
  if (opts.minIndex === 0) return read()
  metrics.incrCounter(['rpc', 'query'])
  metrics.setGauge(['rpc', 'queries_blocking'], ++parked)
  const jitter = opts.waitMs / 16 * (opts.random ?? Math.random)()
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => { timedOut = true; resolve() }, opts.waitMs + jitter)
  })
  let gone = false
  const closed = opts.closed.then(() => { gone = true })
  try {
    for (;;) {
      let wake!: () => void
      const woken = new Promise<void>((resolve) => { wake = resolve })
      const cancel = watch(wake)
      const result = read()
      if (result.index > opts.minIndex || timedOut) {
        cancel()
        return result
      }
      await Promise.race([woken, timeout, closed])
      cancel()
      if (gone) return undefined
      if (timedOut) return read()
    }
  } finally {
    clearTimeout(timer)
    metrics.setGauge(['rpc', 'queries_blocking'], --parked)
  }
}
