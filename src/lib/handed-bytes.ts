// Bytes passed down a chain of calls (HTTP endpoint → server → Raft driver → state machine) that
// each would otherwise hold them until the whole operation ends. The one that consumes them takes
// them (after which no caller holds them), so a large snapshot's bytes are freed as soon as they
// are decoded instead of living beside the state they became. The bytes may also arrive as
// chunks (a ChunkReader: a restore's state streamed out of its archive), so the whole of them is
// never in memory at once where the consumer can decode them as they come.

/** Bytes read a chunk at a time: each read() the next chunk, undefined at the end; a read may reject (the source failed). */
export interface ChunkReader {
  read(): Promise<Uint8Array | undefined>
  /** Stops the source early (the consumer gave up); later reads reject or end. */
  cancel(reason: Error): void
}

export type ByteSource = Uint8Array | ChunkReader

/**
 * What a step of a stepped consumer (a snapshot decode run a slice at a time) may yield: nothing,
 * or a promise to await before the next step (a streamed source waiting for its next chunk).
 */
export type StepWait = void | Promise<void>

export function isChunkReader(source: ByteSource): source is ChunkReader {
  return !(source instanceof Uint8Array)
}

export class HandedBytes {
  #bytes: ByteSource | undefined
  /** The length of the bytes (for a reader: the length its source announced), known after they are taken. */
  readonly length: number

  constructor(bytes: Uint8Array)
  constructor(bytes: ChunkReader, length: number)
  constructor(bytes: ByteSource, length?: number) {
    this.#bytes = bytes
    this.length = bytes instanceof Uint8Array ? bytes.length : length ?? 0
  }

  /**
   * The bytes in one buffer, left in place (a caller that must hand them on whole: a forward to
   * the leader). A reader is read to its end, once, and its chunks joined.
   */
  async whole(): Promise<Uint8Array> {
    const source = this.#bytes
    if (source === undefined) throw new Error('the bytes were already taken')
    if (source instanceof Uint8Array) return source
    const bytes = new Uint8Array(this.length)
    let at = 0
    for (let chunk = await source.read(); chunk !== undefined; chunk = await source.read()) {
      if (at + chunk.length > bytes.length) {
        const error = new Error(`the bytes are longer than the ${this.length} announced`)
        source.cancel(error)
        throw error
      }
      bytes.set(chunk, at)
      at += chunk.length
    }
    if (at !== bytes.length) throw new Error(`the bytes ended after ${at} of the ${this.length} announced`)
    this.#bytes = bytes
    return bytes
  }

  /** True once take() gave them away. */
  get taken(): boolean {
    return this.#bytes === undefined
  }

  /** The bytes, left in place (a caller that may need them again: a forward that may be retried); a reader must be made whole() first. */
  peek(): Uint8Array {
    if (this.#bytes === undefined) throw new Error('the bytes were already taken')
    if (!(this.#bytes instanceof Uint8Array)) throw new Error('the bytes are still a stream: whole() first')
    return this.#bytes
  }

  /** Nobody will take them after all (the operation failed first): a reader's source is stopped. */
  drop(reason: Error): void {
    const source = this.#bytes
    this.#bytes = undefined
    if (source !== undefined && !(source instanceof Uint8Array)) source.cancel(reason)
  }

  /** The bytes or their reader, once: later calls throw (a second consumer is a bug). */
  take(): ByteSource {
    const bytes = this.#bytes
    if (bytes === undefined) throw new Error('the bytes were already taken')
    this.#bytes = undefined
    return bytes
  }
}
