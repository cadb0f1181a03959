// A blocking read on the agent's own socket parks as a small record and its handler returns; a
// wake-up or the deadline runs the request again (http/blocking.ts ParkedRequest). What must not
// change with that: keep-alive and pipelined requests on the parked connection, the X-Consul-*
// headers, the ACL re-check on wake-up, a hang-up freeing the record, many parked reads woken at
// once among hang-ups, and an agent that stops with reads parked.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import {Agent as HttpAgent} from 'node:http'
import Consul from 'consul'
import {writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {startAgent, tempDir, useCluster, type TestAgent} from '../helpers/agent.js'
import {consulClient, http, sleep} from '../helpers/http.js'

/** consul.rpc.queries_blocking now (Prometheus' reading is live; the JSON shows the last whole 10 s interval, as Consul's). */
async function gauge(addr: string, headers: Record<string, string> = {}): Promise<number> {
  const text = (await http(addr, 'GET', '/v1/agent/metrics?format=prometheus', undefined, headers)).text
  return Number(/^consul_rpc_queries_blocking(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? 0)
}

/** Parked reads whose connection is held outside node:http now (coord's http.blocking_held gauge, held-socket.ts). */
async function heldGauge(addr: string, headers: Record<string, string> = {}): Promise<number> {
  const text = (await http(addr, 'GET', '/v1/agent/metrics?format=prometheus', undefined, headers)).text
  return Number(/^consul_http_blocking_held(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? 0)
}

/** Agent flags for a config file with Prometheus' sink (and `extra` config) in `dir`. */
function telemetryConfig(dir: string, extra: object = {}): string[] {
  const file = join(dir, 'telemetry.json')
  writeFileSync(file, JSON.stringify({telemetry: {prometheus_retention_time: '60s', disable_hostname: true}, ...extra}))
  return [`-config-file=${file}`]
}

async function until(what: string, timeoutMs: number, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** A raw connection that collects what the agent writes, to check pipelined answers byte by byte. */
function rawConnection(addr: string): {socket: net.Socket; received: () => string; closed: Promise<void>} {
  const [host, port] = addr.split(':')
  const socket = net.connect(Number(port), host)
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => { text += chunk })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  return {socket, received: () => text, closed}
}

/** The HTTP/1.1 answers in `text`, in order (Content-Length framed, as the agent writes them). */
function answers(text: string): Array<{status: number; headers: Record<string, string>; body: string}> {
  const out: Array<{status: number; headers: Record<string, string>; body: string}> = []
  let rest = text
  for (let i = 0; i < 100; i++) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) break
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
    const length = Number(headers['content-length'] ?? 0)
    if (rest.length < end + 4 + length) break
    out.push({status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length)})
    rest = rest.slice(end + 4 + length)
  }
  return out
}

describe('parked blocking reads', () => {
  const dir = tempDir('coord-parked-')
  let agent: TestAgent
  before(async () => { agent = await startAgent({args: telemetryConfig(dir.path)}) })
  after(async () => {
    await agent.stop()
    dir.cleanup()
  })

  it('answer on a keep-alive connection that then serves pipelined requests in order', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/pipe', 'one')
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/parked/pipe')).headers['x-consul-index'])
    const conn = rawConnection(agent.httpAddr)
    // Three requests at once: the parked read, then two plain ones queued behind it on the same connection.
    conn.socket.write(`GET /v1/kv/parked/pipe?index=${index}&wait=30s HTTP/1.1\r\nHost: x\r\n\r\n` +
      'GET /v1/kv/parked/pipe?raw HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n')
    const before = await gauge(agent.httpAddr)
    await until('the read to park', 10_000, async () => (await gauge(agent.httpAddr)) >= 1)
    assert.equal(conn.received(), '', 'nothing answered while the first request is parked')
    assert.equal(await heldGauge(agent.httpAddr), 0, 'a read with requests pipelined behind it waits inside node:http')
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/pipe', 'two')
    await until('three answers', 10_000, async () => answers(conn.received()).length === 3)
    const [woken, raw, leader] = answers(conn.received())
    assert.equal(woken.status, 200)
    assert.equal(Buffer.from(JSON.parse(woken.body)[0].Value, 'base64').toString(), 'two')
    assert.ok(Number(woken.headers['x-consul-index']) > index)
    assert.equal(woken.headers['x-consul-knownleader'], 'true')
    assert.match(woken.headers['x-consul-lastcontact'] ?? '', /^\d+$/)
    // node:http runs a pipelined request as soon as it is parsed and holds its answer until those
    // before it are written: the raw read saw the value of its own time, and answered second.
    assert.equal(raw.status, 200)
    assert.ok(raw.body === 'one' || raw.body === 'two', `the pipelined read answered second with a value (${raw.body})`)
    assert.equal(leader.status, 200)
    // The connection stays open for another request, parked again and answered at its wait.
    const again = Number(woken.headers['x-consul-index'])
    const started = performance.now()
    conn.socket.write(`GET /v1/kv/parked/pipe?index=${again}&wait=1s HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until('the fourth read held outside node:http', 10_000, async () => (await heldGauge(agent.httpAddr)) === 1)
    await until('the fourth answer', 10_000, async () => answers(conn.received()).length === 4)
    const waited = performance.now() - started
    const timedOut = answers(conn.received())[3]
    assert.equal(timedOut.status, 200)
    assert.equal(Number(timedOut.headers['x-consul-index']), again, 'a read that times out answers with the same index')
    // wait 1 s plus up to 1/16 of it as jitter, never early (the timer wheel's ticks are 50 ms).
    console.log(`a parked read with wait=1s answered after ${waited.toFixed(0)} ms`)
    assert.ok(waited >= 995, `answered after ${waited.toFixed(0)} ms, not before its wait`)
    assert.equal(await heldGauge(agent.httpAddr), 0)
    conn.socket.destroy()
    await until('the gauge back where it was', 10_000, async () => (await gauge(agent.httpAddr)) === before)
  })

  it('a parked read waits with its connection held outside node:http: woken, it answers on that connection, then a request sent while it waited, then the connection is kept alive', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/held', 'one')
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/parked/held')).headers['x-consul-index'])
    await until('no read parked from earlier tests', 10_000, async () => (await gauge(agent.httpAddr)) === 0)
    const conn = rawConnection(agent.httpAddr)
    conn.socket.write(`GET /v1/kv/parked/held?index=${index}&wait=30s HTTP/1.1\r\nHost: x\r\nUser-Agent: held-test\r\nAccept-Encoding: gzip\r\n\r\n`)
    await until('the read held', 10_000, async () => (await heldGauge(agent.httpAddr)) === 1)
    assert.equal(await gauge(agent.httpAddr), 1)
    // A request sent while the read is held waits for it, as a pipelined request does.
    conn.socket.write('GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n')
    await sleep(200)
    assert.equal(conn.received(), '', 'nothing answered before the read wakes')
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/held', 'two')
    await until('two answers', 10_000, async () => answers(conn.received()).length === 2)
    const [woken, leader] = answers(conn.received())
    assert.equal(woken.status, 200)
    // The replayed request is the one the client sent: its Accept-Encoding asked for gzip.
    assert.equal(woken.headers['content-encoding'], 'gzip')
    assert.ok(Number(woken.headers['x-consul-index']) > index)
    assert.equal(woken.headers['x-consul-knownleader'], 'true')
    assert.equal(leader.status, 200)
    assert.match(leader.body, /^"[\d.]+:\d+"\n?$/)
    assert.equal(await heldGauge(agent.httpAddr), 0)
    // The same connection parks another read (held again) and answers it at its deadline.
    const again = Number(woken.headers['x-consul-index'])
    conn.socket.write(`GET /v1/kv/parked/held?index=${again}&wait=500ms&raw HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until('three answers', 10_000, async () => answers(conn.received()).length === 3)
    const timedOut = answers(conn.received())[2]
    assert.equal(timedOut.status, 200)
    assert.equal(timedOut.body, 'two')
    assert.equal(Number(timedOut.headers['x-consul-index']), again)
    // A client that asked to close after its answer gets the close (the replay keeps its Connection header).
    conn.socket.write(`GET /v1/kv/parked/held?index=${again}&wait=300ms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    await conn.closed
    assert.equal(answers(conn.received()).length, 4)
    assert.equal(answers(conn.received())[3].headers.connection, 'close')
    assert.equal(await gauge(agent.httpAddr), 0)
  })

  it('a client that half-closes while its read is held frees it; bytes past the bound close the connection', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/half', 'x')
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/parked/half')).headers['x-consul-index'])
    await until('no read parked from earlier tests', 10_000, async () => (await gauge(agent.httpAddr)) === 0)
    const half = rawConnection(agent.httpAddr)
    const flood = rawConnection(agent.httpAddr)
    for (const conn of [half, flood]) conn.socket.write(`GET /v1/kv/parked/half?index=${index}&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until('both held', 10_000, async () => (await heldGauge(agent.httpAddr)) === 2)
    half.socket.end()
    // 80 KiB that never end a request: past the 64 KiB a held connection keeps (held-socket.ts HELD_PENDING_MAX).
    flood.socket.write(`GET /v1/kv/x HTTP/1.1\r\nX-Long: ${'a'.repeat(80 * 1024)}`)
    await Promise.all([half.closed, flood.closed])
    await until('both reads freed', 10_000, async () => (await gauge(agent.httpAddr)) === 0)
    assert.equal(await heldGauge(agent.httpAddr), 0)
    assert.equal(half.received(), '', 'no answer to a client that went away')
  })

  it('the npm consul client with a keep-alive agent: a watch sees each change, and the connection is reused', async () => {
    const consul = consulClient(agent.httpAddr)
    await consul.kv.set('parked/client', 'v0')
    const first = await consul.kv.get({key: 'parked/client'})
    // The watch's own client: one keep-alive socket, counted as it is opened.
    const keepAlive = new HttpAgent({keepAlive: true, maxSockets: 1})
    let sockets = 0
    const open = keepAlive.createConnection.bind(keepAlive)
    keepAlive.createConnection = ((...args: Parameters<typeof open>) => { sockets++; return open(...args) }) as typeof open
    const [host, port] = agent.httpAddr.split(':')
    const watcher = new Consul({host, port: Number(port), agent: keepAlive})
    const seen: string[] = []
    const watch = watcher.watch({method: watcher.kv.get, options: {key: 'parked/client', wait: '10s'}, backoffFactor: 100})
    watch.on('change', (data: {Value: string} | undefined) => { if (data) seen.push(data.Value) })
    watch.on('error', () => {})
    try {
      await until('the watch to see v0', 10_000, async () => seen.includes('v0'))
      for (const value of ['v1', 'v2', 'v3']) {
        await until('the watch to park', 10_000, async () => (await gauge(agent.httpAddr)) >= 1)
        await consul.kv.set('parked/client', value)
        await until(`the watch to see ${value}`, 10_000, async () => seen.includes(value))
      }
    } finally {
      watch.end()
      keepAlive.destroy()
    }
    await until('the watch\'s last read freed', 10_000, async () => (await gauge(agent.httpAddr)) === 0)
    assert.deepEqual(seen.filter((v) => v !== 'v0'), ['v1', 'v2', 'v3'])
    assert.equal(sockets, 1, 'every blocking read of the watch went on one kept-alive connection')
    assert.ok(first.ModifyIndex > 0)
  })

  it('a hang-up frees the parked read; of many parked, the rest all wake on one write', async () => {
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/many', 'a')
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/parked/many')).headers['x-consul-index'])
    await until('no read parked from earlier tests', 10_000, async () => (await gauge(agent.httpAddr)) === 0)
    const before = 0
    const count = 400
    const conns = Array.from({length: count}, () => rawConnection(agent.httpAddr))
    for (const conn of conns) conn.socket.write(`GET /v1/kv/parked/many?index=${index}&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until(`${count} parked`, 30_000, async () => (await gauge(agent.httpAddr)) === before + count)
    assert.equal(await heldGauge(agent.httpAddr), count, 'every parked read held outside node:http')
    // Every other client hangs up: their records go (the gauge says so) before any write.
    for (const conn of conns.filter((_, i) => i % 2 === 0)) conn.socket.destroy()
    await until('the hung-up reads freed', 10_000, async () => (await gauge(agent.httpAddr)) === before + count / 2)
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/many', 'b')
    const stayed = conns.filter((_, i) => i % 2 === 1)
    await until('every remaining read answered', 30_000, async () => stayed.every((conn) => answers(conn.received()).length === 1))
    for (const conn of stayed) {
      const [answer] = answers(conn.received())
      assert.equal(answer.status, 200, answer.body)
      assert.equal(Buffer.from(JSON.parse(answer.body)[0].Value, 'base64').toString(), 'b')
      conn.socket.destroy()
    }
    assert.equal(await gauge(agent.httpAddr), before, 'no read left parked')
  })
})

describe('parked blocking reads with ACLs', () => {
  const dir = tempDir('coord-parked-acl-')
  const root = '11111111-2222-3333-4444-555555555555'
  let agent: TestAgent
  before(async () => {
    const args = telemetryConfig(dir.path, {acl: {enabled: true, default_policy: 'deny', tokens: {initial_management: root}}})
    agent = await startAgent({args, timeoutMs: 30_000})
    // The management token exists once the agent has a leader that applied it.
    await until('the management token', 30_000, async () => (await http(agent.httpAddr, 'GET', '/v1/acl/token/self', undefined, {'X-Consul-Token': root})).status === 200)
  })
  after(async () => {
    await agent.stop()
    dir.cleanup()
  })

  it('a read woken after its token was deleted answers 403, not the data', async () => {
    const asRoot = {'X-Consul-Token': root}
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/acl/policy', JSON.stringify({Name: 'read-secret', Rules: 'key "secret" { policy = "read" }'}), asRoot)).status, 200)
    const token = (await http(agent.httpAddr, 'PUT', '/v1/acl/token', JSON.stringify({Policies: [{Name: 'read-secret'}]}), asRoot)).json<{AccessorID: string; SecretID: string}>()
    await http(agent.httpAddr, 'PUT', '/v1/kv/secret', 's1', asRoot)
    const first = await http(agent.httpAddr, 'GET', '/v1/kv/secret', undefined, {'X-Consul-Token': token.SecretID})
    assert.equal(first.status, 200)
    const index = Number(first.headers['x-consul-index'])
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/secret?index=${index}&wait=30s`, undefined, {'X-Consul-Token': token.SecretID})
    await until('the read to park', 10_000, async () => (await gauge(agent.httpAddr, asRoot)) >= 1)
    assert.equal((await http(agent.httpAddr, 'DELETE', `/v1/acl/token/${token.AccessorID}`, undefined, asRoot)).status, 200)
    await http(agent.httpAddr, 'PUT', '/v1/kv/secret', 's2', asRoot)
    const woken = await parked
    assert.equal(woken.status, 403)
    assert.ok(!woken.text.includes('czI'), 'no value in the answer')
    assert.equal(await gauge(agent.httpAddr, asRoot), 0)
  })

  it('a woken read runs with what its first run parsed: recurse, pretty and the ?token= identity, its ACL rule checked again', async () => {
    const asRoot = {'X-Consul-Token': root}
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/acl/policy', JSON.stringify({Name: 'read-dir', Rules: 'key_prefix "dir/" { policy = "read" }'}), asRoot)).status, 200)
    const token = (await http(agent.httpAddr, 'PUT', '/v1/acl/token', JSON.stringify({Policies: [{Name: 'read-dir'}]}), asRoot)).json<{SecretID: string}>()
    await http(agent.httpAddr, 'PUT', '/v1/kv/dir/a', 'a', asRoot)
    const first = await http(agent.httpAddr, 'GET', `/v1/kv/dir/?recurse&token=${token.SecretID}`)
    assert.equal(first.status, 200)
    const index = Number(first.headers['x-consul-index'])
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/dir/?recurse&pretty&token=${token.SecretID}&index=${index}&wait=30s`)
    await until('the read to park', 10_000, async () => (await gauge(agent.httpAddr, asRoot)) >= 1)
    // A write outside the prefix answers nothing; one under it wakes the read, whose re-run lists both keys.
    await http(agent.httpAddr, 'PUT', '/v1/kv/other', 'o', asRoot)
    await http(agent.httpAddr, 'PUT', '/v1/kv/dir/b', 'b', asRoot)
    const woken = await parked
    assert.equal(woken.status, 200, woken.text)
    assert.ok(Number(woken.headers['x-consul-index']) > index)
    assert.deepEqual(JSON.parse(woken.text).map((entry: {Key: string}) => entry.Key), ['dir/a', 'dir/b'])
    assert.match(woken.text, /^\[\n {4}\{/, 'pretty-printed, as the first run asked')
    assert.equal(await gauge(agent.httpAddr, asRoot), 0)
  })
})

describe('an agent stopping with reads parked', () => {
  const dir = tempDir('coord-parked-stop-')
  after(() => dir.cleanup())

  it('closes their connections and exits', async () => {
    const agent = await startAgent({args: telemetryConfig(dir.path)})
    await http(agent.httpAddr, 'PUT', '/v1/kv/parked/stop', 'x')
    const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/parked/stop')).headers['x-consul-index'])
    const conns = Array.from({length: 20}, () => rawConnection(agent.httpAddr))
    for (const conn of conns) conn.socket.write(`GET /v1/kv/parked/stop?index=${index}&wait=10m HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until('20 parked', 10_000, async () => (await gauge(agent.httpAddr)) === 20)
    assert.equal(await heldGauge(agent.httpAddr), 20)
    const started = performance.now()
    const code = await agent.stop()
    console.log(`agent with 20 parked reads stopped in ${(performance.now() - started).toFixed(0)} ms (exit ${code})`)
    assert.equal(code, 0)
    await Promise.all(conns.map((conn) => conn.closed))
    for (const conn of conns) assert.ok(answers(conn.received()).every((a) => a.status !== 200 || a.body !== ''), 'no empty 200 answer')
  })
})

describe('an agent out of file descriptors', () => {
  // prlimit (util-linux) lowers the running agent's limit; without it there is no way to from here.
  const prlimit = spawnSync('prlimit', ['--version']).status === 0

  it('keeps running while more connections arrive than it may open, and answers once they close', {skip: prlimit ? false : 'prlimit (util-linux) is not installed'}, async () => {
    const agent = await startAgent()
    try {
      await http(agent.httpAddr, 'PUT', '/v1/kv/fd/a', 'x')
      const index = Number((await http(agent.httpAddr, 'GET', '/v1/kv/fd/a')).headers['x-consul-index'])
      assert.equal(spawnSync('prlimit', [`--pid=${agent.pid}`, '--nofile=200:200']).status, 0)
      // Parked reads and bare connections past the limit: accepts fail with EMFILE, and so does
      // every file the agent opens meanwhile (its runtime gauges read /proc once a second).
      const conns = Array.from({length: 400}, () => rawConnection(agent.httpAddr))
      conns.slice(0, 100).forEach((conn) => conn.socket.write(`GET /v1/kv/fd/a?index=${index}&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n`))
      await sleep(3000)
      assert.equal(agent.exited(), false, `the agent is still running\n${agent.output().slice(-1500)}`)
      for (const conn of conns) conn.socket.destroy()
      await until('the agent to answer again', 20_000, async () => {
        try {
          return (await http(agent.httpAddr, 'GET', '/v1/kv/fd/a?raw')).text === 'x'
        } catch {
          return false
        }
      })
      assert.equal(agent.exited(), false)
    } finally {
      assert.equal(await agent.stop(), 0)
    }
  })
})

describe('a blocking read through a client agent', () => {
  const config = tempDir('coord-parked-client-config-')
  const ctx = useCluster(1, 'coord-parked-client-', {clients: 1, extraArgs: telemetryConfig(config.path)})
  after(() => config.cleanup())

  it('waits with its connection held on the client and its read parked on the server; answered through the client, and a client that leaves frees both', async () => {
    const client = ctx.cluster.clients[0].httpAddr
    const server = ctx.cluster.servers[0].httpAddr
    await http(client, 'PUT', '/v1/kv/through/client', 'one')
    const index = Number((await http(client, 'GET', '/v1/kv/through/client')).headers['x-consul-index'])
    const heldBefore = await heldGauge(client)
    const parkedBefore = await gauge(server)
    const conn = rawConnection(client)
    conn.socket.write(`GET /v1/kv/through/client?index=${index}&wait=30s HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until('held on the client', 10_000, async () => (await heldGauge(client)) === heldBefore + 1)
    await until('parked on the server', 10_000, async () => (await gauge(server)) === parkedBefore + 1)
    await http(server, 'PUT', '/v1/kv/through/client', 'two')
    await until('the answer', 10_000, async () => answers(conn.received()).length === 1)
    const [woken] = answers(conn.received())
    assert.equal(woken.status, 200, woken.body)
    assert.equal(Buffer.from(JSON.parse(woken.body)[0].Value, 'base64').toString(), 'two')
    assert.ok(Number(woken.headers['x-consul-index']) > index)
    assert.equal(await heldGauge(client), heldBefore)
    // The connection is node:http's again: the next request on it is answered.
    conn.socket.write('GET /v1/kv/through/client?raw HTTP/1.1\r\nHost: x\r\n\r\n')
    await until('the second answer', 10_000, async () => answers(conn.received()).length === 2)
    assert.equal(answers(conn.received())[1].body, 'two')
    // A caller that leaves: the client lets go of the connection and tells the server, whose read goes.
    const again = Number(woken.headers['x-consul-index'])
    conn.socket.write(`GET /v1/kv/through/client?index=${again}&wait=60s HTTP/1.1\r\nHost: x\r\n\r\n`)
    await until('parked again on the server', 10_000, async () => (await gauge(server)) === parkedBefore + 1)
    conn.socket.destroy()
    await until('the client\'s held connection freed', 10_000, async () => (await heldGauge(client)) === heldBefore)
    await until('the server\'s parked read freed', 10_000, async () => (await gauge(server)) === parkedBefore)
  })
})
