// The real binary end to end against a real -dev agent (Consul docs: commands/kv, §3.1, §7.7).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'

describe('coord kv against a dev agent', () => {
  let agent: TestAgent
  const cli = (args: string[], opts: {input?: string | Buffer; env?: Record<string, string>} = {}) => runCli(args, {...opts, httpAddr: agent.httpAddr})

  before(async () => { agent = await startAgent() })
  after(async () => { await agent?.stop() })

  it('put then get round-trips the value', async () => {
    assert.deepEqual(await cli(['kv', 'put', 'greeting', 'hello world']), {code: 0, stdout: 'Success! Data written to: greeting\n', stderr: ''})
    assert.deepEqual(await cli(['kv', 'get', 'greeting']), {code: 0, stdout: 'hello world\n', stderr: ''})
    assert.equal((await cli(['kv', 'get', '/greeting'])).stdout, 'hello world\n')
  })

  it('an empty value prints an empty line', async () => {
    await cli(['kv', 'put', 'empty'])
    assert.equal((await cli(['kv', 'get', 'empty'])).stdout, '\n')
  })

  it('missing key: exit 1 and Consul\'s message', async () => {
    assert.deepEqual(await cli(['kv', 'get', 'no/such/key']), {code: 1, stdout: '', stderr: 'Error! No key exists at: no/such/key\n'})
  })

  it('flags are stored exactly and shown by -detailed', async () => {
    await cli(['kv', 'put', '-flags=18446744073709551615', 'flagged', 'v'])
    const {stdout} = await cli(['kv', 'get', '-detailed', 'flagged'])
    const lines = stdout.split('\n')
    assert.deepEqual(lines.map((l) => l.slice(0, 17)), ['CreateIndex      ', 'Flags            ', 'Key              ', 'LockIndex        ', 'ModifyIndex      ', 'Session          ', 'Value            ', ''])
    assert.equal(lines[1], 'Flags            18446744073709551615')
    assert.equal(lines[5], 'Session          -')
    assert.equal(lines[6], 'Value            v')
  })

  it('-cas succeeds with the current index and fails otherwise', async () => {
    await cli(['kv', 'put', 'cas-key', 'one'])
    const index = /ModifyIndex\s+(\d+)/.exec((await cli(['kv', 'get', '-detailed', 'cas-key'])).stdout)![1]
    assert.deepEqual(await cli(['kv', 'put', '-cas', `-modify-index=${index}`, 'cas-key', 'two']), {code: 0, stdout: 'Success! Data written to: cas-key\n', stderr: ''})
    assert.deepEqual(await cli(['kv', 'put', '-cas', `-modify-index=${index}`, 'cas-key', 'three']), {code: 1, stdout: '', stderr: 'Error! Did not write to cas-key: CAS failed\n'})
    assert.equal((await cli(['kv', 'get', 'cas-key'])).stdout, 'two\n')
  })

  it('-recurse, -keys and -separator list in key order', async () => {
    for (const [k, v] of [['tree/a', '1'], ['tree/b/c', '2'], ['tree/b/d', '3']]) await cli(['kv', 'put', k, v])
    assert.equal((await cli(['kv', 'get', '-recurse', 'tree/'])).stdout, 'tree/a:1\ntree/b/c:2\ntree/b/d:3\n')
    assert.equal((await cli(['kv', 'get', '-keys', 'tree/'])).stdout, 'tree/a\ntree/b/\n')
    assert.equal((await cli(['kv', 'get', '-keys', '-separator=', 'tree/'])).stdout, 'tree/a\ntree/b/c\ntree/b/d\n')
    assert.deepEqual(await cli(['kv', 'get', '-recurse', 'nothing-here/']), {code: 0, stdout: '', stderr: ''})
    const detailed = (await cli(['kv', 'get', '-recurse', '-detailed', 'tree/b/'])).stdout
    assert.match(detailed, /Value {12}2\n\nCreateIndex/)
    assert.ok(detailed.endsWith('Value            3\n'))
  })

  it('-base64 on put and get', async () => {
    assert.equal((await cli(['kv', 'put', '-base64', 'b64', 'aGk='])).code, 0)
    assert.equal((await cli(['kv', 'get', 'b64'])).stdout, 'hi\n')
    assert.equal((await cli(['kv', 'get', '-base64', 'b64'])).stdout, 'aGk=\n')
  })

  it('@file and - (stdin) as DATA', async () => {
    const dir = tempDir()
    try {
      writeFileSync(join(dir.path, 'v.txt'), 'from file\n')
      await cli(['kv', 'put', 'file-key', `@${join(dir.path, 'v.txt')}`])
      assert.equal((await cli(['kv', 'get', 'file-key'])).stdout, 'from file\n\n')
      await cli(['kv', 'put', 'stdin-key', '-'], {input: 'from stdin'})
      assert.equal((await cli(['kv', 'get', 'stdin-key'])).stdout, 'from stdin\n')
      await cli(['kv', 'put', 'dash-key', '-5'])
      assert.equal((await cli(['kv', 'get', 'dash-key'])).stdout, '-5\n')
    } finally {
      dir.cleanup()
    }
  })

  it('delete: plain, -cas, -recurse and validation', async () => {
    await cli(['kv', 'put', 'del/a', '1'])
    await cli(['kv', 'put', 'del/b', '2'])
    assert.deepEqual(await cli(['kv', 'delete', 'del/a']), {code: 0, stdout: 'Success! Deleted key: del/a\n', stderr: ''})
    assert.equal((await cli(['kv', 'delete', 'del/never'])).code, 0)
    assert.deepEqual(await cli(['kv', 'delete', '-cas', '-modify-index=1', 'del/b']), {code: 1, stdout: '', stderr: 'Error! Did not delete key del/b: CAS failed\n'})
    assert.equal((await cli(['kv', 'delete', '-modify-index=1', 'del/b'])).stderr, 'Cannot specify -modify-index without -cas!\n')
    assert.deepEqual(await cli(['kv', 'delete', '-recurse', 'del/']), {code: 0, stdout: 'Success! Deleted keys with prefix: del/\n', stderr: ''})
    assert.equal((await cli(['kv', 'get', 'del/b'])).code, 1)
  })

  it('export then import round-trips under a prefix', async () => {
    await cli(['kv', 'put', '-flags=7', 'exp/x', 'X'])
    await cli(['kv', 'put', 'exp/y', 'Y'])
    const exported = await cli(['kv', 'export', 'exp/'])
    assert.equal(exported.stdout, '[\n\t{\n\t\t"key": "exp/x",\n\t\t"flags": 7,\n\t\t"value": "WA=="\n\t},\n\t{\n\t\t"key": "exp/y",\n\t\t"flags": 0,\n\t\t"value": "WQ=="\n\t}\n]\n')
    assert.deepEqual(await cli(['kv', 'import', '-prefix=copy', '-'], {input: exported.stdout}), {code: 0, stdout: 'Imported: copy/exp/x\nImported: copy/exp/y\n', stderr: ''})
    assert.equal((await cli(['kv', 'get', 'copy/exp/x'])).stdout, 'X\n')
    assert.match((await cli(['kv', 'get', '-detailed', 'copy/exp/x'])).stdout, /^Flags {12}7$/m)
    assert.equal((await cli(['kv', 'export', 'nothing/'])).stdout, '[]\n')
    assert.equal((await cli(['kv', 'import'])).stderr, 'Error! Missing DATA argument\n')
  })

  it('unknown flag: exit 1, Go text, then usage', async () => {
    const result = await cli(['kv', 'get', '-bogus', 'x'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^flag provided but not defined: -bogus\n/)
  })

  it('-h shows help with flag descriptions, exit 0', async () => {
    const result = await cli(['kv', 'get', '-h'])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /recurse/)
    assert.match(result.stdout, /Base64 encode the value/)
  })

  it('-format=json on reads', async () => {
    const result = await cli(['kv', 'get', '-format=json', 'greeting'])
    const parsed = JSON.parse(result.stdout) as {Key: string; Value: string}
    assert.equal(parsed.Key, 'greeting')
    assert.equal(Buffer.from(parsed.Value, 'base64').toString(), 'hello world')
  })

  it('members lists this agent with the Consul columns', async () => {
    const {code, stdout} = await cli(['members'])
    assert.equal(code, 0)
    const lines = stdout.trimEnd().split('\n')
    assert.match(lines[0], /^Node\s+Address\s+Status\s+Type\s+Build\s+Protocol\s+DC\s+Partition\s+Segment$/)
    assert.match(lines[1], /^test-node\s+\S+:\d+\s+alive\s+server\s/)
    assert.deepEqual(await cli(['members', '-status=left']), {code: 2, stdout: '', stderr: ''})
  })

  it('info prints sorted sections with tab-indented keys', async () => {
    const {code, stdout} = await cli(['info'])
    assert.equal(code, 0)
    assert.match(stdout, /^agent:\n\t\w+ = /)
  })
})

describe('coord without an agent', () => {
  it('agent down: Error querying Consul agent, exit 1', async () => {
    const result = await runCli(['kv', 'get', 'foo'], {httpAddr: '127.0.0.1:1'})
    assert.equal(result.code, 1)
    assert.equal(result.stderr, 'Error querying Consul agent: Get "http://127.0.0.1:1/v1/kv/foo": dial tcp 127.0.0.1:1: connect: connection refused\n')
  })

  it('version prints the Consul layout with coord\'s name', async () => {
    const result = await runCli(['version'])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /^coord v\d+\.\d+\.\d+\n/)
    assert.match(result.stdout, /Protocol 2 spoken by default/)
  })

  it('keygen prints 32 random bytes in base64', async () => {
    assert.match((await runCli(['keygen'])).stdout, /^[A-Za-z0-9+/]{43}=\n$/)
  })
})
