// Writing files so a full disk or a crash never leaves half of one: every byte written (a short
// write, which a disk filling mid-buffer gives without an error, is never taken as done), then
// fsync, then rename over the old file. On any failure the temporary file is removed and the old
// file stays as it was.
import {closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'

/** writeSync until every byte is written: a short write (disk full mid-buffer) is never taken as done. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let written = 0, round = 0; written < bytes.length; round++) {
    const n = writeSync(fd, bytes, written, bytes.length - written)
    if (n <= 0 || round > 1000) throw new Error(`short write: ${written} of ${bytes.length} bytes`)
    written += n
  }
}

/** `<path>.tmp` (created with `mode`), every byte, fsync, rename; the old file is kept on failure. */
export function writeFileAtomicallySync(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.tmp`
  rmSync(tmp, {force: true})
  try {
    const fd = openSync(tmp, 'wx', mode)
    try {
      writeAllSync(fd, Buffer.from(text))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw error
  }
}
