// Writing files so a full disk or a crash never leaves half of one: every byte written (a short
// write, which a disk filling mid-buffer gives without an error, is never taken as done), then
// fsync, then rename over the old file. On any failure the temporary file is removed and the old
// file stays as it was.
import {close, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {open} from 'node:fs/promises'

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

/**
 * Closes `fd` on libuv's thread pool. When it is the last descriptor of a file already renamed
 * over or removed, that close frees the file's blocks inside the call: for a log or snapshot of
 * tens of MB that took 20-30 ms on ext4, too long for the event loop. A read-only descriptor's close
 * reports nothing worth acting on, so its outcome is not awaited.
 */
export function closeOffLoop(fd: number): void {
  close(fd, () => undefined)
}

/**
 * renameSync(from, to), with the file `to` named until now held open across the rename and let go
 * by closeOffLoop: the rename then only unlinks it, and its blocks are freed off the event loop.
 */
export function renameOverSync(from: string, to: string): void {
  let old: number | undefined
  try {
    old = openSync(to, 'r')
  } catch {
    // Nothing there yet, or no descriptor to spare: a plain rename.
  }
  try {
    renameSync(from, to)
  } finally {
    if (old !== undefined) closeOffLoop(old)
  }
}

/** fsync the directory so a rename survives power loss. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** syncDir on the thread pool. */
export async function syncDirOffLoop(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
