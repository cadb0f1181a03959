// Saving a downloaded archive the way `consul snapshot save` does: write `<file>.unverified`,
// verify it, fsync it, then rename it into place (and fsync the directory), so FILE is either the
// previous file or a complete, verified snapshot, never a torn one. Consul reads the written file
// back to verify it; coord verifies the same bytes as they are written (gunzip, tar and SHA-256
// beside the download), so a large snapshot is neither read twice nor held in memory.
import {closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {once} from 'node:events'
import {dirname} from 'node:path'
import {PassThrough} from 'node:stream'
import {CoordError} from '../errors.js'
import {syncDir} from '../atomic-file.js'
import {verifyArchiveStream, type SnapshotMeta} from './archive.js'

/** A save step failed; the message is Consul's for that step ("Error verifying snapshot file: ..."). */
export class SnapshotFileError extends CoordError {
  constructor(message: string, cause?: unknown) {
    super('SNAPSHOT_FILE', message, {cause})
    this.name = 'SnapshotFileError'
  }
}

/** Writes `archive` (the download, as it arrives) to `file` by way of `<file>.unverified`, verified and durable. */
export async function saveVerified(file: string, archive: AsyncIterable<Uint8Array> | Uint8Array): Promise<SnapshotMeta> {
  const unverified = `${file}.unverified`
  const verifying = new PassThrough()
  const verified = verifyArchiveStream(verifying)
  // Awaited below, after the download; a verifier that failed stops reading, so the download stops too.
  let verifyFailed = false
  verified.catch(() => { verifyFailed = true })
  let fd: number | undefined
  try {
    try {
      fd = openSync(unverified, 'w', 0o600)
      for await (const chunk of archive instanceof Uint8Array ? [archive] : archive) {
        for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done)
        if (!verifying.write(chunk)) await Promise.race([once(verifying, 'drain'), verified.catch(() => {})])
        if (verifyFailed) break
      }
      verifying.end()
      fsyncSync(fd)
    } catch (error) {
      verifying.destroy()
      throw new SnapshotFileError(`Error writing unverified snapshot file: ${(error as Error).message}`, error)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
    let meta: SnapshotMeta
    try {
      meta = await verified
    } catch (error) {
      throw new SnapshotFileError(`Error verifying snapshot file: ${(error as Error).message}`, error)
    }
    try {
      renameSync(unverified, file)
      // Makes the rename durable; some filesystems refuse to fsync a directory, which is not fatal.
      try {
        syncDir(dirname(file))
      } catch { /* best effort */ }
    } catch (error) {
      throw new SnapshotFileError(`Error renaming ${JSON.stringify(unverified)} to ${JSON.stringify(file)}: ${(error as Error).message}`, error)
    }
    return meta
  } catch (error) {
    rmSync(unverified, {force: true})
    throw error
  }
}
