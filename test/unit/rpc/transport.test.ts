// The server RPC transport over real loopback sockets.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createConnection, createServer, type Socket} from 'node:net'
import {encodeFrame, FrameDecoder, FrameTooLargeError} from '../../../src/lib/frame.js'
import {RpcRequestError, RpcTransport, splitHostPort} from '../../../src/lib/rpc/transport.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}


/** A loopback port that was just free and that nothing listens on (a peer that is down). */
async function portNobodyListensOn(): Promise<number> {
  const probe = new RpcTransport({localId: 'probe'})
  const port = await probe.listen('127.0.0.1', 0)
  await probe.close()
  return port
}
describe('FrameDecoder', () => {
  it('reassembles frames split and joined arbitrarily', () => {
    const frames = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70_000, 7)]
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f)))
    const decoder = new FrameDecoder(1 << 20)
    const out: Buffer[] = []
    for (let i = 0; i < stream.length; i += 333) out.push(...decoder.push(stream.subarray(i, i + 333)))
    assert.deepEqual(out.map((f) => f.length), [5, 0, 70_000])
    assert.equal(out[0].toString(), 'hello')
  })

  it('refuses a frame over the limit', () => {
    const decoder = new FrameDecoder(10)
    assert.throws(() => decoder.push(encodeFrame(Buffer.alloc(11))), FrameTooLargeError)
  })
})

describe('RpcTransport', () => {
  it('delivers one-way messages with bigint and bytes intact, and answers requests', async () => {
    const a = new RpcTransport({localId: 'a'})
    const b = new RpcTransport({localId: 'b'})
    const received: Array<{from: string; body: unknown}> = []
    b.onMessage((from, body) => received.push({from, body}))
    b.onRequest('double', async (_from, body) => (body as number) * 2)
    b.onRequest('fail', async () => { throw new Error('nope') })
    const port = await b.listen('127.0.0.1', 0)
    try {
      a.send(`127.0.0.1:${port}`, {term: 3n, data: new Uint8Array([1, 2, 3])})
      await waitFor(() => received.length === 1)
      assert.equal(received[0].from, 'a')
      const body = received[0].body as {term: bigint; data: Uint8Array}
      assert.equal(body.term, 3n)
      assert.deepEqual([...body.data], [1, 2, 3])
      assert.equal(await a.request(`127.0.0.1:${port}`, 'double', 21, 1000), 42)
      await assert.rejects(a.request(`127.0.0.1:${port}`, 'fail', null, 1000), /nope/)
      await assert.rejects(a.request(`127.0.0.1:${port}`, 'missing', null, 1000), /unknown method/)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('queues while a peer is down and delivers once it comes up', async () => {
    const port = await portNobodyListensOn()
    const a = new RpcTransport({localId: 'a', maxBackoffMs: 100})
    const b = new RpcTransport({localId: 'b'})
    const received: unknown[] = []
    b.onMessage((_from, body) => received.push(body))
    try {
      a.send(`127.0.0.1:${port}`, 'early')
      await sleep(150)
      await b.listen('127.0.0.1', port)
      await waitFor(() => received.length === 1)
      assert.deepEqual(received, ['early'])
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a down peer\'s queue is bounded in bytes as well as messages: the newest are delivered, the oldest dropped', async () => {
    const port = await portNobodyListensOn()
    const a = new RpcTransport({localId: 'a', maxBackoffMs: 100, maxQueuedBytes: 64 * 1024})
    const b = new RpcTransport({localId: 'b'})
    const received: number[] = []
    b.onMessage((_from, body) => received.push((body as {n: number}).n))
    try {
      // 40 messages of ~10 KB (far fewer than maxQueuedMessages): only the last ~6 fit in 64 KiB.
      for (let n = 0; n < 40; n++) a.send(`127.0.0.1:${port}`, {n, pad: Buffer.alloc(10_000)})
      await sleep(150)
      await b.listen('127.0.0.1', port)
      await waitFor(() => received.includes(39))
      await sleep(100)
      assert.ok(received.length >= 1 && received.length <= 7, `only what fits in the byte bound is delivered (${received.length}: ${received.join(',')})`)
      assert.deepEqual(received, Array.from({length: received.length}, (_, i) => 40 - received.length + i), 'the newest, in order')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('one-way messages that waited longer than maxQueuedAgeMs are dropped when the peer comes up; fresher ones are delivered', async () => {
    const port = await portNobodyListensOn()
    const a = new RpcTransport({localId: 'a', maxBackoffMs: 100, maxQueuedAgeMs: 1500})
    const b = new RpcTransport({localId: 'b'})
    const received: string[] = []
    b.onMessage((_from, body) => received.push(body as string))
    try {
      a.send(`127.0.0.1:${port}`, 'stale')
      await sleep(2000)
      a.send(`127.0.0.1:${port}`, 'fresh')
      await b.listen('127.0.0.1', port)
      await waitFor(() => received.includes('fresh'))
      await sleep(100)
      assert.deepEqual(received, ['fresh'])
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a request that never left is reported unsent and is not delivered later (safe to retry elsewhere)', async () => {
    const port = await portNobodyListensOn()
    const a = new RpcTransport({localId: 'a', maxBackoffMs: 50})
    const b = new RpcTransport({localId: 'b'})
    const served: unknown[] = []
    b.onRequest('write', async (_from, body) => { served.push(body); return 'ok' })
    b.onRequest('fail', async () => { throw new Error('handler said no') })
    try {
      const refused = await a.request(`127.0.0.1:${port}`, 'write', 'once', 2000).then(() => undefined, (error: Error) => error)
      assert.ok(refused instanceof RpcRequestError)
      assert.equal(refused.sent, false)
      assert.equal(refused.remote, false)
      await b.listen('127.0.0.1', port)
      // The link reconnects (backoff ≤ 50 ms); a later request gets through, the failed one never does.
      assert.equal(await a.request(`127.0.0.1:${port}`, 'write', 'twice', 2000), 'ok')
      await sleep(100)
      assert.deepEqual(served, ['twice'])
      const remote = await a.request(`127.0.0.1:${port}`, 'fail', null, 2000).then(() => undefined, (error: Error) => error)
      assert.ok(remote instanceof RpcRequestError)
      assert.equal(remote.remote, true)
      assert.equal(remote.message, 'handler said no')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a request to a peer that went away fails at once instead of waiting out the reconnect backoff', async () => {
    const b = new RpcTransport({localId: 'b'})
    b.onRequest('ping', async () => 'pong')
    const port = await b.listen('127.0.0.1', 0)
    const a = new RpcTransport({localId: 'a', maxBackoffMs: 5000})
    try {
      assert.equal(await a.request(`127.0.0.1:${port}`, 'ping', null, 2000), 'pong')
      await b.close()
      // Let the link notice and fail reconnects at 0.1, 0.3, 0.7, 1.5 s: its next one is at 3.1 s.
      await sleep(1600)
      const started = performance.now()
      const error = await a.request(`127.0.0.1:${port}`, 'ping', null, 10_000).then(() => undefined, (e: Error) => e)
      const tookMs = performance.now() - started
      assert.ok(error instanceof RpcRequestError)
      assert.equal(error.sent, false)
      assert.ok(tookMs < 500, `refused after ${Math.round(tookMs)} ms`)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('drops a connection that went silent in a partition, so messages flow again soon after it heals', async () => {
    // A TCP connection whose packets were lost during a partition waits out its retransmission
    // backoff after the heal. This proxy plays such a network: while cut it swallows everything,
    // and a connection that lived through the cut stays stuck; new connections flow once healed.
    const runCase = async (deadAfterMs: number): Promise<number | undefined> => {
      const b = new RpcTransport({localId: 'b'})
      const received: unknown[] = []
      b.onMessage((_from, body) => received.push(body))
      const target = await b.listen('127.0.0.1', 0)
      let cut = false
      const stuck = new Set<Socket>()
      const sockets = new Set<Socket>()
      const proxy = createServer((inbound) => {
        const outbound = createConnection({host: '127.0.0.1', port: target})
        sockets.add(inbound).add(outbound)
        if (cut) stuck.add(inbound)
        const pipe = (from: Socket, to: Socket) => from.on('data', (chunk) => { if (!cut && !stuck.has(inbound)) to.write(chunk) })
        pipe(inbound, outbound)
        pipe(outbound, inbound)
        const end = () => { inbound.destroy(); outbound.destroy() }
        inbound.on('close', end).on('error', end)
        outbound.on('close', end).on('error', end)
      })
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
      const address = `127.0.0.1:${(proxy.address() as {port: number}).port}`
      const a = new RpcTransport({localId: 'a', probeIdleMs: 100, deadAfterMs, maxBackoffMs: 100})
      try {
        a.send(address, 'before')
        await waitFor(() => received.length === 1)
        cut = true
        for (const socket of sockets) stuck.add(socket)
        a.send(address, 'during') // lost, as Raft tolerates
        await sleep(1000)
        cut = false
        const healedAt = performance.now()
        for (let i = 0; i < 30 && !received.includes('after'); i++) {
          a.send(address, 'after')
          await sleep(100)
        }
        return received.includes('after') ? Math.round(performance.now() - healedAt) : undefined
      } finally {
        await a.close()
        await b.close()
        for (const socket of sockets) socket.destroy()
        proxy.close()
      }
    }
    const withProbe = await runCase(300)
    const withoutProbe = await runCase(60_000)
    console.log(`first message after the heal: ${withProbe} ms with the probe, ${withoutProbe ?? 'none within 3000'} ms without`)
    assert.ok(withProbe !== undefined && withProbe < 2500, `a message got through ${withProbe} ms after the heal`)
    // The control: without dropping the silent connection nothing gets through (the proxy keeps it stuck).
    assert.equal(withoutProbe, undefined)
  })

  it('times out a request to a peer that never answers', async () => {
    const a = new RpcTransport({localId: 'a'})
    const b = new RpcTransport({localId: 'b'})
    b.onRequest('hang', () => new Promise(() => {}))
    const port = await b.listen('127.0.0.1', 0)
    try {
      await assert.rejects(a.request(`127.0.0.1:${port}`, 'hang', null, 100), /timed out/)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('drops a connection that sends garbage, and keeps serving others', async () => {
    const errors: string[] = []
    const b = new RpcTransport({localId: 'b', maxFrameBytes: 1024, onError: (_p, e) => errors.push(e.message)})
    b.onRequest('ping', async () => 'pong')
    const port = await b.listen('127.0.0.1', 0)
    const a = new RpcTransport({localId: 'a'})
    try {
      await new Promise<void>((resolve) => {
        const socket = createConnection({host: '127.0.0.1', port}, () => socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1])))
        socket.on('close', () => resolve())
        socket.on('error', () => resolve())
      })
      assert.match(errors.join('\n'), /exceeds/)
      assert.equal(await a.request(`127.0.0.1:${port}`, 'ping', null, 1000), 'pong')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('splits host and port, IPv6 included', () => {
    assert.deepEqual(splitHostPort('127.0.0.2:8300'), ['127.0.0.2', '8300'])
    assert.deepEqual(splitHostPort('[::1]:8300'), ['::1', '8300'])
    assert.throws(() => splitHostPort('nohost'), /no port/)
  })
})
