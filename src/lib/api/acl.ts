// /v1/acl/* and /v1/agent/token/<kind> (Consul docs: api-docs/acl), as Consul's Go api.ACL.
import type {ApiClient} from './client.js'

export interface AclLinkInfo {
  ID: string
  Name?: string
}
export interface AclServiceIdentityInfo {
  ServiceName: string
  Datacenters?: string[]
}
export interface AclNodeIdentityInfo {
  NodeName: string
  Datacenter: string
}

export interface AclTokenInfo {
  AccessorID: string
  SecretID: string
  Description: string
  Policies?: AclLinkInfo[]
  Roles?: AclLinkInfo[]
  ServiceIdentities?: AclServiceIdentityInfo[]
  NodeIdentities?: AclNodeIdentityInfo[]
  Local: boolean
  ExpirationTime?: string
  CreateTime: string
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export interface AclPolicyInfo {
  ID: string
  Name: string
  Description: string
  Rules?: string
  Datacenters?: string[]
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export interface AclRoleInfo {
  ID: string
  Name: string
  Description: string
  Policies?: AclLinkInfo[]
  ServiceIdentities?: AclServiceIdentityInfo[]
  NodeIdentities?: AclNodeIdentityInfo[]
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

async function send<T>(client: ApiClient, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await client.call(method, path, body === undefined ? {} : {body: JSON.stringify(body)})
  const text = response.body.toString('utf8')
  return (text === '' ? null : JSON.parse(text)) as T
}

export const aclBootstrap = (client: ApiClient) => send<AclTokenInfo>(client, 'PUT', '/v1/acl/bootstrap')

export const tokenCreate = (client: ApiClient, token: Partial<AclTokenInfo> & {ExpirationTTL?: string}) => send<AclTokenInfo>(client, 'PUT', '/v1/acl/token', token)
export const tokenUpdate = (client: ApiClient, token: Partial<AclTokenInfo> & {AccessorID: string}) => send<AclTokenInfo>(client, 'PUT', `/v1/acl/token/${token.AccessorID}`, token)
export const tokenRead = (client: ApiClient, accessorId: string) => send<AclTokenInfo>(client, 'GET', `/v1/acl/token/${accessorId}`)
export const tokenReadSelf = (client: ApiClient) => send<AclTokenInfo>(client, 'GET', '/v1/acl/token/self')
export const tokenClone = (client: ApiClient, accessorId: string, description: string) => send<AclTokenInfo>(client, 'PUT', `/v1/acl/token/${accessorId}/clone`, {Description: description})
export const tokenDelete = (client: ApiClient, accessorId: string) => send<boolean>(client, 'DELETE', `/v1/acl/token/${accessorId}`)
export const tokenList = (client: ApiClient) => send<AclTokenInfo[]>(client, 'GET', '/v1/acl/tokens')

export const policyCreate = (client: ApiClient, policy: Partial<AclPolicyInfo>) => send<AclPolicyInfo>(client, 'PUT', '/v1/acl/policy', policy)
export const policyUpdate = (client: ApiClient, policy: Partial<AclPolicyInfo> & {ID: string}) => send<AclPolicyInfo>(client, 'PUT', `/v1/acl/policy/${policy.ID}`, policy)
export const policyRead = (client: ApiClient, id: string) => send<AclPolicyInfo>(client, 'GET', `/v1/acl/policy/${id}`)
export const policyReadByName = (client: ApiClient, name: string) => send<AclPolicyInfo>(client, 'GET', `/v1/acl/policy/name/${name}`)
export const policyDelete = (client: ApiClient, id: string) => send<boolean>(client, 'DELETE', `/v1/acl/policy/${id}`)
export const policyList = (client: ApiClient) => send<AclPolicyInfo[]>(client, 'GET', '/v1/acl/policies')

export const roleCreate = (client: ApiClient, role: Partial<AclRoleInfo>) => send<AclRoleInfo>(client, 'PUT', '/v1/acl/role', role)
export const roleUpdate = (client: ApiClient, role: Partial<AclRoleInfo> & {ID: string}) => send<AclRoleInfo>(client, 'PUT', `/v1/acl/role/${role.ID}`, role)
export const roleRead = (client: ApiClient, id: string) => send<AclRoleInfo>(client, 'GET', `/v1/acl/role/${id}`)
export const roleReadByName = (client: ApiClient, name: string) => send<AclRoleInfo>(client, 'GET', `/v1/acl/role/name/${name}`)
export const roleDelete = (client: ApiClient, id: string) => send<boolean>(client, 'DELETE', `/v1/acl/role/${id}`)
export const roleList = (client: ApiClient) => send<AclRoleInfo[]>(client, 'GET', '/v1/acl/roles')

export const setAgentToken = (client: ApiClient, kind: string, token: string) => send<null>(client, 'PUT', `/v1/agent/token/${kind}`, {Token: token})
