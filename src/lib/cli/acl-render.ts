// Consul's text layout for ACL tokens, policies and roles (command/acl/token, policy and role
// formatters): aligned "Key:   value" lines, links as "<ID> - <Name>".
import type {AclLinkInfo, AclNodeIdentityInfo, AclPolicyInfo, AclRoleInfo, AclServiceIdentityInfo, AclTokenInfo} from '../api/acl.js'

const links = (title: string, list: AclLinkInfo[] | undefined) => list && list.length ? [`${title}:`, ...list.map((l) => `   ${l.ID} - ${l.Name ?? ''}`)] : []
const services = (list: AclServiceIdentityInfo[] | undefined) => list && list.length
  ? ['Service Identities:', ...list.map((s) => `   ${s.ServiceName} (Datacenters: ${s.Datacenters?.length ? s.Datacenters.join(', ') : 'all'})`)] : []
const nodes = (list: AclNodeIdentityInfo[] | undefined) => list && list.length
  ? ['Node Identities:', ...list.map((n) => `   ${n.NodeName} (Datacenter: ${n.Datacenter})`)] : []

export function renderToken(token: AclTokenInfo): string[] {
  return [
    `AccessorID:       ${token.AccessorID}`,
    `SecretID:         ${token.SecretID}`,
    `Description:      ${token.Description}`,
    `Local:            ${token.Local}`,
    `Create Time:      ${token.CreateTime}`,
    ...(token.ExpirationTime ? [`Expiration Time:  ${token.ExpirationTime}`] : []),
    ...links('Policies', token.Policies),
    ...links('Roles', token.Roles),
    ...services(token.ServiceIdentities),
    ...nodes(token.NodeIdentities),
  ]
}

export function renderTokenList(tokens: AclTokenInfo[]): string[] {
  return tokens.flatMap((token, i) => [...(i > 0 ? [''] : []), ...renderToken(token)])
}

export function renderPolicy(policy: AclPolicyInfo): string[] {
  return [
    `ID:           ${policy.ID}`,
    `Name:         ${policy.Name}`,
    `Description:  ${policy.Description}`,
    `Datacenters:  ${(policy.Datacenters ?? []).join(', ')}`,
    'Rules:',
    policy.Rules ?? '',
  ]
}

export function renderPolicyList(policies: AclPolicyInfo[]): string[] {
  return policies.flatMap((policy) => [
    `${policy.Name}:`,
    `   ID:           ${policy.ID}`,
    `   Description:  ${policy.Description}`,
    `   Datacenters:  ${(policy.Datacenters ?? []).join(', ')}`,
  ])
}

export function renderRole(role: AclRoleInfo): string[] {
  return [
    `ID:           ${role.ID}`,
    `Name:         ${role.Name}`,
    `Description:  ${role.Description}`,
    ...links('Policies', role.Policies),
    ...services(role.ServiceIdentities),
    ...nodes(role.NodeIdentities),
  ]
}

export function renderRoleList(roles: AclRoleInfo[]): string[] {
  return roles.flatMap((role, i) => [...(i > 0 ? [''] : []), ...renderRole(role)])
}

/** -service-identity "web" or "web:dc1,dc2" (Consul's ExtractServiceIdentities). */
export function parseServiceIdentity(text: string): AclServiceIdentityInfo {
  const [name, dcs] = text.split(':', 2)
  if (name === '') throw new Error(`Service identity ${JSON.stringify(text)} must not be empty`)
  return dcs ? {ServiceName: name, Datacenters: dcs.split(',').filter(Boolean)} : {ServiceName: name}
}

/** -node-identity "node:dc" (Consul's ExtractNodeIdentities). */
export function parseNodeIdentity(text: string): AclNodeIdentityInfo {
  const [name, dc] = text.split(':', 2)
  if (!name || !dc) throw new Error(`Malformed -node-identity argument: ${JSON.stringify(text)}`)
  return {NodeName: name, Datacenter: dc}
}
