// Config keys that promise protection coord cannot give yet. Accepting such a key with a warning
// would fail open (a Consul user's security setting would be silently ignored), so the start is
// refused instead, naming the key. A key is taken off this list only together with the code that
// acts on it; `acl.enabled` left it once every path (client agents included) checked tokens.

/** One problem per key that asks for protection coord does not provide (none today). */
export function refusedSecurityKeys(_raw: Record<string, unknown>): string[] {
  return []
}
