import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {AgentMember} from '../../../src/lib/api/agent.js'
import type {KVPair} from '../../../src/lib/api/kv.js'
import {parseJsonPreservingFlags, toFlags} from '../../../src/lib/api/json.js'
import {renderDetailed, renderExport} from '../../../src/lib/cli/kv-render.js'
import {renderMembers, renderMembersDetailed, selectMembers} from '../../../src/lib/cli/members-render.js'
import {columnize, tabwrite} from '../../../src/lib/cli/render.js'
import {decodeBase64Std, goPathJoin} from '../../../src/lib/cli/go-compat.js'

const pair = (over: Partial<KVPair> = {}): KVPair => ({
  key: 'foo', createIndex: 5, modifyIndex: 7, lockIndex: 0, flags: 0n, value: Buffer.from('bar'), ...over,
})

const member = (name: string, role: string, over: Partial<AgentMember> = {}): AgentMember => ({
  Name: name, Addr: '10.0.0.1', Port: 8301, Status: 1,
  Tags: {role, dc: 'dc1', vsn: '2', build: '1.17.0:abc'},
  ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4, ...over,
})

describe('kv get -detailed', () => {
  it('puts the value column at 17 and shows - for no session', () => {
    assert.equal(renderDetailed(pair(), false).toString(), [
      'CreateIndex      5', 'Flags            0', 'Key              foo', 'LockIndex        0',
      'ModifyIndex      7', 'Session          -', 'Value            bar',
    ].join('\n'))
  })
  it('prints exact uint64 flags, the session and base64 values', () => {
    const text = renderDetailed(pair({flags: 18446744073709551615n, session: 'abc'}), true).toString()
    assert.match(text, /^Flags {12}18446744073709551615$/m)
    assert.match(text, /^Session {10}abc$/m)
    assert.match(text, /^Value {12}YmFy$/m)
  })
})

describe('kv export', () => {
  it('is a TAB-indented array with key, flags, value in that order', () => {
    assert.equal(renderExport([pair()]), '[\n\t{\n\t\t"key": "foo",\n\t\t"flags": 0,\n\t\t"value": "YmFy"\n\t}\n]')
  })
  it('is [] when empty and keeps big flags exact', () => {
    assert.equal(renderExport([]), '[]')
    assert.match(renderExport([pair({flags: 18446744073709551615n})]), /"flags": 18446744073709551615,/)
  })
  it('escapes <, > and & as Go does', () => {
    assert.match(renderExport([pair({key: 'a<b>&c'})]), /"key": "a\\u003cb\\u003e\\u0026c"/)
  })
})

describe('members', () => {
  it('lists servers first, then by name, columns 2 spaces apart, no trailing spaces', () => {
    const members = selectMembers([member('node-2', 'node', {Addr: '10.0.0.2'}), member('node-1', 'consul')], /.*/, '')
    assert.deepEqual(renderMembers(members), [
      'Node    Address        Status  Type    Build   Protocol  DC   Partition  Segment',
      'node-1  10.0.0.1:8301  alive   server  1.17.0  2         dc1  default    <all>',
      'node-2  10.0.0.2:8301  alive   client  1.17.0  2         dc1  default    <default>',
    ])
  })
  it('filters on the status regexp (unanchored)', () => {
    const members = [member('a', 'node'), member('b', 'node', {Status: 4})]
    assert.deepEqual(selectMembers(members, /fail/, '').map((m) => m.Name), ['b'])
    assert.deepEqual(selectMembers(members, /left/, ''), [])
  })
  it('shows unknown roles with empty columns and bracketed IPv6', () => {
    const lines = renderMembers(selectMembers([member('x', 'other', {Addr: '::1'})], /.*/, ''))
    assert.equal(lines[1], 'x     [::1]:8301  alive   unknown')
  })
  it('-detailed lists sorted k=v tags', () => {
    const lines = renderMembersDetailed(selectMembers([member('n', 'node')], /.*/, ''))
    assert.equal(lines[0], 'Node  Address        Status  Tags')
    assert.equal(lines[1], 'n     10.0.0.1:8301  alive   ap=default,build=1.17.0:abc,dc=dc1,role=node,vsn=2')
  })
})

describe('layout helpers', () => {
  it('tabwriter pads terminated cells to the widest plus padding', () => {
    assert.equal(tabwrite('a\tx\nlonger\ty', {padding: 2}), 'a       x\nlonger  y')
  })
  it('columnize trims the last column', () => {
    assert.deepEqual(columnize([['a', 'b', ''], ['ccc', 'd', 'e']]), ['a    b', 'ccc  d  e'])
  })
  it('Flags above 2^53 survive JSON decoding', () => {
    const decoded = parseJsonPreservingFlags('[{"Key":"k","Flags":18446744073709551615}]') as Array<{Flags: unknown}>
    assert.equal(toFlags(decoded[0].Flags), 18446744073709551615n)
  })
  it('strict base64 and Go path.Join', () => {
    assert.equal(decodeBase64Std('YmFy').toString(), 'bar')
    assert.throws(() => decodeBase64Std('YmF'), /illegal base64 data at input byte 0/)
    assert.throws(() => decodeBase64Std('Ym!y'), /illegal base64 data at input byte 2/)
    assert.equal(goPathJoin('', 'a/b/'), 'a/b')
    assert.equal(goPathJoin('pre/', 'x'), 'pre/x')
  })
})
