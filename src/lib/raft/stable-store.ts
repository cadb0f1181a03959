// Raft's durable hard state: current term, the vote cast in it, and the commit index. A server
// must never vote twice in one term, so a vote is fsync'd before the vote is sent (Raft §5.2,
// Figure 2 "updated on stable storage before responding to RPCs").
//
// File (hardstate.dat): "CRDHS001" [u64 term][u32 crc32 of vote+commit+term][u64 commit][u16 vote length][vote utf-8].
// Written to a temp file, fsync'd and renamed, so a crash leaves the old or the new state whole.
import {closeSync, existsSync, fsyncSync, openSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {LogCorruptError, readStoreFile, writeAllSync} from './log-store.js'
import {syncDir} from '../atomic-file.js'

export interface HardState {
  term: number
  vote: string
  commit: number
}

const MAGIC = Buffer.from('CRDHS001')

export class FileStableStore {
  readonly path: string

  constructor(readonly dir: string) {
    this.path = join(dir, 'hardstate.dat')
  }

  load(): HardState {
    if (!existsSync(this.path)) return {term: 0, vote: '', commit: 0}
    const bytes = readStoreFile(this.path)
    if (bytes.length < MAGIC.length + 22 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new LogCorruptError(`${this.path}: not a coord hard-state file (bad magic or truncated)`)
    }
    const body = bytes.subarray(MAGIC.length + 12)
    const term = Number(bytes.readBigUInt64LE(MAGIC.length))
    const check = crc32(Buffer.concat([bytes.subarray(MAGIC.length, MAGIC.length + 8), body]))
    if (check !== bytes.readUInt32LE(MAGIC.length + 8)) throw new LogCorruptError(`${this.path}: hard-state checksum mismatch; the file is damaged`)
    const commit = Number(body.readBigUInt64LE(0))
    const voteLength = body.readUInt16LE(8)
    return {term, commit, vote: body.subarray(10, 10 + voteLength).toString('utf8')}
  }

  save(state: HardState): void {
    const vote = Buffer.from(state.vote, 'utf8')
    const body = Buffer.alloc(10 + vote.length)
    body.writeBigUInt64LE(BigInt(state.commit), 0)
    body.writeUInt16LE(vote.length, 8)
    vote.copy(body, 10)
    const termBytes = Buffer.alloc(8)
    termBytes.writeBigUInt64LE(BigInt(state.term))
    const crc = Buffer.alloc(4)
    crc.writeUInt32LE(crc32(Buffer.concat([termBytes, body])))
    const tmp = `${this.path}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      writeAllSync(fd, Buffer.concat([MAGIC, termBytes, crc, body]))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    syncDir(this.dir)
  }
}
