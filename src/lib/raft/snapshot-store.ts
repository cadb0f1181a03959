// One durable snapshot of the state machine: the point a restart restores from before replaying
// the log. Written to a temp file, fsync'd, renamed over the old one, and the directory fsync'd,
// so a crash leaves either the old snapshot or the new one, never a mix; the old one goes only
// once the new one is durable.
//
// File format (snapshot.dat):
//   "CRDSNP02", [u64 index][u64 term][u32 crc32 of all after the header][u32 length of conf], conf (msgpack), state
// An empty state stands for a freshly bootstrapped cluster. The conf length sits before the state
// so the state can be streamed to the file a chunk at a time (`write`) without knowing its size.
// "CRDSNP01" files (data = msgpack {conf, state}) from earlier versions are still read.
import {decode, encode} from '@msgpack/msgpack'
import {closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync} from 'node:fs'
import {open, readFile} from 'node:fs/promises'
import {setImmediate} from 'node:timers/promises'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {LogCorruptError, readStoreFile, writeAllSync} from './log-store.js'
import type {ConfState} from './types.js'
import type {ChunkReader} from '../handed-bytes.js'
import {fileChunks} from '../file-chunks.js'
import {renameOverSync, syncDir, syncDirOffLoop} from '../atomic-file.js'

export interface SnapshotFileMeta {
  index: number
  term: number
}

export interface StoredSnapshot {
  meta: SnapshotFileMeta
  conf: ConfState
  /** null: the empty state of a freshly bootstrapped cluster. */
  state: Uint8Array | null
}

const MAGIC = Buffer.from('CRDSNP02')
const MAGIC_V1 = Buffer.from('CRDSNP01')
const HEADER = MAGIC.length + 24
/** Streamed state is gathered into writes of about this size. */
const WRITE_BYTES = 1 << 20

export class FileSnapshotStore {
  readonly path: string

  constructor(readonly dir: string) {
    this.path = join(dir, 'snapshot.dat')
  }

  /** Writes a whole snapshot at once (bootstrap, a snapshot received from the leader). */
  save(meta: SnapshotFileMeta, conf: ConfState, state: Uint8Array | null): void {
    const confBytes = encode(conf)
    const body = state ?? new Uint8Array(0)
    const header = makeHeader(meta, crc32(body, crc32(confBytes)), confBytes.length)
    const tmp = `${this.path}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      writeAllSync(fd, header)
      writeAllSync(fd, confBytes)
      writeAllSync(fd, body)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    syncDir(this.dir)
  }

  /**
   * Streams a snapshot to a temp file, consuming `chunks` one write at a time (each write lets the
   * event loop run), fsyncs it, and — only if `stillWanted()` says so once it is durable (a newer
   * snapshot may have been installed meanwhile) — renames it over the current one. True if it did.
   */
  async write(meta: SnapshotFileMeta, conf: ConfState, chunks: Iterable<Uint8Array>, stillWanted: () => boolean): Promise<boolean> {
    const tmp = `${this.path}.stream.tmp`
    let renamed = false
    try {
      await streamSnapshot(tmp, meta, conf, chunks)
      // No await between the check and the rename: nothing else can install a snapshot in between.
      if (!stillWanted()) return false
      renameOverSync(tmp, this.path)
      renamed = true
      await syncDirOffLoop(this.dir)
      return true
    } finally {
      if (!renamed) rmSync(tmp, {force: true})
    }
  }

  /**
   * A snapshot received from the leader: written with async writes and fsync (the event loop goes
   * on meanwhile), then renamed over the current one.
   */
  async install(meta: SnapshotFileMeta, conf: ConfState, state: Uint8Array): Promise<void> {
    const tmp = `${this.path}.install.tmp`
    let renamed = false
    try {
      await streamSnapshot(tmp, meta, conf, [state])
      renameOverSync(tmp, this.path)
      renamed = true
      await syncDirOffLoop(this.dir)
    } finally {
      if (!renamed) rmSync(tmp, {force: true})
    }
  }

  /**
   * An operator's restore: streams the restored state to a staging file beside the snapshot and
   * fsyncs it, without making it the snapshot; `adoptStaged` does that once the Raft core took it.
   */
  async stage(meta: SnapshotFileMeta, conf: ConfState, chunks: Iterable<Uint8Array>): Promise<void> {
    try {
      await streamSnapshot(this.stagedPath, meta, conf, chunks)
    } catch (error) {
      this.dropStaged()
      throw error
    }
  }

  /** The staged restore becomes the snapshot (rename, then the directory fsync'd). */
  adoptStaged(): void {
    renameOverSync(this.stagedPath, this.path)
    syncDir(this.dir)
  }

  dropStaged(): void {
    rmSync(this.stagedPath, {force: true})
  }

  get stagedPath(): string {
    return `${this.path}.restore.tmp`
  }

  /** The latest snapshot, or undefined when none was ever taken. A damaged file is an error. */
  load(): StoredSnapshot | undefined {
    if (!existsSync(this.path)) return undefined
    // The checksum runs over each piece as it is read (while it is in the CPU cache).
    let crc = 0
    let checked = HEADER
    const bytes = readStoreFile(this.path, (read, filled) => {
      if (filled <= checked) return
      crc = crc32(read.subarray(checked, filled), crc)
      checked = filled
    })
    if (checked !== bytes.length) crc = crc32(bytes.subarray(HEADER), 0)
    return parseSnapshotFile(this.path, bytes, crc)
  }

  /**
   * The snapshot file as it is on disk, to be read by offset (a follower is sent its bytes in
   * chunks, raft-snapshot-transfer): the open descriptor keeps reading this file even after a newer
   * snapshot is renamed over it. Undefined when there is none or it holds no state.
   */
  async openImage(): Promise<SnapshotImage | undefined> {
    let file
    try {
      file = await open(this.path, 'r')
    } catch {
      return undefined
    }
    try {
      const {size} = await file.stat()
      const head = Buffer.alloc(Math.min(size, HEADER))
      await file.read(head, 0, head.length, 0)
      const magic = head.subarray(0, MAGIC.length)
      let meta: StoredSnapshot['meta']
      let conf: ConfState
      if (size >= HEADER && magic.equals(MAGIC)) {
        const confLength = head.readUInt32LE(MAGIC.length + 20)
        if (HEADER + confLength >= size) return closed(file)
        const confBytes = Buffer.alloc(confLength)
        await file.read(confBytes, 0, confLength, HEADER)
        meta = headerMeta(head)
        conf = decode(confBytes) as ConfState
      } else {
        // An earlier version's file (or a damaged one): read whole once, as load() does.
        const stored = this.load()
        if (!stored?.state) return closed(file)
        meta = stored.meta
        conf = stored.conf
      }
      const handle = file
      return {
        meta: {...meta, conf}, size,
        read: async (offset, length) => {
          const bytes = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)))
          for (let at = 0, round = 0; at < bytes.length; round++) {
            const {bytesRead} = await handle.read(bytes, at, bytes.length - at, offset + at)
            if (bytesRead <= 0 || round > 1000) throw new Error(`${this.path}: short read at ${offset + at}`)
            at += bytesRead
          }
          return bytes
        },
        close: () => handle.close().catch(() => undefined),
      }
    } catch (error) {
      await file.close().catch(() => undefined)
      throw error
    }
  }

  /**
   * Receives a snapshot file streamed from the leader into a file beside the snapshot (appended in
   * order, a running crc32 kept); `finish` fsyncs it, checks it is whole (the header's crc32 against
   * the bytes received) and makes it the staged snapshot that `adoptStaged` renames in.
   */
  async receiveImage(): Promise<SnapshotImageSink> {
    const path = this.receivingPath
    const file = await open(path, 'w')
    let position = 0
    let crc = 0
    let head = Buffer.alloc(0)
    let closedFile = false
    const close = async (): Promise<void> => {
      if (closedFile) return
      closedFile = true
      await file.close().catch(() => undefined)
    }
    return {
      // eslint-disable-next-line no-restricted-syntax -- one object per snapshot transfer, not per request
      get received() { return position },
      write: async (bytes) => {
        if (position < HEADER) head = Buffer.concat([head, bytes.subarray(0, HEADER - position)])
        const body = position >= HEADER ? bytes : bytes.subarray(HEADER - position)
        if (body.length > 0) crc = crc32(body, crc)
        for (let written = 0, round = 0; written < bytes.length; round++) {
          const {bytesWritten} = await file.write(bytes, written, bytes.length - written, position + written)
          if (bytesWritten <= 0 || round > 1000) throw new Error(`${path}: short write`)
          written += bytesWritten
        }
        position += bytes.length
      },
      finish: async () => {
        await file.sync()
        await close()
        const magic = head.subarray(0, MAGIC.length)
        if (head.length < HEADER || !(magic.equals(MAGIC) || magic.equals(MAGIC_V1))) throw new LogCorruptError(`${path}: not a coord snapshot (bad magic or truncated header)`)
        if (head.readUInt32LE(MAGIC.length + 16) !== crc) throw new LogCorruptError(`${path}: snapshot checksum mismatch; the received file is damaged`)
        if (magic.equals(MAGIC_V1)) {
          // The first layout is one msgpack document: read whole, as before.
          const stored = parseSnapshotFile(path, await readFile(path), crc)
          renameOverSync(path, this.stagedPath)
          return {...stored, stateBytes: stored.state?.length ?? 0}
        }
        const confLength = head.readUInt32LE(MAGIC.length + 20)
        const stateBytes = position - HEADER - confLength
        if (stateBytes < 0) throw new LogCorruptError(`${path}: snapshot header names more bytes than the file holds`)
        // Opened before the rename: a newer transfer staged over this one later leaves this
        // descriptor on the file it was (the driver drops the older one's decode when it ends).
        const staged = await open(path, 'r')
        let conf: ConfState
        try {
          const confBytes = Buffer.alloc(confLength)
          const {bytesRead} = await staged.read(confBytes, 0, confLength, HEADER)
          if (bytesRead !== confLength) throw new LogCorruptError(`${path}: the membership is cut short`)
          conf = decode(confBytes) as ConfState
          renameOverSync(path, this.stagedPath)
        } catch (error) {
          await staged.close().catch(() => undefined)
          throw error
        }
        const meta = headerMeta(head)
        if (stateBytes === 0) await staged.close()
        return {meta, conf, state: stateBytes === 0 ? null : fileChunks(staged, HEADER + confLength, stateBytes), stateBytes}
      },
      discard: async () => {
        await close()
        rmSync(path, {force: true})
      },
    }
  }

  get receivingPath(): string {
    return `${this.path}.receive.tmp`
  }
}

/** A snapshot file open for reading by offset (FileSnapshotStore.openImage). */
export interface SnapshotImage {
  meta: {index: number; term: number; conf: ConfState}
  size: number
  read(offset: number, length: number): Promise<Uint8Array>
  close(): Promise<void>
}

/** A snapshot file being received in order (FileSnapshotStore.receiveImage). */
export interface SnapshotImageSink {
  readonly received: number
  write(bytes: Uint8Array): Promise<void>
  /** Durable, whole and checked; it is then the staged snapshot (adoptStaged / dropStaged). */
  finish(): Promise<ReceivedImage>
  discard(): Promise<void>
}

/**
 * A received snapshot, checked against its crc32: meta and membership, and the state as bytes or,
 * from a file, as a reader of the staged file's state region (so a follower decodes a large state
 * a MiB at a time instead of holding it whole beside the old and the new).
 */
export interface ReceivedImage {
  meta: SnapshotFileMeta
  conf: ConfState
  /** null: the empty state of a freshly bootstrapped cluster. */
  state: Uint8Array | ChunkReader | null
  stateBytes: number
}

async function closed(file: {close(): Promise<void>}): Promise<undefined> {
  await file.close().catch(() => undefined)
  return undefined
}

/**
 * A snapshot file's bytes (snapshot.dat's layout, either version) as meta, membership and state;
 * damage is a LogCorruptError naming `path`. `crc`: the crc32 of the bytes after the header, when
 * the caller computed it as they came (otherwise computed here).
 */
export function parseSnapshotFile(path: string, bytes: Buffer, crc?: number): StoredSnapshot {
  const magic = bytes.subarray(0, MAGIC.length)
  if (bytes.length < HEADER || !(magic.equals(MAGIC) || magic.equals(MAGIC_V1))) {
    throw new LogCorruptError(`${path}: not a coord snapshot (bad magic or truncated header)`)
  }
  const data = bytes.subarray(HEADER)
  if (bytes.readUInt32LE(MAGIC.length + 16) !== (crc ?? crc32(data))) {
    throw new LogCorruptError(`${path}: snapshot checksum mismatch; the file is damaged`)
  }
  const meta = headerMeta(bytes)
  if (magic.equals(MAGIC_V1)) {
    const payload = decode(data) as {conf: ConfState; state: Uint8Array | null}
    return {meta, conf: payload.conf, state: payload.state}
  }
  const confLength = bytes.readUInt32LE(MAGIC.length + 20)
  if (confLength > data.length) throw new LogCorruptError(`${path}: snapshot header names more bytes than the file holds`)
  const state = data.subarray(confLength)
  return {meta, conf: decode(data.subarray(0, confLength)) as ConfState, state: state.length === 0 ? null : state}
}

/** The index and term a snapshot file's header records. */
function headerMeta(header: Buffer): SnapshotFileMeta {
  return {index: Number(header.readBigUInt64LE(MAGIC.length)), term: Number(header.readBigUInt64LE(MAGIC.length + 8))}
}

/** A snapshot's file bytes (snapshot.dat's layout) built in memory: the in-memory storage's image. */
export function snapshotFileBytes(meta: SnapshotFileMeta, conf: ConfState, state: Uint8Array): Buffer {
  const confBytes = encode(conf)
  return Buffer.concat([makeHeader(meta, crc32(state, crc32(confBytes)), confBytes.length), confBytes, state])
}

/** Streams conf + state chunks to `path` with a running crc32, 1 MiB writes, the header last, fsync'd. */
async function streamSnapshot(path: string, meta: SnapshotFileMeta, conf: ConfState, chunks: Iterable<Uint8Array>): Promise<void> {
  const confBytes = encode(conf)
  const file = await open(path, 'w')
  try {
    let crc = crc32(confBytes)
    let position = HEADER
    const put = async (bytes: Uint8Array): Promise<void> => {
      for (let written = 0, round = 0; written < bytes.length; round++) {
        const {bytesWritten} = await file.write(bytes, written, bytes.length - written, position)
        if (bytesWritten <= 0 || round > 1000) throw new Error(`${path}: short write`)
        written += bytesWritten
        position += bytesWritten
      }
    }
    await put(confBytes)
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    for (const chunk of chunks) {
      crc = crc32(chunk, crc)
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes >= WRITE_BYTES) {
        await put(pending.length === 1 ? pending[0] : Buffer.concat(pending))
        pending = []
        pendingBytes = 0
      } else {
        // Each chunk is a few ms of encoding: let the event loop run before the next one.
        await setImmediate()
      }
    }
    if (pendingBytes > 0) await put(pending.length === 1 ? pending[0] : Buffer.concat(pending))
    await file.write(makeHeader(meta, crc, confBytes.length), 0, HEADER, 0)
    await file.sync()
  } finally {
    await file.close().catch(() => undefined)
  }
}

function makeHeader(meta: SnapshotFileMeta, crc: number, confLength: number): Buffer {
  const header = Buffer.alloc(HEADER)
  MAGIC.copy(header, 0)
  header.writeBigUInt64LE(BigInt(meta.index), MAGIC.length)
  header.writeBigUInt64LE(BigInt(meta.term), MAGIC.length + 8)
  header.writeUInt32LE(crc, MAGIC.length + 16)
  header.writeUInt32LE(confLength, MAGIC.length + 20)
  return header
}
