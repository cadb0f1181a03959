// Writing what `coord tls` creates: never over an existing file (Consul's command picks the next free
// name for certificates and refuses to overwrite a CA), keys readable by the owner only.
import {existsSync, linkSync, unlinkSync, writeFileSync} from 'node:fs'

/** Writes `text` to `path` only if nothing is there; a crash leaves the file whole or absent. */
export function writeNewFile(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, {mode, flag: 'wx'})
  try {
    linkSync(tmp, path) // fails with EEXIST rather than replacing a file that appeared meanwhile
  } finally {
    unlinkSync(tmp)
  }
}

/** The first `<prefix>-<n>.pem` / `<prefix>-<n>-key.pem` pair with neither file present (n ≤ 10000). */
export function nextFreePair(prefix: string): {cert: string; key: string} | undefined {
  for (let i = 0; i <= 10_000; i++) {
    const cert = `${prefix}-${i}.pem`
    const key = `${prefix}-${i}-key.pem`
    if (!existsSync(cert) && !existsSync(key)) return {cert, key}
  }
  return undefined
}
