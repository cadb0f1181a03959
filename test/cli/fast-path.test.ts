// The CLI's fast path (bin/run.js, scripts/bundle-commands.js): every command in oclif.manifest.json
// has an entry in the build's command index; a command bundled as CommonJS needs nothing but Node's
// builtins; and a cold `coord kv get` against a real agent loads only the entry, its helper bundle
// and the command's bundle: no ES module runs (Node's ESM loader is never started) and no npm
// package is loaded. Each run records what it loaded through a --require'd script that writes
// process.moduleLoadList (the builtins Node loaded) and require.cache (the files) at exit.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {isBuiltin} from 'node:module'
import {join} from 'node:path'
import {coordBin, runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'

const root = join(coordBin, '..', '..')
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
const index = JSON.parse(readFileSync(join(root, 'dist', 'src', 'bundle', 'index.json'), 'utf8')) as Record<string, string[]>

/** What a run loaded: Node's own module list and the files in require.cache. */
interface Loaded {
  builtins: string[]
  files: string[]
}

describe('the command index', () => {
  it('names an existing file for every command in the manifest', () => {
    assert.deepEqual(Object.keys(index).sort(), Object.keys(manifest.commands).sort())
    for (const [id, parts] of Object.entries(index)) assert.ok(existsSync(join(root, ...parts)), `${id}: ${parts.join('/')} exists`)
  })

  it('bundles kv get as CommonJS, and every CommonJS bundle loads only Node builtins (by name)', () => {
    assert.deepEqual(index['kv:get'], ['dist', 'src', 'bundle', 'kv', 'get.cjs'])
    const cjs = Object.values(index).filter((parts) => parts.at(-1)!.endsWith('.cjs'))
    assert.ok(cjs.length >= 30, `${cjs.length} CommonJS bundles`)
    for (const parts of cjs) {
      const text = readFileSync(join(root, ...parts), 'utf8')
      const required = [...text.matchAll(/\b(?:require|import)\(("[^"]*"|[^)]*)\)/g)].map((m) => m[1])
      assert.ok(required.length > 0, `${parts.join('/')} requires something`)
      for (const name of required) assert.ok(name.startsWith('"') && isBuiltin(JSON.parse(name)), `${parts.join('/')} loads ${name}, not a builtin`)
    }
  })
})

describe('a cold command against a dev agent', () => {
  let agent: TestAgent
  const dir = tempDir('coord-fast-path-')
  const recorder = join(dir.path, 'record.cjs')
  writeFileSync(recorder, [
    "'use strict'",
    'process.on(\'exit\', () => {',
    '  const out = {builtins: process.moduleLoadList, files: Object.keys(require.cache)}',
    '  require(\'node:fs\').writeFileSync(process.env.COORD_TEST_RECORD, JSON.stringify(out))',
    '})',
  ].join('\n'))

  /** Runs `coord <args>` with the recorder and returns its result and what it loaded. */
  const run = (args: string[], name: string) => {
    const record = join(dir.path, `${name}.json`)
    const result = spawnSync(process.execPath, ['--require', recorder, coordBin, ...args], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr, NO_COLOR: '1', COORD_TEST_RECORD: record}, encoding: 'utf8', timeout: 30_000,
    })
    return {code: result.status, stdout: result.stdout, stderr: result.stderr, loaded: JSON.parse(readFileSync(record, 'utf8')) as Loaded}
  }
  const esModuleRan = (loaded: Loaded) => loaded.builtins.includes('NativeModule internal/modules/esm/module_job')

  before(async () => {
    agent = await startAgent()
    const put = await runCli(['kv', 'put', 'cold/key', 'cold value'], {httpAddr: agent.httpAddr})
    assert.equal(put.code, 0, put.stderr)
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('kv get prints the value having loaded three files and no ES module', () => {
    const {code, stdout, stderr, loaded} = run(['kv', 'get', 'cold/key'], 'kv-get')
    assert.deepEqual({code, stdout, stderr}, {code: 0, stdout: 'cold value\n', stderr: ''})
    assert.ok(loaded.builtins.includes('NativeModule http'), 'the list records the builtins loaded')
    assert.equal(esModuleRan(loaded), false, 'no ES module ran')
    assert.deepEqual(loaded.files.filter((f) => f !== recorder), [
      coordBin, join(root, 'dist', 'src', 'bundle', 'argv.cjs'), join(root, 'dist', 'src', 'bundle', 'kv', 'get.cjs'),
    ])
  })

  it('kv get of a missing key keeps its error and exit code on the same path', () => {
    const {code, stdout, stderr, loaded} = run(['kv', 'get', 'cold/missing'], 'kv-get-missing')
    assert.deepEqual({code, stdout, stderr}, {code: 1, stdout: '', stderr: 'Error! No key exists at: cold/missing\n'})
    assert.equal(esModuleRan(loaded), false)
  })

  it('a command bundled as an ES module (members: chalk) still runs, through import()', () => {
    assert.equal(index.members.at(-1), 'members.js')
    const {code, stdout, loaded} = run(['members'], 'members')
    assert.equal(code, 0)
    assert.match(stdout, /^Node +Address +Status/)
    assert.equal(esModuleRan(loaded), true, 'the recorder sees an ES module when one runs')
  })

  it('help still goes to oclif', () => {
    const {code, stdout} = run(['kv', 'get', '-h'], 'help')
    assert.equal(code, 0)
    assert.match(stdout, /USAGE\n {2}\$ coord kv get/)
  })
})
