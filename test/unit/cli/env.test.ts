import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseAddress} from '../../../src/lib/api/address.js'
import {clientFlags, resolveClientConfig, serverFlags} from '../../../src/lib/cli/http-flags.js'
import {parseGoFlags} from '../../../src/lib/cli/goflags.js'

const defs = {...clientFlags, ...serverFlags}
const resolve = (argv: string[], env: Record<string, string>) => {
  const {flags, set} = parseGoFlags(defs, argv)
  return resolveClientConfig(flags, set, env)
}

describe('HTTP client flags and environment', () => {
  it('flag > COORD_ > CONSUL_ > default', () => {
    const env = {COORD_HTTP_ADDR: 'coord:1', CONSUL_HTTP_ADDR: 'consul:2'}
    assert.equal(resolve(['-http-addr=flag:3'], env).config.address, 'flag:3')
    assert.equal(resolve([], env).config.address, 'coord:1')
    assert.equal(resolve([], {CONSUL_HTTP_ADDR: 'consul:2'}).config.address, 'consul:2')
    assert.equal(resolve([], {}).config.address, undefined)
  })

  it('an explicitly empty flag still wins over the environment', () => {
    assert.equal(resolve(['-token='], {CONSUL_HTTP_TOKEN: 'env'}).config.token, '')
  })

  it('reads every variable in both spellings', () => {
    const {config} = resolve([], {
      CONSUL_HTTP_TOKEN: 't', COORD_HTTP_TOKEN_FILE: '/tf', CONSUL_HTTP_AUTH: 'u:p', COORD_HTTP_SSL: 'true',
      CONSUL_HTTP_SSL_VERIFY: 'false', CONSUL_CACERT: '/ca', COORD_CAPATH: '/cap', CONSUL_CLIENT_CERT: '/c',
      COORD_CLIENT_KEY: '/k', CONSUL_TLS_SERVER_NAME: 'sni',
    })
    assert.deepEqual(config, {
      token: 't', tokenFile: '/tf', httpAuth: 'u:p', useTls: true, tlsVerify: false, caFile: '/ca', caPath: '/cap',
      clientCert: '/c', clientKey: '/k', tlsServerName: 'sni',
    })
  })

  it('warns about an unparsable CONSUL_HTTP_SSL and ignores it', () => {
    const {config, warnings} = resolve([], {CONSUL_HTTP_SSL: 'maybe'})
    assert.equal(config.useTls, undefined)
    assert.equal(warnings.length, 1)
  })

  it('passes -datacenter through', () => {
    assert.equal(resolve(['-datacenter=dc2'], {}).config.datacenter, 'dc2')
  })
})

describe('agent addresses', () => {
  it('host:port defaults to http', () => {
    assert.deepEqual(parseAddress('127.0.0.1:8500'), {scheme: 'http', host: '127.0.0.1', port: 8500, origin: 'http://127.0.0.1:8500', dialTarget: '127.0.0.1:8500'})
  })
  it('empty means 127.0.0.1:8500', () => {
    assert.equal(parseAddress('').origin, 'http://127.0.0.1:8500')
  })
  it('honours http:// and https:// and CONSUL_HTTP_SSL', () => {
    assert.equal(parseAddress('https://example.com:8501').scheme, 'https')
    assert.equal(parseAddress('http://example.com:8500/').origin, 'http://example.com:8500')
    assert.equal(parseAddress('example.com:8501', true).scheme, 'https')
    assert.equal(parseAddress('https://example.com').port, 443)
  })
  it('brackets IPv6', () => {
    const address = parseAddress('[::1]:8500')
    assert.equal(address.host, '::1')
    assert.equal(address.origin, 'http://[::1]:8500')
  })
  it('unix:// is a socket path', () => {
    const address = parseAddress('unix:///tmp/consul.sock')
    assert.equal(address.socketPath, '/tmp/consul.sock')
  })
  it('rejects unknown schemes and bad ports', () => {
    assert.throws(() => parseAddress('ftp://x:1'), {code: 'API_CONFIG'})
    assert.throws(() => parseAddress('x:99999'), {code: 'API_CONFIG'})
  })
})
