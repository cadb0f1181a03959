// The ACL tables as state-machine commands: bootstrap once (then Consul's reset-index refusal),
// token/policy/role writes checked against the tables in log order, the built-ins protected,
// nothing half-written on a refusal, carried in snapshots (an older snapshot restores as a fresh
// ACL state), and the acl-* watch tables fired.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {Harness} from './harness.js'
import {encodeValue, decodeValue, decodeCommand, encodeCommand} from '../../../src/lib/state/codec.js'
import {ANONYMOUS_TOKEN_ID, GLOBAL_MANAGEMENT_POLICY_ID, type AclOp, type AclResult, type AclTokenInput, type AclPolicyInput} from '../../../src/lib/state/acl.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
const token = (n: number, fields: Partial<AclTokenInput> = {}): AclTokenInput => ({
  AccessorID: uuid(n), SecretID: uuid(1000 + n), Description: `t${n}`, Policies: [], Roles: [], ServiceIdentities: [], NodeIdentities: [],
  Local: false, CreateTime: '2026-01-01T00:00:00Z', Hash: 'h', ...fields,
})
const policy = (n: number, fields: Partial<AclPolicyInput> = {}): AclPolicyInput => ({ID: uuid(500 + n), Name: `p${n}`, Description: '', Rules: 'key_prefix "" { policy = "read" }', Datacenters: [], Hash: 'h', ...fields})

function acl(h: Harness, op: AclOp): AclResult {
  const result = h.cmd('acl', {op})
  assert.equal(result.type, 'acl')
  return (result as {result: AclResult}).result
}

describe('ACL state: bootstrap', () => {
  it('a fresh state has the global-management policy and the anonymous token, and is not bootstrapped', () => {
    const h = new Harness()
    assert.equal(h.sm.acl.policy(GLOBAL_MANAGEMENT_POLICY_ID)?.Name, 'global-management')
    assert.equal(h.sm.acl.token(ANONYMOUS_TOKEN_ID)?.SecretID, 'anonymous')
    assert.equal(h.sm.acl.tokenBySecret('anonymous')?.AccessorID, ANONYMOUS_TOKEN_ID)
    assert.equal(h.sm.acl.bootstrapIndex, 0)
  })

  it('bootstraps once with a management token; the second answers the reset index; the right reset index bootstraps again', () => {
    const h = new Harness()
    h.put('a', '1')
    assert.deepEqual(acl(h, {op: 'bootstrap', token: token(1)}), {ok: true, id: uuid(1)})
    const at = h.index
    assert.equal(h.sm.acl.bootstrapIndex, at)
    assert.deepEqual(h.sm.acl.token(uuid(1))?.Policies, [{ID: GLOBAL_MANAGEMENT_POLICY_ID}])
    assert.deepEqual(acl(h, {op: 'bootstrap', token: token(2)}), {ok: false, error: `ACL bootstrap no longer allowed (reset index: ${at})`, code: 'bootstrap-done'})
    assert.equal(h.sm.acl.token(uuid(2)), undefined, 'nothing written by a refused bootstrap')
    assert.match((acl(h, {op: 'bootstrap', token: token(2), resetIndex: at + 7}) as {error: string}).error, new RegExp(`^Invalid bootstrap reset index \\(specified ${at + 7}, reset index: ${at}\\)$`))
    assert.deepEqual(acl(h, {op: 'bootstrap', token: token(3), resetIndex: at}), {ok: true, id: uuid(3)})
    assert.equal(h.sm.acl.bootstrapIndex, h.index, 'the reset index moves to the new bootstrap')
  })
})

describe('ACL state: tokens, policies, roles', () => {
  it('creates, updates and deletes a policy, with Consul\'s refusals', () => {
    const h = new Harness()
    assert.deepEqual(acl(h, {op: 'policy-set', policy: policy(1), create: true}), {ok: true, id: uuid(501)})
    const created = h.sm.acl.policy(uuid(501))!
    assert.equal(created.CreateIndex, h.index)
    assert.match((acl(h, {op: 'policy-set', policy: policy(2, {Name: 'p1'}), create: true}) as {error: string}).error, /^Invalid Policy: A Policy with Name "p1" already exists$/)
    assert.equal(h.sm.acl.policy(uuid(502)), undefined)
    assert.deepEqual(acl(h, {op: 'policy-set', policy: policy(1, {Description: 'new'}), create: false}), {ok: true, id: uuid(501)})
    assert.equal(h.sm.acl.policy(uuid(501))!.Description, 'new')
    assert.equal(h.sm.acl.policy(uuid(501))!.CreateIndex, created.CreateIndex)
    assert.equal(h.sm.acl.policy(uuid(501))!.ModifyIndex, h.index)
    assert.deepEqual(acl(h, {op: 'policy-set', policy: policy(9), create: false}), {ok: false, error: `cannot find policy ${uuid(509)}`, code: 'not-found'})
    assert.deepEqual(acl(h, {op: 'policy-delete', id: uuid(501)}), {ok: true, id: uuid(501)})
    assert.equal(h.sm.acl.policy(uuid(501)), undefined)
    assert.deepEqual(acl(h, {op: 'policy-delete', id: uuid(501)}), {ok: true}, 'deleting what is gone is not an error (Consul)')
  })

  it('the global-management policy: no delete, no rule or datacenter change; a rename is allowed', () => {
    const h = new Harness()
    const builtin = h.sm.acl.policy(GLOBAL_MANAGEMENT_POLICY_ID)!
    assert.deepEqual(acl(h, {op: 'policy-delete', id: GLOBAL_MANAGEMENT_POLICY_ID}), {ok: false, error: 'Delete operation not permitted on the builtin global-management policy', code: 'invalid'})
    const input = {ID: builtin.ID, Name: builtin.Name, Description: builtin.Description, Rules: builtin.Rules, Datacenters: [], Hash: ''}
    assert.match((acl(h, {op: 'policy-set', policy: {...input, Rules: 'acl = "read"'}, create: false}) as {error: string}).error, /Changing the Rules for the builtin global-management policy is not permitted/)
    assert.match((acl(h, {op: 'policy-set', policy: {...input, Datacenters: ['dc1']}, create: false}) as {error: string}).error, /Changing the Datacenters/)
    assert.equal(acl(h, {op: 'policy-set', policy: {...input, Name: 'root'}, create: false}).ok, true)
    assert.equal(h.sm.acl.policyByName('root')?.ID, GLOBAL_MANAGEMENT_POLICY_ID)
  })

  it('a token links existing policies and roles only; secrets and accessors are unique; the anonymous token stays', () => {
    const h = new Harness()
    acl(h, {op: 'policy-set', policy: policy(1), create: true})
    assert.deepEqual(acl(h, {op: 'token-set', token: token(1, {Policies: [{ID: uuid(999)}]}), create: true}), {ok: false, error: `No such ACL policy with ID "${uuid(999)}"`, code: 'invalid'})
    assert.equal(h.sm.acl.token(uuid(1)), undefined, 'nothing half-written')
    assert.equal(acl(h, {op: 'token-set', token: token(1, {Policies: [{ID: uuid(501), Name: 'p1'}]}), create: true}).ok, true)
    assert.deepEqual(h.sm.acl.token(uuid(1))!.Policies, [{ID: uuid(501)}], 'names are not stored: a policy may be renamed')
    assert.match((acl(h, {op: 'token-set', token: token(1), create: true}) as {error: string}).error, /AccessorID is already in use/)
    assert.match((acl(h, {op: 'token-set', token: token(2, {SecretID: uuid(1001)}), create: true}) as {error: string}).error, /SecretID is already in use/)
    assert.match((acl(h, {op: 'role-set', role: {ID: uuid(700), Name: 'r', Description: '', Policies: [{ID: uuid(998)}], ServiceIdentities: [], NodeIdentities: [], Hash: ''}, create: true}) as {error: string}).error, /No such ACL policy/)
    assert.equal(acl(h, {op: 'role-set', role: {ID: uuid(700), Name: 'r', Description: '', Policies: [{ID: uuid(501)}], ServiceIdentities: [], NodeIdentities: [], Hash: ''}, create: true}).ok, true)
    assert.equal(acl(h, {op: 'token-set', token: token(1, {Roles: [{ID: uuid(700)}], Description: 'upd'}), create: false}).ok, true)
    assert.equal(h.sm.acl.tokenBySecret(uuid(1001))!.Description, 'upd')
    assert.deepEqual(acl(h, {op: 'token-delete', accessorId: ANONYMOUS_TOKEN_ID}), {ok: false, error: 'Delete operation not permitted on the anonymous token', code: 'invalid'})
    assert.equal(acl(h, {op: 'token-delete', accessorId: uuid(1)}).ok, true)
    assert.equal(h.sm.acl.tokenBySecret(uuid(1001)), undefined, 'the secret no longer resolves')
  })

  it('fires the acl-* watch tables', () => {
    const h = new Harness()
    const fired: string[] = []
    for (const table of ['acl-tokens', 'acl-policies', 'acl-roles'] as const) h.sm.watches.watchTable(table, () => fired.push(table))
    acl(h, {op: 'policy-set', policy: policy(1), create: true})
    acl(h, {op: 'token-set', token: token(1), create: true})
    assert.deepEqual(fired, ['acl-policies', 'acl-tokens'])
    assert.equal(h.sm.aclIndex('tokens'), h.index)
  })
})

describe('ACL state: commands and snapshots', () => {
  it('an acl command survives the log codec', () => {
    const cmd = {type: 'acl' as const, now: 1, op: {op: 'token-set' as const, token: token(1), create: true}}
    assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd)
  })

  it('snapshots carry tokens, policies, roles and the bootstrap index', () => {
    const h = new Harness()
    acl(h, {op: 'policy-set', policy: policy(1), create: true})
    acl(h, {op: 'bootstrap', token: token(1)})
    const copy = new StateMachine()
    copy.restore(h.sm.snapshot())
    assert.deepEqual(copy.acl.dump(), h.sm.acl.dump())
    assert.equal(copy.acl.tokenBySecret(uuid(1001))?.AccessorID, uuid(1))
    assert.equal(copy.acl.bootstrapIndex, h.sm.acl.bootstrapIndex)
  })

  it('a snapshot written before ACLs existed restores as a fresh ACL state', () => {
    const h = new Harness()
    h.put('k', 'v')
    acl(h, {op: 'bootstrap', token: token(1)})
    const body = decodeValue(h.sm.snapshot()) as Record<string, unknown>
    delete body.acl
    const copy = new StateMachine()
    copy.restore(encodeValue(body))
    assert.equal(copy.kvGet('k').value !== undefined, true)
    assert.equal(copy.acl.bootstrapIndex, 0)
    assert.equal(copy.acl.token(uuid(1)), undefined)
    assert.equal(copy.acl.policy(GLOBAL_MANAGEMENT_POLICY_ID)?.Name, 'global-management')
  })
})
