// Lamport clock (serf's LamportClock): orders leave intents and user events across members
// without synchronised clocks. `witness` on every stamped message received, `increment` to stamp.

export class LamportClock {
  #time = 0

  get time(): number {
    return this.#time
  }

  /** Next time to stamp a local event with. */
  increment(): number {
    return ++this.#time
  }

  /** Move past a time seen on the wire, so our next stamp orders after it. */
  witness(t: number): void {
    if (t >= this.#time) this.#time = t + 1
  }
}
