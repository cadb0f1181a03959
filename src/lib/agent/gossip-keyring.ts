// The agent's gossip keyrings on disk, as Consul keeps them: <data-dir>/serf/local.keyring for the
// LAN pool (serf/remote.keyring for the WAN pool), a JSON array of base64 keys, the primary first,
// mode 0600. Precedence (Consul's setupBaseKeyrings): with `encrypt` set and no file, the file is
// created from it; an existing file wins over `encrypt` (a warning when it lacks that key), because
// the file holds the result of every later `keyring -install/-use/-remove`. Without `encrypt`, an
// existing file still turns encryption on. A file that does not parse stops the agent: silently
// falling back to plaintext (or to a stale key) would partition it from its cluster.
import {mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, openSync, fsyncSync, closeSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {CoordError} from '../errors.js'
import {AesGcmKeyring, GossipEncryption} from '../gossip/keyring.js'
import type {Logger} from '../logger.js'

export const SERF_LAN_KEYRING = join('serf', 'local.keyring')
export const SERF_WAN_KEYRING = join('serf', 'remote.keyring')

export class KeyringFileError extends CoordError {
  constructor(message: string) {
    super('KEYRING_FILE_INVALID', message, {hint: 'fix the file, or remove it to start again from the -encrypt key'})
    this.name = 'KeyringFileError'
  }
}

/** The keys in a keyring file, primary first; throws KeyringFileError saying what is wrong. */
export function readKeyringFile(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new KeyringFileError(`Error reading keyring file ${path}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new KeyringFileError(`Error loading keyring file ${path}: not valid JSON: ${(error as Error).message}`)
  }
  if (!Array.isArray(parsed) || parsed.some((key) => typeof key !== 'string')) {
    throw new KeyringFileError(`Error loading keyring file ${path}: expected a JSON array of base64 key strings`)
  }
  if (parsed.length === 0) throw new KeyringFileError(`no keys present in keyring: ${path}`)
  try {
    new AesGcmKeyring(parsed as string[])
  } catch (error) {
    throw new KeyringFileError(`Error loading keyring file ${path}: ${(error as Error).message}`)
  }
  return parsed as string[]
}

/** Replace the file atomically (tmp, fsync, rename): a crash leaves the old keys or the new, never half. */
export function writeKeyringFile(path: string, keys: readonly string[]): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const tmp = `${path}.tmp`
  writeFileSync(tmp, JSON.stringify(keys, null, 2), {mode: 0o600})
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

export interface GossipKeyringOptions {
  /** '' (dev mode): keys live in memory only. */
  dataDir: string
  /** Consul's `encrypt` (-encrypt): '' for none. Validated by the config already. */
  encrypt: string
  verifyIncoming: boolean
  verifyOutgoing: boolean
  /** Consul's disable_keyring_file: never read or write the file. */
  disableKeyringFile: boolean
  /** SERF_LAN_KEYRING or SERF_WAN_KEYRING. */
  file: string
  /** 'LAN' or 'WAN', for log lines. */
  pool: string
  log: Pick<Logger, 'warn' | 'info'>
}

export interface GossipKeyring {
  keyring: AesGcmKeyring
  /** What the transport seals and opens with (keyring + verify_incoming/outgoing). */
  cipher: GossipEncryption
  /** The file the keys persist to, or null (dev mode, disable_keyring_file). */
  path: string | null
  /** Write the current keys to the file (after install/use/remove); no-op without a file. */
  save(): void
}

/** The pool's keyring, or null when gossip runs unencrypted (no key anywhere). */
export function setupGossipKeyring(o: GossipKeyringOptions): GossipKeyring | null {
  const path = o.dataDir && !o.disableKeyringFile ? join(o.dataDir, o.file) : null
  let keys: string[] | null = null
  if (path && existsSync(path)) {
    keys = readKeyringFile(path)
    if (o.encrypt && !new AesGcmKeyring(keys).has(o.encrypt)) {
      o.log.warn(`${o.pool} keyring doesn't include key provided with -encrypt, using keyring`, {keyring: o.pool, file: path})
    }
  } else if (o.encrypt) {
    keys = [o.encrypt]
    if (path) writeKeyringFile(path, keys)
  }
  if (!keys) return null
  const keyring = new AesGcmKeyring(keys)
  return {
    keyring,
    cipher: new GossipEncryption(keyring, o.verifyIncoming, o.verifyOutgoing),
    path,
    save: () => {
      if (path) writeKeyringFile(path, keyring.keys())
    },
  }
}
