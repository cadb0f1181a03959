// Request bodies as Consul decodes them: JSON with field names matched case-insensitively.
import {badRequest} from './errors.js'

export type JsonObject = Record<string, unknown>

export function parseJsonBody(body: Buffer, what = 'body'): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw badRequest(`Failed to parse ${what}: ${(error as Error).message}`)
  }
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** `field(obj, 'LockDelay')` finds `LockDelay`, `lockdelay`, `lock_delay`... */
export function field(obj: JsonObject, name: string): unknown {
  if (name in obj) return obj[name]
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(obj)) {
    if (key.toLowerCase().replace(/_/g, '') === wanted) return value
  }
  return undefined
}

export function stringField(obj: JsonObject, name: string, fallback = ''): string {
  const value = field(obj, name)
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string') throw badRequest(`Request decode failed: ${name} must be a string`)
  return value
}

export function uintField(obj: JsonObject, name: string): number {
  const value = field(obj, name)
  if (value === undefined || value === null) return 0
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw badRequest(`Request decode failed: ${name} must be a non-negative integer`)
  return value
}

export function stringListField(obj: JsonObject, name: string): string[] | undefined {
  const value = field(obj, name)
  if (value === undefined || value === null) return value === null ? [] : undefined
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw badRequest(`Request decode failed: ${name} must be a list of strings`)
  return value as string[]
}

export function decodeBase64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw badRequest(`Failed to parse body: illegal base64 data in ${what}`)
  return new Uint8Array(Buffer.from(text, 'base64'))
}
