import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {redactTokens, requestIdentity} from '../../../src/lib/http/identity.js'
import {writeAllowList} from '../../../src/lib/agent/http-config.js'

describe('request identity', () => {
  const id = (query: string, headers: Record<string, string> = {}) => requestIdentity(new URLSearchParams(query), headers)

  it("reads the token in Consul's order: ?token=, then X-Consul-Token, then Authorization: Bearer", () => {
    const all = {'x-consul-token': 'from-header', authorization: 'Bearer from-bearer'}
    assert.deepEqual(id('token=from-query', all), {token: 'from-query', source: 'query'})
    assert.deepEqual(id('', all), {token: 'from-header', source: 'header'})
    assert.deepEqual(id('', {authorization: 'Bearer from-bearer'}), {token: 'from-bearer', source: 'bearer'})
    assert.deepEqual(id('token=', {authorization: 'bearer  spaced   extra'}), {token: 'spaced', source: 'bearer'}, 'an empty ?token= does not count; the scheme is case-blind; only the first word')
  })

  it('presents no token for other schemes, a bare scheme, or nothing', () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearertoken']) assert.deepEqual(id('', {authorization}), {token: '', source: 'none'}, authorization)
    assert.deepEqual(id(''), {token: '', source: 'none'})
  })

  it('hides every ?token= value in a URL meant for a log', () => {
    assert.equal(redactTokens('/v1/kv/a?token=s3cret&recurse'), '/v1/kv/a?token=<hidden>&recurse')
    assert.equal(redactTokens('/v1/kv/a?recurse&token=x&token=y'), '/v1/kv/a?recurse&token=<hidden>&token=<hidden>')
    assert.equal(redactTokens('/v1/kv/a?tokens=keep'), '/v1/kv/a?tokens=keep')
    assert.equal(redactTokens('/v1/kv/a'), '/v1/kv/a')
  })
})

describe('allow_write_http_from', () => {
  it('matches IPv4 (also as an IPv4-mapped IPv6 address) and IPv6 CIDRs; no list allows all', () => {
    const allowed = writeAllowList(['127.0.0.2/32', '10.0.0.0/8', 'fd00::/8'])!
    assert.equal(allowed('127.0.0.2'), true)
    assert.equal(allowed('::ffff:127.0.0.2'), true)
    assert.equal(allowed('127.0.0.1'), false)
    assert.equal(allowed('10.200.3.4'), true)
    assert.equal(allowed('fd12::1'), true)
    assert.equal(allowed('::1'), false)
    assert.equal(allowed(''), false, 'an unknown source is refused')
    assert.equal(writeAllowList([]), undefined)
  })
})
