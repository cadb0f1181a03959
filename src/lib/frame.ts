// Length-prefixed frames on a byte stream: [u32 big-endian length][payload]. The decoder accepts
// chunks of any size (TCP splits and joins writes freely) and refuses a frame larger than the
// configured maximum, which is how a garbage or hostile peer is detected before it can make us
// allocate gigabytes.

export class FrameTooLargeError extends Error {
  readonly code = 'RPC_FRAME_TOO_LARGE'
}

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(4 + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  frame.set(payload, 4)
  return frame
}

export class FrameDecoder {
  #pending: Buffer[] = []
  #pendingBytes = 0

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds bytes and returns every frame they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#pending.push(chunk)
    this.#pendingBytes += chunk.length
    const frames: Buffer[] = []
    while (this.#pendingBytes >= 4) {
      const head = this.#peek(4)
      const length = head.readUInt32BE(0)
      if (length > this.maxFrameBytes) throw new FrameTooLargeError(`frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`)
      if (this.#pendingBytes < 4 + length) break
      const whole = this.#take(4 + length)
      frames.push(whole.subarray(4))
    }
    return frames
  }

  #peek(n: number): Buffer {
    if (this.#pending[0].length >= n) return this.#pending[0]
    const joined = Buffer.concat(this.#pending)
    this.#pending = [joined]
    return joined
  }

  #take(n: number): Buffer {
    const joined = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending)
    const taken = joined.subarray(0, n)
    const rest = joined.subarray(n)
    this.#pending = rest.length > 0 ? [rest] : []
    this.#pendingBytes = rest.length
    return taken
  }
}
