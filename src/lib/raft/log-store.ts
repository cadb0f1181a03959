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
import {closeOffLoop, syncDir, syncDirOffLoop, writeAllSync} from '../atomic-file.js'

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
  /**
   * Entries with from <= index <= to that are still held; with `maxBytes`, stops before the entry
   * that would take their data past it (at least one is returned).
   */
  entries(from: number, to: number, maxBytes?: number): LogEntry[]
  /** The term of the entry at `index` if it is held (no entry data is read for it). */
  termAt(index: number): number | undefined
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

/**
 * Entry data kept in memory by the file log: the newest entries up to this many bytes (what
 * replication and apply read next: thousands of small writes, over a hundred 64-op txns). Older
 * entries keep their index, term and place in the file; their data is read back from log.dat when
 * asked for (a follower far behind, the replay after a restart), as hashicorp/raft keeps a small
 * cache (512 entries) in front of its log store. Without it the whole log since the last snapshot
 * (up to the 64 MiB compaction bound) sat in memory twice over: in the file and in the heap.
 */
export const RESIDENT_LOG_BYTES = 2 << 20

/** Stands in for the data of an entry that is only in the file (FileLogStore). */
const ON_DISK = new Uint8Array(0)

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

  entries(from: number, to: number, maxBytes = Infinity): LogEntry[] {
    const first = this.firstIndex()
    const start = Math.max(0, from - first)
    const end = Math.min(this.held.length, Math.max(0, to - first + 1))
    let stop = end
    if (maxBytes !== Infinity) {
      let bytes = 0
      for (let i = start; i < end; i++) {
        bytes += this.dataLength(i)
        if (i > start && bytes > maxBytes) {
          stop = i
          break
        }
      }
    }
    return this.read(start, stop)
  }

  termAt(index: number): number | undefined {
    return this.held[index - this.firstIndex()]?.term
  }

  /** Data length of held[i] (its data may be elsewhere). */
  protected dataLength(i: number): number {
    return this.held[i].data.length
  }

  /** held[start, end) with their data. */
  protected read(start: number, end: number): LogEntry[] {
    return this.held.slice(start, end)
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
  /** For held[i]: where its record starts in the file, and its data's length (its data may be ON_DISK). */
  #offsets: number[] = []
  #lengths: number[] = []
  /** held[i] for i >= #resident has its data in memory (the newest, about RESIDENT_LOG_BYTES of them). */
  #resident = 0
  #residentBytes = 0
  /** Read descriptor on the file, for the data of entries no longer in memory. */
  #readFd: number | undefined
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
      // A torn tail is cut off by writing the intact records again, in place: they keep their offsets.
      if (tornTail) {
        onTornTail?.(bytes.length - validLength)
        store.rewrite(entries)
      }
      const kept = entries.filter((entry) => entry.index > compactedTo)
      if (kept.length > 0 && kept[0].index !== compactedTo + 1) {
        throw new LogCorruptError(`${store.path}: log starts at index ${kept[0].index} but the snapshot covers only up to ${compactedTo}; entries are missing`)
      }
      // The entries are views of the file read whole: the newest are copied out, the rest left in
      // the file, and the read buffer goes.
      store.held = kept
      store.#offsets = kept.map((entry) => entry.data.byteOffset - bytes.byteOffset - HEADER)
      store.#lengths = kept.map((entry) => entry.data.length)
      store.#resident = kept.length
      store.#residentBytes = 0
      for (let i = kept.length - 1; i >= 0 && store.#residentBytes + kept[i].data.length <= RESIDENT_LOG_BYTES; i--) {
        store.#resident = i
        store.#residentBytes += kept[i].data.length
      }
      for (let i = 0; i < kept.length; i++) {
        const entry = kept[i]
        kept[i] = {index: entry.index, term: entry.term, data: i < store.#resident ? ON_DISK : new Uint8Array(entry.data)}
      }
    } else {
      store.rewrite([])
    }
    store.#file = await open(store.path, 'a')
    store.#size = (await store.#file.stat()).size
    store.#readFd = openSync(store.path, 'r')
    return store
  }

  protected override dataLength(i: number): number {
    return this.#lengths[i]
  }

  /** held[start, end), the data of those only in the file read back (a run at a time, checked against its crc). */
  protected override read(start: number, end: number): LogEntry[] {
    const out: LogEntry[] = []
    for (let i = start; i < end;) {
      if (this.held[i].data !== ON_DISK) {
        out.push(this.held[i++])
        continue
      }
      let run = i + 1
      while (run < end && this.held[run].data === ON_DISK && this.#offsets[run] - this.#offsets[i] < READ_PIECE) run++
      const bytes = this.#records(i, run)
      let at = 0
      for (let k = i; k < run; k++) {
        const length = bytes.readUInt32LE(at)
        const recordEnd = at + HEADER + length
        if (length !== this.#lengths[k] || recordEnd > bytes.length || bytes.readUInt32LE(at + 4) !== crc32(bytes.subarray(at + 8, recordEnd)) || readU64(bytes, at + 8) !== this.held[k].index) {
          throw new LogCorruptError(`${this.path}: the record of index ${this.held[k].index} at byte ${this.#offsets[k]} no longer reads back intact; the log is corrupt (restore from a snapshot or another server)`)
        }
        out.push({index: this.held[k].index, term: this.held[k].term, data: bytes.subarray(at + HEADER, recordEnd)})
        at = recordEnd
      }
      i = run
    }
    return out
  }

  /** The records of held[start, end) as the file holds them (they lie back to back). */
  #records(start: number, end: number): Buffer {
    const fd = this.#readFd
    if (fd === undefined) throw new Error('log store is closed')
    const from = this.#offsets[start]
    const size = this.#offsets[end - 1] + HEADER + this.#lengths[end - 1] - from
    const bytes = Buffer.allocUnsafe(size)
    let filled = 0
    try {
      for (let round = 0; filled < size && round <= size / READ_PIECE + 1; round++) {
        const read = readSync(fd, bytes, filled, size - filled, from + filled)
        if (read === 0) break
        filled += read
      }
    } catch (error) {
      throw new LogCorruptError(`${this.path}: reading back the record of index ${this.held[start].index} at byte ${from} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
    if (filled !== size) throw new LogCorruptError(`${this.path}: ends before the record of index ${this.held[start].index} at byte ${from}; the log is corrupt`)
    return bytes
  }

  /** Leaves the data of the oldest entries in the file until about RESIDENT_LOG_BYTES are in memory. */
  #evict(): void {
    const last = this.held.length - 1
    while (this.#residentBytes > RESIDENT_LOG_BYTES && this.#resident < last) {
      const entry = this.held[this.#resident]
      this.#residentBytes -= entry.data.length
      this.held[this.#resident++] = {index: entry.index, term: entry.term, data: ON_DISK}
    }
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
    let offset = this.#size
    for (const entry of entries) {
      this.held.push(entry)
      this.#offsets.push(offset)
      this.#lengths.push(entry.data.length)
      this.#residentBytes += entry.data.length
      offset += HEADER + entry.data.length
    }
    this.#size += bytes.length
    this.#evict()
  }

  async compact(upTo: number): Promise<void> {
    const start = Math.min(this.held.length, Math.max(0, upTo - this.firstIndex() + 1))
    this.compactedTo = Math.max(this.compactedTo, upTo)
    await this.#reopenWith(start, this.held.length)
  }

  async truncateFrom(from: number): Promise<void> {
    await this.#reopenWith(0, Math.min(this.held.length, Math.max(0, from - this.firstIndex())))
  }

  async reset(index: number): Promise<void> {
    this.compactedTo = index
    await this.#reopenWith(0, 0)
  }

  /**
   * Rewrites the file with exactly held[start, end) (compaction, truncation, snapshot install):
   * records whose data is in memory encoded again, the others copied from the old file as they are.
   * Written with async writes in 1 MiB pieces: after a snapshot of a large state the kept tail can
   * be tens of MB, and a synchronous rewrite held the event loop for a second.
   */
  async #reopenWith(start: number, end: number): Promise<void> {
    await this.#file?.close()
    this.#file = undefined
    const tmp = `${this.path}.tmp`
    const file = await open(tmp, 'w')
    const offsets: number[] = []
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
      for (let i = start; i < end;) {
        let run = i + 1
        let records: Buffer
        if (this.held[i].data === ON_DISK) {
          while (run < end && this.held[run].data === ON_DISK && this.#offsets[run] - this.#offsets[i] < READ_PIECE) run++
          records = this.#records(i, run)
        } else {
          records = encodeRecord(this.held[i])
        }
        for (let k = i, at = position + bytes; k < run; k++) {
          offsets.push(at)
          at += HEADER + this.#lengths[k]
        }
        pending.push(records)
        bytes += records.length
        if (bytes >= 1 << 20) await flush()
        i = run
      }
      await flush()
      await file.sync()
    } finally {
      await file.close()
    }
    // The old file stays open for reads until the rename (#readFd), so the rename only unlinks it;
    // its blocks are freed when that descriptor is closed, off the event loop (closeOffLoop).
    renameSync(tmp, this.path)
    await syncDirOffLoop(this.dir)
    this.held = this.held.slice(start, end)
    this.#offsets = offsets
    this.#lengths = this.#lengths.slice(start, end)
    this.#resident = Math.min(this.held.length, Math.max(0, this.#resident - start))
    this.#residentBytes = 0
    for (let i = this.#resident; i < this.held.length; i++) this.#residentBytes += this.#lengths[i]
    const oldReadFd = this.#readFd
    this.#readFd = openSync(this.path, 'r')
    if (oldReadFd !== undefined) closeOffLoop(oldReadFd)
    this.#file = await open(this.path, 'a')
    this.#size = (await this.#file.stat()).size
  }

  async close(): Promise<void> {
    await this.#file?.close()
    this.#file = undefined
    if (this.#readFd !== undefined) closeSync(this.#readFd)
    this.#readFd = undefined
  }
}

export {writeAllSync}
