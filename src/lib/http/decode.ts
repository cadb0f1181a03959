// Request bodies as Consul decodes them: JSON with field names matched case-insensitively.
import {randomUUID} from 'node:crypto'
import {badRequest} from '../errors.js'
import {jsonField as field} from '../json.js'

export type JsonObject = Record<string, unknown>

export function parseJsonBody(body: Buffer, what = 'body', text = body.toString('utf8')): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw badRequest(`Failed to parse ${what}: ${(error as Error).message}`)
  }
}

/**
 * Like parseJsonBody, but an integer literal beyond 2^53 arrives as an exact bigint instead of a
 * rounded number: Consul's uint64 fields (txn `Flags`) go up to 2^64-1. Node 20's JSON.parse has no
 * access to a number's source text, so a pre-pass walks the text's string and number tokens (the
 * validating parse stays JSON.parse's), turns each such literal into a tagged string, and the
 * reviver turns the tag back into a bigint. The tag holds a per-call random id, so no string the
 * client sent can pass for one. Smaller integers and all other numbers parse as usual.
 */
export function parseJsonBodyExact(body: Buffer, what = 'body'): unknown {
  const text = body.toString('utf8')
  // An integer beyond 2^53 has at least 16 digits: a body without such a run (a txn of KV writes,
  // nearly always) skips the pre-pass, which copies the whole text and calls back per token.
  if (!sixteenDigits.test(text)) return parseJsonBody(body, what, text)
  const id = randomUUID()
  let tagged = false
  const marked = text.replace(jsonStringOrNumber, (token) => {
    if (!integerLiteral.test(token) || Number.isSafeInteger(Number(token))) return token
    tagged = true
    return `"\\u0000${id}:${token}"`
  })
  try {
    if (!tagged) return JSON.parse(text)
    const prefix = `\u0000${id}:`
    return JSON.parse(marked, (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(prefix) ? BigInt(value.slice(prefix.length)) : value)
  } catch {
    // Report the client's own text, not the tagged one (positions would be off).
    return parseJsonBody(body, what)
  }
}

/** A JSON string (kept whole, so digits inside it are never touched) or a JSON number token. */
const jsonStringOrNumber = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g
/** Where an integer literal too large for a double could start (2^53 = 9007199254740992 has 16 digits). */
const sixteenDigits = /\d{16}/
/** An integer as JSON writes one (no leading zeros, fraction or exponent). */
const integerLiteral = /^-?(?:0|[1-9]\d*)$/

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** `field(obj, 'LockDelay')` finds `LockDelay`, `lockdelay`, `lock_delay`... (json.ts jsonField). */
export {field}

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

const UINT64_MAX = (1n << 64n) - 1n

/** A uint64 field (Consul's Flags, Index) read from parseJsonBodyExact's output, exactly. */
export function uint64Field(obj: JsonObject, name: string, where = 'Request decode failed'): bigint {
  const value = field(obj, name)
  if (value === undefined || value === null) return 0n
  const exact = typeof value === 'bigint' ? value
    : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined
  if (exact === undefined || exact < 0n || exact > UINT64_MAX) throw badRequest(`${where}: ${name} must be an unsigned 64-bit integer`)
  return exact
}

export function stringListField(obj: JsonObject, name: string): string[] | undefined {
  const value = field(obj, name)
  if (value === undefined || value === null) return value === null ? [] : undefined
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw badRequest(`Request decode failed: ${name} must be a list of strings`)
  return value as string[]
}

export function decodeBase64(text: string, what: string): Uint8Array {
  return new Uint8Array(base64Bytes(text, what))
}

/** decodeBase64 without the copy: a view of Node's shared pool, for a caller that copies it out (a txn's values into one buffer). */
export function base64Bytes(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw badRequest(`Failed to parse body: illegal base64 data in ${what}`)
  return Buffer.from(text, 'base64')
}
