// Gossip keyrings: the keyring's install/use/remove rules (memberlist's), the file in the data dir
// (Consul's format and precedence; a corrupt file is an error, never ignored), the per-member
// operation and the per-pool aggregation Consul's /v1/operator/keyring answers with, and the
// encrypt_verify_incoming/outgoing cipher.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {encode} from '@msgpack/msgpack'
import {AesGcmKeyring, GossipEncryption, generateGossipKey} from '../../../src/lib/gossip/keyring.js'
import {readKeyringFile, setupGossipKeyring, SERF_LAN_KEYRING, writeKeyringFile} from '../../../src/lib/agent/gossip-keyring.js'
import {aggregateKeyResponses, applyKeyringOp, keyringErrors} from '../../../src/lib/agent/keyring-ops.js'
import {keyringParams} from '../../../src/lib/http/keyring-endpoint.js'
import {buildConfig} from '../../../src/lib/agent/config.js'
import {tempDir} from '../../helpers/agent.js'

const K1 = generateGossipKey()
const K2 = generateGossipKey()
const K16 = Buffer.alloc(16, 7).toString('base64')

function logSink(): {warnings: string[]; log: {warn(m: string): void; info(): void}} {
  const warnings: string[] = []
  return {warnings, log: {warn: (m) => warnings.push(m), info: () => {}}}
}

const setup = (dataDir: string, encrypt: string, log = logSink().log) =>
  setupGossipKeyring({dataDir, encrypt, verifyIncoming: true, verifyOutgoing: true, disableKeyringFile: false, file: SERF_LAN_KEYRING, pool: 'LAN', log})

describe('gossip keyring: install, use, remove', () => {
  it('follows memberlist: install is idempotent, use needs an installed key, the primary cannot be removed', () => {
    const ring = new AesGcmKeyring([K1])
    ring.install(K2)
    ring.install(K2)
    assert.deepEqual(ring.keys(), [K1, K2])
    assert.throws(() => ring.use(generateGossipKey()), /Requested key is not in the keyring/)
    ring.use(K2)
    assert.deepEqual(ring.keys(), [K2, K1])
    assert.throws(() => ring.remove(K2), /Removing the primary key is not allowed/)
    ring.remove(K1)
    ring.remove(K1)
    assert.deepEqual(ring.keys(), [K2])
    assert.throws(() => ring.install('bm90LWEta2V5'), /must be 16, 24 or 32 bytes/)
  })

  it('a sealed message opens under every installed key and switches key with use()', () => {
    const a = new AesGcmKeyring([K1])
    const b = new AesGcmKeyring([K1])
    b.install(K2)
    b.use(K2)
    assert.ok(b.open(a.seal(Uint8Array.of(1))), 'old primary still opens')
    assert.equal(a.open(b.seal(Uint8Array.of(2))), null, 'a has not installed K2')
    a.install(K2)
    assert.ok(a.open(b.seal(Uint8Array.of(3))))
  })

  it('verify_outgoing=false sends plaintext; verify_incoming=false accepts plaintext; defaults accept neither', () => {
    const ring = new AesGcmKeyring([K1])
    const plain = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30)
    assert.deepEqual(new GossipEncryption(ring, true, false).seal(plain), plain)
    assert.equal(new GossipEncryption(ring).open(plain), null)
    assert.deepEqual(new GossipEncryption(ring, false, true).open(plain), plain)
    assert.deepEqual(Buffer.from(new GossipEncryption(ring).open(ring.seal(plain)) ?? []), Buffer.from(plain))
  })
})

describe('gossip keyring file (serf/local.keyring)', () => {
  it('-encrypt with no file creates it: a JSON array, primary first, mode 0600', () => {
    const dir = tempDir()
    try {
      const ring = setup(dir.path, K1)
      assert.ok(ring)
      const path = join(dir.path, 'serf', 'local.keyring')
      assert.equal(ring.path, path)
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), [K1])
      assert.equal(statSync(path).mode & 0o777, 0o600)
      ring.keyring.install(K2)
      ring.keyring.use(K2)
      ring.save()
      assert.deepEqual(readKeyringFile(path), [K2, K1])
    } finally {
      dir.cleanup()
    }
  })

  it('an existing file wins over -encrypt, with a warning when it lacks that key', () => {
    const dir = tempDir()
    try {
      writeKeyringFile(join(dir.path, SERF_LAN_KEYRING), [K2])
      const sink = logSink()
      const ring = setup(dir.path, K1, sink.log)
      assert.deepEqual(ring?.keyring.keys(), [K2])
      assert.deepEqual(sink.warnings, ["LAN keyring doesn't include key provided with -encrypt, using keyring"])
      const quiet = logSink()
      setup(dir.path, K2, quiet.log)
      assert.deepEqual(quiet.warnings, [])
      // Without -encrypt, the file alone turns encryption on.
      assert.deepEqual(setup(dir.path, '')?.keyring.keys(), [K2])
    } finally {
      dir.cleanup()
    }
  })

  it('no key and no file: unencrypted; dev mode (no data dir) keeps keys in memory only', () => {
    assert.equal(setup('', ''), null)
    const dev = setup('', K1)
    assert.equal(dev?.path, null)
    assert.doesNotThrow(() => dev?.save())
  })

  it('a corrupt, empty or wrong-shaped file is a clear error naming the file, never ignored', () => {
    const dir = tempDir()
    try {
      const path = join(dir.path, SERF_LAN_KEYRING)
      mkdirSync(join(dir.path, 'serf'), {recursive: true})
      const cases: Array<[string, RegExp]> = [
        ['["abc', /Error loading keyring file .*local\.keyring: not valid JSON/],
        ['{"keys": []}', /expected a JSON array of base64 key strings/],
        ['[1, 2]', /expected a JSON array of base64 key strings/],
        ['[]', /no keys present in keyring: .*local\.keyring/],
        ['["c2hvcnQ="]', /local\.keyring: gossip key #1 is 5 bytes; it must be 16, 24 or 32 bytes/],
      ]
      for (const [text, expected] of cases) {
        writeFileSync(path, text)
        assert.throws(() => setup(dir.path, K1), (e: Error & {code?: string}) => e.code === 'KEYRING_FILE_INVALID' && expected.test(e.message), text)
      }
    } finally {
      dir.cleanup()
    }
  })

  it('the encrypt config key is validated: 16/24/32-byte base64, else a config error', () => {
    for (const key of [K1, K16, Buffer.alloc(24, 1).toString('base64')]) assert.equal(buildConfig({encrypt: key}, {dev: true}).encrypt, key)
    assert.throws(() => buildConfig({encrypt: 'c2hvcnQ='}, {dev: true}), /encrypt has invalid key: the key is 5 bytes; it must be 16, 24 or 32 bytes/)
    assert.throws(() => buildConfig({encrypt: 'not base64!!'}, {dev: true}), /encrypt has invalid key: the key is not valid base64/)
    const config = buildConfig({encrypt: K1, encrypt_verify_incoming: false, encrypt_verify_outgoing: false}, {dev: true})
    assert.deepEqual([config.encryptVerifyIncoming, config.encryptVerifyOutgoing], [false, false])
  })
})

describe('keyring operations: one member, one pool', () => {
  it('a member answers each operation from its ring and persists changes', () => {
    const dir = tempDir()
    try {
      const ring = setup(dir.path, K1)
      assert.deepEqual(applyKeyringOp(ring, 'install', K2), {Result: true, Message: '', Keys: [K1, K2], PrimaryKey: K1})
      assert.equal(applyKeyringOp(ring, 'remove', K1).Message, 'Removing the primary key is not allowed')
      assert.equal(applyKeyringOp(ring, 'use', K2).PrimaryKey, K2)
      assert.deepEqual(readKeyringFile(join(dir.path, SERF_LAN_KEYRING)), [K2, K1])
      assert.equal(applyKeyringOp(null, 'list', '').Message, 'Keyring is empty (encryption not enabled)')
      assert.equal(applyKeyringOp(null, 'install', K1).Message, 'No keyring to modify (encryption not enabled)')
    } finally {
      dir.cleanup()
    }
  })

  it('aggregates answers per pool: key counts, primary counts, failures and missing members', () => {
    const ok = (keys: string[]) => encode({Result: true, Message: '', Keys: keys, PrimaryKey: keys[0]})
    const pool = {wan: false, datacenter: 'dc1', segment: ''}
    const all = aggregateKeyResponses({expected: ['a', 'b', 'c'], responses: [{from: 'a', payload: ok([K1, K2])}, {from: 'b', payload: ok([K2, K1])}, {from: 'c', payload: ok([K1])}]}, pool)
    assert.deepEqual(all, {WAN: false, Datacenter: 'dc1', Segment: '', Messages: {}, Keys: {[K1]: 3, [K2]: 2}, PrimaryKeys: {[K1]: 2, [K2]: 1}, NumNodes: 3, Error: ''})
    assert.equal(keyringErrors([all]), null)

    const partial = aggregateKeyResponses({expected: ['a', 'b', 'c'], responses: [{from: 'a', payload: ok([K1])}, {from: 'b', payload: encode({Result: false, Message: 'Removing the primary key is not allowed', Keys: [], PrimaryKey: ''})}, {from: 'c', payload: Uint8Array.of(0xc1)}]}, pool)
    assert.equal(partial.Error, '2/3 nodes reported failure')
    assert.deepEqual(partial.Messages, {b: 'Removing the primary key is not allowed', c: 'Failed to decode key query response'})
    const silent = aggregateKeyResponses({expected: ['a', 'b'], responses: [{from: 'a', payload: ok([K1])}]}, pool)
    assert.equal(silent.Error, '1/2 nodes reported success')
    assert.equal(keyringErrors([silent, {...partial, WAN: true}]),
      '4 errors occurred:\n\t* dc1 (LAN) error: 1/2 nodes reported success\n\t* WAN error: 2/3 nodes reported failure\n\t* b: Removing the primary key is not allowed\n\t* c: Failed to decode key query response\n\n')
  })

  it('?relay-factor and ?local-only are checked as Consul does', () => {
    assert.deepEqual(keyringParams(new URLSearchParams('relay-factor=3&local-only=true'), 'list'), {relayFactor: 3, localOnly: true})
    assert.throws(() => keyringParams(new URLSearchParams('relay-factor=6'), 'list'), /Invalid relay-factor: Relay factor must be in range: \[0, 5\]/)
    assert.throws(() => keyringParams(new URLSearchParams('relay-factor=x'), 'list'), /Error parsing relay factor/)
    assert.throws(() => keyringParams(new URLSearchParams('local-only=true'), 'install'), /local-only can only be set for list requests/)
    assert.throws(() => keyringParams(new URLSearchParams('local-only=yes'), 'list'), /Error parsing local-only/)
  })
})
