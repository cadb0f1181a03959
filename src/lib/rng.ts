// Seeded randomness for the cores and the simulation (ARCHITECTURE.md, house rule 2).
// mulberry32: 32-bit state, fast, good enough for jitter and fault injection; NOT for secrets.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
}

export class SeededRng implements Rng {
  #state: number

  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  /** A new independent generator derived from this one (e.g. one per simulated node). */
  fork(): SeededRng {
    return new SeededRng(Math.floor(this.next() * 4294967296))
  }
}

/** Integer in [lo, hi) from any Rng. */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo))
}
