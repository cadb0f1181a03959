// `coord snapshot save|restore|inspect` and /v1/snapshot end to end against real agents
// (Consul docs: commands/operator, commands/snapshot, Consul docs: api-docs/operator, api-docs/snapshot).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {readArchive, writeArchive} from '../../src/lib/snapshot/archive.js'
import {gunzipSync, gzipSync} from 'node:zlib'

describe('coord snapshot against a dev agent', () => {
  let agent: TestAgent
  const dir = tempDir('coord-snap-')
  const file = join(dir.path, 'backup.snap')
  const cli = (args: string[], httpAddr = agent.httpAddr) => runCli(args, {httpAddr})
  const index = async (path: string, addr = agent.httpAddr) => Number((await http(addr, 'GET', path)).headers['x-consul-index'])

  before(async () => {
    agent = await startAgent()
    // The first leader's start-up writes (the autopilot configuration it seeds) land before the
    // test's own, so "the current index" is the last KV write's.
    await until('the autopilot configuration seeded', async () => {
      const res = await http(agent.httpAddr, 'GET', '/v1/operator/autopilot/configuration')
      return res.status === 200 && res.json<{ModifyIndex: number}>().ModifyIndex > 0
    })
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('save writes a verified archive at the current index; inspect reads it', async () => {
    await cli(['kv', 'put', 'app/db', 'postgres'])
    await cli(['kv', 'put', 'app/web', 'nginx'])
    const at = await index('/v1/kv/?recurse')
    const saved = await cli(['snapshot', 'save', file])
    assert.deepEqual(saved, {code: 0, stdout: `Saved and verified snapshot to index ${at}\n`, stderr: ''})
    assert.equal(existsSync(`${file}.unverified`), false)
    const {meta} = await readArchive(readFileSync(file))
    assert.equal(meta.Index, at)

    const inspect = await cli(['snapshot', 'inspect', file])
    assert.equal(inspect.code, 0, inspect.stderr)
    const lines = inspect.stdout.split('\n')
    assert.deepEqual(lines.slice(0, 6), [` ID           ${meta.ID}`, ` Size         ${meta.Size}`, ` Index        ${at}`, ' Term         1', ' Version      1', ''])
    assert.match(inspect.stdout, /\n KVS +2 +\d+B\n/)
    assert.match(inspect.stdout, /\n Total +\d+(\.\d+)?K?B\n$/)
    const json = JSON.parse((await cli(['snapshot', 'inspect', '-format=json', file])).stdout) as {Meta: {Index: number}; StatsKV: unknown}
    assert.equal(json.Meta.Index, at)
    assert.equal(json.StatsKV, null)
    assert.match((await cli(['snapshot', 'inspect', '-kvdetails', '-kvdepth=1', file])).stdout, /\n Key Name +Count +Size\n ----.*\n app +2 +\d+B\n/)
  })

  it('GET /v1/snapshot: gzip archive, X-Consul-Index, query metadata', async () => {
    const res = await fetch(`http://${agent.httpAddr}/v1/snapshot`, {headers: {'accept-encoding': 'identity'}})
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/x-gzip')
    assert.equal(res.headers.get('x-consul-knownleader'), 'true')
    const archive = Buffer.from(await res.arrayBuffer())
    assert.equal((await readArchive(archive)).meta.Index, Number(res.headers.get('x-consul-index')))
  })

  it('restore brings the saved state back, wakes blocking queries, and indexes do not go backwards', async () => {
    await cli(['kv', 'put', 'app/db', 'mysql'])
    await cli(['kv', 'put', 'later', 'x'])
    const before = await index('/v1/kv/app/db')
    const started = Date.now()
    const parked = http(agent.httpAddr, 'GET', `/v1/kv/app/db?index=${before}&wait=30s`)
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(await cli(['snapshot', 'restore', file]), {code: 0, stdout: 'Restored snapshot\n', stderr: ''})
    const woken = await parked
    assert.ok(Date.now() - started < 10_000, 'the parked query woke on the restore, not on its timeout')
    assert.ok(Number(woken.headers['x-consul-index']) > before)
    assert.equal(Buffer.from(woken.json<Array<{Value: string}>>()[0].Value, 'base64').toString(), 'postgres')
    assert.equal((await cli(['kv', 'get', 'app/db'])).stdout, 'postgres\n')
    assert.equal((await cli(['kv', 'get', 'later'])).code, 1)
    assert.ok(await index('/v1/kv/?recurse') > before)
    // Writes go on after the restore.
    assert.equal((await cli(['kv', 'put', 'after', 'ok'])).code, 0)
  })

  it('a bad archive is refused with the reason and changes nothing', async () => {
    const garbage = join(dir.path, 'garbage.snap')
    writeFileSync(garbage, 'not a snapshot')
    assert.deepEqual(await cli(['snapshot', 'restore', garbage]), {
      code: 1, stdout: '', stderr: 'Error restoring snapshot: Unexpected response code: 400 (failed to decompress snapshot: gzip: invalid header)\n',
    })
    const foreign = join(dir.path, 'foreign.snap')
    writeFileSync(foreign, await writeArchive(Buffer.from('consul fsm bytes'), {index: 5, term: 2, nowMs: 0}))
    const res = await http(agent.httpAddr, 'PUT', '/v1/snapshot', readFileSync(foreign))
    assert.equal(res.status, 400)
    assert.match(res.text, /^failed to restore snapshot: state\.bin is not a coord state snapshot \(/)
    assert.equal((await cli(['kv', 'get', 'after'])).stdout, 'ok\n')
    assert.equal((await cli(['snapshot', 'inspect', garbage])).stderr, 'Error reading snapshot: failed to decompress snapshot: gzip: invalid header\n')
  })

  it('an archive whose state.bin was altered is refused once its checksum is read, after the state streamed through the decoder', async () => {
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/kv/tampered', 'A'.repeat(300))).status, 200)
    const saved = await fetch(`http://${agent.httpAddr}/v1/snapshot`)
    assert.equal(saved.status, 200)
    // One byte of the value changed: state.bin still decodes, only SHA256SUMS (after it) can tell.
    const tar = Buffer.from(gunzipSync(Buffer.from(await saved.arrayBuffer())))
    const at = tar.indexOf('A'.repeat(300))
    assert.ok(at > 0)
    tar[at + 150] = 'B'.charCodeAt(0)
    assert.equal((await http(agent.httpAddr, 'PUT', '/v1/kv/tampered', 'kept')).status, 200)
    const res = await http(agent.httpAddr, 'PUT', '/v1/snapshot', gzipSync(tar))
    assert.equal(res.status, 400)
    assert.equal(res.text.trim(), 'failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"')
    assert.equal((await cli(['kv', 'get', 'tampered'])).stdout, 'kept\n', 'nothing was restored')
    assert.equal((await cli(['kv', 'get', 'after'])).stdout, 'ok\n')
  })

  it('argument errors are Consul\'s', async () => {
    assert.deepEqual(await cli(['snapshot', 'save']), {code: 1, stdout: '', stderr: 'Missing FILE argument\n'})
    assert.deepEqual(await cli(['snapshot', 'restore', 'a', 'b']), {code: 1, stdout: '', stderr: 'Too many arguments (expected 1, got 2)\n'})
    assert.deepEqual(await cli(['snapshot', 'inspect', join(dir.path, 'none.snap')]), {code: 1, stdout: '', stderr: `Error opening snapshot file: open ${join(dir.path, 'none.snap')}: no such file or directory\n`})
    const unwritable = await cli(['snapshot', 'save', join(dir.path, 'no-such-dir', 'x.snap')])
    assert.equal(unwritable.code, 1)
    assert.match(unwritable.stderr, /^Error writing unverified snapshot file: /)
    assert.deepEqual(await cli(['snapshot', 'save', file], '127.0.0.1:1'), {
      code: 1, stdout: '', stderr: 'Error saving snapshot: Get "http://127.0.0.1:1/v1/snapshot": dial tcp 127.0.0.1:1: connect: connection refused\n',
    })
  })
})

describe('snapshot restore into a fresh durable server', () => {
  it('restores through the log: survives a restart, and the new leader is in the catalog', async () => {
    const source = await startAgent()
    const dir = tempDir('coord-snap-dest-')
    const file = join(dir.path, 'a.snap')
    let dest: TestAgent | undefined
    try {
      await runCli(['kv', 'put', 'carried/over', 'yes'], {httpAddr: source.httpAddr})
      assert.equal((await runCli(['snapshot', 'save', file], {httpAddr: source.httpAddr})).code, 0)
      dest = await startAgent({dataDir: join(dir.path, 'data'), args: ['-node=dest-node']})
      assert.equal((await runCli(['snapshot', 'restore', file], {httpAddr: dest.httpAddr})).stdout, 'Restored snapshot\n')
      assert.equal((await runCli(['kv', 'get', 'carried/over'], {httpAddr: dest.httpAddr})).stdout, 'yes\n')
      // The snapshot's catalog knew only the source node: the leader registered itself again.
      const session = await http(dest.httpAddr, 'PUT', '/v1/session/create', '{}')
      assert.equal(session.status, 200, session.text)
      await dest.stop()
      dest = await startAgent({dataDir: join(dir.path, 'data'), args: ['-node=dest-node']})
      assert.equal((await runCli(['kv', 'get', 'carried/over'], {httpAddr: dest.httpAddr})).stdout, 'yes\n')
    } finally {
      await dest?.stop()
      await source.stop()
      dir.cleanup()
    }
  })
})
