// Error reasons stay on one line whatever the client smuggled into them, and header values carry
// client text as Go writes it (UTF-8 bytes, line breaks as spaces): both found by the HTTP fuzzer.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {oneLine} from '../../../src/lib/http/errors.js'
import {headerValue} from '../../../src/lib/http/respond.js'

describe('oneLine', () => {
  it('escapes line breaks and other control characters, and leaves the rest alone', () => {
    assert.equal(oneLine('Invalid namespace "x\ny"'), 'Invalid namespace "x\\ny"')
    assert.equal(oneLine('a\r\nb\tc\u0000d\u007f'), 'a\\r\\nb\\tc\\x00d\\x7f')
    assert.equal(oneLine('ключ ☃ "quoted"'), 'ключ ☃ "quoted"')
  })
})

describe('headerValue', () => {
  it('writes UTF-8 bytes as Latin-1 characters so Node sends the bytes Go would', () => {
    const value = headerValue('ServiceId ключ not found')
    assert.equal(Buffer.from(value, 'latin1').toString('utf8'), 'ServiceId ключ not found')
    assert.doesNotMatch(value, /[^\t\x20-\x7e\x80-\xff]/)
  })

  it('turns line breaks and control characters into spaces', () => {
    assert.equal(headerValue('a\r\nb\u0001c'), 'a  b c')
  })
})
