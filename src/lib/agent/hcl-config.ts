// HCL config files with Consul's semantics. Consul decodes HCL 1 (hashicorp/hcl) into a generic map,
// where every block becomes a list of objects (a key may repeat), then patches each list of exactly
// one object back into that object, except under the keys where a list is the point (services,
// checks, watches, ...): agent/config/config.go Parse and lib.PatchSliceOfMaps. The parser is
// js-hcl-parser, a build of hashicorp/hcl itself, so the syntax accepted is Consul's own; it is
// loaded only when an HCL file is read (the agent and `validate`), never by other commands.
import {createRequire} from 'node:module'

/** Keys whose lists of objects stay lists (Consul's SkipPatchSliceOfMaps for the agent config). */
const KEEP_LISTS: ReadonlySet<string> = new Set([
  'checks', 'segments', 'service.checks', 'services', 'services.checks', 'watches',
  'service.connect.proxy.config.upstreams', 'services.connect.proxy.config.upstreams',
  'service.connect.proxy.upstreams', 'services.connect.proxy.upstreams',
  'service.connect.proxy.expose.paths', 'services.connect.proxy.expose.paths',
  'service.proxy.upstreams', 'services.proxy.upstreams', 'service.proxy.expose.paths', 'services.proxy.expose.paths',
  'service.connect.sidecar_service.checks', 'services.connect.sidecar_service.checks',
  'service.connect.sidecar_service.proxy.upstreams', 'services.connect.sidecar_service.proxy.upstreams',
  'service.connect.sidecar_service.proxy.expose.paths', 'services.connect.sidecar_service.proxy.expose.paths',
])
/** Trees left exactly as decoded (Consul's SkipPatchSliceOfMapsTree). */
const KEEP_TREES: ReadonlySet<string> = new Set(['config_entries.bootstrap'])

export class HclConfigError extends Error {}

interface HclParser {
  parse(text: string): string
}

let parser: HclParser | undefined

function hclParser(): HclParser {
  parser ??= createRequire(import.meta.url)('js-hcl-parser') as HclParser
  return parser
}

/**
 * One HCL config file's text as the raw config a JSON file would give. Throws HclConfigError with
 * hashicorp/hcl's own message ("At 3:7: ...": line and column) for a syntax error, and Consul's
 * message for a block given twice where one is allowed.
 */
export function parseHclConfig(text: string): Record<string, unknown> {
  // hashicorp/hcl returns an error for these, but its JavaScript build answers "{}" or fails oddly.
  if (text.trim() === '') return {}
  const output = hclParser().parse(text)
  let decoded: unknown
  try {
    decoded = JSON.parse(output)
  } catch {
    throw new HclConfigError(output.replace(/^unable to parse JSON: /, '').trim())
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) throw new HclConfigError('the top level must be an object')
  return patchListsOfOneObject('', decoded) as Record<string, unknown>
}

function patchListsOfOneObject(path: string, value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0) return value
    const key = path.toLowerCase()
    if (KEEP_TREES.has(key)) return value
    if (KEEP_LISTS.has(key)) return value.map((item) => patchListsOfOneObject(path, item))
    if (!isObject(value[0])) return value
    if (value.length > 1) throw new HclConfigError(`${path}: only one block is allowed here, found ${value.length}`)
    return patchListsOfOneObject(path, value[0])
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) out[key] = patchListsOfOneObject(path === '' ? key : `${path}.${key}`, inner)
    return out
  }
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
