// /v1/acl/* — Consul's ACL API (api-docs/acl, api-docs/acl/tokens, /policies, /roles) and
// /v1/agent/token/<kind> (api-docs/agent#update-acl-tokens). IDs and secrets are drawn here and
// carried in the command (state/acl.ts applies it deterministically); rules are parsed here
// (lib/acl/rules.ts) so a bad policy is a 400 naming the line before anything is written. Reading
// needs acl = "read", writing acl = "write" (agent/consul/acl_endpoint.go); secrets are shown only
// to a token that may write ACLs, as Consul's filter redacts them ("<hidden>"). With ACLs off every
// route answers Consul's 401 "ACL support disabled".
import {createHash, randomUUID} from 'node:crypto'
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest, HttpError, notFound} from '../errors.js'
import {field, isObject, parseJsonBody, stringField, type JsonObject} from './decode.js'
import {consistentRead} from './read.js'
import {sendJson} from './respond.js'
import {parseDuration} from '../duration.js'
import {parseRules, SCALAR_KINDS, SEGMENT_KINDS, type ScalarKind, type SegmentKind} from '../acl/rules.js'
import type {Need} from '../acl/access.js'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {AGENT_TOKEN_KINDS} from '../agent/agent-tokens.js'
import {aclDisabled, aclNotFound, effectiveSecret, requireScalar, type ResolvedToken} from './acl-authorize.js'
import {
  ANONYMOUS_TOKEN_ID, type AclLink, type AclNodeIdentity, type AclOp, type AclPolicy, type AclResult, type AclRole,
  type AclServiceIdentity, type AclToken, type AclTokenInput,
} from '../state/acl.js'
import type {Indexed} from '../state/types.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type AclDeps = AgentDeps<'config' | 'consensus' | 'state' | 'now' | 'aclTokens' | 'log'>

const BODY_LIMIT = 1024 * 1024
/** Consul's aclfilter.RedactedToken. */
export const REDACTED = '<hidden>'
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
/** acl.IsValidPolicyName / IsValidRoleName. */
const VALID_NAME = /^[A-Za-z0-9\-_]{1,128}$/
/** acl.IsValidServiceIdentityName / IsValidNodeIdentityName. */
const VALID_IDENTITY = /^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$/
/** Consul's token expiration TTL bounds (acl_token_writer.go: 1m to 24h by default). */
const MIN_TTL_MS = 60_000
const MAX_TTL_MS = 24 * 3_600_000

export function aclRoutes(agent: AclDeps): Route[] {
  // Every route first checks that ACLs are on, as Consul's checkACLDisabled.
  const on = (handler: (ctx: RequestContext) => Promise<void>) => (ctx: RequestContext) => {
    if (!agent.config.acl.enabled) throw aclDisabled()
    return handler(ctx)
  }
  return [
    // Not behind `on`: with ACLs off every request is allowed, and it says so.
    {path: '/v1/internal/acl/authorize', exact: true, methods: {POST: (ctx) => authorizeRequests(agent, ctx)}},
    {path: '/v1/acl/bootstrap', exact: true, methods: {PUT: on((ctx) => bootstrap(agent, ctx))}},
    {path: '/v1/acl/token', exact: true, methods: {PUT: on((ctx) => writeToken(agent, ctx, '', true))}},
    {path: '/v1/acl/token/self', exact: true, methods: {GET: on((ctx) => tokenSelf(agent, ctx))}},
    {path: '/v1/acl/token/', methods: {
      GET: on((ctx) => readToken(agent, ctx, requireTail(ctx, 'token'))),
      PUT: on((ctx) => ctx.tail.endsWith('/clone') ? cloneToken(agent, ctx, ctx.tail.slice(0, -'/clone'.length)) : writeToken(agent, ctx, requireTail(ctx, 'token'), false)),
      DELETE: on((ctx) => deleteToken(agent, ctx, requireTail(ctx, 'token'))),
    }},
    {path: '/v1/acl/tokens', exact: true, methods: {GET: on((ctx) => listTokens(agent, ctx))}},
    {path: '/v1/acl/policy', exact: true, methods: {PUT: on((ctx) => writePolicy(agent, ctx, '', true))}},
    {path: '/v1/acl/policy/name/', methods: {GET: on((ctx) => readPolicy(agent, ctx, () => agent.state.acl.policyByName(requireTail(ctx, 'policy Name'))))}},
    {path: '/v1/acl/policy/', methods: {
      GET: on((ctx) => readPolicy(agent, ctx, () => agent.state.acl.policy(requireTail(ctx, 'policy')))),
      PUT: on((ctx) => writePolicy(agent, ctx, requireTail(ctx, 'policy'), false)),
      DELETE: on((ctx) => deleteRecord(agent, ctx, {op: 'policy-delete', id: requireTail(ctx, 'policy')})),
    }},
    {path: '/v1/acl/policies', exact: true, methods: {GET: on((ctx) => listPolicies(agent, ctx))}},
    {path: '/v1/acl/role', exact: true, methods: {PUT: on((ctx) => writeRole(agent, ctx, '', true))}},
    {path: '/v1/acl/role/name/', methods: {GET: on((ctx) => readRole(agent, ctx, () => agent.state.acl.roleByName(requireTail(ctx, 'role name'))))}},
    {path: '/v1/acl/role/', methods: {
      GET: on((ctx) => readRole(agent, ctx, () => agent.state.acl.role(requireTail(ctx, 'role')))),
      PUT: on((ctx) => writeRole(agent, ctx, requireTail(ctx, 'role'), false)),
      DELETE: on((ctx) => deleteRecord(agent, ctx, {op: 'role-delete', id: requireTail(ctx, 'role')})),
    }},
    {path: '/v1/acl/roles', exact: true, methods: {GET: on((ctx) => listRoles(agent, ctx))}},
    {path: '/v1/agent/token/', methods: {PUT: on((ctx) => setAgentToken(agent, ctx))}},
  ]
}

function requireTail(ctx: RequestContext, what: string): string {
  if (ctx.tail === '') throw badRequest(`Missing ${what} ID`)
  return ctx.tail
}

const caller = (_agent: AclDeps, ctx: RequestContext): ResolvedToken => ctx.authorize()

async function readBody(ctx: RequestContext, what: string): Promise<JsonObject> {
  const body = await ctx.body(BODY_LIMIT)
  if (body.length === 0) return {}
  const parsed = parseJsonBody(body, what)
  if (parsed === null) return {}
  if (!isObject(parsed)) throw badRequest(`${what} decoding failed: expected a JSON object`)
  return parsed
}

async function propose(agent: AclDeps, op: AclOp): Promise<{index: number; result: AclResult & {ok: true}}> {
  const proposal = await agent.consensus.propose({type: 'acl', now: agent.now(), op})
  if (proposal.result.type !== 'acl') throw new Error(`unexpected apply result ${proposal.result.type}`)
  const {result} = proposal.result
  if (!result.ok) {
    if (result.code === 'bootstrap-done') throw new HttpError(403, `Permission denied: ${result.error}`, 'ACL_BOOTSTRAP_DONE')
    if (result.code === 'not-found') throw new HttpError(404, result.error, 'ACL_NOT_FOUND_RECORD')
    throw badRequest(result.error)
  }
  // The answer renders the record from this agent's state: on a follower (which forwarded the
  // write to the leader) that state may not have applied it yet, so wait until it has.
  await agent.consensus.readBarrier('leader', 0)
  return {index: proposal.index, result}
}

/** Content hash of a token, policy or role (Consul's Hash field: detects changes, never secret). */
function contentHash(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64')
}

// --- rendering (agent/structs/acl.go JSON: empty link lists omitted; Hash base64) ---

function renderLinks(links: AclLink[], name: (id: string) => string | undefined): Array<{ID: string; Name: string}> {
  return links.map(({ID}) => ({ID, Name: name(ID) ?? ''}))
}

function renderToken(agent: AclDeps, token: AclToken, showSecret: boolean): JsonObject {
  const acl = agent.state.acl
  const out: JsonObject = {AccessorID: token.AccessorID, SecretID: showSecret ? token.SecretID : REDACTED, Description: token.Description}
  if (token.Policies.length) out.Policies = renderLinks(token.Policies, (id) => acl.policy(id)?.Name)
  if (token.Roles.length) out.Roles = renderLinks(token.Roles, (id) => acl.role(id)?.Name)
  if (token.ServiceIdentities.length) out.ServiceIdentities = token.ServiceIdentities
  if (token.NodeIdentities.length) out.NodeIdentities = token.NodeIdentities
  out.Local = token.Local
  if (token.ExpirationTime) out.ExpirationTime = token.ExpirationTime
  out.CreateTime = token.CreateTime
  out.Hash = token.Hash
  out.CreateIndex = token.CreateIndex
  out.ModifyIndex = token.ModifyIndex
  return out
}

function renderPolicy(policy: AclPolicy, withRules = true): JsonObject {
  const out: JsonObject = {ID: policy.ID, Name: policy.Name, Description: policy.Description}
  if (withRules) out.Rules = policy.Rules
  if (policy.Datacenters.length) out.Datacenters = policy.Datacenters
  out.Hash = policy.Hash
  out.CreateIndex = policy.CreateIndex
  out.ModifyIndex = policy.ModifyIndex
  return out
}

function renderRole(agent: AclDeps, role: AclRole): JsonObject {
  const out: JsonObject = {ID: role.ID, Name: role.Name, Description: role.Description}
  if (role.Policies.length) out.Policies = renderLinks(role.Policies, (id) => agent.state.acl.policy(id)?.Name)
  if (role.ServiceIdentities.length) out.ServiceIdentities = role.ServiceIdentities
  if (role.NodeIdentities.length) out.NodeIdentities = role.NodeIdentities
  out.Hash = role.Hash
  out.CreateIndex = role.CreateIndex
  out.ModifyIndex = role.ModifyIndex
  return out
}

// --- bootstrap ---

/** Consul's reset file: <data_dir>/acl-bootstrap-reset holding the reset index allows one more bootstrap. */
export const BOOTSTRAP_RESET_FILE = 'acl-bootstrap-reset'

/** The index in the reset file, 0 when there is none or it does not hold a number (Consul's fileBootstrapResetIndex). */
function fileResetIndex(agent: AclDeps): number {
  if (!agent.config.dataDir) return 0
  const path = join(agent.config.dataDir, BOOTSTRAP_RESET_FILE)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return 0
  }
  const index = /^\s*(\d+)\s*$/.exec(text)
  if (!index) {
    agent.log.error('bootstrap: failed to parse the ACL bootstrap reset file', {path})
    return 0
  }
  return Number(index[1])
}

async function bootstrap(agent: AclDeps, ctx: RequestContext): Promise<void> {
  // Consul pre-checks before going through Raft (curbs abuse); the command checks again in log order.
  const done = agent.state.acl.bootstrapIndex
  let resetIndex: number | undefined
  if (done !== 0) {
    const specified = fileResetIndex(agent)
    if (specified === 0) throw new HttpError(403, `Permission denied: ACL bootstrap no longer allowed (reset index: ${done})`, 'ACL_BOOTSTRAP_DONE')
    if (specified !== done) throw new HttpError(403, `Permission denied: Invalid bootstrap reset index (specified ${specified}, reset index: ${done})`, 'ACL_BOOTSTRAP_DONE')
    resetIndex = specified
  }
  const token = newToken(agent, {Description: 'Bootstrap Token (Global Management)'})
  const {result} = await propose(agent, {op: 'bootstrap', token, ...(resetIndex !== undefined ? {resetIndex} : {})})
  // Used once: the file goes, as Consul removes it after a reset bootstrap.
  if (resetIndex !== undefined) rmSync(join(agent.config.dataDir, BOOTSTRAP_RESET_FILE), {force: true})
  const stored = agent.state.acl.token(result.id ?? token.AccessorID)
  if (!stored) throw new Error('bootstrap token missing after apply')
  agent.log.info('ACL bootstrap completed', {accessor: stored.AccessorID})
  // Consul answers the token with ID = its secret (the legacy field), then the token itself.
  sendJson(ctx.req, ctx.res, {ID: stored.SecretID, ...renderToken(agent, stored, true)}, ctx.query.pretty)
}

function newToken(agent: AclDeps, fields: Partial<AclTokenInput>): AclTokenInput {
  const token: AclTokenInput = {
    AccessorID: randomUUID(), SecretID: randomUUID(), Description: '', Policies: [], Roles: [], ServiceIdentities: [], NodeIdentities: [],
    Local: false, CreateTime: new Date(agent.now()).toISOString(), Hash: '', ...fields,
  }
  return {...token, Hash: tokenHash(token)}
}

const tokenHash = (t: AclTokenInput) => contentHash([t.Description, t.Local, t.Policies.map((p) => p.ID), t.Roles.map((r) => r.ID), t.ServiceIdentities, t.NodeIdentities])

// --- tokens ---

function linksField(agent: AclDeps, body: JsonObject, name: 'Policies' | 'Roles'): AclLink[] {
  const value = field(body, name)
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw badRequest(`Request decode failed: ${name} must be a list`)
  const acl = agent.state.acl
  const seen = new Set<string>()
  const links: AclLink[] = []
  const kind = name === 'Policies' ? 'policy' : 'role'
  for (const item of value) {
    if (!isObject(item)) throw badRequest(`Request decode failed: ${name} entries must be objects`)
    const id = stringField(item, 'ID')
    const linkName = stringField(item, 'Name')
    let resolved: string | undefined
    if (id !== '') {
      resolved = (kind === 'policy' ? acl.policy(id) : acl.role(id))?.ID
      if (!resolved) throw badRequest(`No such ACL ${kind} with ID ${JSON.stringify(id)}`)
    } else if (linkName !== '') {
      resolved = (kind === 'policy' ? acl.policyByName(linkName) : acl.roleByName(linkName))?.ID
      if (!resolved) throw badRequest(`No such ACL ${kind} with name ${JSON.stringify(linkName)}`)
    } else {
      throw badRequest(`${name} entries need an ID or a Name`)
    }
    if (!seen.has(resolved)) links.push({ID: resolved})
    seen.add(resolved)
  }
  return links
}

function serviceIdentities(body: JsonObject, owner: string): AclServiceIdentity[] {
  const value = field(body, 'ServiceIdentities')
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw badRequest('Request decode failed: ServiceIdentities must be a list')
  const byName = new Map<string, AclServiceIdentity>()
  for (const item of value) {
    if (!isObject(item)) throw badRequest('Request decode failed: ServiceIdentities entries must be objects')
    const name = stringField(item, 'ServiceName')
    if (name === '') throw badRequest(`Service identity is missing the service name field on this ${owner}`)
    if (!VALID_IDENTITY.test(name)) throw badRequest(`Service identity ${JSON.stringify(name)} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed`)
    const dcs = field(item, 'Datacenters')
    if (dcs !== undefined && dcs !== null && (!Array.isArray(dcs) || dcs.some((d) => typeof d !== 'string'))) throw badRequest('Request decode failed: Datacenters must be a list of strings')
    const existing = byName.get(name)
    const merged = [...new Set([...(existing?.Datacenters ?? []), ...((dcs as string[] | undefined) ?? [])])].sort()
    byName.set(name, merged.length ? {ServiceName: name, Datacenters: merged} : {ServiceName: name})
  }
  return [...byName.values()]
}

function nodeIdentities(body: JsonObject, owner: string): AclNodeIdentity[] {
  const value = field(body, 'NodeIdentities')
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw badRequest('Request decode failed: NodeIdentities must be a list')
  const out: AclNodeIdentity[] = []
  for (const item of value) {
    if (!isObject(item)) throw badRequest('Request decode failed: NodeIdentities entries must be objects')
    const NodeName = stringField(item, 'NodeName')
    const Datacenter = stringField(item, 'Datacenter')
    if (NodeName === '') throw badRequest(`Node identity is missing the node name field on this ${owner}`)
    if (Datacenter === '') throw badRequest(`Node identity is missing the datacenter field on this ${owner}`)
    if (!VALID_IDENTITY.test(NodeName)) throw badRequest('Node identity has an invalid name. Only lowercase alphanumeric characters, \'-\' and \'_\' are allowed')
    if (!out.some((n) => n.NodeName === NodeName && n.Datacenter === Datacenter)) out.push({NodeName, Datacenter})
  }
  return out
}

async function writeToken(agent: AclDeps, ctx: RequestContext, accessorId: string, create: boolean): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'write')
  const body = await readBody(ctx, 'Token')
  const acl = agent.state.acl
  const bodyAccessor = stringField(body, 'AccessorID')
  const bodySecret = stringField(body, 'SecretID')
  let existing: AclToken | undefined
  if (!create) {
    if (bodyAccessor !== '' && bodyAccessor !== accessorId) throw badRequest('Token Accessor ID in URL and payload do not match')
    existing = acl.token(accessorId)
    if (!existing || expired(existing, agent.now())) throw badRequest(`Cannot find token ${JSON.stringify(accessorId)}`)
    if (bodySecret !== '' && bodySecret !== existing.SecretID) throw badRequest('Changing a token\'s SecretID is not permitted')
  } else {
    if (bodyAccessor !== '' && !UUID.test(bodyAccessor)) throw badRequest('Invalid Token: AccessorID is not a valid UUID')
    if (bodySecret !== '' && !UUID.test(bodySecret)) throw badRequest('Invalid Token: SecretID is not a valid UUID')
    if (bodyAccessor === ANONYMOUS_TOKEN_ID) throw badRequest('Invalid Token: AccessorID is already in use')
  }
  const local = field(body, 'Local')
  if (local !== undefined && typeof local !== 'boolean') throw badRequest('Request decode failed: Local must be a boolean')
  if (existing && local !== undefined && local !== existing.Local) throw badRequest(`Cannot toggle local mode of ${existing.AccessorID}`)
  const expirationTime = expirationOf(agent, body, existing)
  const fields: Partial<AclTokenInput> = {
    Description: stringField(body, 'Description'),
    Policies: linksField(agent, body, 'Policies'),
    Roles: linksField(agent, body, 'Roles'),
    ServiceIdentities: serviceIdentities(body, 'token'),
    NodeIdentities: nodeIdentities(body, 'token'),
    Local: existing ? existing.Local : local === true,
  }
  if (expirationTime) fields.ExpirationTime = expirationTime
  const token = existing
    ? {...fieldsOf(existing), ...fields}
    : newToken(agent, {...fields, ...(bodyAccessor ? {AccessorID: bodyAccessor} : {}), ...(bodySecret ? {SecretID: bodySecret} : {})})
  const input = {...token, Hash: tokenHash(token)}
  await propose(agent, {op: 'token-set', token: input, create})
  agent.log.info(create ? 'ACL token created' : 'ACL token updated', {accessor: input.AccessorID})
  sendJson(ctx.req, ctx.res, renderToken(agent, acl.token(input.AccessorID)!, true), ctx.query.pretty)
}

function fieldsOf(token: AclToken): AclTokenInput {
  const {CreateIndex: _c, ModifyIndex: _m, ...rest} = token
  return rest
}

function expirationOf(agent: AclDeps, body: JsonObject, existing: AclToken | undefined): string | undefined {
  const ttl = field(body, 'ExpirationTTL')
  const time = stringField(body, 'ExpirationTime')
  if (existing) {
    if (ttl !== undefined && ttl !== null && ttl !== '' && ttl !== 0) throw badRequest('Expiration TTL cannot be set on update')
    if (time !== '' && Date.parse(time) !== Date.parse(existing.ExpirationTime ?? '')) throw badRequest('Cannot change expiration time')
    return existing.ExpirationTime
  }
  let ttlMs = 0
  if (ttl !== undefined && ttl !== null && ttl !== '') {
    if (typeof ttl === 'number') ttlMs = ttl / 1_000_000
    else if (typeof ttl === 'string') {
      try {
        ttlMs = parseDuration(ttl)
      } catch (error) {
        throw badRequest(`Token decoding failed: ExpirationTTL: ${(error as Error).message}`)
      }
    } else throw badRequest('Token decoding failed: ExpirationTTL must be a duration')
  }
  if (ttlMs !== 0 && time !== '') throw badRequest('Expiration TTL and Expiration Time cannot both be set')
  if (ttlMs !== 0) {
    if (ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) throw badRequest(`Token Expiration TTL '${String(ttl)}' should be between 1m0s and 24h0m0s`)
    return new Date(agent.now() + ttlMs).toISOString()
  }
  if (time !== '') {
    const at = Date.parse(time)
    if (Number.isNaN(at)) throw badRequest(`Token decoding failed: ExpirationTime ${JSON.stringify(time)} is not a time`)
    if (at <= agent.now()) throw badRequest('ExpirationTime cannot be in the past')
    return new Date(at).toISOString()
  }
  return undefined
}

function expired(token: AclToken, now: number): boolean {
  return token.ExpirationTime !== undefined && Date.parse(token.ExpirationTime) < now
}

async function readToken(agent: AclDeps, ctx: RequestContext, accessorId: string): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'read')
  const result = await consistentRead(agent, ctx, () => ({index: agent.state.aclIndex('tokens'), value: agent.state.acl.token(accessorId)}), (wake) => agent.state.watches.watchTable('acl-tokens', wake))
  if (!result) return
  if (!result.value || expired(result.value, agent.now())) throw aclNotFound()
  sendJson(ctx.req, ctx.res, renderToken(agent, result.value, who.authorizer.allowedScalar('acl', 'write')), ctx.query.pretty)
}

async function tokenSelf(agent: AclDeps, ctx: RequestContext): Promise<void> {
  // No acl:read needed: whoever holds a secret may read its own token (Consul's TokenRead by secret).
  const secret = effectiveSecret(agent, ctx.identity)
  const result = await consistentRead(agent, ctx, () => ({index: agent.state.aclIndex('tokens'), value: agent.state.acl.tokenBySecret(secret)}), (wake) => agent.state.watches.watchTable('acl-tokens', wake))
  if (!result) return
  if (!result.value || expired(result.value, agent.now())) throw aclNotFound()
  sendJson(ctx.req, ctx.res, renderToken(agent, result.value, true), ctx.query.pretty)
}

async function cloneToken(agent: AclDeps, ctx: RequestContext, accessorId: string): Promise<void> {
  if (accessorId === '') throw badRequest('Missing token ID')
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'write')
  const body = await readBody(ctx, 'Token')
  const source = agent.state.acl.token(accessorId)
  if (!source || expired(source, agent.now())) throw aclNotFound()
  const description = stringField(body, 'Description')
  const clone = newToken(agent, {
    Description: description !== '' ? description : source.Description, Policies: source.Policies, Roles: source.Roles,
    ServiceIdentities: source.ServiceIdentities, NodeIdentities: source.NodeIdentities, Local: source.Local,
    ...(source.ExpirationTime ? {ExpirationTime: source.ExpirationTime} : {}),
  })
  await propose(agent, {op: 'token-set', token: clone, create: true})
  agent.log.info('ACL token cloned', {from: source.AccessorID, accessor: clone.AccessorID})
  sendJson(ctx.req, ctx.res, renderToken(agent, agent.state.acl.token(clone.AccessorID)!, true), ctx.query.pretty)
}

async function deleteToken(agent: AclDeps, ctx: RequestContext, accessorId: string): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'write')
  if (!UUID.test(accessorId)) throw badRequest('Accessor ID is missing or an invalid UUID')
  if (accessorId === ANONYMOUS_TOKEN_ID) throw badRequest('Delete operation not permitted on the anonymous token')
  if (who.accessorId === accessorId) throw badRequest('Deletion of the request\'s authorization token is not permitted')
  await propose(agent, {op: 'token-delete', accessorId})
  agent.log.info('ACL token deleted', {accessor: accessorId})
  sendJson(ctx.req, ctx.res, true, ctx.query.pretty)
}

async function listTokens(agent: AclDeps, ctx: RequestContext): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'read')
  const policy = ctx.params.get('policy') ?? ''
  const role = ctx.params.get('role') ?? ''
  const authMethod = ctx.params.get('authmethod') ?? ''
  const read = (): Indexed<AclToken[]> => ({
    index: agent.state.aclIndex('tokens'),
    value: agent.state.acl.tokens().filter((t) => !expired(t, agent.now())
      && (policy === '' || t.Policies.some((p) => p.ID === policy))
      && (role === '' || t.Roles.some((r) => r.ID === role))
      // coord has no auth methods: no token was made by one.
      && authMethod === ''),
  })
  const result = await consistentRead(agent, ctx, read, (wake) => agent.state.watches.watchTable('acl-tokens', wake))
  if (!result) return
  const showSecrets = who.authorizer.allowedScalar('acl', 'write')
  sendJson(ctx.req, ctx.res, result.value.map((t) => renderToken(agent, t, showSecrets)), ctx.query.pretty)
}

// --- policies ---

async function writePolicy(agent: AclDeps, ctx: RequestContext, id: string, create: boolean): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'write')
  const body = await readBody(ctx, 'Policy')
  const bodyId = stringField(body, 'ID')
  if (create && bodyId !== '') throw badRequest('Cannot specify the ID when creating a new policy')
  if (!create && bodyId !== '' && bodyId !== id) throw badRequest('Policy ID in URL and payload do not match')
  const name = stringField(body, 'Name')
  if (name === '') throw badRequest('Invalid Policy: no Name is set')
  if (!VALID_NAME.test(name)) throw badRequest('Invalid Policy: invalid Name. Only alphanumeric characters, \'-\' and \'_\' are allowed')
  if (!create && !UUID.test(id)) throw badRequest('Policy ID invalid UUID')
  const rules = stringField(body, 'Rules')
  parseRules(rules) // throws a 400 naming the line
  const dcs = field(body, 'Datacenters')
  if (dcs !== undefined && dcs !== null && (!Array.isArray(dcs) || dcs.some((d) => typeof d !== 'string'))) throw badRequest('Request decode failed: Datacenters must be a list of strings')
  const policy = {ID: create ? randomUUID() : id, Name: name, Description: stringField(body, 'Description'), Rules: rules, Datacenters: (dcs as string[] | null | undefined) ?? [], Hash: ''}
  policy.Hash = contentHash([policy.Name, policy.Description, policy.Rules, policy.Datacenters])
  await propose(agent, {op: 'policy-set', policy, create})
  agent.log.info(create ? 'ACL policy created' : 'ACL policy updated', {id: policy.ID, name: policy.Name})
  sendJson(ctx.req, ctx.res, renderPolicy(agent.state.acl.policy(policy.ID)!), ctx.query.pretty)
}

async function readPolicy(agent: AclDeps, ctx: RequestContext, lookup: () => AclPolicy | undefined): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'read')
  const result = await consistentRead(agent, ctx, () => ({index: agent.state.aclIndex('policies'), value: lookup()}), (wake) => agent.state.watches.watchTable('acl-policies', wake))
  if (!result) return
  if (!result.value) throw aclNotFound()
  sendJson(ctx.req, ctx.res, renderPolicy(result.value), ctx.query.pretty)
}

async function listPolicies(agent: AclDeps, ctx: RequestContext): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'read')
  const result = await consistentRead(agent, ctx, () => ({index: agent.state.aclIndex('policies'), value: agent.state.acl.policies()}), (wake) => agent.state.watches.watchTable('acl-policies', wake))
  if (result) sendJson(ctx.req, ctx.res, result.value.map((p) => renderPolicy(p, false)), ctx.query.pretty)
}

async function deleteRecord(agent: AclDeps, ctx: RequestContext, op: AclOp & {op: 'policy-delete' | 'role-delete'}): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'write')
  await propose(agent, op)
  agent.log.info(op.op === 'policy-delete' ? 'ACL policy deleted' : 'ACL role deleted', {id: op.id})
  sendJson(ctx.req, ctx.res, true, ctx.query.pretty)
}

// --- roles ---

async function writeRole(agent: AclDeps, ctx: RequestContext, id: string, create: boolean): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'write')
  const body = await readBody(ctx, 'Role')
  const bodyId = stringField(body, 'ID')
  if (create && bodyId !== '') throw badRequest('Cannot specify the ID when creating a new role')
  if (!create && bodyId !== '' && bodyId !== id) throw badRequest('Role ID in URL and payload do not match')
  const name = stringField(body, 'Name')
  if (name === '') throw badRequest('Invalid Role: no Name is set')
  if (!VALID_NAME.test(name)) throw badRequest('Invalid Role: invalid Name. Only alphanumeric characters, \'-\' and \'_\' are allowed')
  if (!create && !UUID.test(id)) throw badRequest('Role ID invalid UUID')
  const role = {
    ID: create ? randomUUID() : id, Name: name, Description: stringField(body, 'Description'),
    Policies: linksField(agent, body, 'Policies'), ServiceIdentities: serviceIdentities(body, 'role'), NodeIdentities: nodeIdentities(body, 'role'), Hash: '',
  }
  role.Hash = contentHash([role.Name, role.Description, role.Policies.map((p) => p.ID), role.ServiceIdentities, role.NodeIdentities])
  await propose(agent, {op: 'role-set', role, create})
  agent.log.info(create ? 'ACL role created' : 'ACL role updated', {id: role.ID, name: role.Name})
  sendJson(ctx.req, ctx.res, renderRole(agent, agent.state.acl.role(role.ID)!), ctx.query.pretty)
}

async function readRole(agent: AclDeps, ctx: RequestContext, lookup: () => AclRole | undefined): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'read')
  const result = await consistentRead(agent, ctx, () => ({index: agent.state.aclIndex('roles'), value: lookup()}), (wake) => agent.state.watches.watchTable('acl-roles', wake))
  if (!result) return
  // Consul's RoleRead answers a missing role with an empty 404.
  if (!result.value) throw notFound()
  sendJson(ctx.req, ctx.res, renderRole(agent, result.value), ctx.query.pretty)
}

async function listRoles(agent: AclDeps, ctx: RequestContext): Promise<void> {
  const who = caller(agent, ctx)
  requireScalar(who, 'acl', 'read')
  const policy = ctx.params.get('policy') ?? ''
  const read = () => ({index: agent.state.aclIndex('roles'), value: agent.state.acl.roles().filter((r) => policy === '' || r.Policies.some((p) => p.ID === policy))})
  const result = await consistentRead(agent, ctx, read, (wake) => agent.state.watches.watchTable('acl-roles', wake))
  if (result) sendJson(ctx.req, ctx.res, result.value.map((r) => renderRole(agent, r)), ctx.query.pretty)
}

// --- the agent's own tokens ---

async function setAgentToken(agent: AclDeps, ctx: RequestContext): Promise<void> {
  const who = caller(agent, ctx)
  // Consul: updating an agent token needs acl = "write" (agent/agent_endpoint.go AgentToken).
  requireScalar(who, 'acl', 'write')
  const kind = AGENT_TOKEN_KINDS[ctx.tail]
  if (kind === undefined) throw notFound(`Token "${ctx.tail}" is unknown`)
  const body = await readBody(ctx, 'Token')
  const secret = stringField(body, 'Token')
  if (!agent.aclTokens) throw new Error('this agent keeps no ACL tokens')
  agent.aclTokens.set(kind, secret)
  agent.log.info('Updated agent ACL token', {token: ctx.tail})
  sendJson(ctx.req, ctx.res, null, false)
}

// --- /v1/internal/acl/authorize (what the web UI asks before showing edit controls) ---

/** Consul's aclAuthorizationRequestLimit. */
const AUTHORIZE_LIMIT = 64

/**
 * Answers, for each {Resource, Segment, Access}, whether the caller's token is allowed (Consul's
 * ACLAuthorize: a resource or access level it does not know is a 400; more than 64 requests too).
 */
async function authorizeRequests(agent: AclDeps, ctx: RequestContext): Promise<void> {
  const parsed = parseJsonBody(await ctx.body(BODY_LIMIT), 'request body')
  if (!Array.isArray(parsed)) throw badRequest('Failed to decode request body: expected a JSON list of {Resource, Segment, Access}')
  if (parsed.length > AUTHORIZE_LIMIT) throw badRequest(`Refusing to authorize more than ${AUTHORIZE_LIMIT} resources`)
  const authz = agent.config.acl.enabled ? ctx.authorize().authorizer : undefined
  const answers = parsed.map((item, i) => {
    if (!isObject(item)) throw badRequest(`Failed to decode request body: item ${i} is not an object`)
    const resource = typeof item.Resource === 'string' ? item.Resource : ''
    const segment = typeof item.Segment === 'string' ? item.Segment : ''
    const access = typeof item.Access === 'string' ? item.Access : ''
    if (!['read', 'write', 'list'].includes(access)) throw badRequest(`Invalid access level for ${resource} resource: ${JSON.stringify(access)}`)
    const need = access as Need
    const segmentKind = (SEGMENT_KINDS as readonly string[]).includes(resource)
    const scalarKind = (SCALAR_KINDS as readonly string[]).includes(resource)
    if (!segmentKind && !scalarKind) throw badRequest(`Invalid ACL resource requested: ${JSON.stringify(resource)}`)
    if (need === 'list' && resource !== 'key') throw badRequest(`Invalid access level for ${resource} resource: "list"`)
    let allow = true
    if (authz) allow = segmentKind ? authz.allowed(resource as SegmentKind, segment, need) : authz.allowedScalar(resource as ScalarKind, need)
    return {Resource: resource, Segment: segment, Access: access, Allow: allow}
  })
  sendJson(ctx.req, ctx.res, answers, ctx.query.pretty)
}
