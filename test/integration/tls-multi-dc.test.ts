// TLS between datacenters: dc1 and dc2 servers with certificates from one CA (`coord tls cert
// create -server -dc=dc1` / `-dc=dc2`), verify_incoming, verify_outgoing and verify_server_hostname
// on, WAN-joined. `?dc=dc2` from dc1 reaches dc2 over TLS, the dialer checking for
// server.dc2.consul. A third datacenter whose server presents a dc1 certificate is refused: a
// certificate for one datacenter cannot answer for another.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import type {AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {runCli, startDatacenterServer, tempDir} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'

describe('TLS across datacenters (verify_server_hostname names the datacenter)', () => {
  const dir = tempDir('coord-tls-multidc-')
  const certs = join(dir.path, 'certs')
  const subnet = randomSubnet()
  const agents: AgentProcess[] = []
  let s1: AgentProcess
  let s2: AgentProcess
  let s3: AgentProcess

  const config = (name: string, dc: string, index = 0) => {
    const path = join(dir.path, `${name}.json`)
    writeFileSync(path, JSON.stringify({tls: {
      defaults: {ca_file: join(certs, 'consul-agent-ca.pem'), cert_file: join(certs, `${dc}-server-consul-${index}.pem`), key_file: join(certs, `${dc}-server-consul-${index}-key.pem`), verify_incoming: true, verify_outgoing: true},
      internal_rpc: {verify_server_hostname: true},
    }}))
    return `-config-file=${path}`
  }

  before(async () => {
    mkdirSync(certs, {recursive: true})
    for (const args of [['ca', 'create'], ['cert', 'create', '-server', '-dc=dc1'], ['cert', 'create', '-server', '-dc=dc1'], ['cert', 'create', '-server', '-dc=dc2']]) {
      const res = await runCli(['tls', ...args], {cwd: certs})
      assert.equal(res.code, 0, res.stderr)
    }
    ;[s1, s2, s3] = await Promise.all([
      startDatacenterServer(dir.path, subnet, 1, 'dc1', [config('s1', 'dc1')]),
      startDatacenterServer(dir.path, subnet, 2, 'dc2', [config('s2', 'dc2'), `-retry-join-wan=${subnet}.1`]),
      // dc3's server holds a dc1 server certificate (index 1): valid CA, wrong datacenter.
      startDatacenterServer(dir.path, subnet, 3, 'dc3', [config('s3', 'dc1', 1), `-retry-join-wan=${subnet}.1`]),
    ])
    agents.push(s1, s2, s3)
    await until('all three servers alive in dc1\'s WAN view', async () => {
      const res = await http(s1.httpAddr, 'GET', '/v1/agent/members?wan').catch(() => undefined)
      return res?.status === 200 && res.json<AgentMember[]>().filter((m) => m.Status === 1).length === 3
    }, 20_000)
  })
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()))
    dir.cleanup()
  })

  it('?dc=dc2 from dc1 runs in dc2 over TLS', async () => {
    const put = await http(s1.httpAddr, 'PUT', '/v1/kv/tls/cross?dc=dc2', 'from dc1')
    assert.equal(put.status, 200, put.text)
    const direct = await http(s2.httpAddr, 'GET', '/v1/kv/tls/cross')
    assert.equal(direct.status, 200, direct.text)
    assert.equal(Buffer.from(direct.json<Array<{Value: string}>>()[0].Value, 'base64').toString(), 'from dc1')
  })

  it('a dc3 server presenting a dc1 certificate is refused: no path to dc3, the refusal logged once', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await http(s1.httpAddr, 'GET', '/v1/kv/tls/cross?dc=dc3')
      assert.equal(res.status, 500, res.text)
      assert.match(res.text, /No path to datacenter/)
    }
    const lines = s1.output().split('\n').filter((line) => line.includes('rpc connection refused') && line.includes(`${subnet}.3:`))
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], /not valid for server\.dc3\.consul \(verify_server_hostname\)/)
    // Nothing was written in dc3.
    const there = await http(s3.httpAddr, 'GET', '/v1/kv/tls/cross')
    assert.equal(there.status, 404)
  })
})
