import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {CodecError, decodeCommand, encodeCommand} from '../../../src/lib/state/codec.js'
import type {Command} from '../../../src/lib/state/types.js'
import {decodePreparedQuery} from '../../../src/lib/state/prepared-query.js'

describe('command codec', () => {
  const commands: Array<{name: string; cmd: Command}> = [
    {name: 'kv set with max uint64 flags and binary value', cmd: {type: 'kv', now: 1_700_000_000_123, op: {verb: 'set', key: 'k', value: new Uint8Array([0, 1, 254, 255]), flags: 18446744073709551615n}}},
    {name: 'kv delete with no optional fields', cmd: {type: 'kv', now: 0, op: {verb: 'delete', key: 'k'}}},
    {name: 'txn', cmd: {type: 'txn', now: 5, ops: [{verb: 'lock', key: 'a', session: 's', flags: 0n, value: new Uint8Array()}, {verb: 'check-index', key: 'b', index: 2 ** 40}]}},
    {name: 'session-create', cmd: {type: 'session-create', now: 9, session: {id: 'u', name: '', node: 'n', nodeChecks: ['serfHealth'], serviceChecks: [{id: 'c'}], lockDelayMs: 15_000, behavior: 'delete', ttl: '30s'}}},
    {name: 'node-register', cmd: {type: 'node-register', now: 1, node: {id: 'i', node: 'n', address: '10.0.0.1', datacenter: 'dc1'}, checks: [{node: 'n', checkId: 'serfHealth', name: 'Serf', status: 'critical', notes: '', output: 'x'}]}},
    {name: 'tombstone-reap', cmd: {type: 'tombstone-reap', now: 1, upToIndex: 77}},
    {name: 'txn across kinds', cmd: {type: 'txn', now: 6, ops: [
      {verb: 'set', key: 'a', value: new Uint8Array([1])},
      {kind: 'node', verb: 'cas', index: 4, node: {id: '', node: 'n', address: '10.0.0.1', datacenter: 'dc1', taggedAddresses: {}, meta: {r: '1'}}},
      {kind: 'session', verb: 'delete', id: 's'},
    ]}},
    {name: 'prepared-query-set', cmd: {type: 'prepared-query-set', now: 2, query: decodePreparedQuery({ID: 'q', Name: 'web', Service: {Service: 'web', Failover: {NearestN: 2}}})}},
    {name: 'prepared-query-delete', cmd: {type: 'prepared-query-delete', now: 3, id: 'q'}},
  ]
  for (const c of commands) {
    it(`round-trips ${c.name}`, () => {
      assert.deepEqual(decodeCommand(encodeCommand(c.cmd)), c.cmd)
    })
  }

  it('codec round-trip keeps bigint flags and bytes', () => {
    const cmd: Command = {type: 'kv', now: 1, op: {verb: 'set', key: 'k', value: new Uint8Array([9, 8, 7]), flags: 1n}}
    const decoded = decodeCommand(encodeCommand(cmd))
    assert.equal(decoded.type, 'kv')
    if (decoded.type !== 'kv') return
    assert.equal(typeof decoded.op.flags, 'bigint')
    assert.equal(decoded.op.flags, 1n)
    assert.ok(decoded.op.value instanceof Uint8Array)
    assert.equal('index' in decoded.op, false, 'absent optional fields stay absent')
  })

  it('decoded values are copies, not views of the input buffer', () => {
    const encoded = encodeCommand({type: 'kv', now: 1, op: {verb: 'set', key: 'k', value: new Uint8Array([1, 2, 3])}})
    const decoded = decodeCommand(encoded)
    encoded.fill(0)
    assert.deepEqual(decoded.type === 'kv' && decoded.op.value, new Uint8Array([1, 2, 3]))
  })

  const garbage = [
    {name: 'invalid msgpack', bytes: new Uint8Array([0xc1])},
    {name: 'a number', bytes: new Uint8Array([0x05])},
    {name: 'an unknown command type', bytes: encodeCommand({type: 'nope', now: 1} as unknown as Command)},
    {name: 'a kv command without an op', bytes: encodeCommand({type: 'kv', now: 1} as unknown as Command)},
  ]
  for (const g of garbage) {
    it(`rejects ${g.name}`, () => {
      assert.throws(() => decodeCommand(g.bytes), CodecError)
    })
  }
})
