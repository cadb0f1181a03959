// What a server tells a client agent about one token secret (the 'acl-resolve' RPC): the token's
// grants and every policy and role they name, so the client builds the same Authorizer the server
// would (lib/acl/resolve.ts). Consul's clients ask the servers in three steps (ACL.TokenRead, then
// ACL.PolicyResolve and ACL.RoleResolve: agent/consul/acl_client.go); coord answers all three in
// one round trip. The secret itself never travels back.
import type {Directory, Grants, PolicySource, TokenGrants} from '../acl/resolve.js'

export const ACL_RESOLVE_METHOD = 'acl-resolve'

/** The error code a server answers for a secret it does not know (or an expired token). */
export const ACL_NOT_FOUND_CODE = 'ACL_NOT_FOUND'

export interface ResolvedTokenRecord extends TokenGrants {
  readonly AccessorID: string
  readonly ExpirationTime?: string
}

export interface AclResolution {
  readonly token: ResolvedTokenRecord
  readonly policies: ReadonlyArray<PolicySource & {readonly Name?: string}>
  readonly roles: ReadonlyArray<Grants & {readonly ID: string}>
}

/** The tables as a server holds them (state/acl.ts AclTables fits). */
export interface AclLookup {
  tokenBySecret(secret: string): (ResolvedTokenRecord & {SecretID: string}) | undefined
  policy(id: string): (PolicySource & {Name?: string}) | undefined
  role(id: string): (Grants & {ID: string}) | undefined
}

/** The answer for `secret`, or undefined when no live token has it. */
export function resolutionFor(tables: AclLookup, secret: string, now: number): AclResolution | undefined {
  const token = tables.tokenBySecret(secret)
  if (!token || (token.ExpirationTime !== undefined && token.ExpirationTime !== '' && Date.parse(token.ExpirationTime) < now)) return undefined
  const roles: Array<Grants & {ID: string}> = []
  for (const link of token.Roles ?? []) {
    const role = tables.role(link.ID)
    if (role) roles.push({ID: role.ID, Policies: role.Policies, ServiceIdentities: role.ServiceIdentities, NodeIdentities: role.NodeIdentities})
  }
  const policies = new Map<string, PolicySource & {Name?: string}>()
  for (const link of [...(token.Policies ?? []), ...roles.flatMap((role) => role.Policies ?? [])]) {
    const policy = tables.policy(link.ID)
    if (policy && !policies.has(policy.ID)) policies.set(policy.ID, {ID: policy.ID, Name: policy.Name, Rules: policy.Rules, Datacenters: policy.Datacenters})
  }
  return {
    token: {
      AccessorID: token.AccessorID, ...(token.ExpirationTime ? {ExpirationTime: token.ExpirationTime} : {}),
      Policies: token.Policies, Roles: token.Roles, ServiceIdentities: token.ServiceIdentities, NodeIdentities: token.NodeIdentities,
    },
    policies: [...policies.values()],
    roles,
  }
}

/** The answer as a Directory for tokenAuthorizer: only what the server sent exists. */
export function resolutionDirectory(resolution: AclResolution): Directory {
  const policies = new Map(resolution.policies.map((policy) => [policy.ID, policy]))
  const roles = new Map(resolution.roles.map((role) => [role.ID, role]))
  return {policy: (id) => policies.get(id), role: (id) => roles.get(id)}
}

/** A server's answer checked for shape (a peer is never trusted blindly). */
export function parseResolution(answer: unknown): AclResolution {
  const value = answer as Partial<AclResolution> | null
  if (!value || typeof value !== 'object' || !value.token || typeof value.token.AccessorID !== 'string' || !Array.isArray(value.policies) || !Array.isArray(value.roles)) {
    throw new Error('server answered an ACL resolution with something that is not one')
  }
  for (const policy of value.policies) if (typeof policy?.ID !== 'string' || typeof policy.Rules !== 'string') throw new Error('server answered an ACL resolution with a malformed policy')
  for (const role of value.roles) if (typeof role?.ID !== 'string') throw new Error('server answered an ACL resolution with a malformed role')
  return value as AclResolution
}
