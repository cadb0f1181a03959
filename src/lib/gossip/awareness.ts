// Lifeguard's local health awareness (§IV-A; memberlist awareness.go): a score of how much this
// node itself seems to be struggling. Missed nacks, probes with no answer from anyone, and having to
// refute a suspicion raise it; a successful probe lowers it. Timeouts and the probe interval are
// multiplied by (score + 1), so a slow node probes less and waits longer instead of accusing
// healthy peers of its own slowness.

export class Awareness {
  #score = 0

  /** `max` is GossipConfig.awarenessMaxMultiplier: the score stays in [0, max − 1]. */
  constructor(readonly max: number) {}

  get score(): number {
    return this.#score
  }

  apply(delta: number): void {
    this.#score = Math.min(this.max - 1, Math.max(0, this.#score + delta))
  }

  scale(timeoutMs: number): number {
    return timeoutMs * (this.#score + 1)
  }
}
