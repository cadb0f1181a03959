// Captured check output, bounded as Consul bounds it: a circular buffer that keeps the LAST
// `max` bytes (the end of a script's output is where the error usually is) and counts them all.

export class OutputBuffer {
  #chunks: Buffer[] = []
  #kept = 0
  #total = 0

  constructor(readonly max: number) {}

  write(chunk: Buffer): void {
    this.#total += chunk.length
    this.#chunks.push(chunk)
    this.#kept += chunk.length
    // Drop whole chunks from the front while they are not needed, then trim the first one.
    while (this.#kept - this.#chunks[0].length >= this.max) this.#kept -= this.#chunks.shift()!.length
    if (this.#kept > this.max) {
      this.#chunks[0] = this.#chunks[0].subarray(this.#kept - this.max)
      this.#kept = this.max
    }
  }

  get total(): number {
    return this.#total
  }

  /** The kept bytes as text. */
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8')
  }

  /** Consul's script form: "Captured N of M bytes\n...\n<last N bytes>" once anything was dropped. */
  captured(): string {
    const text = this.text()
    return this.#total > this.#kept ? `Captured ${this.#kept} of ${this.#total} bytes\n...\n${text}` : text
  }
}
