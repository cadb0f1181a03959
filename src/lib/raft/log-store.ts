// Durable, checksummed log of entries: the ground the state machine is rebuilt from after a crash.
//
// File format (log.dat): the 8-byte magic "CRDLOG01", then records
//   [u32 length of data][u32 crc32 of the next 16+length bytes][u64 index][u64 term][data]
// A record is durable once `append` resolves (written and fdatasync'd). A crash mid-write can only
// tear the last record: at open, a *final* record that is short or holds an unwritten (zero) sector
// is cut off (it was never acknowledged); a bad record followed by good ones, or a whole final
// record that fails its checksum, is corruption and stops the agent with a clear error rather than
// silently dropping acknowledged writes.
//
// Who calls what: one owner (the server's log driver) calls append/compact one at a time, never
// concurrently; reads (`entries`) may happen between them.
import {closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync} from 'node:fs'
import {open, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {writeAllSync} from '../atomic-file.js'

export interface LogEntry {
  index: number
  term: number
  data: Uint8Array
}

export interface LogStore {
  /** Index of the first entry held, or lastIndex + 1 when empty. */
  firstIndex(): number
  /** Index of the last entry held, or the compaction point when empty (0 for a new log). */
  lastIndex(): number
  /** Entries with from <= index <= to that are still held. */
  entries(from: number, to: number): LogEntry[]
  /** Appends entries (indexes must follow lastIndex); durable when the promise resolves. */
  append(entries: LogEntry[]): Promise<void>
  /** Drops entries with index <= upTo (they are covered by a snapshot). */
  compact(upTo: number): Promise<void>
  /**
   * Drops entries with index >= from: a follower whose uncommitted tail conflicts with the
   * leader's log replaces it (Raft §5.3). Durable when the promise resolves.
   */
  truncateFrom(from: number): Promise<void>
  /** Forgets every entry and restarts the log after `index` (a follower installing a snapshot). */
  reset(index: number): Promise<void>
  close(): Promise<void>
}

/** The log's file name in the raft directory. */
export const LOG_FILE = 'log.dat'
const MAGIC = Buffer.from('CRDLOG01')
const HEADER = 24

export class LogCorruptError extends Error {
  readonly code = 'LOG_CORRUPT'
}

/**
 * The disk refused an append (full: ENOSPC; over the file-size limit: EFBIG; or the fsync failed).
 * Nothing of it counts as written: a partial record is cut off again, so the file stays a valid log.
 */
export class LogWriteError extends Error {
  readonly code = 'LOG_WRITE_FAILED'
}

function encodeRecord(entry: LogEntry): Buffer {
  return encodeRecords([entry])
}

/** A safe integer as a little-endian u64 (two u32 halves: no BigInt per field). */
function writeU64(buffer: Buffer, value: number, at: number): void {
  buffer.writeUInt32LE(value % 0x1_0000_0000, at)
  buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4)
}

/** The records of `entries`, back to back, in one buffer (one allocation per append, not two per entry). */
function encodeRecords(entries: readonly LogEntry[]): Buffer {
  let size = 0
  for (const entry of entries) size += HEADER + entry.data.length
  const bytes = Buffer.allocUnsafe(size)
  let at = 0
  for (const entry of entries) {
    bytes.writeUInt32LE(entry.data.length, at)
    writeU64(bytes, entry.index, at + 8)
    writeU64(bytes, entry.term, at + 16)
    bytes.set(entry.data, at + HEADER)
    const end = at + HEADER + entry.data.length
    bytes.writeUInt32LE(crc32(bytes.subarray(at + 8, end)), at + 4)
    at = end
  }
  return bytes
}

/**
 * Parses a log file's bytes; returns entries and the byte length of the valid prefix. Each entry's
 * data is a view of `bytes`, not a copy (a copy of every entry cost as much again as reading the file).
 */
export function decodeLog(bytes: Buffer, path: string): {entries: LogEntry[]; validLength: number; tornTail: boolean} {
  return new LogScan(bytes, path).finish()
}

/**
 * decodeLog in steps, so a file read in pieces is checked while each piece is still in the CPU
 * cache: `advance(filled)` takes every whole, intact, in-order record within bytes[0, filled);
 * `finish()` (once the whole file is in `bytes`) goes on from there and decides about anything
 * else (torn tail or corruption) with the whole file in view.
 */
export class LogScan {
  readonly entries: LogEntry[] = []
  #offset = MAGIC.length
  #magicChecked = false

  constructor(readonly bytes: Buffer, private readonly path: string) {}

  advance(filled: number): void {
    const {bytes, entries} = this
    if (!this.#magicChecked) {
      if (filled < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return
      this.#magicChecked = true
    }
    let offset = this.#offset
    while (offset + HEADER <= filled) {
      const end = offset + HEADER + bytes.readUInt32LE(offset)
      if (end > filled || bytes.readUInt32LE(offset + 4) !== crc32(bytes.subarray(offset + 8, end))) break
      const index = readU64(bytes, offset + 8)
      const previous = entries.at(-1)
      if (previous && index !== previous.index + 1) break
      entries.push({index, term: readU64(bytes, offset + 16), data: bytes.subarray(offset + HEADER, end)})
      offset = end
    }
    this.#offset = offset
  }

  finish(): {entries: LogEntry[]; validLength: number; tornTail: boolean} {
    const {bytes, path, entries} = this
    if (bytes.length === 0) return {entries: [], validLength: 0, tornTail: false}
    if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      if (bytes.length < MAGIC.length && MAGIC.subarray(0, bytes.length).equals(bytes)) return {entries: [], validLength: 0, tornTail: true}
      throw new LogCorruptError(`${path}: not a coord log file (bad magic); refusing to start rather than overwrite it`)
    }
    let offset = this.#offset
    while (offset < bytes.length) {
      const remaining = bytes.length - offset
      const length = remaining >= 4 ? bytes.readUInt32LE(offset) : -1
      const end = offset + HEADER + length
      const complete = remaining >= HEADER && end <= bytes.length
      const valid = complete && bytes.readUInt32LE(offset + 4) === crc32(bytes.subarray(offset + 8, end))
      if (!valid) {
        // Only the last record may be torn: anything valid after it means the middle of the log rotted.
        if (hasValidRecordAfter(bytes, offset + 1)) {
          throw new LogCorruptError(`${path}: checksum mismatch in the record at byte ${offset} with intact records after it; the log is corrupt (restore from a snapshot or another server)`)
        }
        // A crash tears a write in two ways: the file ends inside the record, or the file's length
        // covers it but some sectors were never written (they read as zeros). A whole record with
        // every sector written that fails its checksum rotted after it was written: it may be an
        // acknowledged write, so it is corruption, not a tail to drop (etcd's WAL draws the same line).
        if (complete && !hasUnwrittenSector(bytes, offset, end)) {
          throw new LogCorruptError(`${path}: the last record (byte ${offset}, index ${bytes.readBigUInt64LE(offset + 8)}) is whole but fails its checksum; it may hold an acknowledged write, so the log is corrupt (restore from a snapshot or another server)`)
        }
        return {entries, validLength: offset, tornTail: true}
      }
      const index = readU64(bytes, offset + 8)
      const previous = entries.at(-1)
      if (previous && index !== previous.index + 1) {
        throw new LogCorruptError(`${path}: index ${index} follows ${previous.index} at byte ${offset}; the log is corrupt`)
      }
      entries.push({index, term: readU64(bytes, offset + 16), data: bytes.subarray(offset + HEADER, end)})
      offset = end
    }
    return {entries, validLength: offset, tornTail: false}
  }
}

/** A little-endian u64 written by writeU64 (two u32 halves: no BigInt per field). */
function readU64(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at) + bytes.readUInt32LE(at + 4) * 0x1_0000_0000
}

/** At most this many bytes of entries read at open are copied out of the file's buffer in one rewrite. */
const OWN_COPY_BYTES = 1 << 20

/** Bytes read per read(2) by readStoreFile. */
const READ_PIECE = 1 << 20

/**
 * Reads a whole file into one buffer, 1 MiB per read, calling `onRead(bytes, filled)` after each
 * read so a checksum can run over the piece just read while it is in the CPU cache (a checksum
 * over a large file after reading it all cost half as much again as the read). Its errors name
 * the file (EISDIR, EACCES and friends say only what, not where).
 */
export function readStoreFile(path: string, onRead?: (bytes: Buffer, filled: number) => void): Buffer {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw new LogCorruptError(`${path}: cannot read it: ${(error as Error).message}`)
  }
  try {
    const size = fstatSync(fd).size
    const bytes = Buffer.allocUnsafe(size)
    let filled = 0
    // Bounded: a file that shrinks under us ends the loop at the short read.
    for (let round = 0; filled < size && round <= size / READ_PIECE + 1; round++) {
      const read = readSync(fd, bytes, filled, Math.min(READ_PIECE, size - filled), filled)
      if (read === 0) break
      filled += read
      onRead?.(bytes, filled)
    }
    return filled === size ? bytes : bytes.subarray(0, filled)
  } catch (error) {
    if (error instanceof LogCorruptError) throw error
    throw new LogCorruptError(`${path}: cannot read it: ${(error as Error).message}`)
  } finally {
    closeSync(fd)
  }
}

const SECTOR = 512

/** Does bytes[start, end) hold a sector-aligned stretch of zeros (a sector the disk never wrote)? */
function hasUnwrittenSector(bytes: Buffer, start: number, end: number): boolean {
  for (let from = start; from < end;) {
    const to = Math.min(end, (Math.floor(from / SECTOR) + 1) * SECTOR)
    if (bytes.subarray(from, to).every((byte) => byte === 0)) return true
    from = to
  }
  return false
}

/** Is there an intact record starting anywhere after `start`? Only run on the (rare) error path. */
function hasValidRecordAfter(bytes: Buffer, start: number): boolean {
  for (let offset = start; offset + HEADER <= bytes.length; offset++) {
    const end = offset + HEADER + bytes.readUInt32LE(offset)
    if (end <= bytes.length && bytes.readUInt32LE(offset + 4) === crc32(bytes.subarray(offset + 8, end))) return true
  }
  return false
}

/** Entries held in memory too: the tail since the last compaction is what replication reads. */
abstract class BaseLogStore implements LogStore {
  protected held: LogEntry[] = []
  protected compactedTo = 0

  firstIndex(): number {
    return this.held[0]?.index ?? this.compactedTo + 1
  }

  lastIndex(): number {
    return this.held.at(-1)?.index ?? this.compactedTo
  }

  entries(from: number, to: number): LogEntry[] {
    const first = this.firstIndex()
    return this.held.slice(Math.max(0, from - first), Math.max(0, to - first + 1))
  }

  protected checkContiguous(entries: LogEntry[]): void {
    let expected = this.lastIndex() + 1
    for (const entry of entries) {
      if (entry.index !== expected) throw new Error(`log append out of order: got index ${entry.index}, expected ${expected}`)
      expected++
    }
  }

  abstract append(entries: LogEntry[]): Promise<void>
  abstract compact(upTo: number): Promise<void>
  abstract truncateFrom(from: number): Promise<void>
  abstract reset(index: number): Promise<void>
  abstract close(): Promise<void>
}

/** For -dev agents and tests: the same contract with nothing on disk. */
export class MemoryLogStore extends BaseLogStore {
  async append(entries: LogEntry[]): Promise<void> {
    this.checkContiguous(entries)
    this.held.push(...entries)
  }

  async compact(upTo: number): Promise<void> {
    this.held = this.held.filter((entry) => entry.index > upTo)
    this.compactedTo = Math.max(this.compactedTo, upTo)
  }

  async truncateFrom(from: number): Promise<void> {
    this.held = this.held.filter((entry) => entry.index < from)
  }

  async reset(index: number): Promise<void> {
    this.held = []
    this.compactedTo = index
  }

  async close(): Promise<void> {}
}

export class FileLogStore extends BaseLogStore {
  #file: FileHandle | undefined
  /** Bytes of whole records in the file: where an append that failed half-way is cut back to. */
  #size = 0
  /** The file as read at open: entries read then are views of it until the first rewrite copies the kept ones out. */
  #opened: ArrayBufferLike | undefined
  readonly path: string

  private constructor(readonly dir: string) {
    super()
    this.path = join(dir, LOG_FILE)
  }

  /**
   * Opens (or creates) the log in `dir`. `compactedTo` is the index the latest snapshot covers;
   * entries at or below it are skipped. `onTornTail` hears about a cut-off final record.
   */
  static async open(dir: string, compactedTo: number, onTornTail?: (bytesDropped: number) => void): Promise<FileLogStore> {
    const store = new FileLogStore(dir)
    store.compactedTo = compactedTo
    if (existsSync(store.path)) {
      let scan: LogScan | undefined
      const bytes = readStoreFile(store.path, (read, filled) => {
        scan ??= new LogScan(read, store.path)
        scan.advance(filled)
      })
      // A file cut short while it was read is parsed again as read.
      const {entries, validLength, tornTail} = (scan?.bytes === bytes ? scan : new LogScan(bytes, store.path)).finish()
      store.#opened = bytes.buffer
      if (tornTail) {
        onTornTail?.(bytes.length - validLength)
        store.rewrite(entries)
      }
      const kept = entries.filter((entry) => entry.index > compactedTo)
      if (kept.length > 0 && kept[0].index !== compactedTo + 1) {
        throw new LogCorruptError(`${store.path}: log starts at index ${kept[0].index} but the snapshot covers only up to ${compactedTo}; entries are missing`)
      }
      store.held = kept
    } else {
      store.rewrite([])
    }
    store.#file = await open(store.path, 'a')
    store.#size = (await store.#file.stat()).size
    return store
  }

  /** Atomically replaces the file with exactly these entries (tmp file, fsync, rename, fsync dir). */
  private rewrite(entries: LogEntry[]): void {
    const tmp = `${this.path}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      writeAllSync(fd, MAGIC)
      for (const entry of entries) writeAllSync(fd, encodeRecord(entry))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    syncDir(this.dir)
  }

  async append(entries: LogEntry[]): Promise<void> {
    if (entries.length === 0) return
    this.checkContiguous(entries)
    const file = this.#file
    if (!file) throw new Error('log store is closed')
    const bytes = encodeRecords(entries)
    try {
      // A write can be short (the disk or the file-size limit reached mid-buffer): write the rest,
      // and a further write then fails with the reason. Never count a short write as appended.
      for (let written = 0, round = 0; written < bytes.length; round++) {
        const {bytesWritten} = await file.write(bytes, written, bytes.length - written)
        if (bytesWritten <= 0 || round > 1000) throw new Error(`short write: ${written} of ${bytes.length} bytes`)
        written += bytesWritten
      }
    } catch (error) {
      // ENOSPC/EFBIG may leave part of a record behind; a later good record after it would read as
      // corruption at the next start. Cut it off (best effort: a torn final record is also dropped at open).
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      const cutBack = await file.truncate(this.#size).then(() => true, (truncateError: unknown) => truncateError)
      if (cutBack !== true) {
        // Whole records of this append may still be in the file and read back at the next open: it
        // is not "nothing appended", and not a full disk to wait out (so no errno cause: the
        // driver stops the server, telling in-flight writes they may or may not have been applied).
        throw new LogWriteError(`${this.path}: appending ${bytes.length} bytes failed (${reason}) and cutting the partial append off failed too (${(cutBack as Error)?.message ?? String(cutBack)}); the log may hold part of it`)
      }
      throw new LogWriteError(`${this.path}: appending ${bytes.length} bytes failed (${reason}); nothing was appended`, {cause: error})
    }
    try {
      await file.datasync()
    } catch (error) {
      throw new LogWriteError(`${this.path}: fsync failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the last append may not be durable`, {cause: error})
    }
    this.#size += bytes.length
    this.held.push(...entries)
  }

  async compact(upTo: number): Promise<void> {
    this.compactedTo = Math.max(this.compactedTo, upTo)
    await this.#reopenWith(this.held.filter((entry) => entry.index > upTo))
  }

  async truncateFrom(from: number): Promise<void> {
    await this.#reopenWith(this.held.filter((entry) => entry.index < from))
  }

  async reset(index: number): Promise<void> {
    this.compactedTo = index
    await this.#reopenWith([])
  }

  /**
   * Rewrites the file with exactly `entries` (compaction, truncation, snapshot install). Written
   * with async writes in 1 MiB pieces: after a snapshot of a large state the kept tail can be tens
   * of MB, and a synchronous rewrite held the event loop for a second.
   */
  async #reopenWith(entries: LogEntry[]): Promise<void> {
    await this.#file?.close()
    this.#file = undefined
    this.held = this.#ownOpened(entries)
    const tmp = `${this.path}.tmp`
    const file = await open(tmp, 'w')
    try {
      let pending: Buffer[] = [MAGIC]
      let bytes = MAGIC.length
      let position = 0
      const flush = async (): Promise<void> => {
        const buffer = Buffer.concat(pending)
        for (let written = 0, round = 0; written < buffer.length; round++) {
          const {bytesWritten} = await file.write(buffer, written, buffer.length - written, position)
          if (bytesWritten <= 0 || round > 1000) throw new Error(`${tmp}: short write`)
          written += bytesWritten
          position += bytesWritten
        }
        pending = []
        bytes = 0
      }
      for (const entry of entries) {
        const record = encodeRecord(entry)
        pending.push(record)
        bytes += record.length
        if (bytes >= 1 << 20) await flush()
      }
      await flush()
      await file.sync()
    } finally {
      await file.close()
    }
    renameSync(tmp, this.path)
    syncDir(this.dir)
    this.#file = await open(this.path, 'a')
    this.#size = (await this.#file.stat()).size
  }

  /**
   * The few entries a compaction keeps must not hold the whole file read at open in memory: up to
   * 1 MiB of them are copied out (more would be a long synchronous copy, e.g. a follower cutting a
   * conflicting tail right after a start; those stay views until a later rewrite drops or copies them).
   */
  #ownOpened(entries: LogEntry[]): LogEntry[] {
    const opened = this.#opened
    if (opened === undefined) return entries
    let viewed = 0
    for (const entry of entries) if (entry.data.buffer === opened) viewed += entry.data.length
    if (viewed > OWN_COPY_BYTES) return entries
    this.#opened = undefined
    return viewed === 0 ? entries : entries.map((entry) => (entry.data.buffer === opened ? {...entry, data: Buffer.from(entry.data)} : entry))
  }

  async close(): Promise<void> {
    await this.#file?.close()
    this.#file = undefined
  }
}

export {writeAllSync}

/** fsync the directory so a rename survives power loss. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
