// TLS pieces on their own: both of Consul's config forms and what is refused; the certificate files
// checked at start (missing, not PEM, key not matching, expired, another CA's), each error naming
// the file; certificates from generate.ts (names, usages, chain); and the RPC port's first-byte
// rule on real loopback sockets: plain vs TLS, verify_incoming, a client certificate posing as a
// server, refusals reported once however often the peer retries.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {X509Certificate} from 'node:crypto'
import {createConnection} from 'node:net'
import {encode} from '@msgpack/msgpack'
import {readTlsSettings, rpcTlsEnabled, type TlsSettings} from '../../../src/lib/tls/config.js'
import {lineSink} from '../../../src/lib/agent/config-problems.js'
import {loadTlsMaterial} from '../../../src/lib/tls/material.js'
import {createCa, createLeaf, type Pem} from '../../../src/lib/tls/generate.js'
import {RpcTls} from '../../../src/lib/tls/rpc-tls.js'
import {RpcTransport} from '../../../src/lib/rpc/transport.js'
import {encodeFrame} from '../../../src/lib/frame.js'
import {buildConfig, ConfigError} from '../../../src/lib/agent/config.js'
import {tempDir} from '../../helpers/agent.js'

function settings(raw: Record<string, unknown>): {settings: TlsSettings; problems: string[]} {
  const problems: string[] = []
  return {settings: readTlsSettings(raw, lineSink(problems)), problems}
}

describe('TLS config: both forms', () => {
  it('the tls block: protocol blocks inherit defaults, internal_rpc adds verify_server_hostname (which implies verify_outgoing)', () => {
    const {settings: s, problems} = settings({tls: {
      defaults: {ca_file: 'ca.pem', cert_file: 'c.pem', key_file: 'k.pem', verify_incoming: true, tls_min_version: 'TLSv1_3'},
      internal_rpc: {verify_server_hostname: true},
      https: {verify_incoming: false},
    }})
    assert.deepEqual(problems, [])
    assert.equal(s.internalRpc.caFile, 'ca.pem')
    assert.equal(s.internalRpc.verifyIncoming, true)
    assert.equal(s.internalRpc.verifyServerHostname, true)
    assert.equal(s.internalRpc.verifyOutgoing, true)
    assert.equal(s.https.verifyIncoming, false)
    assert.equal(s.https.certFile, 'c.pem')
    assert.equal(s.https.minVersion, 'TLSv1_3')
    assert.equal(rpcTlsEnabled(s), true)
  })

  it('the older top-level keys map to the same settings; the block wins where both are set', () => {
    const {settings: s, problems} = settings({
      ca_file: 'ca.pem', cert_file: 'c.pem', key_file: 'k.pem', verify_incoming_rpc: true, verify_incoming_https: false,
      verify_outgoing: true, verify_server_hostname: true, tls_min_version: 'tls12', tls_cipher_suites: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
      tls: {https: {cert_file: 'h.pem', key_file: 'hk.pem'}},
    })
    assert.deepEqual(problems, [])
    assert.equal(s.internalRpc.verifyIncoming, true)
    assert.equal(s.https.verifyIncoming, false)
    assert.equal(s.internalRpc.verifyServerHostname, true)
    assert.equal(s.internalRpc.minVersion, 'TLSv1_2')
    assert.deepEqual(s.internalRpc.cipherSuites, ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'])
    assert.equal(s.https.certFile, 'h.pem')
    assert.equal(s.internalRpc.certFile, 'c.pem')
  })

  it('refuses what it would not act on, and switches without what they need', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{auto_encrypt: {tls: true}}, /^auto_encrypt: coord does not distribute certificates/],
      [{tls: {grpc: {use_auto_cert: true}}}, /^tls\.grpc: coord serves no gRPC/],
      [{server_name: 'x'}, /^server_name: not supported/],
      [{tls: {defaults: {verify_incoming: true}}}, /tls\.https\.verify_incoming: VerifyIncoming set but no CA/],
      [{verify_outgoing: true}, /tls\.internal_rpc\.verify_outgoing: VerifyOutgoing set but no CA/],
      [{cert_file: 'c.pem'}, /key_file: cert_file is set but key_file is not/],
      [{tls_min_version: 'TLSv9'}, /tls_min_version: expected one of/],
      [{tls_cipher_suites: 'TLS_RSA_WITH_RC4_128_SHA'}, /unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/],
      [{tls: {defaults: {verify_server_hostname: true}}}, /invalid config key tls\.defaults\.verify_server_hostname/],
      [{tls: {internal_rpc: {verify_incoming: 'yes'}}}, /tls\.internal_rpc\.verify_incoming: expected true or false/],
      [{tls: {unknown: {}}}, /invalid config key tls\.unknown/],
    ]
    for (const [raw, want] of cases) {
      const {problems} = settings(raw)
      assert.ok(problems.some((p) => want.test(p)), `${JSON.stringify(raw)} → ${JSON.stringify(problems)}`)
    }
  })

  it('buildConfig: ports.https without a certificate and ports.grpc_tls are refused; nothing TLS is "accepted and ignored"', () => {
    const warnings: string[] = []
    assert.throws(() => buildConfig({ports: {https: 8501}}, {dev: true, warn: (w) => warnings.push(w)}), (e: ConfigError) => /ports\.https: the HTTPS listener needs a certificate/.test(e.message))
    assert.throws(() => buildConfig({ports: {grpc_tls: 8503}}, {dev: true}), (e: ConfigError) => /ports\.grpc_tls: coord serves no gRPC/.test(e.message))
    assert.throws(() => buildConfig({auto_encrypt: {allow_tls: true}}, {dev: true}), /auto_encrypt/)
    const config = buildConfig({ports: {http: -1, grpc_tls: -1}, tls: {}}, {dev: true, warn: (w) => warnings.push(w)})
    assert.equal(config.ports.http, -1)
    assert.equal(config.ports.https, -1)
    assert.equal(config.tls.rpc, undefined)
    assert.deepEqual(warnings.filter((w) => /tls|ca_file|cert|verify|https/.test(w)), [])
  })
})

describe('TLS files and generated certificates', () => {
  const dir = tempDir('coord-tls-unit-')
  let ca: Pem
  let otherCa: Pem
  let server: Pem
  let client: Pem
  const file = (name: string, text: string) => {
    const path = join(dir.path, name)
    writeFileSync(path, text)
    return path
  }
  before(async () => {
    ca = await createCa({days: 30, domain: 'consul'})
    otherCa = await createCa({days: 30, domain: 'consul'})
    server = await createLeaf({kind: 'server', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 10, dnsNames: ['extra.example'], ipAddresses: ['10.1.2.3']})
    client = await createLeaf({kind: 'client', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 10})
  })
  after(() => dir.cleanup())

  it('server certificates carry server.<dc>.<domain>, localhost, 127.0.0.1 and the extras, signed by the CA', () => {
    const cert = new X509Certificate(server.cert)
    assert.equal(cert.subject, 'CN=server.dc1.consul')
    for (const name of ['DNS:server.dc1.consul', 'DNS:localhost', 'DNS:extra.example', 'IP Address:127.0.0.1', 'IP Address:10.1.2.3']) {
      assert.ok(cert.subjectAltName?.includes(name), `${name} in ${cert.subjectAltName}`)
    }
    assert.ok(cert.verify(new X509Certificate(ca.cert).publicKey))
    assert.equal(cert.verify(new X509Certificate(otherCa.cert).publicKey), false)
    assert.equal(new X509Certificate(ca.cert).ca, true)
    assert.equal(cert.ca, false)
  })

  it('a CA key that does not belong to the CA certificate is refused', async () => {
    await assert.rejects(createLeaf({kind: 'client', caCert: ca.cert, caKey: otherCa.key, datacenter: 'dc1', domain: 'consul', days: 1}), /does not belong to the CA certificate/)
    await assert.rejects(createLeaf({kind: 'client', caCert: ca.cert, caKey: 'garbage', datacenter: 'dc1', domain: 'consul', days: 1}), /not a valid private key/)
  })

  it('good files load; every bad one is an error naming the file', async () => {
    const base = {caPath: '', verifyIncoming: true, verifyOutgoing: true, minVersion: 'TLSv1_2' as const, cipherSuites: []}
    const caFile = file('ca.pem', ca.cert)
    const good = {...base, caFile, certFile: file('s.pem', server.cert), keyFile: file('s-key.pem', server.key)}
    const material = loadTlsMaterial(good)
    assert.equal(material.ca.length, 1)
    // ca_path: every file in the directory is read; an empty one is an error.
    const caDir = join(dir.path, 'ca-dir')
    const emptyDir = join(dir.path, 'empty-dir')
    mkdirSync(caDir)
    mkdirSync(emptyDir)
    writeFileSync(join(caDir, 'a.pem'), otherCa.cert)
    writeFileSync(join(caDir, 'b.pem'), ca.cert)
    assert.equal(loadTlsMaterial({...good, caFile: '', caPath: caDir}).ca.length, 2)
    assert.throws(() => loadTlsMaterial({...good, caFile: '', caPath: emptyDir}), /ca_path \S+empty-dir: no certificates found/)
    const expired = await createLeaf({kind: 'server', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: -1})
    const cases: Array<[Partial<typeof good>, RegExp]> = [
      [{certFile: join(dir.path, 'missing.pem')}, /cert_file \S+missing\.pem: no such file/],
      [{caFile: file('notpem.pem', 'hello')}, /ca_file \S+notpem\.pem: no PEM certificate found/],
      [{keyFile: file('client-key.pem', client.key)}, /key_file \S+client-key\.pem: the private key does not match the certificate in \S+s\.pem/],
      [{keyFile: file('bad-key.pem', 'nope')}, /key_file \S+bad-key\.pem: no PEM private key/],
      [{certFile: file('expired.pem', expired.cert), keyFile: file('expired-key.pem', expired.key)}, /cert_file \S+expired\.pem: certificate expired at/],
      [{caFile: file('other-ca.pem', otherCa.cert)}, /cert_file \S+s\.pem: the certificate is not signed by the CA in \S+other-ca\.pem/],
      [{caFile: dir.path}, /ca_file \S+: /],
    ]
    for (const [change, want] of cases) assert.throws(() => loadTlsMaterial({...good, ...change}), want, JSON.stringify(change))
  })

  describe('the RPC port', () => {
    const transports: RpcTransport[] = []
    const rpcTls = (kind: 'server' | 'client', pem: Pem, caPem: Pem, extra: Record<string, unknown> = {}) => {
      const problems: string[] = []
      const s = readTlsSettings({tls: {
        defaults: {ca_file: file(`ca-${kind}-${transports.length}.pem`, caPem.cert), cert_file: file(`${kind}-${transports.length}.pem`, pem.cert), key_file: file(`${kind}-${transports.length}-key.pem`, pem.key), verify_incoming: true, verify_outgoing: true, ...extra},
        internal_rpc: {verify_server_hostname: true},
      }}, lineSink(problems))
      assert.deepEqual(problems, [])
      return new RpcTls(s, loadTlsMaterial(s.internalRpc), 'dc1', 'consul.')
    }
    const transport = (opts: ConstructorParameters<typeof RpcTransport>[0]) => {
      const t = new RpcTransport({connectTimeoutMs: 1000, maxBackoffMs: 100, ...opts})
      transports.push(t)
      return t
    }
    after(async () => { await Promise.all(transports.map((t) => t.close())) })

    it('TLS peers talk; a plain dialer, no certificate, another CA and a client posing as a server are refused, each once', async () => {
      const refused: string[] = []
      const messages: string[] = []
      const srv = transport({localId: 'srv', tls: rpcTls('server', server, ca), onRefused: (_peer, reason) => refused.push(reason)})
      srv.onRequest('echo', async (_from, body) => body, 'any')
      srv.onRequest('server-only', async () => 'secret')
      srv.onMessage((from) => messages.push(from))
      const port = await srv.listen('127.0.0.1', 0)
      const address = `127.0.0.1:${port}`

      // A client certificate: client methods yes, server-only methods and Raft messages no.
      const cli = transport({localId: 'cli', tls: rpcTls('client', client, ca)})
      assert.equal(await cli.request(address, 'echo', 'hi', 2000), 'hi')
      await assert.rejects(cli.request(address, 'server-only', null, 2000))
      // A second server certificate may do both.
      const peer = transport({localId: 'peer', tls: rpcTls('server', server, ca)})
      assert.equal(await peer.request(address, 'server-only', null, 2000), 'secret')
      peer.send(address, {raft: 1})
      // Another CA's certificate never gets through the handshake (3 tries, one refusal line).
      const foreign = await createLeaf({kind: 'server', caCert: otherCa.cert, caKey: otherCa.key, datacenter: 'dc1', domain: 'consul', days: 1})
      const stranger = transport({localId: 'x', tls: rpcTls('server', foreign, otherCa)})
      for (let i = 0; i < 3; i++) await assert.rejects(stranger.request(address, 'echo', 'hi', 1000))
      // TLS with the right CA but no certificate of its own: refused after the handshake, before any frame.
      const problems: string[] = []
      const caOnly = readTlsSettings({tls: {defaults: {ca_file: file('ca-only.pem', ca.cert), verify_outgoing: true}}}, lineSink(problems))
      assert.deepEqual(problems, [])
      const anonymous = transport({localId: 'anon', tls: new RpcTls(caOnly, loadTlsMaterial(caOnly.internalRpc), 'dc1', 'consul.')})
      for (let i = 0; i < 2; i++) await assert.rejects(anonymous.request(address, 'echo', 'hi', 1000))
      // A plain dialer: refused before any frame is read, every time, reported once.
      for (let i = 0; i < 3; i++) {
        const closed = await new Promise<boolean>((resolve) => {
          const socket = createConnection({host: '127.0.0.1', port}, () => socket.write(encodeFrame(encode({k: 'hello', from: 'plain'}))))
          socket.on('close', () => resolve(true))
          socket.on('error', () => {})
          setTimeout(() => { socket.destroy(); resolve(false) }, 2000)
        })
        assert.equal(closed, true, 'the server closed the plain connection')
      }
      for (let i = 0; i < 20 && !messages.includes('peer'); i++) await new Promise((r) => setTimeout(r, 50))
      assert.deepEqual(messages, ['peer'])
      console.log(`# refusals: ${JSON.stringify(refused)}`)
      const count = (re: RegExp) => refused.filter((r) => re.test(r)).length
      assert.equal(count(/^plain connection refused: verify_incoming/), 1)
      assert.equal(count(/^server-only request refused: the peer's certificate \(client\.dc1\.consul\) does not name server\.dc1\.consul/), 1)
      assert.equal(count(/^TLS connection refused: the peer ended the handshake/), 1)
      assert.equal(count(/^TLS connection refused: no client certificate \(verify_incoming\)/), 1)
    })

    it('without verify_incoming the port takes plain and TLS dialers alike (a rolling upgrade); a reload can turn TLS on', async () => {
      const server2 = transport({localId: 'srv2', tls: rpcTls('server', server, ca, {verify_incoming: false, verify_outgoing: false})})
      server2.onRequest('echo', async (_from, body) => body, 'any')
      const port = await server2.listen('127.0.0.1', 0)
      const plain = transport({localId: 'plain'})
      assert.equal(await plain.request(`127.0.0.1:${port}`, 'echo', 'plain', 2000), 'plain')
      const secure = transport({localId: 'tls', tls: rpcTls('client', client, ca)})
      assert.equal(await secure.request(`127.0.0.1:${port}`, 'echo', 'tls', 2000), 'tls')
      // A server without TLS refuses a TLS dialer rather than reading the handshake as frames.
      const old = transport({localId: 'old'})
      old.onRequest('echo', async (_from, body) => body, 'any')
      const oldPort = await old.listen('127.0.0.1', 0)
      await assert.rejects(secure.request(`127.0.0.1:${oldPort}`, 'echo', 'x', 1000))
      // A reload turning TLS on for that port: the same dialer now gets through, a plain one no longer.
      old.setTls(rpcTls('server', server, ca))
      assert.equal(await secure.request(`127.0.0.1:${oldPort}`, 'echo', 'now tls', 3000), 'now tls')
      const plain2 = transport({localId: 'plain2'})
      await assert.rejects(plain2.request(`127.0.0.1:${oldPort}`, 'echo', 'plain', 1000))
    })
  })
})
