// `coord tls ca create` and `coord tls cert create`, the real binary in a scratch directory:
// Consul's file names and numbering, the names and addresses in each kind of certificate, and the
// refusals (an existing CA is never overwritten, a kind must be chosen, a missing CA is named).
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {X509Certificate} from 'node:crypto'
import {runCli, tempDir} from '../helpers/agent.js'

describe('coord tls', () => {
  const dir = tempDir('coord-tls-cli-')
  after(() => dir.cleanup())
  const run = (args: string[]) => runCli(['tls', ...args], {cwd: dir.path})
  const cert = (name: string) => new X509Certificate(readFileSync(join(dir.path, name)))

  it('ca create writes consul-agent-ca.pem and its key (0600), and refuses to overwrite them', async () => {
    const res = await run(['ca', 'create'])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, '==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n')
    assert.equal(cert('consul-agent-ca.pem').ca, true)
    assert.equal(statSync(join(dir.path, 'consul-agent-ca-key.pem')).mode & 0o777, 0o600)
    const again = await run(['ca', 'create'])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^Error: consul-agent-ca\.pem already exists/)
  })

  it('cert create -server/-client/-cli: Consul names, numbering, SANs, signed by the CA', async () => {
    const server = await run(['cert', 'create', '-server', '-dc=dc2', '-node=n1', '-additional-dnsname=db.example', '-additional-ipaddress=10.0.0.5'])
    assert.equal(server.code, 0, server.stderr)
    assert.match(server.stdout, /WARNING: Server Certificates grants authority/)
    assert.match(server.stdout, /==> Using consul-agent-ca\.pem and consul-agent-ca-key\.pem\n==> Saved dc2-server-consul-0\.pem\n==> Saved dc2-server-consul-0-key\.pem\n/)
    const s = cert('dc2-server-consul-0.pem')
    assert.equal(s.subject, 'CN=server.dc2.consul')
    for (const name of ['DNS:server.dc2.consul', 'DNS:n1.server.dc2.consul', 'DNS:localhost', 'DNS:db.example', 'IP Address:127.0.0.1', 'IP Address:10.0.0.5']) assert.ok(s.subjectAltName?.includes(name), `${name}: ${s.subjectAltName}`)
    assert.ok(s.verify(cert('consul-agent-ca.pem').publicKey))
    const second = await run(['cert', 'create', '-server', '-dc=dc2'])
    assert.match(second.stdout, /Saved dc2-server-consul-1\.pem/)
    const client = await run(['cert', 'create', '-client', '-days=2'])
    assert.match(client.stdout, /Saved dc1-client-consul-0\.pem/)
    const c = cert('dc1-client-consul-0.pem')
    assert.equal(c.subject, 'CN=client.dc1.consul')
    const days = (new Date(c.validTo).getTime() - Date.now()) / 86_400_000
    assert.ok(days > 1.9 && days < 2.1, `valid ${days} days`)
    const cliCert = await run(['cert', 'create', '-cli'])
    assert.match(cliCert.stdout, /Saved dc1-cli-consul-0\.pem/)
    assert.equal(cert('dc1-cli-consul-0.pem').subjectAltName, 'DNS:cli.dc1.consul, DNS:localhost')
  })

  it('refuses a missing kind, two kinds, -node without -server, a missing CA, a bad address', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['cert', 'create'], /^Please provide either -server, -client, or -cli/],
      [['cert', 'create', '-server', '-client'], /^Please provide either -server, -client, or -cli/],
      [['cert', 'create', '-client', '-node=x'], /^Error: -node requires -server/],
      [['cert', 'create', '-client', '-ca=missing.pem'], /^Error reading CA: .*missing\.pem/],
      [['cert', 'create', '-client', '-additional-ipaddress=not-an-ip'], /^Error: -additional-ipaddress "not-an-ip" is not an IP address/],
      [['cert', 'create', '-client', '-dc=Bad DC'], /^Error: -dc "Bad DC"/],
    ]
    for (const [args, want] of cases) {
      const res = await run(args)
      assert.equal(res.code, 1, args.join(' '))
      assert.match(res.stderr, want, args.join(' '))
    }
  })
})
