// held-socket.ts against a real node:http server on loopback: which requests it takes from
// node:http, what a replay hands back (the same request, byte for byte in its head), and what the
// client sees of it on the wire.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {claimReplay, holdConnection, HELD_PENDING_MAX, type HeldConnection, type HoldingServer} from '../../../src/lib/http/held-socket.js'

interface Seen {req: IncomingMessage; res: ServerResponse}

/** A node:http server whose handler only records each request; the test decides what to do with it. */
function recordingServer(): {server: Server; holding: HoldingServer; next: () => Promise<Seen>; port: () => number} {
  const waiting: Array<(seen: Seen) => void> = []
  const queued: Seen[] = []
  const server = createServer((req, res) => {
    if (claimReplay(req, res)) return
    const seen = {req, res}
    const take = waiting.shift()
    if (take) take(seen)
    else queued.push(seen)
  })
  server.maxHeadersCount = 200
  return {
    server,
    holding: {server, held: new Set()},
    next: () => {
      const seen = queued.shift()
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push(resolve))
    },
    port: () => (server.address() as AddressInfo).port,
  }
}

function client(port: number): {socket: net.Socket; text: () => string; closed: Promise<void>} {
  const socket = net.connect(port, '127.0.0.1')
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => { text += chunk })
  socket.on('error', () => {})
  return {socket, text: () => text, closed: new Promise((resolve) => socket.on('close', () => resolve()))}
}

async function until(what: string, test: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(test(), `timed out waiting for ${what}`)
}

/** Sends `head` on a new connection and holds the request node:http makes of it (the test fails if it is not held). */
async function sendAndHold(s: ReturnType<typeof recordingServer>, head: string): Promise<{c: ReturnType<typeof client>; held: HeldConnection}> {
  const c = client(s.port())
  c.socket.write(head)
  const seen = await s.next()
  const held = holdConnection(s.holding, seen.req, seen.res, () => {})
  assert.ok(held, 'the request is held')
  return {c, held}
}

describe('held-socket: a parked request\'s connection outside node:http', () => {
  const s = recordingServer()
  before(() => new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', () => resolve())))
  after(() => new Promise<void>((resolve) => {
    for (const socket of s.holding.held) socket.destroy()
    s.server.close(() => resolve())
    s.server.closeAllConnections()
  }))

  it('holds a plain GET and replays it: the same method, URL, version and headers (case, order, repeats), then answers on the connection', async () => {
    const c = client(s.port())
    c.socket.write('GET /v1/kv/a?index=7&wait=1m HTTP/1.1\r\nHost: x\r\nX-Consul-Token: t1\r\nx-repeat: 1\r\nX-Repeat: 2\r\nAccept-Encoding: gzip\r\n\r\n')
    const first = await s.next()
    let gone = 0
    const held = holdConnection(s.holding, first.req, first.res, () => gone++)
    assert.ok(held, 'a plain GET is held')
    assert.equal(s.holding.held.size, 1)
    const made = held.replay()
    assert.ok(made, 'the replay made a request')
    assert.equal(s.holding.held.size, 0)
    assert.notEqual(made.req, first.req)
    assert.equal(made.req.method, 'GET')
    assert.equal(made.req.url, '/v1/kv/a?index=7&wait=1m')
    assert.equal(made.req.httpVersion, '1.1')
    assert.deepEqual(made.req.rawHeaders, first.req.rawHeaders)
    made.res.end('answered')
    await until('the answer', () => c.text().endsWith('answered'))
    assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/)
    assert.equal(gone, 0)
    // node:http has the connection back: the next request on it is an ordinary one.
    c.socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n')
    const next = await s.next()
    assert.equal(next.req.url, '/next')
    next.res.end('again')
    await until('the second answer', () => c.text().endsWith('again'))
    c.socket.destroy()
  })

  it('leaves alone what a replay could not reproduce: a body, Expect, a request already pipelined behind it', async () => {
    const withBody = client(s.port())
    withBody.socket.write('GET /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc')
    const body = await s.next()
    await new Promise((resolve) => body.req.on('end', resolve).resume())
    assert.equal(holdConnection(s.holding, body.req, body.res, () => {}), undefined, 'a request with a body')
    body.res.end('ok')

    const expect = client(s.port())
    expect.socket.write('GET /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n')
    // node:http answers Expect itself ('checkContinue' has no listener): the request still arrives.
    const expecting = await s.next()
    assert.equal(holdConnection(s.holding, expecting.req, expecting.res, () => {}), undefined, 'a request with Expect')
    expecting.res.end('ok')

    const piped = client(s.port())
    piped.socket.write('GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n')
    const p1 = await s.next()
    const p2 = await s.next()
    assert.equal(holdConnection(s.holding, p1.req, p1.res, () => {}), undefined, 'a request with another parsed behind it')
    p1.res.end('one')
    p2.res.end('two')
    await until('both pipelined answers, in order', () => /one[\s\S]*two$/.test(piped.text()))
    assert.equal(s.holding.held.size, 0)
    for (const c of [withBody, expect, piped]) c.socket.destroy()
  })

  it('keeps what the client sends while held and replays it after the held request', async () => {
    const {c, held} = await sendAndHold(s, 'GET /held HTTP/1.1\r\nHost: x\r\n\r\n')
    c.socket.write('GET /behind HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const made = held.replay()
    assert.ok(made)
    assert.equal(made.req.url, '/held')
    // The request sent while held reaches node:http right behind it, as a pipelined one.
    const behind = await s.next()
    assert.equal(behind.req.url, '/behind')
    behind.res.end('second')
    made.res.end('first')
    await until('both answers', () => /first[\s\S]*second$/.test(c.text()))
    c.socket.destroy()
  })

  it('a client that goes away while held ends it: half-close, reset, or more than the pending bound', async () => {
    for (const leave of ['end', 'destroy', 'flood'] as const) {
      const c = client(s.port())
      c.socket.write(`GET /${leave} HTTP/1.1\r\nHost: x\r\n\r\n`)
      const seen = await s.next()
      let gone = 0
      assert.ok(holdConnection(s.holding, seen.req, seen.res, () => gone++))
      if (leave === 'end') c.socket.end()
      else if (leave === 'destroy') c.socket.destroy()
      else c.socket.write(Buffer.alloc(HELD_PENDING_MAX + 1024, 'a'))
      await until(`the held connection closed (${leave})`, () => gone > 0)
      await c.closed
      assert.equal(s.holding.held.size, 0, leave)
      assert.equal(c.text(), '', `no answer (${leave})`)
    }
  })

  it('a request half-read behind the held one cannot be handed back: the replay asks to close after its answer', async () => {
    const {c, held} = await sendAndHold(s, 'GET /whole HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET /half HTTP/1.1\r\nHo')
    const made = held.replay()
    assert.ok(made)
    assert.equal(made.req.url, '/whole')
    assert.equal(made.req.headers.connection, 'close')
    made.res.end('whole')
    await c.closed
    assert.match(c.text(), /\r\nConnection: close\r\n[\s\S]*whole$/i)
  })

  it('a replay of a connection that closed meanwhile makes nothing', async () => {
    const {c, held} = await sendAndHold(s, 'GET /late HTTP/1.1\r\nHost: x\r\n\r\n')
    held.socket.destroy()
    assert.equal(held.replay(), undefined)
    await c.closed
  })
})
