// Certificates as `consul tls ca create` / `consul tls cert create` make them (command/tls in
// Consul's source): an ECDSA P-256 CA, and leaf certificates for servers (server.<dc>.<domain>,
// server and client auth), clients (client.<dc>.<domain>, client and server auth) and the CLI
// (cli.<dc>.<domain>, no extended usage), each with localhost and (servers, clients) 127.0.0.1.
// X.509 encoding is @peculiar/x509's; keys come from Node's WebCrypto.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import {createPrivateKey, randomBytes, webcrypto} from 'node:crypto'
import {isIP} from 'node:net'

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

const EC = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'} as const
const DAY_MS = 24 * 60 * 60 * 1000

export interface Pem {
  cert: string
  key: string
}

export type CertKind = 'server' | 'client' | 'cli'

function serial(): string {
  // Positive 128-bit serial (the top bit clear keeps the DER INTEGER positive).
  const bytes = randomBytes(16)
  bytes[0] &= 0x7f
  return bytes.toString('hex')
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1')
}

/** A self-signed CA valid `days` from now (Consul: 1825), constrained to `domain` and localhost when asked. */
export async function createCa(opts: {days: number; domain: string; commonName?: string; nameConstraint?: boolean; additionalConstraints?: string[]}): Promise<Pem> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as unknown as CryptoKeyPair
  const sn = serial()
  const now = Date.now()
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
  ]
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: sn,
    name: `CN=${escapeDn(opts.commonName || `Consul Agent CA ${BigInt(`0x${sn}`)}`)}, O=coord`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.days * DAY_MS),
    keys, signingAlgorithm: EC, extensions,
  })
  return {cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey)}
}

async function importCaKey(pem: string): Promise<{key: CryptoKey; algorithm: Algorithm | EcdsaParams}> {
  let keyObject
  try {
    keyObject = createPrivateKey(pem)
  } catch (error) {
    throw new Error(`the CA key is not a valid private key: ${(error as Error).message}`)
  }
  const der = keyObject.export({type: 'pkcs8', format: 'der'})
  const type = keyObject.asymmetricKeyType
  if (type === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined
    if (!namedCurve) throw new Error(`the CA key's curve ${curve} is not supported`)
    const hash = namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384'
    const key = await webcrypto.subtle.importKey('pkcs8', der, {name: 'ECDSA', namedCurve}, false, ['sign']) as unknown as CryptoKey
    return {key, algorithm: {name: 'ECDSA', hash} as EcdsaParams}
  }
  if (type === 'rsa') {
    const algorithm = {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']) as unknown as CryptoKey
    return {key, algorithm}
  }
  throw new Error(`the CA key type ${type} is not supported (use an EC or RSA key)`)
}

export interface LeafOptions {
  kind: CertKind
  caCert: string
  caKey: string
  datacenter: string
  domain: string
  days: number
  /** Servers only: adds <node>.server.<dc>.<domain>. */
  node?: string
  dnsNames?: string[]
  ipAddresses?: string[]
}

/** The certificate's name for a kind: server.dc1.consul, client.dc1.consul, cli.dc1.consul. */
export function leafName(kind: CertKind, datacenter: string, domain: string): string {
  return `${kind}.${datacenter}.${domain}`
}

export async function createLeaf(opts: LeafOptions): Promise<Pem> {
  let ca: x509.X509Certificate
  try {
    ca = new x509.X509Certificate(opts.caCert)
  } catch (error) {
    throw new Error(`the CA file is not a PEM certificate: ${(error as Error).message}`)
  }
  const signer = await importCaKey(opts.caKey)
  const name = leafName(opts.kind, opts.datacenter, opts.domain)
  const dns = [...(opts.dnsNames ?? []).map((d) => d.trim()).filter(Boolean)]
  const ips = [...(opts.ipAddresses ?? []).map((i) => i.trim()).filter(Boolean)]
  for (const ip of ips) if (isIP(ip) === 0) throw new Error(`-additional-ipaddress ${JSON.stringify(ip)} is not an IP address`)
  let usages: string[] = []
  if (opts.kind === 'server') {
    if (opts.node) dns.push(`${opts.node}.server.${opts.datacenter}.${opts.domain}`)
    dns.push(name, 'localhost')
    ips.push('127.0.0.1')
    usages = [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
  } else if (opts.kind === 'client') {
    dns.push(name, 'localhost')
    ips.push('127.0.0.1')
    usages = [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]
  } else {
    dns.splice(0, dns.length, name, 'localhost')
    ips.splice(0)
  }
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as unknown as CryptoKeyPair
  const now = Date.now()
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    ...(usages.length > 0 ? [new x509.ExtendedKeyUsageExtension(usages)] : []),
    new x509.SubjectAlternativeNameExtension([
      ...[...new Set(dns)].map((value) => ({type: 'dns' as const, value})),
      ...[...new Set(ips)].map((value) => ({type: 'ip' as const, value})),
    ]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
  ]
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDn(name)}`,
    issuer: ca.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.days * DAY_MS),
    publicKey: keys.publicKey, signingKey: signer.key, signingAlgorithm: signer.algorithm, extensions,
  })
  // As Consul's tlsutil.Verify: the new certificate must chain to the CA it was made with.
  if (!await cert.verify({publicKey: ca.publicKey, signatureOnly: true})) throw new Error('the CA key does not belong to the CA certificate')
  return {cert: cert.toString('pem') + '\n', key: await exportKey(keys.privateKey)}
}
