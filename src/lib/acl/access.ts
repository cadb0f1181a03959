// Access levels of Consul's rule language and how two grants for one segment combine
// (hashicorp/consul acl/policy.go takesPrecedenceOver; acl/policy_authorizer.go enforce).

export type Access = 'deny' | 'read' | 'list' | 'write'
/** What an operation needs: list is asked only of keys (?keys, ?recurse listings). */
export type Need = 'read' | 'list' | 'write'
/** A rule's answer: Default means "no rule spoke", and the next authorizer in the chain decides. */
export type Decision = 'allow' | 'deny' | 'default'

export const ACCESS_LEVELS: readonly Access[] = ['deny', 'read', 'list', 'write']

/**
 * When two policies of one token name the same segment, the stronger word wins:
 * deny over write over list over read (Consul's takesPrecedenceOver).
 */
export function takesPrecedenceOver(a: Access | undefined, b: Access | undefined): boolean {
  const rank = (access: Access | undefined) => access === 'deny' ? 4 : access === 'write' ? 3 : access === 'list' ? 2 : access === 'read' ? 1 : 0
  return rank(a) > 0 && rank(a) >= rank(b)
}

/** A rule's grant against what an operation needs: write grants all, list grants list and read, read grants read. */
export function enforce(granted: Access, need: Need): Decision {
  switch (granted) {
    case 'write': return 'allow'
    case 'list': return need === 'write' ? 'deny' : 'allow'
    case 'read': return need === 'read' ? 'allow' : 'deny'
    case 'deny': return 'deny'
  }
}
