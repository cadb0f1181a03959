import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {decode, encode} from '@msgpack/msgpack'
import {
  USER_EVENT_SIZE_LIMIT, UserEventError, checkEventSize, decodeEnvelope, encodeEnvelope, eventIndex, newUserEvent, serfEventName,
  userEventJson, validateUserEvent,
} from '../../../src/lib/events/user-event.js'

const ID = 'b54fe110-7af5-cafc-d1fb-afc8ba432b1c'

describe('user event envelope (Consul agent/user_event.go)', () => {
  it('round-trips every field through msgpack with Consul codec keys', () => {
    const event = newUserEvent({name: 'deploy', payload: Buffer.from('v2'), nodeFilter: 'web-.*', serviceFilter: 'api', tagFilter: 'blue'}, ID)
    const bytes = encodeEnvelope(event)
    assert.deepEqual(Object.keys(decode(bytes) as object).sort(), ['ID', 'n', 'nf', 'p', 'sf', 'tf', 'v'])
    const back = decodeEnvelope(bytes, 42)
    assert.deepEqual({...back, Payload: Buffer.from(back.Payload!).toString()}, {...event, Payload: 'v2', LTime: 42})
  })

  it('omits empty optional fields and decodes them as empty / null', () => {
    const bytes = encodeEnvelope(newUserEvent({name: 'ping'}, ID))
    assert.deepEqual(decode(bytes), {ID, n: 'ping', v: 1})
    const back = decodeEnvelope(bytes, 3)
    assert.equal(back.Payload, null)
    assert.equal(back.NodeFilter, '')
    assert.equal(back.Version, 1)
  })

  it('refuses envelopes that are not Consul user events with a one-line reason', () => {
    for (const bad of [Uint8Array.of(0xc1), encode([1, 2]), encode({n: 'x', v: 1}), encode({ID, n: 7, v: 1}), encode({ID, n: 'x', p: 'str', v: 1}), encode({ID, n: 'x', v: 'one'})]) {
      assert.throws(() => decodeEnvelope(bad, 1), (e: unknown) => e instanceof UserEventError && e.code === 'USER_EVENT_INVALID' && !e.message.includes('\n'))
    }
  })

  it('validates like validateUserEventParams: name, tag needs service, filters compile', () => {
    assert.throws(() => validateUserEvent({name: ''}), /User event missing name/)
    assert.throws(() => validateUserEvent({name: 'x', tagFilter: 'a'}), /Cannot provide tag filter without service filter/)
    assert.throws(() => validateUserEvent({name: 'x', nodeFilter: '('}), /^UserEventError: Invalid node filter: /)
    assert.throws(() => validateUserEvent({name: 'x', serviceFilter: '[', tagFilter: 'a'}), /Invalid service filter/)
    assert.throws(() => validateUserEvent({name: 'x', serviceFilter: 'a', tagFilter: '*'}), /Invalid tag filter/)
    assert.doesNotThrow(() => validateUserEvent({name: 'x', nodeFilter: '^n[0-9]+$', serviceFilter: 'web', tagFilter: 'v1'}))
  })

  it('enforces serf\'s 512-byte limit on serf name + envelope', () => {
    const fits = newUserEvent({name: 'e', payload: new Uint8Array(400)}, ID)
    assert.doesNotThrow(() => checkEventSize(serfEventName('e'), encodeEnvelope(fits)))
    const big = newUserEvent({name: 'e', payload: new Uint8Array(USER_EVENT_SIZE_LIMIT)}, ID)
    assert.throws(() => checkEventSize(serfEventName('e'), encodeEnvelope(big)), /exceeds configured limit of 512 bytes/)
    assert.equal(serfEventName('deploy'), 'consul:event:deploy')
  })

  it('derives the list index from the ID as uuidToUint64 does (halves XORed), as a decimal string', () => {
    const expected = (BigInt('0xb54fe1107af5cafc') ^ BigInt('0xd1fbafc8ba432b1c')).toString()
    assert.equal(eventIndex(ID), expected)
    assert.equal(eventIndex('not-a-uuid'), '1')
    assert.ok(BigInt(eventIndex(ID)) > BigInt(Number.MAX_SAFE_INTEGER), 'this one needs all 64 bits')
  })

  it('renders Consul\'s JSON: base64 payload or null', () => {
    const json = userEventJson({...newUserEvent({name: 'd', payload: Buffer.from('bar')}, ID), LTime: 9})
    assert.deepEqual(json, {ID, Name: 'd', Payload: 'YmFy', NodeFilter: '', ServiceFilter: '', TagFilter: '', Version: 1, LTime: 9})
    assert.equal(userEventJson(newUserEvent({name: 'd', payload: new Uint8Array(0)}, ID)).Payload, null)
  })
})
