// What the Raft driver does when its own disk refuses a write. Two kinds of failure, told apart by
// the errno in the error's cause chain:
// - The disk is full (ENOSPC), over quota (EDQUOT) or the file-size limit is reached (EFBIG): the
//   write did not happen and the log store cut any partial record off again (log-store.ts), so what
//   the files hold is a valid, durable prefix. The server can wait for space and carry on from the
//   files, as a restart would, without a restart.
// - Anything else, above all a failed fsync (EIO): what reached the disk is unknown (after a failed
//   fsync Linux may drop the dirty pages and report success to the next one). hashicorp/raft panics
//   there; the agent stops likewise and a restart re-reads the files.
// The retry pace is a pure function of the attempt number; the driver owns the timer.

import {errnoOf} from '../errors.js'

/** errno → how an operator reads it. */
const DISK_FULL: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file-size limit reached',
}

export {errnoOf}

/** "EFBIG, file-size limit reached" when the disk refused for want of space; undefined otherwise. */
export function diskFullReason(error: unknown): string | undefined {
  const code = errnoOf(error)
  return code !== undefined && code in DISK_FULL ? `${code}, ${DISK_FULL[code]}` : undefined
}

/** Wait before trying the disk again after `attempt` failures in a row: 1 s doubling, at most 5 s. */
export function storageRetryDelayMs(attempt: number): number {
  return Math.min(5_000, 1_000 * 2 ** Math.max(0, Math.min(attempt - 1, 3)))
}

/** At the 5 s pace, a day of a full disk; then the server stops as for any other storage failure. */
export const MAX_STORAGE_RETRIES = 17_280
