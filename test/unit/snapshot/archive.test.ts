// Snapshot archives in Consul's layout: round trip, every integrity failure named, and archives
// written the way Consul writes them (its meta.json fields, its FSM stream in state.bin).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {gunzipSync, gzipSync} from 'node:zlib'
import tar from 'tar-stream'
import {encode} from '@msgpack/msgpack'
import {archiveStream, openArchive, readArchive, snapshotId, verifyArchiveStream, writeArchive, type SnapshotArchiveError, type SnapshotMeta} from '../../../src/lib/snapshot/archive.js'
import {consulTypeName, skipValue, snapshotStats} from '../../../src/lib/snapshot/stats.js'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {byteSize, inspectOutput, renderInspectJson, renderInspectPretty} from '../../../src/lib/cli/snapshot-render.js'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** A tar (gzip'd unless raw) of the given files, in order. */
async function archiveOf(files: Array<[string, Buffer]>, raw = false): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer) })()
  for (const [name, body] of files) await new Promise<void>((resolve, reject) => pack.entry({name, size: body.length}, body, (e) => (e ? reject(e) : resolve())))
  pack.finalize()
  await done
  return raw ? Buffer.concat(chunks) : gzipSync(Buffer.concat(chunks))
}

/** `bytes` as a download delivers it: in small pieces, each on its own turn. */
async function* pieces(bytes: Buffer, size = 7): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    await new Promise((resolve) => setImmediate(resolve))
    yield bytes.subarray(at, at + size)
  }
}

/** openArchive, its state read to the end: the meta, the state's bytes and how many chunks they came in. */
async function openAndDrain(archive: Uint8Array): Promise<{meta: SnapshotMeta; state: Buffer; chunks: number}> {
  const opened = await openArchive(archive)
  const parts: Uint8Array[] = []
  for (let chunk = await opened.state.read(); chunk !== undefined; chunk = await opened.state.read()) parts.push(chunk)
  const state = Buffer.concat(parts)
  assert.equal(state.length, opened.size)
  return {meta: opened.meta, state, chunks: parts.length}
}

/** Every reader (whole, verifying as it streams, streaming the state out) refuses `archive` with `message`. */
async function rejects(archive: Buffer, message: string): Promise<void> {
  for (const read of [() => readArchive(archive), () => verifyArchiveStream(pieces(archive)), () => openAndDrain(archive)]) {
    await assert.rejects(read(), (error: SnapshotArchiveError) => {
      assert.equal(error.code, 'SNAPSHOT_ARCHIVE')
      assert.equal(error.message, message)
      return true
    })
  }
}

describe('snapshot archive', () => {
  const state = Buffer.from('state bytes \u0000\u0001')

  it('round-trips meta and state; ID is term-index-unixms', async () => {
    const archive = await writeArchive(state, {index: 42, term: 3, nowMs: 1_700_000_000_123, servers: [{id: 'abc', address: '10.0.0.1:8300'}], configurationIndex: 1})
    const {meta, state: out} = await readArchive(archive)
    assert.deepEqual(out, state)
    assert.equal(meta.ID, snapshotId(3, 42, 1_700_000_000_123))
    assert.equal(meta.ID, '3-42-1700000000123')
    assert.deepEqual([meta.Index, meta.Term, meta.Size, meta.Version], [42, 3, state.length, 1])
    assert.deepEqual(meta.Configuration, {Servers: [{Suffrage: 0, ID: 'abc', Address: '10.0.0.1:8300'}]})
  })

  it('the tar holds exactly meta.json, state.bin, SHA256SUMS in sha256sum format', async () => {
    const archive = await writeArchive(state, {index: 1, term: 1, nowMs: 0})
    const extract = tar.extract()
    const files = new Map<string, Buffer>()
    const done = (async () => {
      for await (const entry of extract) {
        const parts: Buffer[] = []
        for await (const c of entry) parts.push(c as Buffer)
        files.set(entry.header.name, Buffer.concat(parts))
      }
    })()
    extract.end(gunzipSync(archive))
    await done
    assert.deepEqual([...files.keys()], ['meta.json', 'state.bin', 'SHA256SUMS'])
    assert.equal(files.get('SHA256SUMS')!.toString(), `${sha(files.get('meta.json')!)}  meta.json\n${sha(state)}  state.bin\n`)
    assert.ok(files.get('meta.json')!.toString().endsWith('}\n'))
  })

  it('a streamed state is read as the archive is read, and no further once its reader goes away', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const total = 4096
    let produced = 0
    let closed = false
    function* chunks(): Generator<Uint8Array> {
      try {
        for (let i = 0; i < total; i++) {
          produced++
          yield chunk
        }
      } finally {
        closed = true
      }
    }
    const stream = archiveStream({chunks: chunks(), size: total * chunk.length}, {index: 3, term: 1, nowMs: 0})
    let read = 0
    for await (const piece of stream) {
      read += (piece as Buffer).length
      if (produced > 64) break // for await's break destroys the stream: the reader hung up
    }
    assert.ok(read > 0)
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10))
    const after = produced
    await new Promise((r) => setTimeout(r, 100))
    assert.ok(closed, 'the chunks were let go')
    assert.equal(produced, after, 'nothing more produced')
    assert.ok(produced < total, `${produced} of ${total} chunks produced`)
  })

  it('a streamed state that is not the size announced fails the stream', async () => {
    const stream = archiveStream({chunks: [Buffer.from('abc')], size: 4}, {index: 3, term: 1, nowMs: 0})
    await assert.rejects(async () => {
      for await (const piece of stream) void piece
    }, /state\.bin is 3 bytes, not the 4 announced/)
  })

  it('names what is wrong with a damaged archive', async () => {
    const meta = Buffer.from('{"ID":"1-2-3","Index":2,"Term":1,"Size":3,"Version":1}\n')
    const body = Buffer.from('abc')
    const sums = Buffer.from(`${sha(meta)}  meta.json\n${sha(body)}  state.bin\n`)
    await rejects(Buffer.from('plainly not gzip'), 'failed to decompress snapshot: gzip: invalid header')
    await rejects(gzipSync(Buffer.from('not a tar either, but long enough to have a header block?'.repeat(20))), 'failed to read snapshot file: failed reading snapshot: Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?')
    await rejects(await archiveOf([['meta.json', meta], ['state.bin', Buffer.from('abd')], ['SHA256SUMS', sums]]), 'failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"')
    await rejects(await archiveOf([['meta.json', meta], ['state.bin', body]]), 'failed to read snapshot file: failed checking integrity of snapshot: file missing for "meta.json"')
    await rejects(await archiveOf([['meta.json', meta], ['state.bin', body], ['SHA256SUMS', sums], ['extra.txt', body]]), 'failed to read snapshot file: unexpected file "extra.txt" in snapshot')
    await rejects(await archiveOf([['meta.json', Buffer.from('{nope')], ['state.bin', body], ['SHA256SUMS', sums]]), `failed to read snapshot file: failed to decode snapshot metadata: ${jsonError('{nope')}`)
    await rejects(await archiveOf([['meta.json', meta], ['state.bin', body], ['SHA256SUMS', Buffer.from(`${sha(meta)}  meta.json\n${sha(body)}  state.bin\n${sha(body)}  other\n`)]]), 'failed to read snapshot file: failed checking integrity of snapshot: list missing hash for "other"')
    const whole = await writeArchive(state, {index: 1, term: 1, nowMs: 0})
    await assert.rejects(readArchive(whole.subarray(0, whole.length - 12)), {code: 'SNAPSHOT_ARCHIVE'})
    await assert.rejects(verifyArchiveStream(pieces(whole.subarray(0, whole.length - 12))), {code: 'SNAPSHOT_ARCHIVE'})
  })

  it('verifies an archive as it streams in: the same meta as reading it whole, and a failing source fails it', async () => {
    const big = Buffer.alloc(300_000, 'x')
    const archive = await writeArchive(big, {index: 9, term: 2, nowMs: 1_700_000_000_000})
    assert.deepEqual(await verifyArchiveStream(pieces(archive, 4096)), (await readArchive(archive)).meta)
    const damaged = Buffer.from(gunzipSync(archive))
    damaged[1024 + 100_000] ^= 1 // inside state.bin (after meta.json's header and body blocks)
    await rejects(gzipSync(damaged), 'failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"')
    async function* cut(): AsyncGenerator<Uint8Array> {
      yield archive.subarray(0, 1000)
      throw new Error('socket hang up')
    }
    await assert.rejects(verifyArchiveStream(cut()), /socket hang up/)
  })

  it('streams the state out of an archive as it is read: same meta and bytes as reading it whole, verified by its end', async () => {
    const big = Buffer.from(Array.from({length: 400_000}, (_, i) => i % 251))
    const archive = await writeArchive(big, {index: 9, term: 2, nowMs: 1_700_000_000_000})
    const streamed = await openAndDrain(archive)
    assert.deepEqual(streamed.meta, (await readArchive(archive)).meta)
    assert.ok(streamed.state.equals(big))
    assert.ok(streamed.chunks > 1, `${streamed.chunks} chunks`)
    // Damage inside state.bin: every chunk before the end may be handed out, but the last read fails.
    const damaged = Buffer.from(gunzipSync(archive))
    damaged[1024 + 300_000] ^= 1
    const opened = await openArchive(gzipSync(damaged))
    let lastError: unknown
    let read = 0
    try {
      for (let chunk = await opened.state.read(); chunk !== undefined; chunk = await opened.state.read()) read += chunk.length
    } catch (error) {
      lastError = error
    }
    assert.equal(read, big.length, 'the bytes came through; their checksum failed at the end')
    assert.match(String(lastError), /hash check failed for "state.bin"/)
    // meta.json after state.bin (neither Consul nor coord writes it so): read whole, still verified.
    const meta = Buffer.from('{"ID":"1-2-3","Index":2,"Term":1,"Size":3,"Version":1}\n')
    const body = Buffer.from('abc')
    const late = await openAndDrain(await archiveOf([['state.bin', body], ['meta.json', meta], ['SHA256SUMS', Buffer.from(`${sha(meta)}  meta.json\n${sha(body)}  state.bin\n`)]]))
    assert.equal(late.meta.Index, 2)
    assert.equal(late.state.toString(), 'abc')
  })

  it('a streamed state given up by its reader ends there: its next read hands out nothing and nothing hangs', async () => {
    const big = Buffer.alloc(2_000_000, 'y')
    const opened = await openArchive(await writeArchive(big, {index: 3, term: 1, nowMs: 0}))
    const first = await opened.state.read()
    assert.ok(first !== undefined && first.length < big.length)
    opened.state.cancel(new Error('the decode failed'))
    await assert.rejects(opened.state.read().then((chunk) => { if (chunk === undefined) throw new Error('ended') }), /ended|failed|cancel/)
  })

  it('reads an archive written as Consul writes it, and counts its FSM records', async () => {
    // Consul's meta.json (raft.SnapshotMeta), hashes listed in another order, and a state.bin in
    // Consul's FSM stream format: a msgpack header, then [type byte][msgpack record]...
    const meta = Buffer.from(JSON.stringify({Version: 1, ID: '2-13-1602222343947', Index: 13, Term: 2, Peers: 'ka5MTI3LjAuMC4xOjgzMDA=', Configuration: {Servers: [{Suffrage: 0, ID: 'b5b7c0e1', Address: '127.0.0.1:8300'}]}, ConfigurationIndex: 1, Size: 0}) + '\n')
    const header = Buffer.from(encode({LastIndex: 13}))
    const register = Buffer.concat([Buffer.from([0]), Buffer.from(encode({Node: 'n1', Address: '127.0.0.1'}))])
    const kv1 = Buffer.concat([Buffer.from([2]), Buffer.from(encode({Key: 'app/db/url', Value: Buffer.from('x'), Flags: 0}))])
    const kv2 = Buffer.concat([Buffer.from([2]), Buffer.from(encode({Key: 'app/web', Value: Buffer.from('yy'), Flags: 0}))])
    const index = Buffer.concat([Buffer.from([16]), Buffer.from(encode({Key: 'kvs', Value: 13}))])
    const fsm = Buffer.concat([header, register, kv1, kv2, index])
    const sums = Buffer.from(`${sha(fsm)}  state.bin\n${sha(meta)}  meta.json\n`)
    const {meta: read, state: out} = await readArchive(await archiveOf([['meta.json', meta], ['state.bin', fsm], ['SHA256SUMS', sums]]))
    assert.equal(read.ID, '2-13-1602222343947')
    assert.equal(read.Peers, 'ka5MTI3LjAuMC4xOjgzMDA=')
    const stats = snapshotStats(out, {kvDetails: true, kvDepth: 2})
    assert.equal(stats.TotalSize, fsm.length)
    const byName = Object.fromEntries(stats.Stats.map((s) => [s.Name, s]))
    assert.deepEqual(Object.keys(byName).sort(), ['Index', 'KVS', 'Register'])
    assert.equal(byName.KVS.Count, 2)
    assert.equal(byName.KVS.Sum, kv1.length + kv2.length)
    assert.equal(byName.Register.Sum, header.length + register.length, 'the header is charged to the first record, as in Consul')
    assert.deepEqual(stats.StatsKV!.map((s) => [s.Name, s.Count]).sort(), [['app/db', 1], ['app/web', 1]])
    assert.equal(stats.TotalSizeKV, kv1.length + kv2.length)
  })

  it('counts a coord state by Consul record names', () => {
    const sm = new StateMachine()
    sm.apply(1, {type: 'node-register', now: 0, node: {id: 'i', node: 'n1', address: 'a', datacenter: 'dc1'}, checks: []})
    sm.apply(2, {type: 'kv', now: 0, op: {verb: 'set', key: 'a/b/c', value: new Uint8Array(3), flags: 0n}})
    sm.apply(3, {type: 'kv', now: 0, op: {verb: 'set', key: 'gone', value: new Uint8Array(1), flags: 0n}})
    sm.apply(4, {type: 'kv', now: 0, op: {verb: 'delete', key: 'gone'}})
    const snapshot = sm.snapshot()
    const stats = snapshotStats(snapshot, {kvDetails: true, kvDepth: 1, kvFilter: 'a'})
    assert.deepEqual(stats.Stats.map((s) => [s.Name, s.Count]).sort(), [['KVS', 1], ['Register', 1], ['Tombstone', 1]])
    assert.equal(stats.TotalSize, snapshot.length)
    assert.deepEqual(stats.StatsKV!.map((s) => s.Name), ['a'])
  })

  it('skipValue walks nested msgpack and refuses truncation', () => {
    const value = Buffer.from(encode({a: [1, 'two', {three: Buffer.alloc(300)}], b: -5, c: 1.5, d: null, e: 2 ** 40}))
    assert.equal(skipValue(Buffer.concat([value, Buffer.from([7])]), 0, 'x'), value.length)
    assert.throws(() => skipValue(value.subarray(0, value.length - 1), 0, 'x'), /truncated/)
    assert.equal(consulTypeName(2), 'KVS')
    assert.equal(consulTypeName(99), 'Unknown(99)')
  })
})

describe('snapshot inspect rendering', () => {
  it('ByteSize as Consul prints it', () => {
    assert.deepEqual([0, 12, 1024, 1740, 5141, 3 * 1024 * 1024].map(byteSize), ['0', '12B', '1KB', '1.7KB', '5KB', '3MB'])
  })

  it('pretty layout matches Consul\'s tabwriter columns', () => {
    const info = inspectOutput({ID: '2-13-1602222343947', Size: 5141, Index: 13, Term: 2, Version: 1}, {
      Stats: [{Name: 'Register', Sum: 1740, Count: 3}, {Name: 'ConnectCAProviderState', Sum: 1126, Count: 1}, {Name: 'Index', Sum: 344, Count: 12}],
      StatsKV: null, TotalSize: 5141, TotalSizeKV: 0,
    })
    assert.equal(renderInspectPretty(info), [
      ' ID           2-13-1602222343947',
      ' Size         5141',
      ' Index        13',
      ' Term         2',
      ' Version      1',
      '',
      ' Type                        Count      Size',
      ' ----                        ----       ----',
      ' Register                    3          1.7KB',
      ' ConnectCAProviderState      1          1.1KB',
      ' Index                       12         344B',
      ' ----                        ----       ----',
      ' Total                                  5KB',
    ].join('\n'))
    assert.match(renderInspectJson(info), /^\{\n {3}"Meta": \{\n {6}"ID": "2-13-1602222343947",/)
  })
})

function jsonError(text: string): string {
  try {
    JSON.parse(text)
  } catch (error) {
    return (error as Error).message
  }
  return ''
}
