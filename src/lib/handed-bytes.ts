// Bytes passed down a chain of calls (HTTP endpoint → server → Raft driver → state machine) that
// each would otherwise hold them until the whole operation ends. The one that consumes them takes
// them (after which no caller holds them), so a large snapshot's bytes are freed as soon as they
// are decoded instead of living beside the state they became.
export class HandedBytes {
  #bytes: Uint8Array | undefined
  /** The length of the bytes, known after they are taken. */
  readonly length: number

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.length = bytes.length
  }

  /** True once take() gave them away. */
  get taken(): boolean {
    return this.#bytes === undefined
  }

  /** The bytes, left in place (a caller that may need them again: a forward that may be retried). */
  peek(): Uint8Array {
    if (this.#bytes === undefined) throw new Error('the bytes were already taken')
    return this.#bytes
  }

  /** The bytes, once: later calls throw (a second consumer is a bug). */
  take(): Uint8Array {
    const bytes = this.#bytes
    if (bytes === undefined) throw new Error('the bytes were already taken')
    this.#bytes = undefined
    return bytes
  }
}
