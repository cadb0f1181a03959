// AppendEntries frames whose entries are encoded once for all followers (rpc/append-frame.ts): the
// bytes must be a plain msgpack map any decoder (an older server's) reads as the whole message, and
// followers sent the same entries in a round must share one encoding.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {decode, Encoder} from '@msgpack/msgpack'
import {isAppendWithEntries, SharedEntries} from '../../../src/lib/rpc/append-frame.js'
import {RpcTransport} from '../../../src/lib/rpc/transport.js'

const options = {useBigInt64: true} as const
const encoder = new Encoder(options)
const encodeShared = (value: unknown): Uint8Array => encoder.encodeSharedRef(value)
const encodeCopy = (value: unknown): Uint8Array => encoder.encode(value)

const entries = [1, 2, 3].map((index) => ({index, term: 2, type: 'command', data: new Uint8Array([index, 0xff, 0])}))

function append(to: string, list: object[], commit: number) {
  return {raft: {type: 'append' as const, to, from: 'L', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: list, commit, seq: 7, sentAtMs: 12.5}, fromAddress: '127.0.0.1:8300'}
}

/** Byte values as plain arrays (a decoder may hand back Buffers or Uint8Arrays: the bytes are what counts). */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value]
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}

function payload(parts: {head: Uint8Array; tail: Uint8Array} | undefined): Uint8Array {
  assert.ok(parts, 'the message was spliced')
  return Buffer.concat([parts.head, parts.tail])
}

describe('SharedEntries', () => {
  it('makes the bytes of the whole message (entries last), which a plain decoder reads as the message', () => {
    const shared = new SharedEntries()
    const body = append('F1', entries.slice(), 3)
    const bytes = payload(shared.parts(body, encodeShared, encodeCopy))
    const {entries: list, ...rest} = body.raft
    assert.deepEqual([...bytes], [...encodeCopy({k: 'msg', body: {fromAddress: body.fromAddress, raft: {...rest, entries: list}}})])
    assert.deepEqual(plain(decode(bytes, options)), plain({k: 'msg', body}))
  })

  it('encodes the same entries once for every follower of a round, and other entries apart', () => {
    const shared = new SharedEntries()
    const one = payload(shared.parts(append('F1', entries.slice(0, 3), 3), encodeShared, encodeCopy))
    const two = payload(shared.parts(append('F2', entries.slice(0, 3), 1), encodeShared, encodeCopy))
    assert.deepEqual({hits: shared.hits, misses: shared.misses}, {hits: 1, misses: 1})
    assert.deepEqual(plain(decode(one, options)), plain({k: 'msg', body: append('F1', entries, 3)}))
    assert.deepEqual(plain(decode(two, options)), plain({k: 'msg', body: append('F2', entries, 1)}), 'the second follower gets its own fields with the shared entries')
    // A follower that is behind is sent a different run: encoded on its own.
    const behind = payload(shared.parts(append('F3', entries.slice(1), 3), encodeShared, encodeCopy))
    assert.deepEqual({hits: shared.hits, misses: shared.misses}, {hits: 1, misses: 2})
    assert.deepEqual(plain(decode(behind, options)), plain({k: 'msg', body: append('F3', entries.slice(1), 3)}))
    // Same ends but another length is not the same run.
    const shorter = [entries[0], entries[2]]
    payload(shared.parts(append('F1', shorter, 3), encodeShared, encodeCopy))
    assert.equal(shared.misses, 3)
  })

  it('only AppendEntries carrying entries are spliced', () => {
    assert.equal(isAppendWithEntries(append('F1', entries, 3)), true)
    assert.equal(isAppendWithEntries(append('F1', [], 3)), false)
    assert.equal(isAppendWithEntries({raft: {type: 'heartbeat', commit: 3}}), false)
    assert.equal(isAppendWithEntries(null), false)
    assert.equal(isAppendWithEntries({term: 3n}), false)
  })
})

describe('RpcTransport AppendEntries', () => {
  it('delivers one encoding of the entries to two followers, each with its own message', async () => {
    const leader = new RpcTransport({localId: 'L'})
    const followers = [new RpcTransport({localId: 'F1'}), new RpcTransport({localId: 'F2'})]
    const received: unknown[][] = [[], []]
    followers.forEach((f, i) => f.onMessage((_from, body) => received[i].push(body)))
    try {
      const ports = await Promise.all(followers.map((f) => f.listen('127.0.0.1', 0)))
      ports.forEach((port, i) => leader.send(`127.0.0.1:${port}`, append(`F${i + 1}`, entries.slice(), i + 1)))
      const deadline = Date.now() + 5000
      while (received.some((r) => r.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      assert.deepEqual(plain(received), plain([[append('F1', entries, 1)], [append('F2', entries, 2)]]))
      assert.deepEqual({hits: leader.sharedEntries.hits, misses: leader.sharedEntries.misses}, {hits: 1, misses: 1})
    } finally {
      await leader.close()
      await Promise.all(followers.map((f) => f.close()))
    }
  })
})
