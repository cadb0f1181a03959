// Lifeguard's dynamic suspicion timeout (Dadgar et al., "Lifeguard", §IV-B; memberlist suspicion.go),
// kept apart from the timer that uses it: pure functions of the cluster size, the confirmations so
// far and the elapsed time. The timeout starts at `max` and falls logarithmically to `min` as
// independent members confirm the suspicion, so one slow or partitioned accuser cannot declare a
// healthy member failed quickly, while a real failure, seen by many probers, is declared fast.

/** max(1, log10(N)): memberlist's node scale (floored at 1 so small pools still get a full period). */
export function nodeScale(members: number): number {
  return Math.max(1, Math.log10(Math.max(1, members)))
}

/** Minimum suspicion timeout: suspicionMult × max(1, log10(N)) × probeInterval. */
export function suspicionMinTimeoutMs(suspicionMult: number, members: number, probeIntervalMs: number): number {
  return Math.floor(suspicionMult * nodeScale(members) * probeIntervalMs)
}

/**
 * Confirmations to wait for before the timeout reaches its minimum (memberlist: suspicionMult − 2,
 * or 0 when the pool is too small for that many independent accusers besides the accused and us).
 */
export function expectedConfirmations(suspicionMult: number, members: number): number {
  const k = suspicionMult - 2
  return members - 2 < k ? 0 : Math.max(0, k)
}

/**
 * Total suspicion timeout after `confirmations` of `expected` independent confirmations:
 * max − (log(c + 1) / log(k + 1)) × (max − min), never below min. With k = 0 it is min at once.
 */
export function suspicionTimeoutMs(confirmations: number, expected: number, minMs: number, maxMs: number): number {
  if (expected <= 0) return minMs
  const frac = Math.log(confirmations + 1) / Math.log(expected + 1)
  return Math.max(minMs, Math.floor(maxMs - frac * (maxMs - minMs)))
}

/** Time left before a suspicion started `elapsedMs` ago expires (≤ 0: declare the member failed). */
export function remainingSuspicionMs(confirmations: number, expected: number, elapsedMs: number, minMs: number, maxMs: number): number {
  return suspicionTimeoutMs(confirmations, expected, minMs, maxMs) - elapsedMs
}

/**
 * One suspicion held about one member: who started it, who confirmed it, and when it expires.
 * The owner re-evaluates `deadlineMs` after each new confirmation.
 */
export class Suspicion {
  readonly #confirmers = new Set<string>()
  deadlineMs: number
  /** Whether the holder has pinged the suspect itself before letting the suspicion expire. */
  pinged = false

  constructor(
    readonly accuser: string,
    readonly startMs: number,
    readonly expected: number,
    readonly minMs: number,
    readonly maxMs: number,
  ) {
    this.deadlineMs = startMs + suspicionTimeoutMs(0, expected, minMs, maxMs)
  }

  get confirmations(): number {
    return this.#confirmers.size
  }

  /** Count an independent accuser; true when it is new (worth re-gossiping). The first accuser does not count twice. */
  confirm(from: string): boolean {
    if (from === this.accuser || this.#confirmers.has(from) || this.#confirmers.size >= this.expected) return false
    this.#confirmers.add(from)
    this.deadlineMs = this.startMs + suspicionTimeoutMs(this.#confirmers.size, this.expected, this.minMs, this.maxMs)
    return true
  }
}
