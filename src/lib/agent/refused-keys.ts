// Config keys that promise protection coord cannot give yet. Accepting such a key with a warning
// would fail open (a Consul user's `acl { enabled = true }` would get a cluster that answers
// everyone), so the start is refused instead, naming the key. A key is taken off this list only
// together with the code that acts on it.

/** One problem per key that asks for protection coord does not provide. */
export function refusedSecurityKeys(raw: Record<string, unknown>): string[] {
  const problems: string[] = []
  const acl = raw.acl
  if (isObject(acl) && isTrue(acl.enabled)) {
    problems.push('acl.enabled: coord does not enforce ACLs on every path yet (client agents); refusing to start rather than answer some requests without checking their token (remove the acl block or set acl.enabled = false)')
  }
  return problems
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Consul's config decoding takes booleans, and the strings Go's ParseBool reads as true. */
function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value))
}
