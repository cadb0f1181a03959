// Commands run in process with fake IO: argument validation never reaches an agent.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import KvDelete from '../../../src/commands/kv/delete.js'
import KvGet from '../../../src/commands/kv/get.js'
import KvPut from '../../../src/commands/kv/put.js'
import Version from '../../../src/commands/version.js'
import {fakeIO} from '../../../src/lib/cli/io.js'
import {blockingQuery} from '../../../src/lib/api/blocking.js'

async function run(Command: typeof KvGet | typeof KvPut | typeof KvDelete | typeof Version, argv: string[]) {
  const io = fakeIO()
  // Port 1 on loopback: nothing listens, so any request would fail fast.
  const code = await Command.runWith(argv, io, {CONSUL_HTTP_ADDR: '127.0.0.1:1'})
  return {code, stdout: io.stdout(), stderr: io.stderr()}
}

describe('command validation (no agent)', () => {
  it('kv get without a key', async () => {
    assert.deepEqual(await run(KvGet, []), {code: 1, stdout: '', stderr: 'Error! Missing KEY argument\n'})
  })
  it('kv get with flags after the key counts them as arguments', async () => {
    assert.equal((await run(KvGet, ['foo', '-detailed'])).stderr, 'Too many arguments (expected 1, got 2)\n')
  })
  it('unknown flag prints Go text then usage, exit 1', async () => {
    const result = await run(KvGet, ['-bogus'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^flag provided but not defined: -bogus\nUsage: coord kv get/)
  })
  it('kv put validation messages', async () => {
    assert.equal((await run(KvPut, [])).stderr, 'Error! Missing KEY argument\n')
    assert.equal((await run(KvPut, ['a', 'b', 'c'])).stderr, 'Error! Too many arguments (expected 1 or 2, got 3)\n')
    assert.equal((await run(KvPut, ['-acquire', 'k'])).stderr, 'Error! Missing -session (required with -acquire and -release)\n')
    assert.equal((await run(KvPut, ['-cas', 'k', 'v'])).stderr, 'Must specify -modify-index with -cas!\n')
    assert.equal((await run(KvPut, ['-base64', 'k', '!!'])).stderr, 'Error! Cannot base 64 decode data: illegal base64 data at input byte 0\n')
    assert.match((await run(KvPut, ['k', '@/nonexistent/file'])).stderr, /^Error! Failed to read file: open \/nonexistent\/file: no such file or directory\n$/)
  })
  it('kv delete validation, in Consul order', async () => {
    assert.equal((await run(KvDelete, [])).stderr, 'Error! Missing KEY argument\n')
    assert.equal((await run(KvDelete, ['-cas', 'k'])).stderr, 'Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.\n')
    assert.equal((await run(KvDelete, ['-modify-index=3', 'k'])).stderr, 'Cannot specify -modify-index without -cas!\n')
    assert.equal((await run(KvDelete, ['-cas', '-modify-index=3', '-recurse', 'k'])).stderr, 'Cannot specify both -cas and -recurse!\n')
  })
  it('agent down: Go-style connection error', async () => {
    const result = await run(KvGet, ['foo'])
    assert.equal(result.code, 1)
    assert.equal(result.stderr, 'Error querying Consul agent: Get "http://127.0.0.1:1/v1/kv/foo": dial tcp 127.0.0.1:1: connect: connection refused\n')
  })
  it('version -format', async () => {
    assert.match((await run(Version, [])).stdout, /^coord v\d+\.\d+\.\d+\nBuild Date .*\nProtocol 2 spoken by default, understands 2 to 3 .*\n\n$/)
    assert.equal((await run(Version, ['-format=xml'])).stderr, 'Unknown format: xml\n')
  })
})

describe('blocking query iterator', () => {
  const meta = (lastIndex: number) => ({lastIndex, knownLeader: true, lastContactMs: 0})

  it('yields on change, passes the index, resets on a backwards index, treats 0 as 1, backs off on errors', async () => {
    const answers: Array<number | Error> = [5, 5, 7, new Error('down'), new Error('down'), 3, 0]
    const seen: Array<number | bigint | undefined> = []
    const sleeps: number[] = []
    const controller = new AbortController()
    const yielded: number[] = []
    const fetch = async (q: {waitIndex?: number | bigint}) => {
      seen.push(q.waitIndex)
      const next = answers.shift()
      if (next === undefined) {
        controller.abort()
        return {value: -1, meta: meta(1)}
      }
      if (next instanceof Error) throw next
      return {value: next, meta: meta(next)}
    }
    for await (const {value} of blockingQuery(fetch, {signal: controller.signal, baseMs: 10, maxMs: 15, sleep: async (ms) => void sleeps.push(ms)})) {
      if (value >= 0) yielded.push(value)
    }
    assert.deepEqual(yielded, [5, 7, 3, 0])
    assert.deepEqual(seen, [0, 5, 5, 7, 7, 7, 0, 1])
    assert.deepEqual(sleeps, [10, 15])
  })

  it('carries a uint64 index above 2^53 exactly, and a reset re-read of the same index does not yield twice', async () => {
    const big = (n: bigint) => ({lastIndex: Number(n), lastIndexExact: n, knownLeader: true, lastContactMs: 0})
    const high = 18446744073709551557n
    const low = 9007199254740993n // 2^53 + 1
    const answers = [high, high, low, low, low + 1n]
    const seen: Array<number | bigint | undefined> = []
    const yielded: bigint[] = []
    const controller = new AbortController()
    const fetch = async (q: {waitIndex?: number | bigint}) => {
      seen.push(q.waitIndex)
      const next = answers.shift()
      if (answers.length === 0) controller.abort()
      return {value: next, meta: big(next ?? 1n)}
    }
    for await (const {value} of blockingQuery(fetch, {signal: controller.signal})) yielded.push(value!)
    assert.deepEqual(seen, [0, high, high, 0, low], 'the exact index goes back; a backwards one resets to 0 once')
    assert.deepEqual(yielded, [high, low, low + 1n], 'the re-read after the reset returned the index already yielded')
  })

  it('gives up after maxRetries consecutive failures', async () => {
    const fetch = async () => { throw new Error('nope') }
    const iterator = blockingQuery(fetch, {maxRetries: 2, sleep: async () => undefined})
    await assert.rejects(iterator.next(), /nope/)
  })
})
