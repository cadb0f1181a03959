// The certificate files named by the TLS settings, read and checked before anything listens: a file
// that is missing, unreadable, not PEM, expired (or not yet valid), or a key that does not belong to
// its certificate fails the start (or the reload) with the file named. Nothing falls back to plain
// text. The result is a Node SecureContext per protocol; a reload builds new ones from the files and
// hands them to the listeners (renewed certificates without a restart).
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {X509Certificate, createPrivateKey, type KeyObject} from 'node:crypto'
import {createSecureContext, type SecureContext, type SecureVersion} from 'node:tls'
import {CIPHER_SUITES, type TlsProtocolSettings, type TlsVersion} from './config.js'

export class TlsFileError extends Error {
  readonly code = 'TLS_FILE_INVALID'
  /** The key that named the file (ca_file, cert_file, ...). */
  constructor(message: string, readonly field = '') {
    super(message)
  }
}

export interface TlsMaterial {
  /** PEM text of every CA certificate (ca_file, then every file in ca_path). */
  ca: string[]
  cert?: string
  key?: string
  /** The leaf certificate, parsed (for its names and expiry). */
  leaf?: X509Certificate
  minVersion: SecureVersion
  /** OpenSSL's cipher list, or undefined for Node's defaults. */
  ciphers?: string
  context: SecureContext
}

const VERSION: Record<TlsVersion, SecureVersion> = {TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3'}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new TlsFileError(`${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, what)
  }
}

/** Every certificate in a PEM file, each parsed and within its validity dates. */
export function readCertificates(path: string, what: string, now = new Date()): Array<{pem: string; cert: X509Certificate}> {
  const text = readText(path, what)
  const blocks = text.match(PEM_CERT) ?? []
  if (blocks.length === 0) throw new TlsFileError(`${what} ${path}: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)`, what)
  return blocks.map((pem) => {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(pem)
    } catch (error) {
      throw new TlsFileError(`${what} ${path}: not a valid certificate: ${(error as Error).message}`, what)
    }
    checkDates(cert, path, what, now)
    return {pem, cert}
  })
}

function checkDates(cert: X509Certificate, path: string, what: string, now: Date): void {
  const notBefore = new Date(cert.validFrom)
  const notAfter = new Date(cert.validTo)
  if (now > notAfter) throw new TlsFileError(`${what} ${path}: certificate expired at ${notAfter.toISOString()}`, what)
  if (now < notBefore) throw new TlsFileError(`${what} ${path}: certificate is not valid before ${notBefore.toISOString()}`, what)
}

function readKey(path: string): {pem: string; key: KeyObject} {
  const pem = readText(path, 'key_file')
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new TlsFileError(`key_file ${path}: no PEM private key found (expected -----BEGIN ... PRIVATE KEY-----)`, 'key_file')
  try {
    return {pem, key: createPrivateKey(pem)}
  } catch (error) {
    throw new TlsFileError(`key_file ${path}: not a valid private key: ${(error as Error).message}`, 'key_file')
  }
}

function readCaPath(dir: string, now: Date): string[] {
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch (error) {
    throw new TlsFileError(`ca_path ${dir}: ${(error as Error).message}`, 'ca_path')
  }
  const pems: string[] = []
  for (const name of names) {
    const path = join(dir, name)
    if (!statSync(path).isFile()) continue
    pems.push(...readCertificates(path, 'ca_path file', now).map((c) => c.pem))
  }
  if (pems.length === 0) throw new TlsFileError(`ca_path ${dir}: no certificates found`, 'ca_path')
  return pems
}

/** Reads and checks one protocol's files; throws TlsFileError naming the file. */
export function loadTlsMaterial(settings: TlsProtocolSettings, now = new Date()): TlsMaterial {
  const ca: string[] = []
  if (settings.caFile) ca.push(...readCertificates(settings.caFile, 'ca_file', now).map((c) => c.pem))
  if (settings.caPath) ca.push(...readCaPath(settings.caPath, now))
  let cert: string | undefined
  let key: string | undefined
  let leaf: X509Certificate | undefined
  if (settings.certFile) {
    const chain = readCertificates(settings.certFile, 'cert_file', now)
    leaf = chain[0].cert
    cert = chain.map((c) => c.pem).join('\n')
    const loaded = readKey(settings.keyFile)
    if (!leaf.checkPrivateKey(loaded.key)) {
      throw new TlsFileError(`key_file ${settings.keyFile}: the private key does not match the certificate in ${settings.certFile}`, 'key_file')
    }
    key = loaded.pem
    // A leaf the configured CA did not sign is refused here rather than by every peer later.
    if (ca.length > 0 && !chain.some((link) => ca.some((pem) => signedBy(link.cert, pem)))) {
      throw new TlsFileError(`cert_file ${settings.certFile}: the certificate is not signed by the CA in ${settings.caFile || settings.caPath}`, 'cert_file')
    }
  }
  const minVersion = VERSION[settings.minVersion]
  const ciphers = settings.cipherSuites.length > 0 ? settings.cipherSuites.map((name) => CIPHER_SUITES[name]).join(':') : undefined
  let context: SecureContext
  try {
    context = createSecureContext({ca: ca.length > 0 ? ca : undefined, cert, key, minVersion, ...(ciphers ? {ciphers} : {})})
  } catch (error) {
    throw new TlsFileError(`${settings.certFile || settings.caFile || settings.caPath}: ${(error as Error).message}`)
  }
  return {ca, cert, key, leaf, minVersion, ciphers, context}
}

function signedBy(leaf: X509Certificate, caPem: string): boolean {
  try {
    const ca = new X509Certificate(caPem)
    return leaf.checkIssued(ca) && leaf.verify(ca.publicKey)
  } catch {
    return false
  }
}

/** DNS names in a certificate's subject alternative names. */
export function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(/,\s*/).filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4).toLowerCase())
}
