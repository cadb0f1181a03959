// TLS settings from Consul's two config forms, merged into one settings object per protocol:
//   - the `tls` block: `defaults`, `internal_rpc` (the server RPC port), `https` (the HTTPS
//     listener) and `grpc`, each protocol block inheriting every key it leaves out from `defaults`;
//   - the older top-level keys (`ca_file`, `cert_file`, `key_file`, `verify_incoming`,
//     `verify_incoming_rpc`, `verify_incoming_https`, `verify_outgoing`, `verify_server_hostname`,
//     `tls_min_version`, `tls_cipher_suites`), which Consul's builder turns into the block's keys
//     when the block does not set them (agent/config/deprecated.go).
// Pure: files are read later (tls/material.ts), so a reload can validate before it swaps anything.
// Keys that promise protection coord does not give (auto_encrypt, gRPC TLS) are refused here, never
// accepted and ignored: a config that asks for encryption must get it or fail to start.

export type TlsVersion = 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3'

export interface TlsProtocolSettings {
  caFile: string
  caPath: string
  certFile: string
  keyFile: string
  verifyIncoming: boolean
  verifyOutgoing: boolean
  minVersion: TlsVersion
  /** Go's names (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ...), as Consul takes them; [] = Node's defaults. */
  cipherSuites: readonly string[]
}

export interface TlsSettings {
  https: TlsProtocolSettings
  internalRpc: TlsProtocolSettings & {
    /** Servers must present `server.<datacenter>.<domain>` (outgoing) and prove it for server-only traffic (incoming). */
    verifyServerHostname: boolean
  }
}

const PROTOCOL_KEYS = ['ca_file', 'ca_path', 'cert_file', 'key_file', 'verify_incoming', 'verify_outgoing', 'tls_min_version', 'tls_cipher_suites'] as const
const BLOCKS = new Set(['defaults', 'internal_rpc', 'https', 'grpc'])

/** Every top-level key this module reads (config.ts treats them as supported). */
export const TLS_TOP_LEVEL_KEYS: ReadonlySet<string> = new Set([
  'tls', 'ca_file', 'ca_path', 'cert_file', 'key_file', 'verify_incoming', 'verify_incoming_rpc', 'verify_incoming_https',
  'verify_outgoing', 'verify_server_hostname', 'tls_min_version', 'tls_cipher_suites', 'tls_prefer_server_cipher_suites',
  'auto_encrypt', 'server_name',
])

const LEGACY_BOOLS = ['verify_incoming', 'verify_incoming_rpc', 'verify_incoming_https', 'verify_outgoing', 'verify_server_hostname', 'tls_prefer_server_cipher_suites']
const LEGACY_STRINGS = ['ca_file', 'ca_path', 'cert_file', 'key_file', 'tls_min_version', 'tls_cipher_suites']

const VERSIONS: Record<string, TlsVersion> = {
  TLSv1_0: 'TLSv1_0', TLSv1_1: 'TLSv1_1', TLSv1_2: 'TLSv1_2', TLSv1_3: 'TLSv1_3',
  // Consul's older spellings, still accepted by its builder.
  tls10: 'TLSv1_0', tls11: 'TLSv1_1', tls12: 'TLSv1_2', tls13: 'TLSv1_3',
}

/** Go cipher suite name → OpenSSL's, for the suites Consul accepts (tlsutil/config.go goTLSCipherSuites). */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
}

type Raw = Record<string, unknown>

/**
 * Where a problem is reported: the dotted key the user wrote and the whole line (structurally
 * agent/config-problems.ts ProblemSink; tls/ sits below agent/ and imports nothing of it).
 */
export interface TlsProblemSink {
  add(key: string, message: string): void
}

/** A protocol's merged keys, each value with the key it was written under (`tls.defaults.ca_file`, `ca_file`). */
type Sourced = Record<string, {value: unknown; key: string}>

function sourced(values: Raw, keyOf: (key: string) => string): Sourced {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, {value, key: keyOf(key)}]))
}

function isObject(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Reads both forms; every message names the protocol's key (`tls.https.verify_incoming: expected
 * ...`), and its record the key the value was written under (`tls.defaults.verify_incoming`,
 * `verify_incoming_https`), which is the one to fix.
 */
export function readTlsSettings(rawConfig: Raw, problems: TlsProblemSink): TlsSettings {
  let raw = rawConfig
  const tls = raw.tls
  let block: Raw = {}
  if (tls !== undefined) {
    if (isObject(tls)) block = tls
    else problems.add('tls', `tls: expected an object, got ${JSON.stringify(tls)}`)
  }
  for (const key of Object.keys(block)) if (!BLOCKS.has(key)) problems.add(`tls.${key}`, `invalid config key tls.${key}`)
  const section = (name: string): Sourced => {
    const value = block[name]
    if (value === undefined) return {}
    if (!isObject(value)) {
      problems.add(`tls.${name}`, `tls.${name}: expected an object, got ${JSON.stringify(value)}`)
      return {}
    }
    const allowed = new Set<string>(PROTOCOL_KEYS)
    if (name === 'internal_rpc') allowed.add('verify_server_hostname')
    if (name === 'grpc') allowed.add('use_auto_cert')
    if (name === 'defaults') allowed.delete('verify_server_hostname')
    for (const key of Object.keys(value)) if (!allowed.has(key)) problems.add(`tls.${name}.${key}`, `invalid config key tls.${name}.${key}`)
    return sourced(value, (key) => `tls.${name}.${key}`)
  }
  // The older keys fill in what the block leaves out (Consul: the block wins where both are set).
  // A wrong type is reported under the key the user wrote, and the key then ignored.
  raw = {...raw}
  for (const key of LEGACY_BOOLS) {
    const value = raw[key]
    if (value !== undefined && typeof value !== 'boolean' && value !== 'true' && value !== 'false') {
      problems.add(key, `${key}: expected true or false, got ${JSON.stringify(value)}`)
      delete raw[key]
    }
  }
  for (const key of LEGACY_STRINGS) {
    const value = raw[key]
    if (value !== undefined && typeof value !== 'string' && !(key === 'tls_cipher_suites' && Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      problems.add(key, `${key}: expected a string, got ${JSON.stringify(value)}`)
      delete raw[key]
    }
  }
  const legacyDefaults: Sourced = {}
  for (const key of PROTOCOL_KEYS) if (raw[key] !== undefined) legacyDefaults[key] = {value: raw[key], key}
  const defaults = {...legacyDefaults, ...section('defaults')}
  const legacyRpc: Sourced = {}
  if (raw.verify_incoming_rpc !== undefined) legacyRpc.verify_incoming = {value: raw.verify_incoming_rpc, key: 'verify_incoming_rpc'}
  if (raw.verify_server_hostname !== undefined) legacyRpc.verify_server_hostname = {value: raw.verify_server_hostname, key: 'verify_server_hostname'}
  const legacyHttps: Sourced = {}
  if (raw.verify_incoming_https !== undefined) legacyHttps.verify_incoming = {value: raw.verify_incoming_https, key: 'verify_incoming_https'}
  const rpcRaw = {...defaults, ...legacyRpc, ...section('internal_rpc')}
  const httpsRaw = {...defaults, ...legacyHttps, ...section('https')}
  const grpcRaw = section('grpc')

  const https = readProtocol(httpsRaw, 'tls.https', problems)
  const rpcBase = readProtocol(rpcRaw, 'tls.internal_rpc', problems)
  const verifyServerHostname = readBool(rpcRaw, 'verify_server_hostname', 'tls.internal_rpc', problems)
  // Consul: verify_server_hostname implies verify_outgoing (a name is only checked on a verified chain).
  const internalRpc = {...rpcBase, verifyServerHostname, verifyOutgoing: rpcBase.verifyOutgoing || verifyServerHostname}

  // Refused rather than ignored: each promises protection coord does not give.
  if (Object.keys(grpcRaw).length > 0) problems.add('tls.grpc', 'tls.grpc: coord serves no gRPC listener; remove the block')
  if (isObject(raw.auto_encrypt) ? Object.values(raw.auto_encrypt).some((v) => v === true || v === 'true' || (Array.isArray(v) && v.length > 0)) : raw.auto_encrypt !== undefined) {
    problems.add('auto_encrypt', 'auto_encrypt: coord does not distribute certificates; create them with `coord tls cert create` and set cert_file/key_file')
  }
  if (raw.server_name !== undefined) problems.add('server_name', 'server_name: not supported by coord; certificates are checked against server.<datacenter>.<domain>')
  // Go ignores it since 1.18 (Consul deprecated it); accepted as a no-op only when false. (A wrong type was reported above.)
  if (raw.tls_prefer_server_cipher_suites === true || raw.tls_prefer_server_cipher_suites === 'true') {
    problems.add('tls_prefer_server_cipher_suites', 'tls_prefer_server_cipher_suites: deprecated and has no effect; remove it')
  }
  crossCheck('tls.https', https, httpsRaw, problems)
  crossCheck('tls.internal_rpc', internalRpc, rpcRaw, problems)
  return {https, internalRpc}
}

/** The key a merged value was written under, or the protocol's own key when it was not set. */
function keyOf(raw: Sourced, key: string, where: string): string {
  return raw[key]?.key ?? `${where}.${key}`
}

function readBool(raw: Sourced, key: string, where: string, problems: TlsProblemSink): boolean {
  const value = raw[key]?.value
  if (value === undefined) return false
  if (typeof value === 'boolean') return value
  if (value === 'true' || value === 'false') return value === 'true'
  problems.add(keyOf(raw, key, where), `${where}.${key}: expected true or false, got ${JSON.stringify(value)}`)
  return false
}

function readString(raw: Sourced, key: string, where: string, problems: TlsProblemSink): string {
  const value = raw[key]?.value
  if (value === undefined) return ''
  if (typeof value === 'string') return value
  problems.add(keyOf(raw, key, where), `${where}.${key}: expected a string, got ${JSON.stringify(value)}`)
  return ''
}

function readProtocol(raw: Sourced, where: string, problems: TlsProblemSink): TlsProtocolSettings {
  const versionRaw = raw.tls_min_version?.value
  let minVersion: TlsVersion = 'TLSv1_2'
  if (versionRaw !== undefined) {
    const known = typeof versionRaw === 'string' ? VERSIONS[versionRaw] : undefined
    if (known) minVersion = known
    else problems.add(keyOf(raw, 'tls_min_version', where), `${where}.tls_min_version: expected one of TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3, got ${JSON.stringify(versionRaw)}`)
  }
  let cipherSuites: string[] = []
  const suitesRaw = raw.tls_cipher_suites?.value
  if (suitesRaw !== undefined) {
    const suitesKey = keyOf(raw, 'tls_cipher_suites', where)
    // Consul takes a comma-separated string; a JSON list is accepted too.
    const list = typeof suitesRaw === 'string' ? suitesRaw.split(',').map((s) => s.trim()).filter(Boolean)
      : Array.isArray(suitesRaw) && suitesRaw.every((s) => typeof s === 'string') ? suitesRaw as string[] : undefined
    if (!list) problems.add(suitesKey, `${where}.tls_cipher_suites: expected a comma-separated list of cipher suite names, got ${JSON.stringify(suitesRaw)}`)
    else {
      const unknown = list.find((name) => !(name in CIPHER_SUITES))
      if (unknown) problems.add(suitesKey, `${where}.tls_cipher_suites: unsupported cipher suite ${JSON.stringify(unknown)}`)
      else cipherSuites = list
    }
  }
  return {
    caFile: readString(raw, 'ca_file', where, problems),
    caPath: readString(raw, 'ca_path', where, problems),
    certFile: readString(raw, 'cert_file', where, problems),
    keyFile: readString(raw, 'key_file', where, problems),
    verifyIncoming: readBool(raw, 'verify_incoming', where, problems),
    verifyOutgoing: readBool(raw, 'verify_outgoing', where, problems),
    minVersion,
    cipherSuites,
  }
}

/**
 * Consul's builder rules for one protocol: what each switch needs to mean anything. A problem is
 * kept under the key that was set (the switch, or the one file of a pair).
 */
function crossCheck(where: string, s: TlsProtocolSettings, raw: Sourced, problems: TlsProblemSink): void {
  const hasCa = s.caFile !== '' || s.caPath !== ''
  const key = (name: string): string => keyOf(raw, name, where)
  if (s.certFile !== '' && s.keyFile === '') problems.add(key('cert_file'), `${where}.key_file: cert_file is set but key_file is not`)
  if (s.keyFile !== '' && s.certFile === '') problems.add(key('key_file'), `${where}.cert_file: key_file is set but cert_file is not`)
  if (s.verifyIncoming && !hasCa) problems.add(key('verify_incoming'), `${where}.verify_incoming: VerifyIncoming set but no CA certificates were provided (ca_file or ca_path)`)
  if (s.verifyIncoming && s.certFile === '') problems.add(key('verify_incoming'), `${where}.verify_incoming: VerifyIncoming set but no certificate (cert_file, key_file) was provided`)
  // internal_rpc's verify_outgoing may be implied by verify_server_hostname: the switch that was set is the key.
  const outgoing = raw.verify_outgoing?.value === true || raw.verify_outgoing?.value === 'true' ? 'verify_outgoing' : 'verify_server_hostname'
  if (s.verifyOutgoing && !hasCa) problems.add(key(outgoing), `${where}.verify_outgoing: VerifyOutgoing set but no CA certificates were provided (ca_file or ca_path)`)
  if (s.minVersion === 'TLSv1_3' && s.cipherSuites.length > 0) problems.add(key('tls_cipher_suites'), `${where}.tls_cipher_suites: TLS 1.3 cipher suites are not configurable; remove tls_cipher_suites or lower tls_min_version`)
}

/** The RPC port speaks TLS (accepts it, and dials with it when verify_outgoing). */
export function rpcTlsEnabled(settings: TlsSettings): boolean {
  return settings.internalRpc.certFile !== '' || settings.internalRpc.verifyOutgoing
}

/** The name every server's certificate must carry, as Consul's: server.<datacenter>.<domain>. */
export function serverName(datacenter: string, domain: string): string {
  return `server.${datacenter}.${domain.replace(/\.$/, '')}`
}
