// This process's open descriptors, as Linux shows them in /proc/self/fd.
import {readdirSync, readlinkSync} from 'node:fs'

/** Descriptors of this process still open on a file under `dir` that was removed or renamed over (" (deleted)"). */
export function deletedFilesOpen(dir: string): string[] {
  const out: string[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith(dir) && target.endsWith(' (deleted)')) out.push(target)
    } catch { /* closed meanwhile */ }
  }
  return out
}
