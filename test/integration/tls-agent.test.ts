// One TLS agent as a process: bad certificate files stop the start with a `==>` line naming the
// file (never a plain-text fallback); `ports.http = -1` leaves HTTPS only, plain HTTP refused;
// `coord reload` (over HTTPS, with CONSUL_HTTP_SSL and a client certificate) picks up renewed
// certificates on both the HTTPS listener and the RPC port without restarting the agent; a reload
// naming a broken file is refused and the running certificates stay. A config watch on an
// HTTPS-only agent reaches the agent's API with the agent's own certificate.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createServer, createConnection} from 'node:net'
import {connect as tlsConnect} from 'node:tls'
import {request} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {createCa, createLeaf, type Pem} from '../../src/lib/tls/generate.js'
import {RPC_TLS_BYTE} from '../../src/lib/tls/rpc-tls.js'
import {runCli, tempDir} from '../helpers/agent.js'
import {sleep} from '../helpers/http.js'

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const port = (server.address() as {port: number}).port
      server.close(() => resolve(port))
    })
  })
}

/** The serial of the certificate a TLS listener presents (for the RPC port: after the type byte). */
function presentedSerial(host: string, port: number, files: {ca: string; cert: string; key: string}, rpc = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = createConnection({host, port}, () => {
      if (rpc) raw.write(Buffer.from([RPC_TLS_BYTE]))
      const socket = tlsConnect({socket: raw, ca: files.ca, cert: files.cert, key: files.key, servername: 'localhost'}, () => {
        resolve(socket.getPeerCertificate().serialNumber)
        socket.destroy()
      })
      socket.on('error', reject)
    })
    raw.on('error', reject)
  })
}

describe('a TLS agent: bad files, HTTPS only, certificate reload', () => {
  const dir = tempDir('coord-tls-agent-')
  // Its own loopback address: nothing else on the machine listens there (the 8500 check below).
  const host = `${randomSubnet()}.7`
  let ca: Pem
  let first: Pem
  let second: Pem
  let cliPem: Pem
  let agent: AgentProcess
  let rpcPort: number
  const path = (name: string) => join(dir.path, name)
  const write = (name: string, text: string) => { writeFileSync(path(name), text); return path(name) }
  const config = (name: string, files: {ca: string; cert: string; key: string}, extra: Record<string, unknown> = {}) => write(`${name}.json`, JSON.stringify({
    tls: {defaults: {ca_file: files.ca, cert_file: files.cert, key_file: files.key, verify_incoming: true, verify_outgoing: true}, internal_rpc: {verify_server_hostname: true}},
    ports: {http: -1, https: 0},
    ...extra,
  }))
  const args = (configFile: string, port = 0) => ['-dev', `-bind=${host}`, `-client=${host}`, '-dns-port=0', `-server-port=${port}`, '-serf-lan-port=0', '-serf-wan-port=0', '-node=tls-agent', `-config-file=${configFile}`]

  before(async () => {
    ca = await createCa({days: 30, domain: 'consul'})
    first = await createLeaf({kind: 'server', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 30})
    second = await createLeaf({kind: 'server', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 60})
    cliPem = await createLeaf({kind: 'cli', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 30})
    write('ca.pem', ca.cert)
    write('cli.pem', cliPem.cert)
    write('cli-key.pem', cliPem.key)
    write('current.pem', first.cert)
    write('current-key.pem', first.key)
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('bad certificate files fail the start with a ==> line naming the file', async () => {
    const expired = await createLeaf({kind: 'server', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: -1})
    const otherCa = await createCa({days: 30, domain: 'consul'})
    const cases: Array<[string, {ca: string; cert: string; key: string}, RegExp]> = [
      ['missing', {ca: path('ca.pem'), cert: path('nope.pem'), key: path('current-key.pem')}, /==> .*cert_file \S+nope\.pem: no such file/],
      ['not-pem', {ca: write('garbage.pem', 'not a certificate'), cert: path('current.pem'), key: path('current-key.pem')}, /==> .*ca_file \S+garbage\.pem: no PEM certificate found/],
      ['mismatch', {ca: path('ca.pem'), cert: path('current.pem'), key: path('cli-key.pem')}, /==> .*key_file \S+cli-key\.pem: the private key does not match the certificate/],
      ['expired', {ca: path('ca.pem'), cert: write('expired.pem', expired.cert), key: write('expired-key.pem', expired.key)}, /==> .*cert_file \S+expired\.pem: certificate expired at/],
      ['other-ca', {ca: write('other-ca.pem', otherCa.cert), cert: path('current.pem'), key: path('current-key.pem')}, /==> .*cert_file \S+current\.pem: the certificate is not signed by the CA/],
    ]
    // Unreadable: mode 000 (runCli drops root's override of file modes).
    const unreadable = write('unreadable-key.pem', first.key)
    chmodSync(unreadable, 0o000)
    cases.push(['unreadable', {ca: path('ca.pem'), cert: path('current.pem'), key: unreadable}, /==> .*key_file \S+unreadable-key\.pem: EACCES: permission denied/])
    for (const [name, files, want] of cases) {
      const res = await runCli(['agent', ...args(config(`bad-${name}`, files))], {timeoutMs: 15_000, obeyFileModes: name === 'unreadable'})
      assert.notEqual(res.code, 0, `${name}: the agent must not start`)
      assert.match(res.stderr + res.stdout, want, name)
      assert.doesNotMatch(res.stdout, /agent running/, name)
    }
  })

  it('HTTPS only: the banner says so, plain HTTP to the port is refused, the CLI works over https://', async () => {
    rpcPort = await freePort(host)
    // A config watch: with plain HTTP off the agent's own watcher must reach it over HTTPS.
    const watches = [{type: 'key', key: 'watched', args: ['sh', '-c', `cat > ${path('watch-out.json')}`]}]
    agent = await spawnAgent({name: 'tls-agent', timeoutMs: 20_000, args: [...args(config('good', {ca: path('ca.pem'), cert: path('current.pem'), key: path('current-key.pem')}, {watches, ports: {http: -1}, telemetry: {prometheus_retention_time: '60s', disable_hostname: true}}), rpcPort), '-https-port=0']})
    assert.equal(agent.httpAddr, '')
    assert.match(agent.output(), /HTTP: -1, HTTPS: \d+/)
    const [, port] = agent.httpsAddr.split(':')
    // Plain HTTP spoken to the HTTPS port gets no HTTP answer.
    const plain = await new Promise<string>((resolve) => {
      const req = request({host, port: Number(port), path: '/v1/status/leader', timeout: 5000}, (res) => resolve(`status ${res.statusCode}`))
      req.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`))
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.end()
    })
    assert.match(plain, /^error /, plain)
    // The default plain port is not open either (ports.http = -1).
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({host, port: 8500})
      socket.on('connect', () => { socket.destroy(); resolve(false) })
      socket.on('error', () => resolve(true))
    })
    assert.equal(refused, true, `nothing listens on ${host}:8500`)
    const env = {CONSUL_HTTP_SSL: 'true', CONSUL_CACERT: path('ca.pem'), CONSUL_CLIENT_CERT: path('cli.pem'), CONSUL_CLIENT_KEY: path('cli-key.pem'), CONSUL_TLS_SERVER_NAME: 'localhost'}
    const put = await runCli(['kv', 'put', 'a', 'b'], {httpAddr: agent.httpsAddr, env})
    assert.equal(put.code, 0, put.stderr)
    const get = await runCli(['kv', 'get', `-http-addr=https://${agent.httpsAddr}`, '-ca-file', path('ca.pem'), '-client-cert', path('cli.pem'), '-client-key', path('cli-key.pem'), '-tls-server-name', 'localhost', 'a'])
    assert.equal(get.stdout.trim(), 'b', get.stderr)
    // -ca-path: a directory of CA files.
    mkdirSync(path('ca-dir'))
    copyFileSync(path('ca.pem'), join(path('ca-dir'), 'ca.pem'))
    const viaCaPath = await runCli(['kv', 'get', `-http-addr=https://${agent.httpsAddr}`, '-ca-path', path('ca-dir'), '-client-cert', path('cli.pem'), '-client-key', path('cli-key.pem'), '-tls-server-name', 'localhost', 'a'])
    assert.equal(viaCaPath.stdout.trim(), 'b', viaCaPath.stderr)
    // CONSUL_HTTP_SSL_VERIFY=false skips the server check (the client certificate is still needed).
    const noVerify = await runCli(['kv', 'get', '-client-cert', path('cli.pem'), '-client-key', path('cli-key.pem'), 'a'], {httpAddr: `https://${agent.httpsAddr}`, env: {CONSUL_HTTP_SSL_VERIFY: 'false'}})
    assert.equal(noVerify.stdout.trim(), 'b', noVerify.stderr)
    const noCert = await runCli(['kv', 'get', '-ca-file', path('ca.pem'), '-tls-server-name', 'localhost', 'a'], {httpAddr: `https://${agent.httpsAddr}`})
    assert.notEqual(noCert.code, 0)
    assert.match(noCert.stderr, /remote error: tls: certificate required/)
    // The watch fires over HTTPS (the agent presents its own certificate to itself).
    const watched = await runCli(['kv', 'put', 'watched', 'hello'], {httpAddr: agent.httpsAddr, env})
    assert.equal(watched.code, 0, watched.stderr)
    let seen = ''
    for (let i = 0; i < 100 && !seen.includes(Buffer.from('hello').toString('base64')); i++) {
      await sleep(100)
      try { seen = readFileSync(path('watch-out.json'), 'utf8') } catch { /* not yet */ }
    }
    assert.match(seen, new RegExp(Buffer.from('hello').toString('base64')), `watch output: ${seen}\n${agent.output().split('\n').filter((l) => /watch/.test(l)).join('\n')}`)
  })

  it('a blocking read over HTTPS waits with its TLS connection held outside node:http and answers on it when woken', async () => {
    const [, port] = agent.httpsAddr.split(':')
    const creds = {ca: readFileSync(path('ca.pem')), cert: readFileSync(path('cli.pem')), key: readFileSync(path('cli-key.pem')), servername: 'localhost'}
    const call = (method: string, urlPath: string, body?: string) => new Promise<{status: number; headers: Record<string, string | string[] | undefined>; text: string}>((resolve, reject) => {
      const req = httpsRequest({host, port: Number(port), path: urlPath, method, agent: false, ...creds}, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { text += chunk })
        res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, text}))
      })
      req.on('error', reject)
      req.end(body)
    })
    const held = async () => Number(/^consul_http_blocking_held(?:\{[^}]*\})? (\S+)/m.exec((await call('GET', '/v1/agent/metrics?format=prometheus')).text)?.[1] ?? 0)
    assert.equal((await call('PUT', '/v1/kv/tls-held', 'one')).status, 200)
    const index = Number((await call('GET', '/v1/kv/tls-held')).headers['x-consul-index'])
    // The agent's own config watch (above) holds a blocking read of its own.
    const base = await held()
    const socket = tlsConnect({host, port: Number(port), ...creds})
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('error', () => {})
    await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject) })
    socket.write(`GET /v1/kv/tls-held?index=${index}&wait=30s&raw HTTP/1.1\r\nHost: localhost\r\n\r\n`)
    for (let i = 0; i < 100 && (await held()) !== base + 1; i++) await sleep(100)
    assert.equal(await held(), base + 1, 'the read is held outside node:http')
    assert.equal((await call('PUT', '/v1/kv/tls-held', 'two')).status, 200)
    for (let i = 0; i < 100 && !received.endsWith('two'); i++) await sleep(100)
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\ntwo$/)
    // The same TLS connection serves the next request (node:http has it back).
    received = ''
    socket.write('GET /v1/kv/tls-held?raw HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    await new Promise<void>((resolve) => socket.once('close', () => resolve()))
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\ntwo$/)
    assert.equal(await held(), base)
  })

  it('coord reload picks up renewed certificates on HTTPS and the RPC port; the agent keeps running', async () => {
    const files = {ca: ca.cert, cert: cliPem.cert, key: cliPem.key}
    const [, port] = agent.httpsAddr.split(':')
    const before = await presentedSerial(host, Number(port), files)
    const beforeRpc = await presentedSerial(host, rpcPort, files, true)
    assert.equal(before, beforeRpc)
    copyFileSync(write('second.pem', second.cert), path('current.pem'))
    copyFileSync(write('second-key.pem', second.key), path('current-key.pem'))
    const env = {CONSUL_CACERT: path('ca.pem'), CONSUL_CLIENT_CERT: path('cli.pem'), CONSUL_CLIENT_KEY: path('cli-key.pem'), CONSUL_TLS_SERVER_NAME: 'localhost'}
    const reload = await runCli(['reload'], {httpAddr: `https://${agent.httpsAddr}`, env})
    assert.equal(reload.code, 0, reload.stderr)
    const after = await presentedSerial(host, Number(port), files)
    const afterRpc = await presentedSerial(host, rpcPort, files, true)
    console.log(`# tls reload: HTTPS serial ${before} → ${after}, RPC ${beforeRpc} → ${afterRpc}`)
    assert.notEqual(after, before)
    assert.equal(afterRpc, after)
    assert.equal(agent.exited(), false)
    assert.match(agent.output(), /TLS certificates reloaded/)
    // The agent still serves over the renewed certificate.
    const get = await runCli(['kv', 'get', 'a'], {httpAddr: `https://${agent.httpsAddr}`, env})
    assert.equal(get.stdout.trim(), 'b', get.stderr)
  })

  it('a reload naming a broken certificate is refused; the running certificates stay', async () => {
    const [, port] = agent.httpsAddr.split(':')
    const files = {ca: ca.cert, cert: cliPem.cert, key: cliPem.key}
    const serving = await presentedSerial(host, Number(port), files)
    writeFileSync(path('current.pem'), 'truncated')
    process.kill(agent.pid, 'SIGHUP')
    for (let i = 0; i < 50 && !/Failed to reload configs/.test(agent.output()); i++) await sleep(100)
    assert.match(agent.output(), /Failed to reload configs: error=.*current\.pem: no PEM certificate found/)
    assert.equal(await presentedSerial(host, Number(port), files), serving)
    assert.equal(agent.exited(), false)
  })
})
