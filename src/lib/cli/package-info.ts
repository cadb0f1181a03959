// The package's own name and version, read from package.json (the same file from src/ under tsx
// and from dist/src/ when built, hence the walk upwards).
import {readFileSync} from 'node:fs'

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
