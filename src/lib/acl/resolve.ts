// From a token to its authorizer: the token's policies, its roles' policies and the policies
// synthesized for its service and node identities, each kept only where it applies (a policy's
// Datacenters), merged into one rule set (hashicorp/consul agent/consul/acl.go resolveTokenToIdentityAndPolicies,
// agent/structs/acl.go SyntheticPolicy). Structural types: the state machine's records fit them.
import {mergeRules, policyAuthorizer, type Authorizer, type DefaultPolicy} from './authorizer.js'
import {parseRules, type PolicyRules} from './rules.js'

export interface Link {
  readonly ID: string
  readonly Name?: string
}
export interface ServiceIdentity {
  readonly ServiceName: string
  readonly Datacenters?: readonly string[]
}
export interface NodeIdentity {
  readonly NodeName: string
  readonly Datacenter: string
}
/** What a token or a role grants. */
export interface Grants {
  readonly Policies?: readonly Link[] | null
  readonly ServiceIdentities?: readonly ServiceIdentity[] | null
  readonly NodeIdentities?: readonly NodeIdentity[] | null
}
export interface TokenGrants extends Grants {
  readonly Roles?: readonly Link[] | null
}
export interface PolicySource {
  readonly ID: string
  readonly Rules: string
  readonly Datacenters?: readonly string[] | null
}

export interface Directory {
  policy(id: string): PolicySource | undefined
  role(id: string): Grants | undefined
}

/** Rules of a service identity (Consul's aclPolicyTemplateServiceIdentity). */
export function serviceIdentityRules(service: string): string {
  return `service ${JSON.stringify(service)} {\n  policy = "write"\n}\nservice ${JSON.stringify(`${service}-sidecar-proxy`)} {\n  policy = "write"\n}\nservice_prefix "" {\n  policy = "read"\n}\nnode_prefix "" {\n  policy = "read"\n}`
}

/** Rules of a node identity (Consul's aclPolicyTemplateNodeIdentity). */
export function nodeIdentityRules(node: string): string {
  return `node ${JSON.stringify(node)} {\n  policy = "write"\n}\nservice_prefix "" {\n  policy = "read"\n}`
}

const appliesIn = (datacenters: readonly string[] | null | undefined, dc: string) => !datacenters || datacenters.length === 0 || datacenters.includes(dc)

/**
 * Every rule set the token carries in datacenter `dc`. A policy or role that no longer exists is
 * skipped, as Consul does (a token keeps its links after a policy is deleted).
 */
export function tokenRules(token: TokenGrants, directory: Directory, dc: string, parse: (rules: string) => PolicyRules = cachedParse): PolicyRules[] {
  const out: PolicyRules[] = []
  const seenPolicies = new Set<string>()
  const addGrants = (grants: Grants) => {
    for (const link of grants.Policies ?? []) {
      if (seenPolicies.has(link.ID)) continue
      seenPolicies.add(link.ID)
      const policy = directory.policy(link.ID)
      if (policy && appliesIn(policy.Datacenters, dc)) out.push(parse(policy.Rules))
    }
    for (const identity of grants.ServiceIdentities ?? []) {
      if (appliesIn(identity.Datacenters, dc)) out.push(parse(serviceIdentityRules(identity.ServiceName)))
    }
    for (const identity of grants.NodeIdentities ?? []) {
      if (identity.Datacenter === dc) out.push(parse(nodeIdentityRules(identity.NodeName)))
    }
  }
  addGrants(token)
  for (const link of token.Roles ?? []) {
    const role = directory.role(link.ID)
    if (role) addGrants(role)
  }
  return out
}

export function tokenAuthorizer(token: TokenGrants, directory: Directory, dc: string, defaultPolicy: DefaultPolicy): Authorizer {
  return policyAuthorizer(mergeRules(tokenRules(token, directory, dc)), defaultPolicy)
}

/**
 * Parsing is costly (a GopherJS parser) and policies are few and change seldom: parsed rule sets
 * are kept by their text, at most CACHE_LIMIT of them (the oldest leaves first).
 */
const CACHE_LIMIT = 2048
const parsed = new Map<string, PolicyRules>()
export function cachedParse(rules: string): PolicyRules {
  const hit = parsed.get(rules)
  if (hit) return hit
  const result = parseRules(rules)
  if (parsed.size >= CACHE_LIMIT) parsed.delete(parsed.keys().next().value as string)
  parsed.set(rules, result)
  return result
}
