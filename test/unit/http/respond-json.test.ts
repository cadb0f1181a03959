// A KV entry as a GET answers it (render.ts renderKV → respond.ts toJson): flags up to 2^64-1 are
// exact numbers on the wire whichever path toJson takes (V8's plain stringify for the common
// small flags, the bigint-aware one past 2^53), the value is the stored bytes in base64 (a view
// on a larger buffer included), and ?pretty keeps Consul's 4-space indent and trailing newline.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {toJson} from '../../../src/lib/http/respond.js'
import {renderKV} from '../../../src/lib/http/render.js'
import type {KVEntry} from '../../../src/lib/state/types.js'

function entry(flags: bigint, value: Uint8Array): KVEntry {
  return {key: 'a/b', value, flags, createIndex: 7, modifyIndex: 9, lockIndex: 0, session: ''}
}

describe('toJson of a KV entry', () => {
  it('writes small and huge flags as exact numbers', () => {
    const bytes = new Uint8Array([104, 105])
    assert.equal(toJson([renderKV(entry(42n, bytes))], false), '[{"LockIndex":0,"Key":"a/b","Flags":42,"Value":"aGk=","CreateIndex":7,"ModifyIndex":9}]')
    assert.equal(toJson([renderKV(entry(2n ** 64n - 1n, bytes))], false), '[{"LockIndex":0,"Key":"a/b","Flags":18446744073709551615,"Value":"aGk=","CreateIndex":7,"ModifyIndex":9}]')
    assert.equal(toJson([renderKV(entry(2n ** 53n + 1n, bytes))], false), '[{"LockIndex":0,"Key":"a/b","Flags":9007199254740993,"Value":"aGk=","CreateIndex":7,"ModifyIndex":9}]')
  })

  it('encodes exactly the entry\'s bytes when they are a view on a larger buffer', () => {
    const backing = new Uint8Array([1, 2, 104, 105, 3, 4])
    const out = JSON.parse(toJson(renderKV(entry(0n, backing.subarray(2, 4))), false)) as {Value: string}
    assert.equal(Buffer.from(out.Value, 'base64').toString(), 'hi')
    assert.equal((JSON.parse(toJson(renderKV(entry(0n, new Uint8Array(0))), false)) as {Value: unknown}).Value, null)
  })

  it('pretty-prints with a 4-space indent and a newline, bigints exact; undefined is null', () => {
    assert.equal(toJson({A: 1n << 60n, B: [1]}, true), '{\n    "A": 1152921504606846976,\n    "B": [\n        1\n    ]\n}\n')
    assert.equal(toJson(undefined, false), 'null')
  })
})
