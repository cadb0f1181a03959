// Damaged files in the data dir (truncated, a flipped byte, empty, wrong JSON, a directory where a
// file belongs): the agent either refuses to start with one line naming the file, where going on
// could lose acknowledged writes or a vote (Raft log, hard state, snapshot, node ID), or starts and
// keeps every acknowledged write, where the file is a cache or a torn tail (member snapshot, local
// registrations, TTL state, a torn final log record). Never a stack trace, never a silent loss.
// One seeded data dir is copied for each case. test/integration/durability.test.ts covers kill -9
// under load, a torn tail and corruption mid-log, gossip-encryption.test.ts a corrupt keyring file;
// this file covers the rest of the data dir.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, startAgent, tempDir} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

const KEYS = 30
const ENCRYPT = 'pUqJrVyVRj5jsiYEkM/tFQ=='
const PORTS = ['-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-bind=127.0.0.1', '-client=127.0.0.1', '-node=damage-node']

type Damage = (dataDir: string) => void

const flipByte = (path: string, at: (length: number) => number): void => {
  const bytes = readFileSync(path)
  bytes[at(bytes.length)] ^= 0x5a
  writeFileSync(path, bytes)
}
const truncate = (path: string, keep: (length: number) => number): void => writeFileSync(path, readFileSync(path).subarray(0, keep(readFileSync(path).length)))
const replaceWithDir = (path: string): void => {
  rmSync(path)
  mkdirSync(path)
}
const onlyFile = (dir: string): string => {
  const names = readdirSync(dir).filter((name) => !name.endsWith('.tmp'))
  assert.equal(names.length, 1, `${dir}: ${names.join(', ')}`)
  return join(dir, names[0])
}

/** Damage the agent must refuse: the message must name this file (relative to the data dir). */
const refused: Array<{name: string; file: string; damage: Damage; reason: RegExp}> = [
  {name: 'log.dat: a flipped byte in the last (acknowledged) record', file: 'raft/log.dat', damage: (d) => flipByte(join(d, 'raft/log.dat'), (n) => n - 2), reason: /is whole but fails its checksum/},
  {name: 'log.dat: bad magic', file: 'raft/log.dat', damage: (d) => flipByte(join(d, 'raft/log.dat'), () => 0), reason: /bad magic/},
  {name: 'log.dat: a directory', file: 'raft/log.dat', damage: (d) => replaceWithDir(join(d, 'raft/log.dat')), reason: /cannot read it: EISDIR/},
  {name: 'log.dat: emptied', file: 'raft/log.dat', damage: (d) => writeFileSync(join(d, 'raft/log.dat'), ''), reason: /empty, but .*hardstate\.dat shows this server in term \d+/},
  {name: 'log.dat: deleted', file: 'raft/log.dat', damage: (d) => rmSync(join(d, 'raft/log.dat')), reason: /missing, but .*hardstate\.dat shows this server in term \d+/},
  {name: 'hardstate.dat: empty', file: 'raft/hardstate.dat', damage: (d) => writeFileSync(join(d, 'raft/hardstate.dat'), ''), reason: /truncated/},
  {name: 'hardstate.dat: truncated', file: 'raft/hardstate.dat', damage: (d) => truncate(join(d, 'raft/hardstate.dat'), (n) => n - 3), reason: /checksum|truncated/},
  {name: 'hardstate.dat: a flipped byte', file: 'raft/hardstate.dat', damage: (d) => flipByte(join(d, 'raft/hardstate.dat'), (n) => n - 1), reason: /checksum mismatch/},
  {name: 'snapshot.dat: truncated', file: 'raft/snapshot.dat', damage: (d) => truncate(join(d, 'raft/snapshot.dat'), (n) => Math.floor(n / 2)), reason: /checksum mismatch/},
  {name: 'snapshot.dat: a flipped byte', file: 'raft/snapshot.dat', damage: (d) => flipByte(join(d, 'raft/snapshot.dat'), (n) => n - 5), reason: /checksum mismatch/},
  {name: 'node-id: not a UUID', file: 'node-id', damage: (d) => writeFileSync(join(d, 'node-id'), 'not-a-uuid'), reason: /does not hold a node ID/},
  {name: 'node-id: empty', file: 'node-id', damage: (d) => writeFileSync(join(d, 'node-id'), ''), reason: /does not hold a node ID/},
  {name: 'node-id: a directory', file: 'node-id', damage: (d) => replaceWithDir(join(d, 'node-id')), reason: /cannot read the node ID/},
  {name: 'node-id: deleted next to Raft state', file: 'node-id', damage: (d) => rmSync(join(d, 'node-id')), reason: /missing, but .*raft holds this server's Raft state/},
  // A file where a directory belongs: the start fails by path and exits (it used to hang, listeners open).
  {name: 'services/ is a file', file: 'services', damage: (d) => { rmSync(join(d, 'services'), {recursive: true}); writeFileSync(join(d, 'services'), 'x') }, reason: /EEXIST/},
  {name: 'serf/ is a file', file: 'serf', damage: (d) => { rmSync(join(d, 'serf'), {recursive: true}); writeFileSync(join(d, 'serf'), 'x') }, reason: /EEXIST/},
]

/** Damage the agent survives: it starts, says what it skipped, and every acknowledged write is there. */
const recovered: Array<{name: string; damage: Damage; says?: RegExp}> = [
  {name: 'log.dat: a torn final record (short)', damage: (d) => truncate(join(d, 'raft/log.dat'), (n) => n - 5), says: /torn/},
  {name: 'serf/local.snapshot: wrong JSON', damage: (d) => writeFileSync(join(d, 'serf/local.snapshot'), '{"alive": [1, '), says: /local\.snapshot/},
  {name: 'serf/local.snapshot: a directory', damage: (d) => mkdirSync(join(d, 'serf/local.snapshot')), says: /local\.snapshot/},
  {name: 'services/<id>: wrong JSON', damage: (d) => writeFileSync(onlyFile(join(d, 'services')), '{"Service": {"Port": "x"'), says: /services/},
  {name: 'checks/state/<id>: wrong JSON', damage: (d) => writeFileSync(onlyFile(join(d, 'checks', 'state')), '[]'), says: undefined},
]

describe('damaged files in the data dir', () => {
  const root = tempDir('coord-damage-')
  const seed = join(root.path, 'seed')
  const config = join(root.path, 'config.json')
  let lastKey = ''

  before(async () => {
    // A snapshot every 10 entries, so snapshot.dat exists next to a log that continues after it.
    writeFileSync(config, JSON.stringify({raft_snapshot_threshold: 10}))
    const agent = await startAgent({dataDir: seed, args: [`-encrypt=${ENCRYPT}`, `-config-file=${config}`]})
    try {
      for (let i = 0; i < KEYS; i++) assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/k/${String(i).padStart(2, '0')}`, `v${i}`)).text.trim(), 'true')
      lastKey = `k/${KEYS - 1}`
      assert.equal((await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({Name: 'web', Port: 80}))).status, 200)
      assert.equal((await http(agent.httpAddr, 'PUT', '/v1/agent/check/register', JSON.stringify({Name: 'hb', TTL: '10m'}))).status, 200)
      assert.equal((await http(agent.httpAddr, 'PUT', '/v1/agent/check/pass/hb')).status, 200)
      // The last acknowledged write: it sits in the log's final record when the agent stops.
      assert.equal((await http(agent.httpAddr, 'PUT', '/v1/kv/last', 'acknowledged')).text.trim(), 'true')
    } finally {
      await agent.stop()
    }
    // (A lone agent sees no member event, so it has no serf/local.snapshot: the cases write one.)
    for (const file of ['node-id', 'raft/log.dat', 'raft/hardstate.dat', 'raft/snapshot.dat', 'serf/local.keyring']) {
      assert.ok(existsSync(join(seed, file)), `the seed run wrote ${file}`)
    }
  })
  after(() => root.cleanup())

  /** A fresh copy of the seeded data dir, damaged. */
  const damagedCopy = (name: string, damage: Damage): string => {
    const dir = join(root.path, name.replace(/\W+/g, '-'))
    cpSync(seed, dir, {recursive: true})
    damage(dir)
    return dir
  }

  it('refuses to start on damage that could lose acknowledged state, naming the file (3 at a time)', async () => {
    const started = performance.now()
    const failures: string[] = []
    for (let i = 0; i < refused.length; i += 3) {
      const batch = refused.slice(i, i + 3)
      const results = await Promise.all(batch.map((c) => runCli(['agent', '-server', '-bootstrap', `-data-dir=${damagedCopy(c.name, c.damage)}`, `-encrypt=${ENCRYPT}`, `-config-file=${config}`, ...PORTS], {timeoutMs: 20_000})))
      batch.forEach((c, j) => {
        const r = results[j]
        const label = `${c.name}: exit ${r.code}\n${r.stderr}`
        try {
          assert.equal(r.code, 1, label)
          const message = r.stderr.trimEnd()
          assert.match(message, /^==> /, label)
          assert.ok(!message.includes('\n'), `one line: ${label}`)
          assert.ok(message.includes(c.file), `names ${c.file}: ${label}`)
          assert.match(message, c.reason, label)
          assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, `no stack trace: ${label}`)
        } catch (error) {
          failures.push((error as Error).message)
        }
      })
    }
    console.log(`# ${refused.length} refused starts in ${Math.round(performance.now() - started)} ms`)
    assert.deepEqual(failures, [])
  })

  it('refuses an unreadable hardstate.dat by name', async () => {
    const dir = damagedCopy('unreadable', (d) => chmodSync(join(d, 'raft/hardstate.dat'), 0o000))
    const r = await runCli(['agent', '-server', '-bootstrap', `-data-dir=${dir}`, `-encrypt=${ENCRYPT}`, `-config-file=${config}`, ...PORTS], {timeoutMs: 20_000, obeyFileModes: true})
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^==> \S+raft\/hardstate\.dat: cannot read it: EACCES/)
  })

  for (const c of recovered) {
    it(`starts despite ${c.name}, with every acknowledged write`, async () => {
      const dir = damagedCopy(c.name, c.damage)
      const agent = await startAgent({dataDir: dir, args: [`-encrypt=${ENCRYPT}`, `-config-file=${config}`]})
      try {
        assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/k/?keys')).json<string[]>().length, KEYS)
        assert.equal((await http(agent.httpAddr, 'GET', `/v1/kv/${lastKey}?raw`)).text, `v${KEYS - 1}`)
        if (!c.name.startsWith('log.dat')) assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/last?raw')).text, 'acknowledged')
        if (c.says) assert.match(agent.output(), c.says, 'the log says what was skipped')
        assert.doesNotMatch(agent.output(), /^\s+at /m)
      } finally {
        await agent.stop()
      }
    })
  }
})
