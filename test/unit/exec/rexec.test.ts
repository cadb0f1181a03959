import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {classifyResultKey, decodeEventPayload, decodeSpec, encodeSpec, jobKey, nodeKey, outputSuffix} from '../../../src/lib/api/rexec.js'
import type {RExecResult} from '../../../src/lib/api/rexec-client.js'
import {OutputChunker} from '../../../src/lib/agent/remote-exec.js'
import {prefixLines, waitForJob} from '../../../src/lib/cli/exec-wait.js'
import {TimedQueue} from '../../../src/lib/timed-queue.js'

describe('remote exec job spec and keys (Consul command/exec, agent/remote_exec.go)', () => {
  it('encodes Wait as Go nanoseconds and Script as base64, omitting empty fields', () => {
    assert.deepEqual(JSON.parse(encodeSpec({command: 'uptime', waitMs: 2000})), {Command: 'uptime', Wait: 2_000_000_000})
    assert.deepEqual(JSON.parse(encodeSpec({args: ['/bin/echo', 'a b'], waitMs: 500})), {Args: ['/bin/echo', 'a b'], Wait: 500_000_000})
    assert.deepEqual(JSON.parse(encodeSpec({script: Buffer.from('echo hi\n'), waitMs: 1})), {Script: 'ZWNobyBoaQo=', Wait: 1_000_000})
  })

  it('round-trips and rejects bad specs with one line', () => {
    const spec = decodeSpec(encodeSpec({script: Buffer.from('x'), waitMs: 1500}))
    assert.equal(Buffer.from(spec.script!).toString(), 'x')
    assert.equal(spec.waitMs, 1500)
    for (const bad of ['nope', '[]', '{"Wait":1}', '{"Command":3,"Wait":1}', '{"Args":"ls","Wait":1}', '{"Command":"x","Wait":"2s"}']) {
      assert.throws(() => decodeSpec(bad), (e: Error) => /^failed to decode remote exec spec/.test(e.message) && !e.message.includes('\n'), bad)
    }
  })

  it('reads the event payload {Prefix, Session}', () => {
    assert.deepEqual(decodeEventPayload(Buffer.from('{"Prefix":"_rexec","Session":"s1"}')), {Prefix: '_rexec', Session: 's1'})
    assert.throws(() => decodeEventPayload(null), /failed to decode remote exec event/)
    assert.throws(() => decodeEventPayload(Buffer.from('{"Prefix":"_rexec"}')), /needs Prefix and Session/)
  })

  it('lays keys out as Consul does and classifies them back', () => {
    assert.equal(jobKey('_rexec', 's1'), '_rexec/s1/job')
    assert.equal(jobKey('/custom/', 's1'), '/custom/s1/job')
    assert.equal(nodeKey('_rexec', 's1', 'web-1', outputSuffix(26)), '_rexec/s1/web-1/out/0001a')
    const dir = '_rexec/s1'
    assert.deepEqual(classifyResultKey('_rexec/s1/job', dir), {kind: 'job'})
    assert.deepEqual(classifyResultKey('_rexec/s1/web-1/ack', dir), {kind: 'ack', node: 'web-1'})
    assert.deepEqual(classifyResultKey('_rexec/s1/web-1/exit', dir), {kind: 'exit', node: 'web-1'})
    assert.deepEqual(classifyResultKey('_rexec/s1/web-1/out/00000', dir), {kind: 'output', node: 'web-1'})
    assert.deepEqual(classifyResultKey('_rexec/s1/stray', dir), {kind: 'unknown'})
  })
})

describe('agent output chunking (4 KiB chunks, flush after idle)', () => {
  it('cuts at the chunk size and flushes the rest after the idle period', async () => {
    const got: string[] = []
    const c = new OutputChunker((b) => got.push(b.toString()), 4, 30)
    c.write(Buffer.from('abcdefghij'))
    assert.deepEqual(got, ['abcd', 'efgh'])
    await new Promise((r) => setTimeout(r, 120))
    assert.deepEqual(got, ['abcd', 'efgh', 'ij'])
    c.write(Buffer.from('k'))
    c.flush()
    c.close()
    c.write(Buffer.from('lost'))
    c.flush()
    assert.deepEqual(got, ['abcd', 'efgh', 'ij', 'k'])
  })
})

describe('timed queue', () => {
  it('gives items in order, idle on timeout, end once drained', async () => {
    const q = new TimedQueue<number>()
    q.push(1)
    assert.equal(await q.next(10), 1)
    assert.equal(await q.next(10), 'idle')
    setTimeout(() => q.push(2), 20)
    assert.equal(await q.next(5000), 2)
    q.push(3)
    q.end()
    q.push(4)
    assert.equal(await q.next(10), 3)
    assert.equal(await q.next(10), 'end')
  })

  it('an abort ends the wait', async () => {
    const q = new TimedQueue<number>()
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 20)
    const t0 = Date.now()
    assert.equal(await q.next(10_000, abort.signal), 'end')
    assert.ok(Date.now() - t0 < 5000)
  })
})

describe('coord exec waiting and rendering', () => {
  it('prefixes lines as TargetedUI does and trims trailing whitespace', () => {
    assert.equal(prefixLines(false, 'n1', 'a\nb\n'), '    n1: a\n    n1: b\n    n1:')
    assert.equal(prefixLines(true, 'n1', 'finished with exit code 0'), '==> n1: finished with exit code 0')
  })

  const run = async (items: RExecResult[], verbose = false) => {
    const q = new TimedQueue<RExecResult>()
    for (const item of items) q.push(item)
    const out: string[] = []
    const err: string[] = []
    const outcome = await waitForJob(q, {waitMs: 30, verbose, out: (l) => out.push(l), err: (l) => err.push(l)})
    return {outcome, out, err}
  }

  it('all nodes exit 0 → summary and exit 0', async () => {
    const {outcome, out} = await run([{kind: 'ack', node: 'a'}, {kind: 'ack', node: 'b'}, {kind: 'output', node: 'a', output: Buffer.from('hi\n')},
      {kind: 'exit', node: 'a', code: 0}, {kind: 'exit', node: 'b', code: 0}])
    assert.equal(outcome.exitCode, 0)
    assert.deepEqual(out, ['    a: hi\n    a:', '==> a: finished with exit code 0', '==> b: finished with exit code 0', '2 / 2 node(s) completed / acknowledged'])
  })

  it('a non-zero exit, or an ack without an exit, gives 2', async () => {
    assert.equal((await run([{kind: 'ack', node: 'a'}, {kind: 'exit', node: 'a', code: 3}])).outcome.exitCode, 2)
    const silent = await run([{kind: 'ack', node: 'a'}])
    assert.equal(silent.outcome.exitCode, 2)
    assert.equal(silent.out.at(-1), '0 / 1 node(s) completed / acknowledged')
  })

  it('no acks → 0 / 0 and exit 0 (Consul); a fatal read error → 1; verbose lines', async () => {
    const none = await run([])
    assert.deepEqual(none.out, ['0 / 0 node(s) completed / acknowledged'])
    assert.equal(none.outcome.exitCode, 0)
    const fatal = await run([{kind: 'error', message: 'Failed to read results: boom', fatal: true}])
    assert.equal(fatal.outcome.exitCode, 1)
    assert.deepEqual(fatal.err, ['Failed to read results: boom'])
    const verbose = await run([{kind: 'ack', node: 'a'}, {kind: 'heartbeat', node: 'a'}, {kind: 'exit', node: 'a', code: 0}], true)
    assert.deepEqual(verbose.out.slice(0, 2), ['==> a: acknowledged', '==> a: heartbeat received'])
    assert.match(verbose.out.at(-1)!, /^Completed in \d+\.\d\d seconds$/)
  })
})
