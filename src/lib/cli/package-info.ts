// The package's own name and version, read from package.json (the same file from src/ under tsx
// and from dist/src/ when built, hence the walk upwards), and the build's date.
import {readFileSync, statSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

let cached: {name: string; version: string} | undefined

export function packageInfo(): {name: string; version: string} {
  if (cached) return cached
  let dir = new URL('.', import.meta.url)
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'coord') return (cached = {name: pkg.name, version: pkg.version ?? '0.0.0'})
    } catch {
      // not here; keep walking up
    }
    dir = new URL('..', dir)
  }
  return (cached = {name: 'coord', version: '0.0.0'})
}

/**
 * When this build was made, as Go's RFC 3339 (`2026-01-02T15:04:05Z`): dist/src/build-info.json,
 * written by `npm run build` (scripts/build-info.js). Run from the sources (tsx), there is no build:
 * the time this module's file was last written stands in.
 */
export function buildDate(): string {
  try {
    const info = JSON.parse(readFileSync(new URL('../../build-info.json', import.meta.url), 'utf8')) as {buildDate?: unknown}
    if (typeof info.buildDate === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(info.buildDate)) return info.buildDate
  } catch {
    // not built: fall through
  }
  return statSync(fileURLToPath(import.meta.url)).mtime.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
