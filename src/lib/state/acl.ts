// The ACL tables: tokens, policies and roles (Consul's current ACL system; api-docs/acl/*), changed
// only by `acl` commands in the Raft log. Deterministic: IDs, secrets and hashes come in the command
// (the HTTP edge draws them); times come from the command's `now`. Rules are validated at the edge
// (the parser is not a pure module); everything that depends on the tables themselves (names in
// use, links that must exist, the built-ins that may not change) is checked here, in log order, so
// two racing writes cannot both pass. Error texts are Consul's (agent/consul/acl_endpoint.go,
// agent/consul/state/acl.go).

import type {ChangeSet} from './watch.js'

/** The built-in policy that grants everything (agent/structs/acl.go ACLPolicyGlobalManagementID). */
export const GLOBAL_MANAGEMENT_POLICY_ID = '00000000-0000-0000-0000-000000000001'
export const GLOBAL_MANAGEMENT_POLICY_NAME = 'global-management'
export const GLOBAL_MANAGEMENT_RULES = `acl = "write"
agent_prefix "" {
  policy = "write"
}
event_prefix "" {
  policy = "write"
}
key_prefix "" {
  policy = "write"
}
keyring = "write"
node_prefix "" {
  policy = "write"
}
operator = "write"
query_prefix "" {
  policy = "write"
}
service_prefix "" {
  policy = "write"
  intentions = "write"
}
session_prefix "" {
  policy = "write"
}`
/** The token of requests that present none (agent/structs/acl.go ACLTokenAnonymousID); its secret is "anonymous". */
export const ANONYMOUS_TOKEN_ID = '00000000-0000-0000-0000-000000000002'
export const ANONYMOUS_TOKEN_SECRET = 'anonymous'

export interface AclLink {
  ID: string
  Name?: string
}
export interface AclServiceIdentity {
  ServiceName: string
  Datacenters?: string[]
}
export interface AclNodeIdentity {
  NodeName: string
  Datacenter: string
}

export interface AclToken {
  AccessorID: string
  SecretID: string
  Description: string
  Policies: AclLink[]
  Roles: AclLink[]
  ServiceIdentities: AclServiceIdentity[]
  NodeIdentities: AclNodeIdentity[]
  Local: boolean
  /** RFC 3339; absent = never expires. */
  ExpirationTime?: string
  CreateTime: string
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export interface AclPolicy {
  ID: string
  Name: string
  Description: string
  Rules: string
  Datacenters: string[]
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export interface AclRole {
  ID: string
  Name: string
  Description: string
  Policies: AclLink[]
  ServiceIdentities: AclServiceIdentity[]
  NodeIdentities: AclNodeIdentity[]
  Hash: string
  CreateIndex: number
  ModifyIndex: number
}

export type AclTokenInput = Omit<AclToken, 'CreateIndex' | 'ModifyIndex'>
export type AclPolicyInput = Omit<AclPolicy, 'CreateIndex' | 'ModifyIndex'>
export type AclRoleInput = Omit<AclRole, 'CreateIndex' | 'ModifyIndex'>

export type AclOp =
  /** The first management token; refused once done unless `resetIndex` names the bootstrap index. */
  | {op: 'bootstrap'; token: AclTokenInput; resetIndex?: number}
  | {op: 'token-set'; token: AclTokenInput; create: boolean}
  | {op: 'token-delete'; accessorId: string}
  | {op: 'policy-set'; policy: AclPolicyInput; create: boolean}
  | {op: 'policy-delete'; id: string}
  | {op: 'role-set'; role: AclRoleInput; create: boolean}
  | {op: 'role-delete'; id: string}

/** What an `acl` command answers: the record written (or the ID removed), or Consul's reason. */
export type AclResult = {ok: true; id?: string} | {ok: false; error: string; code: AclRejection}
/** Why a write was refused: HTTP maps bootstrap-done to 403, not-found to 404 where Consul does, the rest to 400. */
export type AclRejection = 'bootstrap-done' | 'invalid' | 'not-found'

export interface AclDump {
  tokens: AclToken[]
  policies: AclPolicy[]
  roles: AclRole[]
  /** Raft index of the bootstrap; 0 = not bootstrapped. */
  bootstrapIndex: number
  tokensIndex: number
  policiesIndex: number
  rolesIndex: number
}

const fail = (error: string, code: AclRejection = 'invalid'): AclResult => ({ok: false, error, code})

export class AclTables {
  readonly #tokens = new Map<string, AclToken>()
  /** SecretID → AccessorID. */
  readonly #secrets = new Map<string, string>()
  readonly #policies = new Map<string, AclPolicy>()
  readonly #roles = new Map<string, AclRole>()
  #bootstrapIndex = 0
  #tokensIndex = 0
  #policiesIndex = 0
  #rolesIndex = 0

  /** A new cluster has the built-in policy and the anonymous token (Consul's leader creates both at ACL start). */
  constructor() {
    this.#seedBuiltins()
  }

  get bootstrapIndex(): number {
    return this.#bootstrapIndex
  }
  get tokensIndex(): number {
    return this.#tokensIndex
  }
  get policiesIndex(): number {
    return this.#policiesIndex
  }
  get rolesIndex(): number {
    return this.#rolesIndex
  }

  token(accessorId: string): AclToken | undefined {
    return this.#tokens.get(accessorId)
  }

  tokenBySecret(secret: string): AclToken | undefined {
    const accessor = this.#secrets.get(secret)
    return accessor === undefined ? undefined : this.#tokens.get(accessor)
  }

  tokens(): AclToken[] {
    return [...this.#tokens.values()].sort((a, b) => a.AccessorID < b.AccessorID ? -1 : a.AccessorID > b.AccessorID ? 1 : 0)
  }

  policy(id: string): AclPolicy | undefined {
    return this.#policies.get(id)
  }

  policyByName(name: string): AclPolicy | undefined {
    for (const policy of this.#policies.values()) if (policy.Name === name) return policy
    return undefined
  }

  policies(): AclPolicy[] {
    return [...this.#policies.values()].sort((a, b) => a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0)
  }

  role(id: string): AclRole | undefined {
    return this.#roles.get(id)
  }

  roleByName(name: string): AclRole | undefined {
    for (const role of this.#roles.values()) if (role.Name === name) return role
    return undefined
  }

  roles(): AclRole[] {
    return [...this.#roles.values()].sort((a, b) => a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0)
  }

  apply(index: number, op: AclOp, change: ChangeSet): AclResult {
    switch (op.op) {
      case 'bootstrap': {
        if (this.#bootstrapIndex !== 0 && op.resetIndex !== this.#bootstrapIndex) {
          if (op.resetIndex === undefined || op.resetIndex === 0) return fail(`ACL bootstrap no longer allowed (reset index: ${this.#bootstrapIndex})`, 'bootstrap-done')
          return fail(`Invalid bootstrap reset index (specified ${op.resetIndex}, reset index: ${this.#bootstrapIndex})`, 'bootstrap-done')
        }
        const token = {...op.token, Policies: [{ID: GLOBAL_MANAGEMENT_POLICY_ID}]}
        const result = this.#setToken(index, token, true, change)
        if (result.ok) this.#bootstrapIndex = index
        return result
      }
      case 'token-set':
        return this.#setToken(index, op.token, op.create, change)
      case 'token-delete': {
        if (op.accessorId === ANONYMOUS_TOKEN_ID) return fail('Delete operation not permitted on the anonymous token')
        const token = this.#tokens.get(op.accessorId)
        if (token === undefined) return {ok: true}
        this.#tokens.delete(token.AccessorID)
        this.#secrets.delete(token.SecretID)
        this.#tokensIndex = index
        change.tables.add('acl-tokens')
        return {ok: true, id: token.AccessorID}
      }
      case 'policy-set':
        return this.#setPolicy(index, op.policy, op.create, change)
      case 'policy-delete': {
        if (op.id === GLOBAL_MANAGEMENT_POLICY_ID) return fail('Delete operation not permitted on the builtin global-management policy')
        if (!this.#policies.delete(op.id)) return {ok: true}
        this.#policiesIndex = index
        change.tables.add('acl-policies')
        return {ok: true, id: op.id}
      }
      case 'role-set':
        return this.#setRole(index, op.role, op.create, change)
      case 'role-delete': {
        if (!this.#roles.delete(op.id)) return {ok: true}
        this.#rolesIndex = index
        change.tables.add('acl-roles')
        return {ok: true, id: op.id}
      }
      default: {
        const unknown: never = op
        return fail(`unknown ACL operation ${JSON.stringify((unknown as {op?: unknown}).op)}`)
      }
    }
  }

  #setToken(index: number, input: AclTokenInput, create: boolean, change: ChangeSet): AclResult {
    const existing = this.#tokens.get(input.AccessorID)
    if (create) {
      if (existing) return fail('Invalid Token: AccessorID is already in use')
      if (this.#secrets.has(input.SecretID)) return fail('Invalid Token: SecretID is already in use')
    } else {
      if (!existing) return fail(`Cannot find token ${JSON.stringify(input.AccessorID)}`, 'not-found')
      if (existing.SecretID !== input.SecretID) return fail('Changing a token\'s SecretID is not permitted')
    }
    for (const link of input.Policies) if (!this.#policies.has(link.ID)) return fail(`No such ACL policy with ID ${JSON.stringify(link.ID)}`)
    for (const link of input.Roles) if (!this.#roles.has(link.ID)) return fail(`No such ACL role with ID ${JSON.stringify(link.ID)}`)
    const token: AclToken = {
      ...input,
      Policies: input.Policies.map(({ID}) => ({ID})),
      Roles: input.Roles.map(({ID}) => ({ID})),
      CreateTime: existing?.CreateTime ?? input.CreateTime,
      CreateIndex: existing?.CreateIndex ?? index,
      ModifyIndex: index,
    }
    if (existing) this.#secrets.delete(existing.SecretID)
    this.#tokens.set(token.AccessorID, token)
    this.#secrets.set(token.SecretID, token.AccessorID)
    this.#tokensIndex = index
    change.tables.add('acl-tokens')
    return {ok: true, id: token.AccessorID}
  }

  #setPolicy(index: number, input: AclPolicyInput, create: boolean, change: ChangeSet): AclResult {
    const existing = this.#policies.get(input.ID)
    const named = this.policyByName(input.Name)
    if (create) {
      if (existing) return fail(`Invalid Policy: A Policy with ID ${JSON.stringify(input.ID)} already exists`)
      if (named) return fail(`Invalid Policy: A Policy with Name ${JSON.stringify(input.Name)} already exists`)
    } else {
      if (!existing) return fail(`cannot find policy ${input.ID}`, 'not-found')
      if (named && named.ID !== input.ID) return fail(`Invalid Policy: A policy with name ${JSON.stringify(input.Name)} already exists`)
      if (input.ID === GLOBAL_MANAGEMENT_POLICY_ID) {
        if (input.Datacenters.length > 0) return fail('Changing the Datacenters of the builtin global-management policy is not permitted')
        if (input.Rules !== existing.Rules) return fail('Changing the Rules for the builtin global-management policy is not permitted')
      }
    }
    this.#policies.set(input.ID, {...input, CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index})
    this.#policiesIndex = index
    change.tables.add('acl-policies')
    return {ok: true, id: input.ID}
  }

  #setRole(index: number, input: AclRoleInput, create: boolean, change: ChangeSet): AclResult {
    const existing = this.#roles.get(input.ID)
    const named = this.roleByName(input.Name)
    if (create) {
      if (existing) return fail(`Invalid Role: A Role with ID ${JSON.stringify(input.ID)} already exists`)
      if (named) return fail(`Invalid Role: A Role with Name ${JSON.stringify(input.Name)} already exists`)
    } else {
      if (!existing) return fail(`cannot find role ${input.ID}`, 'not-found')
      if (named && named.ID !== input.ID) return fail(`Invalid Role: A role with name ${JSON.stringify(input.Name)} already exists`)
    }
    for (const link of input.Policies) if (!this.#policies.has(link.ID)) return fail(`No such ACL policy with ID ${JSON.stringify(link.ID)}`)
    this.#roles.set(input.ID, {...input, Policies: input.Policies.map(({ID}) => ({ID})), CreateIndex: existing?.CreateIndex ?? index, ModifyIndex: index})
    this.#rolesIndex = index
    change.tables.add('acl-roles')
    return {ok: true, id: input.ID}
  }

  #seedBuiltins(): void {
    this.#policies.set(GLOBAL_MANAGEMENT_POLICY_ID, {
      ID: GLOBAL_MANAGEMENT_POLICY_ID, Name: GLOBAL_MANAGEMENT_POLICY_NAME, Description: 'Builtin Policy that grants unlimited access',
      Rules: GLOBAL_MANAGEMENT_RULES, Datacenters: [], Hash: '', CreateIndex: 0, ModifyIndex: 0,
    })
    const anonymous: AclToken = {
      AccessorID: ANONYMOUS_TOKEN_ID, SecretID: ANONYMOUS_TOKEN_SECRET, Description: 'Anonymous Token', Policies: [], Roles: [],
      ServiceIdentities: [], NodeIdentities: [], Local: false, CreateTime: '1970-01-01T00:00:00Z', Hash: '', CreateIndex: 0, ModifyIndex: 0,
    }
    this.#tokens.set(anonymous.AccessorID, anonymous)
    this.#secrets.set(anonymous.SecretID, anonymous.AccessorID)
  }

  dump(): AclDump {
    return {
      tokens: [...this.#tokens.values()], policies: [...this.#policies.values()], roles: [...this.#roles.values()],
      bootstrapIndex: this.#bootstrapIndex, tokensIndex: this.#tokensIndex, policiesIndex: this.#policiesIndex, rolesIndex: this.#rolesIndex,
    }
  }

  /**
   * Loads a dump; `undefined` (a snapshot written before ACLs existed) is an empty ACL state.
   * `at` clamps record indexes and `table` sets table indexes, as for the other tables on a restore.
   */
  static load(dump: AclDump | undefined, at: (n: number) => number = (n) => n, table: (n: number) => number = (n) => n): AclTables {
    const tables = new AclTables()
    if (dump === undefined) return tables
    for (const token of dump.tokens) {
      const record = {...token, CreateIndex: at(token.CreateIndex), ModifyIndex: at(token.ModifyIndex)}
      tables.#tokens.set(record.AccessorID, record)
      tables.#secrets.set(record.SecretID, record.AccessorID)
    }
    for (const policy of dump.policies) tables.#policies.set(policy.ID, {...policy, CreateIndex: at(policy.CreateIndex), ModifyIndex: at(policy.ModifyIndex)})
    for (const role of dump.roles) tables.#roles.set(role.ID, {...role, CreateIndex: at(role.CreateIndex), ModifyIndex: at(role.ModifyIndex)})
    tables.#bootstrapIndex = at(dump.bootstrapIndex)
    tables.#tokensIndex = table(dump.tokensIndex)
    tables.#policiesIndex = table(dump.policiesIndex)
    tables.#rolesIndex = table(dump.rolesIndex)
    return tables
  }
}
