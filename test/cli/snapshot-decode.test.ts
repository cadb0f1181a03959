// `coord snapshot decode` (Consul 1.18+): a snapshot's records as line-delimited JSON, from an
// archive saved from a real agent (KV, catalog, session, prepared query) and from a Consul FSM
// stream built here; errors as Consul words them.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {writeArchive} from '../../src/lib/snapshot/archive.js'
import {encodeValue} from '../../src/lib/state/codec.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- decoded JSON lines read field by field */

describe('coord snapshot decode', () => {
  let agent: TestAgent
  const dir = tempDir('coord-snapdec-')
  const cli = (args: string[]) => runCli(args, {httpAddr: agent.httpAddr})
  const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as {Type: string; Data: any})

  before(async () => { agent = await startAgent() })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('prints the header, then one {Data, Type} line per record of a saved coord snapshot', async () => {
    await cli(['kv', 'put', '-flags=42', 'app/db', 'postgres'])
    await http(agent.httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify({Node: 'ext', Address: '10.0.0.9', Service: {Service: 'web', Port: 80}, Check: {CheckID: 'web-ok', Name: 'ok', Status: 'passing', ServiceID: 'web'}}))
    await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({Name: 'holder'}))
    await http(agent.httpAddr, 'POST', '/v1/query', JSON.stringify({Name: 'q-web', Service: {Service: 'web'}}))
    const file = join(dir.path, 'a.snap')
    assert.equal((await cli(['snapshot', 'save', file])).code, 0)
    const out = await cli(['snapshot', 'decode', file])
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stdout, /^\{"Data":\{.*\},"Type":"SnapshotHeader"\}\n/)
    const records = lines(out.stdout)
    assert.equal(records[0].Type, 'SnapshotHeader')
    assert.equal(typeof records[0].Data.Index, 'number')
    const kv = records.find((r) => r.Type === 'KVS' && r.Data.Key === 'app/db')!
    assert.equal(Buffer.from(kv.Data.Value, 'base64').toString(), 'postgres')
    assert.equal(kv.Data.Flags, 42)
    assert.ok(records.some((r) => r.Type === 'Register' && r.Data.Node === 'ext' && r.Data.Address === '10.0.0.9'))
    assert.ok(records.some((r) => r.Type === 'Register' && r.Data.Service?.Service === 'web' && r.Data.SkipNodeUpdate === true))
    assert.ok(records.some((r) => r.Type === 'Register' && r.Data.Check?.CheckID === 'web-ok'))
    assert.ok(records.some((r) => r.Type === 'Session' && r.Data.Name === 'holder'))
    assert.ok(records.some((r) => r.Type === 'PreparedQuery' && r.Data.Name === 'q-web'))
  })

  it('decodes a Consul FSM stream record by record', async () => {
    const stream = Buffer.concat([
      Buffer.from(encodeValue({LastIndex: 7})),
      Buffer.from([2]), Buffer.from(encodeValue({Key: 'from/consul', Value: new Uint8Array(Buffer.from('hi')), Flags: 0})),
      Buffer.from([5]), Buffer.from(encodeValue({Key: 'gone', Index: 6})),
    ])
    const file = join(dir.path, 'consul.snap')
    writeFileSync(file, await writeArchive(stream, {index: 7, term: 2, nowMs: 0}))
    const out = await cli(['snapshot', 'decode', file])
    assert.equal(out.code, 0, out.stderr)
    const records = lines(out.stdout)
    assert.deepEqual(records.map((r) => r.Type), ['SnapshotHeader', 'KVS', 'Tombstone'])
    assert.deepEqual(records[1].Data, {Key: 'from/consul', Value: Buffer.from('hi').toString('base64'), Flags: 0})
    // A raw state.bin with meta.json beside it, as a server's snapshot directory holds them.
    const raw = join(dir.path, 'raw')
    mkdirSync(raw)
    writeFileSync(join(raw, 'state.bin'), stream)
    writeFileSync(join(raw, 'meta.json'), JSON.stringify({Version: 1, ID: '2-7-0', Index: 7, Term: 2, Size: stream.length}))
    const fromRaw = await cli(['snapshot', 'decode', join(raw, 'state.bin')])
    assert.equal(fromRaw.code, 0, fromRaw.stderr)
    assert.deepEqual(lines(fromRaw.stdout).map((r) => r.Type), ['SnapshotHeader', 'KVS', 'Tombstone'])
    assert.equal(lines(fromRaw.stdout)[0].Data.Index, 7)
  })

  it('errors are Consul\'s', async () => {
    assert.deepEqual(await cli(['snapshot', 'decode']), {code: 1, stdout: '', stderr: 'Missing FILE argument\n'})
    assert.deepEqual(await cli(['snapshot', 'decode', 'a', 'b']), {code: 1, stdout: '', stderr: 'Too many arguments (expected 1, got 2)\n'})
    const garbage = join(dir.path, 'garbage.snap')
    writeFileSync(garbage, 'not a snapshot')
    const bad = await cli(['snapshot', 'decode', garbage])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^Error reading snapshot: /)
    const truncated = join(dir.path, 'truncated.snap')
    writeFileSync(truncated, await writeArchive(Buffer.concat([Buffer.from(encodeValue({LastIndex: 1})), Buffer.from([2, 0x82])]), {index: 1, term: 1, nowMs: 0}))
    const cut = await cli(['snapshot', 'decode', truncated])
    assert.equal(cut.code, 1)
    assert.match(cut.stderr, /^Error extracting snapshot data: /)
  })
})
