// Lets a waiting contender ride out trouble that is not about the lock: an agent restart, a leader
// election (5xx, connection errors), or its session dying while it waited. Consul's Lock gives up
// on the first such error; a standby that waits for hours should not. Bounded: at most
// MAX_ATTEMPTS consecutive failures, backing off 500 ms doubling to 8 s (about a minute in all),
// then the last error is thrown.
import {ApiResponseError} from './errors.js'
import {isRetryable} from './hold-monitor.js'
import {abortableSleep} from './abortable-sleep.js'

const MAX_ATTEMPTS = 10

export async function waitOut<T>(signal: AbortSignal | undefined, attempt: (n: number) => Promise<T | null>): Promise<T | null> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n)
    } catch (error) {
      if (signal?.aborted) return null
      const sessionGone = error instanceof ApiResponseError && error.status === 400 && /invalid session/i.test(error.body)
      const transient = isRetryable(error) || isRetryable((error as {cause?: unknown}).cause)
      if (!(transient || sessionGone) || n + 1 >= MAX_ATTEMPTS) throw error
      await abortableSleep(Math.min(8000, 500 * 2 ** n), signal)
      if (signal?.aborted) return null
    }
  }
}
