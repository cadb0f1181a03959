// Saving a downloaded archive the way `consul snapshot save` does: write `<file>.unverified`,
// fsync it, read it back and verify it, then rename it into place (and fsync the directory), so
// FILE is either the previous file or a complete, verified snapshot, never a torn one.
import {closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'
import {CoordError} from '../errors.js'
import {readArchive, type SnapshotMeta} from './archive.js'

/** A save step failed; the message is Consul's for that step ("Error verifying snapshot file: ..."). */
export class SnapshotFileError extends CoordError {
  constructor(message: string, cause?: unknown) {
    super('SNAPSHOT_FILE', message, {cause})
    this.name = 'SnapshotFileError'
  }
}

export async function saveVerified(file: string, archive: Uint8Array): Promise<SnapshotMeta> {
  const unverified = `${file}.unverified`
  try {
    const fd = openSync(unverified, 'w', 0o600)
    try {
      for (let done = 0; done < archive.length;) done += writeSync(fd, archive, done)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    rmSync(unverified, {force: true})
    throw new SnapshotFileError(`Error writing unverified snapshot file: ${(error as Error).message}`, error)
  }
  let meta: SnapshotMeta
  try {
    meta = (await readArchive(readFileSync(unverified))).meta
  } catch (error) {
    rmSync(unverified, {force: true})
    throw new SnapshotFileError(`Error verifying snapshot file: ${(error as Error).message}`, error)
  }
  try {
    renameSync(unverified, file)
    syncDir(dirname(file))
  } catch (error) {
    rmSync(unverified, {force: true})
    throw new SnapshotFileError(`Error renaming ${JSON.stringify(unverified)} to ${JSON.stringify(file)}: ${(error as Error).message}`, error)
  }
  return meta
}

/** Makes a rename durable; some filesystems refuse to fsync a directory, which is not fatal. */
function syncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
