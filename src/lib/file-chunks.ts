// A stretch of an open file as a ChunkReader (handed-bytes.ts): a large state staged on disk (a
// follower's upload on the leader, a snapshot received from the leader) decoded a chunk at a time
// rather than read whole. The file is closed at the end, on a failed read or when the consumer
// cancels, and `onClose` runs then (once), e.g. to remove a staged file nobody needs after.
import type {FileHandle} from 'node:fs/promises'
import type {ChunkReader} from './handed-bytes.js'

/** Bytes read per chunk. */
const CHUNK_BYTES = 1 << 20

/** `length` bytes of `file` from `start`; a file that ends early fails the read that finds it. */
export function fileChunks(file: FileHandle, start: number, length: number, onClose: () => void = () => {}): ChunkReader {
  let at = 0
  let open = true
  const close = async (): Promise<void> => {
    if (!open) return
    open = false
    await file.close().catch(() => undefined)
    onClose()
  }
  return {
    read: async () => {
      if (!open) return undefined
      if (at >= length) {
        await close()
        return undefined
      }
      try {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, length - at))
        const {bytesRead} = await file.read(chunk, 0, chunk.length, start + at)
        if (bytesRead <= 0) throw new Error(`the file ends ${length - at} bytes early`)
        at += bytesRead
        return chunk.subarray(0, bytesRead)
      } catch (error) {
        await close()
        throw error
      }
    },
    cancel: () => void close(),
  }
}
