// A snapshot restore a follower received, on its way to the leader in chunks. A state larger than
// one RPC frame cannot ride in one 'restore-on-leader' request, so the follower first uploads it in
// bounded 'restore-upload-chunk' requests (an upload ID it chose, offset, total size, bytes) and then
// sends 'restore-on-leader' naming the upload instead of carrying the state. The leader stages the
// chunks in a file beside its Raft storage (or, without a data dir, in memory), reads the file back
// only when asked to restore it, and removes it then. An upload that goes quiet (its follower
// gone), a chunk out of order or twice, or leadership lost removes the staged bytes, so nothing is
// left behind; the follower's next request is then refused with the reason.
import {randomUUID} from 'node:crypto'
import {readdirSync, rmSync} from 'node:fs'
import {open, type FileHandle} from 'node:fs/promises'
import type {ChunkReader} from '../handed-bytes.js'
import {fileChunks} from '../file-chunks.js'
import {join} from 'node:path'
import type {Clock, Timer} from '../clock.js'
import {NoLeaderError} from '../consensus.js'
import {CoordError} from '../errors.js'
import type {Logger} from '../logger.js'
import {SNAPSHOT_MAX_BYTES} from '../snapshot/archive.js'

export const RESTORE_UPLOAD_CHUNK = 'restore-upload-chunk'
/** Asks the leader to drop an upload its follower gave up (best effort; the idle timeout also does). */
export const RESTORE_UPLOAD_ABORT = 'restore-upload-abort'
/** An upload with no chunk for this long is dropped (its follower is gone). */
export const DEFAULT_UPLOAD_IDLE_MS = 60_000
/** Uploads staged at once on a leader (a restore is rare; more are refused, never queued). */
const MAX_UPLOADS = 2
const FILE_PREFIX = 'restore-upload-'

/** A chunk request: `data` at `offset` of a state of `size` bytes; `next` answers where the next chunk goes. */
export interface UploadChunk {
  upload: string
  offset: number
  size: number
  data: Uint8Array
}

interface Upload {
  from: string
  size: number
  next: number
  /** A chunk being written: another arriving meanwhile is out of order. */
  writing: boolean
  file?: FileHandle
  path?: string
  memory?: Uint8Array[]
  idle: Timer
}

export class RestoreUploads {
  readonly #uploads = new Map<string, Upload>()

  constructor(private readonly o: {
    /** Where staged files go (the Raft storage dir); absent: chunks are held in memory. */
    dir?: string
    clock: Clock
    logger: Logger
    isLeader: () => boolean
    idleMs?: number
  }) {
    // Files of uploads cut by a crash or a stop: nothing will ask for them.
    if (o.dir) {
      for (const name of readdirSync(o.dir)) if (name.startsWith(FILE_PREFIX)) rmSync(join(o.dir, name), {force: true})
    }
  }

  get size(): number {
    return this.#uploads.size
  }

  /** Stores one chunk; answers the offset the next one is expected at. */
  async chunk(from: string, body: unknown): Promise<{next: number}> {
    const chunk = parseChunk(body)
    if (!this.o.isLeader()) {
      await this.drop(chunk.upload, 'this server no longer leads')
      throw new NoLeaderError()
    }
    let upload = this.#uploads.get(chunk.upload)
    if (upload === undefined) {
      if (chunk.offset !== 0) throw refusal(`restore upload ${chunk.upload} is not staged here (dropped after a failure, a timeout or a leader change); nothing was restored`)
      if (this.#uploads.size >= MAX_UPLOADS) throw new CoordError('RESTORE_UPLOAD_BUSY', `${MAX_UPLOADS} snapshot restores are already being uploaded to the leader; try again later`, {httpStatus: 429})
      upload = await this.#begin(chunk, from)
    }
    if (upload.from !== from || upload.size !== chunk.size || upload.writing || chunk.offset !== upload.next || chunk.offset + chunk.data.length > upload.size) {
      const reason = chunk.offset < upload.next ? 'a chunk arrived twice' : 'a chunk arrived out of order or from another sender'
      await this.drop(chunk.upload, reason)
      throw refusal(`restore upload ${chunk.upload} failed: ${reason} (offset ${chunk.offset}, expected ${upload.next}); nothing was restored`)
    }
    upload.writing = true
    try {
      if (upload.file) await upload.file.write(chunk.data)
      else upload.memory!.push(Buffer.from(chunk.data))
    } catch (error) {
      await this.drop(chunk.upload, `writing it failed: ${(error as Error).message}`)
      throw error
    } finally {
      upload.writing = false
    }
    // Dropped while the chunk was written (leadership lost, the follower's abort): its file is gone.
    if (this.#uploads.get(chunk.upload) !== upload) throw refusal(`restore upload ${chunk.upload} was dropped while a chunk was written (a leader change or the follower's abort); nothing was restored`)
    upload.next += chunk.data.length
    this.#touch(chunk.upload, upload)
    return {next: upload.next}
  }

  /**
   * The staged state of a complete upload, removed from here: in memory, its bytes; in a file, a
   * reader of it (read a chunk at a time as the state is decoded, and deleted at its end or when
   * cancelled), so the leader never holds the whole state beside the old and the new.
   */
  async take(from: string, id: unknown, size: unknown): Promise<Uint8Array | ChunkReader> {
    const upload = typeof id === 'string' ? this.#uploads.get(id) : undefined
    if (upload === undefined) throw refusal(`restore upload ${String(id)} is not staged here (dropped after a failure, a timeout or a leader change); nothing was restored`)
    if (upload.from !== from || upload.size !== size || upload.next !== upload.size || upload.writing) {
      await this.drop(id as string, 'asked to restore before it was complete')
      throw refusal(`restore upload ${String(id)} is incomplete (${upload.next} of ${upload.size} bytes); nothing was restored`)
    }
    this.#uploads.delete(id as string)
    upload.idle.cancel()
    if (upload.memory) return Buffer.concat(upload.memory, upload.size)
    const path = upload.path!
    try {
      await upload.file!.sync()
      await upload.file!.close()
      return fileChunks(await open(path, 'r'), 0, upload.size, () => rmSync(path, {force: true}))
    } catch (error) {
      rmSync(path, {force: true})
      throw error
    }
  }

  /** Removes an upload and what it staged (no-op when unknown). */
  async drop(id: string, reason: string): Promise<void> {
    const upload = this.#uploads.get(id)
    if (upload === undefined) return
    this.#uploads.delete(id)
    upload.idle.cancel()
    this.o.logger.warn('dropped a snapshot restore uploaded by a follower', {upload: id, received: upload.next, size: upload.size, reason})
    if (upload.file) {
      await upload.file.close().catch(() => undefined)
      rmSync(upload.path!, {force: true})
    }
  }

  async dropAll(reason: string): Promise<void> {
    for (const id of [...this.#uploads.keys()]) await this.drop(id, reason)
  }

  async #begin(chunk: UploadChunk, from: string): Promise<Upload> {
    const upload: Upload = {from, size: chunk.size, next: 0, writing: true, idle: {cancel: () => undefined}}
    this.#uploads.set(chunk.upload, upload)
    try {
      if (this.o.dir) {
        upload.path = join(this.o.dir, `${FILE_PREFIX}${randomUUID()}.tmp`)
        upload.file = await open(upload.path, 'wx')
        if (this.#uploads.get(chunk.upload) !== upload) {
          // Dropped while the file was opened (leadership lost): nothing may stay behind.
          await upload.file.close()
          rmSync(upload.path, {force: true})
          throw new NoLeaderError()
        }
      } else {
        upload.memory = []
      }
    } catch (error) {
      if (this.#uploads.get(chunk.upload) === upload) this.#uploads.delete(chunk.upload)
      throw error
    } finally {
      upload.writing = false
    }
    this.o.logger.info('receiving a snapshot restore from a follower in chunks', {upload: chunk.upload, size: chunk.size, staged: upload.path ?? 'memory'})
    return upload
  }

  #touch(id: string, upload: Upload): void {
    upload.idle.cancel()
    const idleMs = this.o.idleMs ?? DEFAULT_UPLOAD_IDLE_MS
    upload.idle = this.o.clock.after(idleMs, () => void this.drop(id, `no chunk for ${idleMs} ms`))
  }
}

function refusal(message: string): CoordError {
  return new CoordError('RESTORE_UPLOAD_FAILED', message, {httpStatus: 409})
}

function parseChunk(body: unknown): UploadChunk {
  const chunk = body as Partial<UploadChunk> | null
  if (chunk === null || typeof chunk !== 'object' || typeof chunk.upload !== 'string' || chunk.upload === '' ||
      !Number.isSafeInteger(chunk.offset) || chunk.offset! < 0 || !Number.isSafeInteger(chunk.size) || chunk.size! <= 0 ||
      !(chunk.data instanceof Uint8Array) || chunk.data.length === 0) {
    throw new CoordError('RESTORE_UPLOAD_INVALID', 'restore upload chunk without upload ID, offset, size or bytes', {httpStatus: 400})
  }
  // No restore is larger than the archive a restore accepts (the endpoint's body bound): an upload
  // announcing more is refused before anything is staged for it.
  if (chunk.size! > SNAPSHOT_MAX_BYTES) {
    throw new CoordError('RESTORE_UPLOAD_TOO_LARGE', `restore upload of ${chunk.size} bytes refused: a restore is at most ${SNAPSHOT_MAX_BYTES} bytes`, {httpStatus: 413})
  }
  return chunk as UploadChunk
}
