// The link flags `coord acl token` and `coord acl role` create/update share (policies, roles,
// service and node identities), read once into the API's link lists.
import {CommandError} from './errors.js'
import {listFlag} from './flags.js'
import {parseNodeIdentity, parseServiceIdentity} from './acl-render.js'
import type {AclNodeIdentityInfo, AclServiceIdentityInfo} from '../api/acl.js'

export const policyLinkFlags = (owner: string) => ({
  'policy-id': listFlag({description: `ID of a policy to use for this ${owner}. May be given multiple times.`}),
  'policy-name': listFlag({description: `Name of a policy to use for this ${owner}. May be given multiple times.`}),
})

export const roleLinkFlags = (owner: string) => ({
  'role-id': listFlag({description: `ID of a role to use for this ${owner}. May be given multiple times.`}),
  'role-name': listFlag({description: `Name of a role to use for this ${owner}. May be given multiple times.`}),
})

export const identityFlags = (owner: string) => ({
  'service-identity': listFlag({description: `Name of a service identity to use for this ${owner}, optionally followed by :dc1,dc2. May be given multiple times.`}),
  'node-identity': listFlag({description: `Name of a node identity to use for this ${owner}, as node:datacenter. May be given multiple times.`}),
})

export interface AclLinks {
  policies: Array<{ID: string; Name?: string}>
  roles: Array<{ID: string; Name?: string}>
  serviceIdentities: AclServiceIdentityInfo[]
  nodeIdentities: AclNodeIdentityInfo[]
}

/** The links the flags name; a malformed identity is the command's error. */
export function readAclLinks(flags: {'policy-id': string[]; 'policy-name': string[]; 'role-id'?: string[]; 'role-name'?: string[]; 'service-identity': string[]; 'node-identity': string[]}): AclLinks {
  const byIdOrName = (ids: string[] = [], names: string[] = []) => [...ids.map((ID) => ({ID})), ...names.map((Name) => ({ID: '', Name}))]
  try {
    return {
      policies: byIdOrName(flags['policy-id'], flags['policy-name']),
      roles: byIdOrName(flags['role-id'], flags['role-name']),
      serviceIdentities: flags['service-identity'].map(parseServiceIdentity),
      nodeIdentities: flags['node-identity'].map(parseNodeIdentity),
    }
  } catch (error) {
    throw new CommandError((error as Error).message)
  }
}

/** An update's list: the given one replaces the current (or is added to it with `merge`); none given keeps the current. */
export function updatedList<T>(given: T[], current: T[] | null | undefined, merge = false): T[] {
  if (merge) return [...(current ?? []), ...given]
  return given.length > 0 ? given : (current ?? [])
}
