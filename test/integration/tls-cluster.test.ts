// TLS on real processes: certificates made by `coord tls`, a 3-server + 2-client cluster with
// verify_incoming, verify_outgoing and verify_server_hostname on. KV, locks and discovery work over
// HTTPS (CLI and the npm `consul` client with a client certificate) and over TLS between agents;
// an agent without a certificate, one with another CA's, and a client certificate posing as a
// server are refused, each refusal logged once however often the stranger retries.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Agent as HttpsAgent} from 'node:https'
import {Resolver} from 'node:dns/promises'
import {randomSubnet, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {runCli, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import Consul from 'consul'

async function cli(args: string[], cwd: string): Promise<void> {
  const res = await runCli(args, {cwd})
  assert.equal(res.code, 0, `coord ${args.join(' ')}: ${res.stderr}`)
}

/** Writes one role's TLS config and returns its -config-file flag. */
function tlsConfig(dir: string, name: string, files: {ca: string; cert: string; key: string}, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`)
  writeFileSync(path, JSON.stringify({
    tls: {
      defaults: {ca_file: files.ca, cert_file: files.cert, key_file: files.key, verify_incoming: true, verify_outgoing: true},
      internal_rpc: {verify_server_hostname: true},
    },
    ports: {https: 8501},
    ...extra,
  }))
  return `-config-file=${path}`
}

/** Lines of `output` that report a refused RPC connection from (or to) `host`. */
function refusals(output: string, host: string): string[] {
  return output.split('\n').filter((line) => line.includes('rpc connection refused') && line.includes(`peer=${host}:`))
}

/** Each reason at most once in one agent's log, however often the stranger retried. */
function assertEachReasonOnce(lines: string[]): void {
  const reasons = lines.map((line) => /reason="([^"]*)"/.exec(line)?.[1] ?? line)
  assert.equal(new Set(reasons).size, reasons.length, `a reason logged twice:\n${lines.join('\n')}`)
}

describe('TLS: a 3-server + 2-client cluster with verify_incoming, verify_outgoing, verify_server_hostname', () => {
  const dir = tempDir('coord-tls-')
  const certs = join(dir.path, 'certs')
  const other = join(dir.path, 'other-ca')
  const subnet = randomSubnet()
  let cluster: Cluster
  const strangers: AgentProcess[] = []
  let cliEnv: Record<string, string>
  const ca = join(certs, 'consul-agent-ca.pem')

  before(async () => {
    mkdirSync(certs, {recursive: true})
    mkdirSync(other, {recursive: true})
    // Everything made by the real CLI, with Consul's file names.
    await cli(['tls', 'ca', 'create'], certs)
    await cli(['tls', 'cert', 'create', '-server'], certs)
    await cli(['tls', 'cert', 'create', '-client'], certs)
    await cli(['tls', 'cert', 'create', '-cli'], certs)
    await cli(['tls', 'ca', 'create'], other)
    await cli(['tls', 'cert', 'create', '-client'], other)
    const started = Date.now()
    cluster = await startCluster({
      servers: 3, clients: 2, dir: join(dir.path, 'data'), subnet, timeoutMs: 45_000,
      serverArgs: [tlsConfig(dir.path, 'server', {ca, cert: join(certs, 'dc1-server-consul-0.pem'), key: join(certs, 'dc1-server-consul-0-key.pem')})],
      clientArgs: [tlsConfig(dir.path, 'client', {ca, cert: join(certs, 'dc1-client-consul-0.pem'), key: join(certs, 'dc1-client-consul-0-key.pem')})],
    })
    console.log(`# tls: 3 servers + 2 clients up with RPC TLS in ${Date.now() - started} ms`)
    cliEnv = {
      CONSUL_CACERT: ca, CONSUL_CLIENT_CERT: join(certs, 'dc1-cli-consul-0.pem'), CONSUL_CLIENT_KEY: join(certs, 'dc1-cli-consul-0-key.pem'),
      CONSUL_TLS_SERVER_NAME: 'localhost',
    }
  })
  after(async () => {
    await Promise.all(strangers.map((agent) => agent.stop()))
    await cluster?.stop()
    dir.cleanup()
  })

  const https = (i: number) => `https://${cluster.addresses[i]}:8501`

  it('the banner tells the truth: HTTPS on 8501 and RPC TLS with every verification on', () => {
    const out = cluster.servers[0].output()
    assert.match(out, /HTTPS: 8501/)
    assert.match(out, /Internal RPC TLS: Verify Incoming: true, Verify Outgoing: true \(Verify Hostname: true\)/)
    assert.match(out, /HTTPS TLS: Verify Incoming: true/)
    assert.match(cluster.clients[0].output(), /Started HTTPS server: address=\S+:8501/)
  })

  it('KV over HTTPS through both clients: a write on client-1 is read on client-2 (forwarded over RPC TLS)', async () => {
    const put = await runCli(['kv', 'put', '-http-addr', https(3), 'tls/key', 'v1'], {env: cliEnv})
    assert.equal(put.code, 0, put.stderr)
    const get = await runCli(['kv', 'get', '-http-addr', https(4), 'tls/key'], {env: cliEnv})
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout.trim(), 'v1')
    // The same over plain-HTTP-on-the-side is not what is being tested: the CLI went to 8501.
    const noCert = await runCli(['kv', 'get', '-http-addr', https(4), '-ca-file', ca, '-tls-server-name', 'localhost', 'tls/key'])
    assert.notEqual(noCert.code, 0, 'verify_incoming on HTTPS: a caller without a client certificate is refused')
    assert.match(noCert.stderr, /certificate required|handshake|alert/i)
  })

  it('the npm consul client over HTTPS with a client certificate', async () => {
    const agent = new HttpsAgent({
      ca: readFileSync(ca), cert: readFileSync(join(certs, 'dc1-cli-consul-0.pem')), key: readFileSync(join(certs, 'dc1-cli-consul-0-key.pem')), servername: 'localhost',
    })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const consul: any = new Consul({host: cluster.addresses[3], port: 8501, secure: true, agent})
    await consul.kv.set('tls/npm', 'from-npm')
    const got = await consul.kv.get('tls/npm') as {Value: string}
    assert.equal(got.Value, 'from-npm')
    const leader = await consul.status.leader()
    assert.match(String(leader), /:\d+$/)
    agent.destroy()
  })

  it('a lock over HTTPS: `coord lock` on a client runs its child while holding the lock', async () => {
    const res = await runCli(['lock', '-http-addr', https(3), 'tls/lock', 'echo held-$COORD_LOCK_TOKEN'], {env: cliEnv, timeoutMs: 30_000})
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /held-\d+/)
  })

  it('discovery: a service registered on client-1 is listed over HTTPS on client-2 and answered by its DNS', async () => {
    const reg = await runCli(['services', 'register', '-http-addr', https(3), '-name=web', '-port=8080'], {env: cliEnv})
    assert.equal(reg.code, 0, reg.stderr)
    const deadline = Date.now() + 20_000
    let listed = ''
    while (Date.now() < deadline) {
      const res = await runCli(['catalog', 'services', '-http-addr', https(4)], {env: cliEnv})
      listed = res.stdout
      if (res.code === 0 && /^web$/m.test(res.stdout)) break
      await sleep(250)
    }
    assert.match(listed, /^web$/m)
    const resolver = new Resolver({timeout: 3000, tries: 2})
    resolver.setServers([`${cluster.addresses[4]}:8600`])
    const answers = await resolver.resolve4('web.service.consul')
    assert.deepEqual(answers, [cluster.addresses[3]])
  })

  /** Starts a stranger agent; up once it runs (it will never reach a server). */
  async function stranger(name: string, index: number, args: string[]): Promise<AgentProcess> {
    const address = `${subnet}.${index}`
    const dataDir = join(dir.path, 'data', name)
    mkdirSync(dataDir, {recursive: true})
    const agent = await spawnAgent({
      name, timeoutMs: 30_000,
      args: [`-data-dir=${dataDir}`, `-node=${name}`, `-bind=${address}`, `-client=${address}`, ...cluster.addresses.slice(0, 3).map((a) => `-retry-join=${a}`), ...args],
    })
    strangers.push(agent)
    return agent
  }

  /** Asks the stranger for a KV read (forwarded to a server) a few times: every try must fail. */
  async function forwardedReadsFail(agent: AgentProcess): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const res = await http(agent.httpAddr, 'GET', '/v1/kv/tls/key')
      assert.notEqual(res.status, 200, `a read through ${agent.name} must not reach the servers: ${res.text}`)
      await sleep(200)
    }
  }

  it('an agent without a certificate is refused before any RPC is read, logged once per server', async () => {
    const agent = await stranger('no-cert', 10, [])
    await forwardedReadsFail(agent)
    const all = cluster.servers.map((s) => refusals(s.output(), `${subnet}.10`))
    console.log(`# tls: no-cert refusals per server: ${all.map((l) => l.length).join(', ')}`)
    assert.ok(all.some((lines) => lines.length > 0), 'some server logged the refusal')
    for (const lines of all) {
      assert.ok(lines.length <= 1, `logged once, not per attempt: ${lines.join('\n')}`)
      for (const line of lines) assert.match(line, /plain connection refused: verify_incoming requires TLS/)
      assertEachReasonOnce(lines)
    }
  })

  it("an agent with another CA's certificate is refused at the handshake, logged once per server", async () => {
    const agent = await stranger('other-ca', 11, [tlsConfig(dir.path, 'other', {
      ca: join(other, 'consul-agent-ca.pem'), cert: join(other, 'dc1-client-consul-0.pem'), key: join(other, 'dc1-client-consul-0-key.pem'),
    }, {ports: {https: -1}})])
    await forwardedReadsFail(agent)
    const all = cluster.servers.map((s) => refusals(s.output(), `${subnet}.11`))
    console.log(`# tls: other-CA refusals per server: ${all.map((l) => l.length).join(', ')}`)
    assert.ok(all.some((lines) => lines.length > 0), 'some server logged the refusal')
    for (const lines of all) {
      assert.ok(lines.length <= 1, `logged once, not per attempt: ${lines.join('\n')}`)
      for (const line of lines) assert.match(line, /TLS connection refused/)
      assertEachReasonOnce(lines)
    }
  })

  it('a client certificate cannot join as a server: its server RPCs are refused and it never becomes a voter', async () => {
    const agent = await stranger('fake-server', 12, ['-server', '-bootstrap-expect=3', tlsConfig(dir.path, 'fake', {
      ca, cert: join(certs, 'dc1-client-consul-0.pem'), key: join(certs, 'dc1-client-consul-0-key.pem'),
    }, {ports: {https: -1}})])
    await sleep(4000) // its retry-join polls every 500 ms: several refused attempts
    assert.equal(agent.exited(), false)
    const all = cluster.servers.map((s) => refusals(s.output(), `${subnet}.12`))
    console.log(`# tls: fake-server refusals per server: ${all.map((l) => l.length).join(', ')}`)
    assert.ok(all.some((lines) => lines.some((line) => /server-info request refused|Raft message refused/.test(line))), all.flat().join('\n'))
    // Logged once per reason (its server-info refused; the real servers' own dial to it failing the
    // name check), not once per poll.
    for (const lines of all) assertEachReasonOnce(lines)
    const peers = await runCli(['operator', 'raft', 'list-peers', '-http-addr', https(0)], {env: cliEnv})
    assert.equal(peers.code, 0, peers.stderr)
    // Not in the Raft configuration at all (not even as a non-voter): three voters, the real servers.
    assert.doesNotMatch(peers.stdout, /fake-server/, peers.stdout)
    const rows = peers.stdout.trim().split('\n').slice(1)
    assert.deepEqual(rows.map((row) => row.split(/\s+/)[0]).sort(), ['server-1', 'server-2', 'server-3'], peers.stdout)
    assert.ok(rows.every((row) => row.split(/\s+/)[4] === 'true'), peers.stdout)
    // The real cluster still writes.
    const put = await runCli(['kv', 'put', '-http-addr', https(3), 'tls/after', 'ok'], {env: cliEnv})
    assert.equal(put.code, 0, put.stderr)
  })
})
