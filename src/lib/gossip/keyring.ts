// Gossip encryption (Consul's `encrypt` key, `consul keygen`/`keyring`): the transport seals every
// datagram and every stream frame with a PacketCipher when one is configured. The seam is the
// interface; AesGcmKeyring is the implementation Consul's keys call for.
//
// Sealed format: [0x01 version][12-byte random nonce][ciphertext][16-byte GCM tag], with the
// version byte as additional authenticated data. A fresh random nonce per message is safe for
// far more than 2^32 messages per key only in aggregate; at gossip rates (~10^3/s/node) a key
// would need decades to approach the birthday bound. The first key encrypts; every key is tried
// to decrypt, so keys can be rotated as Consul's keyring does (install, use, remove).
import {createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes} from 'node:crypto'
import {CoordError} from '../errors.js'

export interface PacketCipher {
  /** Bytes sealing adds to a message; the transport leaves room for it in each datagram. */
  readonly overheadBytes: number
  seal(plain: Uint8Array): Uint8Array
  /** The plaintext, or null when no key opens it (wrong key, tampering, garbage). Never throws. */
  open(sealed: Uint8Array): Uint8Array | null
}

export class GossipKeyError extends CoordError {
  constructor(message: string) {
    super('GOSSIP_KEY_INVALID', message, {exitCode: 1, httpStatus: 400, hint: 'generate a key with: coord keygen'})
    this.name = 'GossipKeyError'
  }
}

const SEAL_VERSION = 1
const NONCE_BYTES = 12
const TAG_BYTES = 16

interface Key {
  algorithm: CipherGCMTypes
  key: Buffer
}

function parseKey(base64: string, index: number): Key {
  const key = Buffer.from(base64, 'base64')
  // Buffer.from ignores junk; round-tripping catches keys that were not base64 at all.
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== base64.trim().replace(/=+$/, '')) {
    throw new GossipKeyError(`gossip key #${index + 1} is not valid base64`)
  }
  switch (key.length) {
    case 16:
      return {algorithm: 'aes-128-gcm', key}
    case 24:
      return {algorithm: 'aes-192-gcm', key}
    case 32:
      return {algorithm: 'aes-256-gcm', key}
    default:
      throw new GossipKeyError(`gossip key #${index + 1} is ${key.length} bytes; it must be 16, 24 or 32 bytes (base64-encoded)`)
  }
}

/** Decodes and checks one base64 key (16, 24 or 32 bytes); throws GossipKeyError naming the problem. */
export function validateGossipKey(base64: string): void {
  parseKey(base64, 0)
}

/** Canonical base64 of a key as typed (so "abc=" and "abc" name the same key in the ring). */
function canonical(base64: string, index: number): string {
  return parseKey(base64, index).key.toString('base64')
}

/**
 * AES-GCM with a keyring: `keys[0]` (base64) is the primary (encrypts), all of them decrypt.
 * The ring can change while in use (install, use, remove: memberlist's Keyring rules), so the
 * transport holding it follows a rotation without being rebuilt.
 */
export class AesGcmKeyring implements PacketCipher {
  readonly overheadBytes = 1 + NONCE_BYTES + TAG_BYTES
  #keys: Key[]

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new GossipKeyError('the gossip keyring needs at least one key')
    this.#keys = keys.map(parseKey)
    // Duplicates would be counted twice by `keyring -list`; keep the first occurrence.
    this.#keys = this.#keys.filter((k, i) => this.#keys.findIndex((o) => o.key.equals(k.key)) === i)
  }

  /** Every key (base64), the primary first: the order the keyring file stores. */
  keys(): string[] {
    return this.#keys.map((k) => k.key.toString('base64'))
  }

  primaryKey(): string {
    return this.#keys[0].key.toString('base64')
  }

  /** Adds a key for decryption; a key already installed is a no-op (memberlist's AddKey). */
  install(base64: string): void {
    const key = parseKey(base64, 0)
    if (this.#index(key.key) === -1) this.#keys = [...this.#keys, key]
  }

  /** Makes an installed key the primary (the one that encrypts). */
  use(base64: string): void {
    const i = this.#index(parseKey(base64, 0).key)
    if (i === -1) throw new GossipKeyError('Requested key is not in the keyring')
    this.#keys = [this.#keys[i], ...this.#keys.filter((_, j) => j !== i)]
  }

  /** Drops a key; the primary cannot be removed; an unknown key is a no-op (memberlist's RemoveKey). */
  remove(base64: string): void {
    const i = this.#index(parseKey(base64, 0).key)
    if (i === 0) throw new GossipKeyError('Removing the primary key is not allowed')
    if (i > 0) this.#keys = this.#keys.filter((_, j) => j !== i)
  }

  has(base64: string): boolean {
    try {
      return this.#index(Buffer.from(canonical(base64, 0), 'base64')) !== -1
    } catch {
      return false
    }
  }

  #index(key: Buffer): number {
    return this.#keys.findIndex((k) => k.key.equals(key))
  }

  seal(plain: Uint8Array): Uint8Array {
    const {algorithm, key} = this.#keys[0]
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv(algorithm, key, nonce, {authTagLength: TAG_BYTES})
    cipher.setAAD(Uint8Array.of(SEAL_VERSION))
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    return Buffer.concat([Uint8Array.of(SEAL_VERSION), nonce, body, cipher.getAuthTag()])
  }

  open(sealed: Uint8Array): Uint8Array | null {
    if (sealed.length < this.overheadBytes || sealed[0] !== SEAL_VERSION) return null
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES)
    const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)
    const tag = sealed.subarray(sealed.length - TAG_BYTES)
    for (const {algorithm, key} of this.#keys) {
      try {
        const decipher = createDecipheriv(algorithm, key, nonce, {authTagLength: TAG_BYTES})
        decipher.setAAD(Uint8Array.of(SEAL_VERSION))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(body), decipher.final()])
      } catch {
        // Authentication failed under this key; try the next one.
      }
    }
    return null
  }
}

/** A fresh random key in Consul's format (base64 of 32 bytes), as `coord keygen` prints. */
export function generateGossipKey(): string {
  return randomBytes(32).toString('base64')
}

/**
 * The cipher a gossip transport uses under Consul's encrypt_verify_incoming/outgoing: with
 * verifyOutgoing false it sends plaintext (yet still decrypts), with verifyIncoming false it also
 * accepts what no key opens as plaintext. Both false, then true one at a time, is Consul's path to
 * enable encryption on a running cluster without a partition.
 */
export class GossipEncryption implements PacketCipher {
  readonly overheadBytes: number

  constructor(readonly keyring: AesGcmKeyring, readonly verifyIncoming = true, readonly verifyOutgoing = true) {
    this.overheadBytes = keyring.overheadBytes
  }

  seal(plain: Uint8Array): Uint8Array {
    return this.verifyOutgoing ? this.keyring.seal(plain) : plain
  }

  open(sealed: Uint8Array): Uint8Array | null {
    return this.keyring.open(sealed) ?? (this.verifyIncoming ? null : sealed)
  }
}
