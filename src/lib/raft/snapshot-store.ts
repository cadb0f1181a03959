// One durable snapshot of the state machine: the point a restart restores from before replaying
// the log. Written to a temp file, fsync'd, renamed over the old one, and the directory fsync'd,
// so a crash leaves either the old snapshot or the new one, never a mix.
//
// File format (snapshot.dat): "CRDSNP01", [u64 index][u64 term][u32 crc32 of data][u32 reserved], data.
import {closeSync, existsSync, fsyncSync, openSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {LogCorruptError, readStoreFile, syncDir, writeAllSync} from './log-store.js'

export interface SnapshotMeta {
  index: number
  term: number
}

const MAGIC = Buffer.from('CRDSNP01')
const HEADER = MAGIC.length + 24

export class FileSnapshotStore {
  readonly path: string

  constructor(readonly dir: string) {
    this.path = join(dir, 'snapshot.dat')
  }

  save(meta: SnapshotMeta, data: Uint8Array): void {
    const header = Buffer.alloc(HEADER)
    MAGIC.copy(header, 0)
    header.writeBigUInt64LE(BigInt(meta.index), MAGIC.length)
    header.writeBigUInt64LE(BigInt(meta.term), MAGIC.length + 8)
    header.writeUInt32LE(crc32(data), MAGIC.length + 16)
    const tmp = `${this.path}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      writeAllSync(fd, header)
      writeAllSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    syncDir(this.dir)
  }

  /** The latest snapshot, or undefined when none was ever taken. A damaged file is an error. */
  load(): {meta: SnapshotMeta; data: Uint8Array} | undefined {
    if (!existsSync(this.path)) return undefined
    const bytes = readStoreFile(this.path)
    if (bytes.length < HEADER || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new LogCorruptError(`${this.path}: not a coord snapshot (bad magic or truncated header)`)
    }
    const data = bytes.subarray(HEADER)
    if (bytes.readUInt32LE(MAGIC.length + 16) !== crc32(data)) {
      throw new LogCorruptError(`${this.path}: snapshot checksum mismatch; the file is damaged`)
    }
    return {
      meta: {index: Number(bytes.readBigUInt64LE(MAGIC.length)), term: Number(bytes.readBigUInt64LE(MAGIC.length + 8))},
      data: new Uint8Array(data),
    }
  }
}
