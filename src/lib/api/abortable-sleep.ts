// The one pause every client-side retry and poll loop uses (blocking queries, session renewal,
// lock acquire and monitor, remote exec): it ends early when the caller aborts, so stopping
// never waits out a back-off.

/** Resolves after `ms`, or at once when `signal` aborts (or already has). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve()
      return
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
