// Service definition files for `coord services register|deregister`: the same JSON a config
// file holds (`{"service": {...}}` or `{"services": [...]}`). The agent validates the fields;
// this only finds the definitions, so the command works against a real Consul agent too.
import {readFileSync} from 'node:fs'

export type ServiceDef = Record<string, unknown>

export function servicesFromFiles(files: readonly string[]): ServiceDef[] {
  const out: ServiceDef[] = []
  for (const file of files) {
    if (file.endsWith('.hcl')) throw new Error(`Error parsing ${file}: HCL files are not supported by coord; write it as JSON`)
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new Error(`Error parsing ${file}: ${(error as Error).message}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`Error parsing ${file}: the top level must be a JSON object`)
    const raw = parsed as Record<string, unknown>
    for (const key of ['service', 'services']) {
      const value = raw[key]
      if (value === undefined) continue
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Error(`Error parsing ${file}: "${key}" must hold service definition objects`)
        out.push(item as ServiceDef)
      }
    }
  }
  return out
}

/** A field of a definition whatever its case (`name`, `Name`). */
export function defField(def: ServiceDef, name: string): unknown {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(def)) if (key.toLowerCase().replace(/_/g, '') === wanted) return value
  return undefined
}

/** `-meta k=v` values as a map; a value without `=` is an error naming it. */
export function parseKeyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of values) {
    const at = item.indexOf('=')
    if (at <= 0) throw new Error(`invalid value "${item}" for flag -${flag}: expected key=value`)
    out[item.slice(0, at)] = item.slice(at + 1)
  }
  return out
}
