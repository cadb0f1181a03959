// The check runners against real local servers and real scripts: statuses follow the target
// within one interval; thresholds, timeouts, output caps and script gating as Consul's.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {createServer as createTcpServer, type AddressInfo} from 'node:net'
import {createServer as createH2Server, createSecureServer as createSecureH2Server, constants as h2} from 'node:http2'
import {createSocket} from 'node:dgram'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkDefinitionProblem, scriptsDisabledMessage, startCheck, type CheckEnv, type CheckStatus, type RunningCheck} from '../../../src/lib/agent/checks/index.js'
import {checkDefinitionOf, type CheckFields} from '../../../src/lib/agent/definitions.js'
import {StatusThresholds, thresholdsOf} from '../../../src/lib/agent/checks/thresholds.js'
import {OutputBuffer} from '../../../src/lib/agent/checks/output.js'
import {decodeHealthStatus, encodeHealthRequest} from '../../../src/lib/agent/checks/grpc.js'
import {tcpProbe} from '../../../src/lib/agent/checks/tcp.js'

interface Report {status: CheckStatus; output: string; at: number}

/** Starts a check with a fast test floor (interval ≥ 50 ms) and no first-run stagger; collects reports. */
function run(def: Partial<CheckFields>, envPatch: Partial<CheckEnv> = {}) {
  const reports: Report[] = []
  const warnings: string[] = []
  const env: CheckEnv = {
    log: {debug: () => {}, warn: (m) => warnings.push(m)}, enableScriptChecks: true, outputMaxSize: 4096,
    aliasStatus: () => undefined, onLocalChange: () => () => {}, minIntervalMs: 50, random: () => 0, ...envPatch,
  }
  const check: RunningCheck = startCheck(checkDefinitionOf({CheckID: 'c1', ...def}), (status, output) => reports.push({status, output, at: Date.now()}), env)
  const waitFor = async (pred: (r: Report) => boolean, timeoutMs = 5000, since = 0): Promise<Report> => {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const found = reports.slice(since).find(pred)
      if (found) return found
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`no matching report in ${timeoutMs} ms; got ${JSON.stringify(reports.slice(-3))}`)
  }
  return {reports, warnings, check, waitFor}
}

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('thresholds and output buffers (pure)', () => {
  it('the first result is reported whatever the thresholds; later ones need their streak', () => {
    const t = new StatusThresholds(thresholdsOf({SuccessBeforePassing: 2, FailuresBeforeCritical: 3, FailuresBeforeWarning: 2}))
    const seq = (['critical', 'passing', 'passing', 'critical', 'critical', 'critical', 'passing'] as const).map((status) => t.next({status, output: status})?.status)
    assert.deepEqual(seq, ['critical', undefined, 'passing', undefined, 'warning', 'critical', undefined])
  })

  it('FailuresBeforeWarning defaults to FailuresBeforeCritical', () => {
    assert.deepEqual(thresholdsOf({FailuresBeforeCritical: 3}), {successBeforePassing: 0, failuresBeforeCritical: 3, failuresBeforeWarning: 3})
  })

  it('keeps the last bytes and says how many were captured', () => {
    const buffer = new OutputBuffer(10)
    for (const part of ['hello ', 'wonderful ', 'world']) buffer.write(Buffer.from(part))
    assert.equal(buffer.text(), 'rful world')
    assert.equal(buffer.captured(), 'Captured 10 of 21 bytes\n...\nrful world')
  })

  it('gRPC health messages round-trip', () => {
    assert.deepEqual([...encodeHealthRequest('web')], [0, 0, 0, 0, 5, 0x0a, 3, 0x77, 0x65, 0x62])
    assert.equal(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1)
  })

  it('definitions that cannot run are named', () => {
    assert.equal(checkDefinitionProblem(checkDefinitionOf({Args: ['true'], Interval: '1s'}), {enableScriptChecks: false}), scriptsDisabledMessage)
    assert.match(checkDefinitionProblem(checkDefinitionOf({HTTP: 'http://x'}), {enableScriptChecks: true}) ?? '', /Interval/)
    assert.match(checkDefinitionProblem(checkDefinitionOf({TTL: '10s'}), {enableScriptChecks: true}) ?? '', /TTL/)
  })
})

describe('HTTP checks', () => {
  let code = 200
  let seen: {method?: string; headers?: IncomingMessage['headers']; body?: string} = {}
  let body = 'hello'
  let hang = false
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = ''
    req.on('data', (c) => { text += String(c) })
    req.on('end', () => {
      seen = {method: req.method, headers: req.headers, body: text}
      if (hang) return
      res.writeHead(code)
      res.end(body)
    })
  })
  let port: number
  before(async () => { port = await listen(server) })
  after(() => { server.closeAllConnections(); server.close() })

  it('status follows 2xx → 429 → 5xx → refused, each within one interval', async () => {
    const interval = 200
    const {check, waitFor, reports} = run({HTTP: `http://127.0.0.1:${port}/health`, Interval: `${interval}ms`})
    try {
      const passing = await waitFor((r) => r.status === 'passing')
      assert.equal(passing.output, `HTTP GET http://127.0.0.1:${port}/health: 200 OK Output: hello`)
      const figures: string[] = []
      for (const [next, want] of [[429, 'warning'], [503, 'critical']] as const) {
        const since = reports.length
        const changed = Date.now()
        code = next
        const r = await waitFor((x) => x.status === want, 5000, since)
        figures.push(`${next}→${want} in ${r.at - changed} ms`)
        assert.ok(r.at - changed <= interval + 1000, figures.join(', '))
      }
      const since = reports.length
      const closed = Date.now()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      const refused = await waitFor((x) => x.status === 'critical' && /refused/.test(x.output), 5000, since)
      figures.push(`refused in ${refused.at - closed} ms`)
      assert.equal(refused.output, `Get "http://127.0.0.1:${port}/health": dial tcp 127.0.0.1:${port}: connect: connection refused`)
      assert.ok(refused.at - closed <= interval + 1000, figures.join(', '))
      console.log(`# HTTP check transitions (interval ${interval} ms): ${figures.join(', ')}`)
    } finally {
      check.stop()
      code = 200
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
    }
  })

  it('sends Method, Header (lists), Body and Consul\'s User-Agent', async () => {
    const {check, waitFor} = run({HTTP: `http://127.0.0.1:${port}/x`, Interval: '1s', Method: 'PUT', Header: {'X-Test': ['a', 'b']}, Body: '{"ok":true}'})
    try {
      const r = await waitFor(() => true)
      assert.match(r.output, /^HTTP PUT /)
      assert.equal(seen.method, 'PUT')
      assert.equal(seen.headers?.['x-test'], 'a, b')
      assert.equal(seen.headers?.['user-agent'], 'Consul Health Check')
      assert.equal(seen.body, '{"ok":true}')
    } finally {
      check.stop()
    }
  })

  it('caps the body at OutputMaxSize (its last bytes)', async () => {
    body = `${'a'.repeat(5000)}THE-END`
    const {check, waitFor} = run({HTTP: `http://127.0.0.1:${port}/`, Interval: '1s', OutputMaxSize: 100})
    try {
      const r = await waitFor(() => true)
      const out = r.output.slice(r.output.indexOf('Output: ') + 8)
      assert.equal(out.length, 100)
      assert.ok(out.endsWith('THE-END'))
    } finally {
      check.stop()
      body = 'hello'
    }
  })

  it('a server that never answers is critical after Timeout', async () => {
    hang = true
    const started = Date.now()
    const {check, waitFor} = run({HTTP: `http://127.0.0.1:${port}/slow`, Interval: '5s', Timeout: '300ms'})
    try {
      const r = await waitFor(() => true)
      const took = r.at - started
      assert.equal(r.status, 'critical')
      assert.match(r.output, /Client\.Timeout exceeded/)
      assert.ok(took >= 250 && took < 3000, `timed out after ${took} ms`)
    } finally {
      check.stop()
      hang = false
      server.closeAllConnections()
    }
  })

  it('SuccessBeforePassing and FailuresBeforeCritical hold the status until the streak', async () => {
    const {check, reports} = run({HTTP: `http://127.0.0.1:${port}/`, Interval: '60ms', SuccessBeforePassing: 3, FailuresBeforeCritical: 3})
    try {
      await sleep(150)
      assert.equal(reports[0]?.status, 'passing') // the first result is reported at once
      code = 500
      const failedAt = reports.length
      await sleep(1500)
      const after = reports.slice(failedAt).map((r) => r.status)
      // Two failures change nothing (no report); the third reports critical.
      assert.ok(after.includes('critical'), after.join(','))
      assert.ok(!after.includes('warning'))
    } finally {
      check.stop()
      code = 200
    }
  })
})

describe('HTTPS checks', () => {
  let dir: string | undefined
  let port = 0
  let server: ReturnType<typeof createHttpsServer> | undefined
  const skip = existsSync('/usr/bin/openssl') ? false : 'openssl is not installed (needed to make a test certificate)'
  before(async () => {
    if (skip) return
    dir = mkdtempSync(join(tmpdir(), 'coord-tls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=check.test'], {stdio: 'ignore'})
    server = createHttpsServer({key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem'))}, (_req, res) => res.end('tls ok'))
    port = await listen(server as unknown as Server)
  })
  after(() => { server?.close(); if (dir) rmSync(dir, {recursive: true, force: true}) })

  it('a self-signed certificate fails verification unless TLSSkipVerify', {skip}, async () => {
    const strict = run({HTTP: `https://127.0.0.1:${port}/`, Interval: '1s', TLSServerName: 'check.test'})
    const lax = run({HTTP: `https://127.0.0.1:${port}/`, Interval: '1s', TLSSkipVerify: true})
    try {
      const s = await strict.waitFor(() => true)
      assert.equal(s.status, 'critical')
      assert.match(s.output, /certificate/)
      const l = await lax.waitFor(() => true)
      assert.equal(l.status, 'passing', l.output)
      assert.match(l.output, /Output: tls ok$/)
    } finally {
      strict.check.stop()
      lax.check.stop()
    }
  })
})

describe('TCP checks', () => {
  it('passing while the port accepts, critical with the dial error once it is closed', async () => {
    const server = createTcpServer((socket) => socket.destroy())
    const port = await listen(server)
    const {check, waitFor, reports} = run({TCP: `127.0.0.1:${port}`, Interval: '100ms'})
    try {
      assert.equal((await waitFor(() => true)).output, `TCP connect 127.0.0.1:${port}: Success`)
      const since = reports.length
      await new Promise<void>((resolve) => server.close(() => resolve()))
      const r = await waitFor((x) => x.status === 'critical', 5000, since)
      assert.equal(r.output, `dial tcp 127.0.0.1:${port}: connect: connection refused`)
    } finally {
      check.stop()
    }
  })

  it('an event-loop stall past the timeout is not a failed connection (the timeout is judged after pending I/O)', async () => {
    const server = createTcpServer((socket) => socket.destroy())
    const port = await listen(server)
    try {
      for (let i = 0; i < 3; i++) {
        const probing = tcpProbe(`127.0.0.1:${port}`, 50, new AbortController().signal)
        // After the connect is issued (Node issues it on the next tick), block the loop for 6× the timeout.
        process.nextTick(() => {
          const until = Date.now() + 300
          while (Date.now() < until) { /* a stalled agent */ }
        })
        const result = await probing
        assert.equal(result.status, 'passing', result.output)
      }
    } finally {
      server.close()
    }
  })

  it('Interval below 1 s is raised to 1 s with a warning', async () => {
    const server = createTcpServer((socket) => socket.destroy())
    const port = await listen(server)
    const {check, reports, warnings} = run({TCP: `127.0.0.1:${port}`, Interval: '10ms'}, {minIntervalMs: undefined})
    try {
      await sleep(1500)
      assert.ok(reports.length >= 1 && reports.length <= 2, `${reports.length} runs in 1.5 s`)
      assert.ok(warnings.some((w) => /below minimum/.test(w)))
    } finally {
      check.stop()
      server.close()
    }
  })
})

describe('script checks', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'coord-script-')) })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('exit 0 passing, 1 warning, 2 critical; stdout and stderr captured', async () => {
    for (const [exit, want] of [[0, 'passing'], [1, 'warning'], [2, 'critical']] as const) {
      const {check, waitFor} = run({Args: ['sh', '-c', `echo out; echo err >&2; exit ${exit}`], Interval: '1s'})
      try {
        const r = await waitFor(() => true)
        assert.equal(r.status, want)
        assert.equal(r.output, 'out\nerr\n')
      } finally {
        check.stop()
      }
    }
  })

  it('a script past its Timeout is killed (with what it started) and critical', async () => {
    const marker = join(dir, 'survivor')
    const started = Date.now()
    const {check, waitFor} = run({Args: ['sh', '-c', `echo begun; (sleep 1; touch ${marker}) & sleep 10`], Interval: '10s', Timeout: '300ms'})
    try {
      const r = await waitFor(() => true)
      const took = r.at - started
      assert.equal(r.status, 'critical')
      assert.equal(r.output, 'Timed out (300ms) running check\n\nbegun\n')
      assert.ok(took < 3000, `reported after ${took} ms`)
      await sleep(1300)
      assert.equal(existsSync(marker), false, 'the background child outlived the kill')
    } finally {
      check.stop()
    }
  })

  it('output beyond OutputMaxSize keeps its end with Consul\'s "Captured" note', async () => {
    const {check, waitFor} = run({Args: ['sh', '-c', 'head -c 10000 /dev/zero | tr "\\0" x; echo END'], Interval: '1s', OutputMaxSize: 64})
    try {
      const r = await waitFor(() => true)
      assert.match(r.output, /^Captured 64 of 10004 bytes\n\.\.\.\nx+END\n$/)
    } finally {
      check.stop()
    }
  })

  it('refused when script checks are disabled: critical, and the script never runs', async () => {
    const marker = join(dir, 'ran')
    const {check, waitFor} = run({Args: ['touch', marker], Interval: '1s'}, {enableScriptChecks: false})
    try {
      const r = await waitFor(() => true)
      assert.equal(r.status, 'critical')
      assert.equal(r.output, scriptsDisabledMessage)
      await sleep(200)
      assert.equal(existsSync(marker), false)
    } finally {
      check.stop()
    }
  })

  it('a missing program is critical with Go\'s exec text', async () => {
    const {check, waitFor} = run({Args: ['/nonexistent/prog'], Interval: '1s'})
    try {
      assert.equal((await waitFor(() => true)).output, 'exec: "/nonexistent/prog": executable file not found in $PATH')
    } finally {
      check.stop()
    }
  })
})

describe('alias checks', () => {
  it('mirror the aliased service and follow local changes', async () => {
    let status: CheckStatus | undefined = 'passing'
    const listeners = new Set<() => void>()
    const {check, waitFor, reports} = run({AliasService: 'web'}, {
      aliasStatus: (_node, serviceId) => (serviceId === 'web' ? status : undefined),
      onLocalChange: (cb) => { listeners.add(cb); return () => listeners.delete(cb) },
    })
    try {
      assert.deepEqual(await waitFor(() => true), {...reports[0], status: 'passing', output: 'All checks passing.'})
      status = 'critical'
      for (const cb of listeners) cb()
      assert.equal((await waitFor((r) => r.status === 'critical')).output, 'Aliased service is critical')
      status = undefined
      for (const cb of listeners) cb()
      assert.equal((await waitFor((r) => /could not be found/.test(r.output))).output, 'Service web could not be found on node')
    } finally {
      check.stop()
    }
    assert.equal(listeners.size, 0, 'stop unsubscribes')
  })
})

describe('gRPC health checks', () => {
  let serving = 1
  const server = createH2Server()
  server.on('stream', (stream, headers) => {
    if (headers[h2.HTTP2_HEADER_PATH] !== '/grpc.health.v1.Health/Check') {
      stream.respond({':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown method'}, {endStream: true})
      return
    }
    stream.on('data', () => {})
    stream.on('end', () => {
      stream.respond({':status': 200, 'content-type': 'application/grpc'}, {waitForTrailers: true})
      stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0'}))
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, serving]))
    })
  })
  let port: number
  before(async () => { port = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))) })
  after(() => server.close())

  it('SERVING is passing, NOT_SERVING critical, a dead port critical', async () => {
    const {check, waitFor, reports} = run({GRPC: `127.0.0.1:${port}/web`, Interval: '100ms'})
    try {
      assert.equal((await waitFor(() => true)).output, `gRPC check 127.0.0.1:${port}/web: success`)
      const since = reports.length
      serving = 2
      assert.equal((await waitFor((r) => r.status === 'critical', 5000, since)).output, `gRPC 127.0.0.1:${port}/web serving status: NOT_SERVING`)
    } finally {
      check.stop()
    }
    const dead = run({GRPC: '127.0.0.1:1', Interval: '1s'})
    try {
      const r = await dead.waitFor(() => true)
      assert.equal(r.status, 'critical')
      assert.match(r.output, /connection refused/)
    } finally {
      dead.check.stop()
    }
  })
})

describe('H2PING checks', () => {
  const startH2c = (port = 0) => new Promise<{server: ReturnType<typeof createH2Server>; port: number}>((resolve) => {
    const server = createH2Server()
    server.listen(port, '127.0.0.1', () => resolve({server, port: (server.address() as AddressInfo).port}))
  })
  const close = (server: {close(cb: () => void): unknown}) => new Promise<void>((resolve) => server.close(() => resolve()))

  it('h2c (H2PingUseTLS false): passing while the server acks PINGs, critical when it is gone, passing again when it is back', async () => {
    const started = await startH2c()
    let server = started.server
    const port = started.port
    const {check, waitFor, reports} = run({H2PING: `127.0.0.1:${port}`, H2PingUseTLS: false, Interval: '100ms'})
    try {
      const first = await waitFor(() => true)
      assert.equal(first.status, 'passing', first.output)
      assert.equal(first.output, 'HTTP2 ping was successful')
      let since = reports.length
      await close(server)
      const down = await waitFor((r) => r.status === 'critical', 5000, since)
      assert.equal(down.output, `Failed to dial to 127.0.0.1:${port}: dial tcp 127.0.0.1:${port}: connect: connection refused`)
      since = reports.length
      ;({server} = await startH2c(port))
      assert.equal((await waitFor((r) => r.status === 'passing', 5000, since)).output, 'HTTP2 ping was successful')
    } finally {
      check.stop()
      await close(server)
    }
  })

  it('TLS (the default): a self-signed server fails verification unless TLSSkipVerify', {skip: existsSync('/usr/bin/openssl') ? false : 'openssl is not installed (needed to make a test certificate)'}, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coord-h2tls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=check.test'], {stdio: 'ignore'})
    const server = createSecureH2Server({key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem'))})
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
    const strict = run({H2PING: `127.0.0.1:${port}`, Interval: '1s'})
    const lax = run({H2PING: `127.0.0.1:${port}`, Interval: '100ms', TLSSkipVerify: true})
    try {
      const s = await strict.waitFor(() => true)
      assert.equal(s.status, 'critical')
      assert.match(s.output, /^Failed to dial to .*certificate/)
      const l = await lax.waitFor(() => true)
      assert.equal(l.status, 'passing', l.output)
      const since = lax.reports.length
      server.close()
      assert.equal((await lax.waitFor((r) => r.status === 'critical', 5000, since)).status, 'critical')
    } finally {
      strict.check.stop()
      lax.check.stop()
      server.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('UDP checks', () => {
  const bindEcho = (port = 0) => new Promise<{socket: ReturnType<typeof createSocket>; port: number}>((resolve) => {
    const socket = createSocket('udp4')
    socket.on('message', (_msg, from) => socket.send('ok', from.port, from.address))
    socket.bind(port, '127.0.0.1', () => resolve({socket, port: socket.address().port}))
  })

  it('passing while a socket answers, critical (connection refused) once it is closed, passing again when it is back', async () => {
    const bound = await bindEcho()
    let socket = bound.socket
    const port = bound.port
    const {check, waitFor, reports} = run({UDP: `127.0.0.1:${port}`, Interval: '100ms', Timeout: '2s'})
    try {
      const first = await waitFor(() => true)
      assert.equal(first.status, 'passing', first.output)
      assert.equal(first.output, `UDP connect 127.0.0.1:${port}: Success`)
      let since = reports.length
      await new Promise<void>((resolve) => socket.close(() => resolve()))
      const down = await waitFor((r) => r.status === 'critical', 5000, since)
      assert.match(down.output, new RegExp(`^read udp 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}: read: connection refused$`))
      since = reports.length
      ;({socket} = await bindEcho(port))
      assert.equal((await waitFor((r) => r.status === 'passing', 5000, since)).output, `UDP connect 127.0.0.1:${port}: Success`)
    } finally {
      check.stop()
      socket.close()
    }
  })

  it('a socket that never answers is passing after the timeout, as Consul\'s (UDP cannot tell silence from loss)', async () => {
    const silent = createSocket('udp4')
    const port = await new Promise<number>((resolve) => silent.bind(0, '127.0.0.1', () => resolve(silent.address().port)))
    const started = Date.now()
    const {check, waitFor} = run({UDP: `127.0.0.1:${port}`, Interval: '1s', Timeout: '300ms'})
    try {
      const r = await waitFor(() => true)
      assert.equal(r.status, 'passing')
      assert.ok(r.at - started >= 250, `reported after ${r.at - started} ms, not before the timeout`)
    } finally {
      check.stop()
      silent.close()
    }
  })
})
