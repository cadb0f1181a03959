// The authorizer: what a token may do, from all of its policies at once. Follows hashicorp/consul
// acl/policy_merger.go (one rule per segment across policies, the stronger word winning),
// acl/policy_authorizer.go (an exact rule for the segment beats every prefix rule; else the longest
// prefix rule wins; no rule = Default) and acl/static_authorizer.go + acl/chained_authorizer.go
// (Default falls through to the agent's default_policy: "allow" allows everything except ACL
// management and snapshots, "deny" denies everything).
import {enforce, takesPrecedenceOver, type Access, type Decision, type Need} from './access.js'
import {SEGMENT_KINDS, type PolicyRules, type ScalarKind, type SegmentKind, type SegmentRule} from './rules.js'

/** One policy's rules merged into one grant per (kind, segment), exact and prefix apart. */
export interface MergedRules {
  readonly exact: ReadonlyMap<SegmentKind, ReadonlyMap<string, Access>>
  readonly prefix: ReadonlyMap<SegmentKind, ReadonlyMap<string, Access>>
  readonly scalar: Readonly<Partial<Record<ScalarKind, Access>>>
}

/** Merges the rules of every policy a token carries (its own, its roles', its identities' synthetic ones). */
export function mergeRules(policies: readonly PolicyRules[]): MergedRules {
  const exact = new Map<SegmentKind, Map<string, Access>>()
  const prefix = new Map<SegmentKind, Map<string, Access>>()
  const scalar: Partial<Record<ScalarKind, Access>> = {}
  for (const kind of SEGMENT_KINDS) {
    exact.set(kind, new Map())
    prefix.set(kind, new Map())
  }
  const put = (into: Map<string, Access>, rule: SegmentRule) => {
    const existing = into.get(rule.segment)
    if (existing === undefined || takesPrecedenceOver(rule.access, existing)) into.set(rule.segment, rule.access)
  }
  for (const policy of policies) {
    for (const kind of SEGMENT_KINDS) {
      for (const rule of policy.exact[kind]) put(exact.get(kind)!, rule)
      for (const rule of policy.prefix[kind]) put(prefix.get(kind)!, rule)
    }
    for (const [kind, access] of Object.entries(policy.scalar) as Array<[ScalarKind, Access]>) {
      if (takesPrecedenceOver(access, scalar[kind])) scalar[kind] = access
    }
  }
  return {exact, prefix, scalar}
}

export type DefaultPolicy = 'allow' | 'deny'

/** The questions the HTTP edge asks. Every answer is final (Default already resolved). */
export interface Authorizer {
  /** Segment resources: may the token `need` on `segment` (a key, a node name, a service name...)? */
  allowed(kind: SegmentKind, segment: string, need: Need): boolean
  /** acl, keyring, operator. */
  allowedScalar(kind: ScalarKind, need: Need): boolean
  /** Taking or restoring a snapshot: Consul asks acl = "write" (policyAuthorizer.Snapshot). */
  snapshot(): boolean
  /**
   * Deleting every key under `prefix` (kv DELETE ?recurse): write on the prefix and no rule under
   * it that withholds write (policyAuthorizer.KeyWritePrefix).
   */
  keyWritePrefix(prefix: string): boolean
}

/**
 * One kind's prefix rules as a longest-first table: the distinct rule lengths, longest first, and the
 * rules by text. A lookup tries the segment's own leading slice at each length (one map get per
 * distinct length, not a scan of every rule), so the first hit is the longest matching prefix.
 */
interface PrefixTable {
  readonly lengths: readonly number[]
  readonly rules: ReadonlyMap<string, Access>
}

function prefixTable(rules: ReadonlyMap<string, Access>): PrefixTable {
  const lengths = [...new Set([...rules.keys()].map((prefix) => prefix.length))].sort((a, b) => b - a)
  return {lengths, rules}
}

/** The merged rules compiled once per authorizer: exact maps and prefix tables by kind. */
interface CompiledRules {
  readonly exact: ReadonlyMap<SegmentKind, ReadonlyMap<string, Access>>
  readonly prefix: ReadonlyMap<SegmentKind, PrefixTable>
}

function compile(rules: MergedRules): CompiledRules {
  const prefix = new Map<SegmentKind, PrefixTable>()
  for (const [kind, table] of rules.prefix) prefix.set(kind, prefixTable(table))
  return {exact: rules.exact, prefix}
}

/** A token's rules, chained to the agent's default_policy for what no rule speaks about. */
export function policyAuthorizer(rules: MergedRules, defaultPolicy: DefaultPolicy): Authorizer {
  const fallback = defaultPolicy === 'allow'
  const compiled = compile(rules)
  const resolve = (decision: Decision, defaultAllow: boolean) => decision === 'default' ? defaultAllow : decision === 'allow'
  return {
    allowed(kind, segment, need) {
      const access = compiledLookup(compiled, kind, segment)
      return resolve(access === undefined ? 'default' : enforce(access, need), fallback)
    },
    allowedScalar(kind, need) {
      const access = rules.scalar[kind]
      // The static default authorizers never grant ACL management (allowManage is false for both).
      return resolve(access === undefined ? 'default' : enforce(access, need), kind === 'acl' ? false : fallback)
    },
    snapshot() {
      const access = rules.scalar.acl
      return resolve(access === undefined ? 'default' : enforce(access, 'write'), false)
    },
    keyWritePrefix(prefix) {
      return resolve(keyWritePrefixDecision(rules, prefix), fallback)
    },
  }
}

/** The grant for `segment`: its exact rule, else the longest prefix rule that starts it. */
export function lookup(rules: MergedRules, kind: SegmentKind, segment: string): Access | undefined {
  return compiledLookup(compile(rules), kind, segment)
}

function compiledLookup(rules: CompiledRules, kind: SegmentKind, segment: string): Access | undefined {
  const exact = rules.exact.get(kind)?.get(segment)
  if (exact !== undefined) return exact
  const table = rules.prefix.get(kind)
  if (!table) return undefined
  for (const length of table.lengths) {
    if (length > segment.length) continue
    const access = table.rules.get(length === segment.length ? segment : segment.slice(0, length))
    if (access !== undefined) return access
  }
  return undefined
}

function keyWritePrefixDecision(rules: MergedRules, prefix: string): Decision {
  // The longest prefix rule covering `prefix` itself must grant write...
  let base: Decision = 'default'
  let baseLength = -1
  for (const [rulePrefix, access] of rules.prefix.get('key')!) {
    if (rulePrefix.length > baseLength && prefix.startsWith(rulePrefix)) {
      base = access === 'write' ? 'allow' : 'deny'
      baseLength = rulePrefix.length
    }
  }
  if (base === 'deny') return 'deny'
  // ...and no rule, exact or prefix, at or under it may withhold write.
  for (const map of [rules.prefix.get('key')!, rules.exact.get('key')!]) {
    for (const [segment, access] of map) if (segment.startsWith(prefix) && access !== 'write') return 'deny'
  }
  return base
}

/** The authorizer of an agent with ACLs off: everything, as Consul without ACLs. */
export const ACLS_DISABLED: Authorizer = {
  allowed: () => true,
  allowedScalar: () => true,
  snapshot: () => true,
  keyWritePrefix: () => true,
}
