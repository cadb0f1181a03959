// Requests held through a failover, counted per stretch so it is logged once: used by servers
// holding requests for a new leader (server/leader-hold.ts) and client agents retrying on another
// server (server-rpc.ts).

/** What one failover looked like, logged once when the last held request finishes. */
export interface HoldEpisode {
  /** Requests that had to wait for a leader. */
  held: number
  /** Of those, how many still ended in an error (No cluster leader, or a write's unknown outcome). */
  failed: number
  /** From the first request held to the last one finishing. */
  durationMs: number
  /** The longest single request's wait, from its first failure or wait to its end. */
  longestMs: number
}

/**
 * Counts requests that had to wait, from the first one held until the last of them finishes, and
 * reports that stretch once (a failover under load is one line, not one per request).
 */
export class HoldEpisodes {
  #episode: {startedMs: number; held: number; failed: number; open: number; longestMs: number} | undefined

  constructor(private readonly onEpisode: (episode: HoldEpisode) => void, private readonly now: () => number = () => performance.now()) {}

  /** A request starts waiting; call the returned function once when it finishes. */
  enter(): (ok: boolean) => void {
    const enteredMs = this.now()
    const episode = this.#episode ??= {startedMs: enteredMs, held: 0, failed: 0, open: 0, longestMs: 0}
    episode.held++
    episode.open++
    return (ok) => {
      const waitedMs = this.now() - enteredMs
      episode.open--
      if (!ok) episode.failed++
      episode.longestMs = Math.max(episode.longestMs, waitedMs)
      if (episode.open > 0) return
      if (this.#episode === episode) this.#episode = undefined
      this.onEpisode({held: episode.held, failed: episode.failed, durationMs: Math.round(this.now() - episode.startedMs), longestMs: Math.round(episode.longestMs)})
    }
  }
}
