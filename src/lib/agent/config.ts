// Agent configuration: Consul's JSON config keys are the one vocabulary. Command-line flags are
// turned into the same keys, so defaults < config files (in order) < flags merge through one path,
// are validated once (every problem reported, naming the key), and the result is frozen.
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {isIP} from 'node:net'
import {hostname} from 'node:os'
import {parseDuration} from '../duration.js'
import {parseLogLevel, type LogLevel} from '../logger.js'
import {parseWatches, type WatchDefinition} from './watch-config.js'
import {validateGossipKey} from '../gossip/keyring.js'
import {gossipTimingKeys, readGossipTiming, type GossipTiming} from './gossip-timing.js'
import {SCRIPTS_DISABLED, checkKind, definitionsFromConfig, type CheckDefinition, type ParsedService} from './definitions.js'
import {parseDnsConfig, type DnsConfig} from './dns-config.js'
import {refusedSecurityKeys} from './refused-keys.js'
import {parseHclConfig} from './hcl-config.js'
import {ACL_ACCEPTED, ACL_KEYS, parseAclConfig, type AclConfig} from './acl-config.js'
import {HTTP_CONFIG_ACCEPTED, HTTP_CONFIG_KEYS, parseHttpConfig, type HttpConfig} from './http-config.js'
import {TLS_TOP_LEVEL_KEYS, readTlsSettings, rpcTlsEnabled, type TlsSettings} from '../tls/config.js'
import {TlsFileError, loadTlsMaterial, type TlsMaterial} from '../tls/material.js'
import {DEFAULT_RPC_HOLD_TIMEOUT_MS} from '../consensus.js'
import {TELEMETRY_ACCEPTED, TELEMETRY_KEYS, parseTelemetryConfig, type TelemetryConfig} from './telemetry-config.js'
import {AUTOPILOT_ACCEPTED, AUTOPILOT_KEYS, parseAutopilotConfig, type AutopilotSettings} from './autopilot-config.js'

export interface AgentConfig {
  readonly dev: boolean
  readonly server: boolean
  readonly bootstrap: boolean
  readonly bootstrapExpect: number
  /** '' in -dev mode: state lives in memory only. */
  readonly dataDir: string
  readonly nodeName: string
  /** '' until the agent generates or loads one from the data dir. */
  readonly nodeId: string
  readonly datacenter: string
  readonly bindAddr: string
  readonly advertiseAddr: string
  readonly clientAddrs: readonly string[]
  /** -1 turns a listener off (`ports.http = -1`: HTTPS only); https is off (-1) unless set. */
  readonly ports: Readonly<{http: number; https: number; dns: number; server: number; serfLan: number; serfWan: number}>
  readonly logLevel: LogLevel
  readonly logJson: boolean
  readonly ui: boolean
  /** ui_config.dir / -ui-dir: a directory whose files are served instead of the built-in UI ('' = built-in). */
  readonly uiDir: string
  /** ui_config.content_path / -ui-content-path, normalised as Consul's UIPathBuilder: '/ui/' by default, always '/…/'. */
  readonly uiContentPath: string
  readonly enableScriptChecks: boolean
  /** Script checks from config files only (not from the HTTP API), as Consul's enable_local_script_checks. */
  readonly enableLocalScriptChecks: boolean
  /** Services (with their embedded checks) and checks from config files: `service`, `services`, `check`, `checks`. */
  readonly services: readonly ParsedService[]
  readonly checks: readonly CheckDefinition[]
  readonly disableRemoteExec: boolean
  /** Lower bound for session TTLs (Consul's session_ttl_min, default 10s); operators may lower it. */
  readonly sessionTtlMinMs: number
  readonly kvMaxValueSize: number
  readonly txnMaxReqLen: number
  readonly txnMaxOps: number
  /** Applied log entries between snapshots (Consul's raft_snapshot_threshold): the log is compacted after that many. */
  readonly snapshotThreshold: number
  readonly configFiles: readonly string[]
  /**
   * Servers to find at start (`-retry-join`, `start_join`): their server RPC addresses until gossip
   * exists (host, or host:port; port 8300 when omitted).
   */
  readonly retryJoin: readonly string[]
  /** Consul's `watches` list, validated (agent/watch-config.ts); run by agent/watches.ts. */
  readonly watches: readonly WatchDefinition[]
  /** Gossip encryption key (base64, 16/24/32 bytes) or ''; the keyring file in the data dir wins (gossip-keyring.ts). */
  readonly encrypt: string
  readonly encryptVerifyIncoming: boolean
  readonly encryptVerifyOutgoing: boolean
  readonly disableKeyringFile: boolean
  /** `-join` / `start_join` alone (same form): the agent fails to start when none answers. */
  readonly startJoin: readonly string[]
  /** Time between retry-join attempts (`retry_interval`; coord's default 1s, Consul's 30s). */
  readonly retryIntervalMs: number
  /** Failed retry-join attempts before the agent gives up and exits (`retry_max`; 0 = forever). */
  readonly retryMax: number
  /** WAN pool seeds (servers): `-retry-join-wan` / `retry_join_wan`, `-join-wan` / `start_join_wan`; host[:serf WAN port]. */
  readonly retryJoinWan: readonly string[]
  readonly startJoinWan: readonly string[]
  readonly retryIntervalWanMs: number
  readonly retryMaxWan: number
  /** `-rejoin` / `rejoin_after_leave`: after a graceful leave, still rejoin the members in the snapshot on restart. */
  readonly rejoinAfterLeave: boolean
  /** `gossip_lan` / `gossip_wan` blocks: overrides of the pools' timing (only the keys given). */
  readonly gossipLan: GossipTiming
  readonly gossipWan: GossipTiming
  /** The DNS interface: domain, alt_domain, recursors and dns_config (dns/config.ts). */
  readonly dns: DnsConfig
  /** http_config: write sources, blocked endpoints, extra response headers (http-config.ts). */
  readonly http: HttpConfig
  /** The acl block (acl-config.ts); `enabled` is refused at start until enforcement covers every route (refused-keys.ts). */
  readonly acl: AclConfig
  /** Network coordinates: gossip RTTs → Vivaldi → the servers' coordinates table (Consul's keys). */
  readonly coordinates: CoordinateSettings
  /**
   * `performance { rpc_hold_timeout }` (Consul's default 7s): how long a request that needs the
   * leader waits for one through an election, on servers and on client agents, before it answers
   * "No cluster leader".
   */
  readonly rpcHoldTimeoutMs: number
  /** TLS: both of Consul's config forms merged (tls/config.ts), and the certificates they name, read and checked. */
  readonly tls: AgentTls
  /** The telemetry block: metrics sinks and names (telemetry-config.ts). */
  readonly telemetry: TelemetryConfig
  /** The autopilot block: what a leader seeds the replicated autopilot configuration with (autopilot-config.ts). */
  readonly autopilot: AutopilotSettings
  /** enable_debug: the agent's CPU profile and heap snapshot endpoints (/v1/agent/debug/pprof/*) without ACLs. */
  readonly enableDebug: boolean
}

export interface AgentTls {
  settings: TlsSettings
  /** The HTTPS listener's certificates (ports.https ≥ 0), else undefined. */
  https?: TlsMaterial
  /** The server RPC port's (a cert_file, or verify_outgoing: TLS on that port), else undefined. */
  rpc?: TlsMaterial
}

export interface CoordinateSettings {
  /** `disable_coordinates`: no ack payloads, no sync, /v1/coordinate/* answers 401 as Consul's. */
  readonly disabled: boolean
  /** `sync_coordinate_interval_min` (Consul 15s): least time between two sends of this agent's coordinate. */
  readonly syncIntervalMinMs: number
  /** `sync_coordinate_rate_target` (Consul 64): cluster-wide updates per second aimed at; the interval grows with the pool. */
  readonly syncRateTarget: number
  /** `coordinate_update_period` (Consul 5s): how often a server turns the updates it received into Raft entries. */
  readonly updatePeriodMs: number
  /** `coordinate_update_batch_size` (Consul 128) updates per entry, `coordinate_update_max_batches` (5) entries per period. */
  readonly updateBatchSize: number
  readonly updateMaxBatches: number
}

/** Raw config in Consul's JSON shape (snake_case keys), as read from files or built from flags. */
export type RawConfig = Record<string, unknown>

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in the configuration:\n  ${problems.join('\n  ')}`)
  }
}

// Consul keys coord reads today. Other Consul keys are accepted with a warning (a Consul config
// keeps working); anything else is a typo and an error, as Consul itself treats unknown keys.
export const supportedKeys: ReadonlySet<string> = new Set([
  'datacenter', 'data_dir', 'node_name', 'node_id', 'server', 'bootstrap', 'bootstrap_expect', 'bind_addr',
  'advertise_addr', 'client_addr', 'ports', 'log_level', 'log_json', 'ui', 'ui_config', 'enable_script_checks',
  'disable_remote_exec', 'session_ttl_min', 'limits', 'raft_snapshot_threshold', 'retry_join', 'start_join',
  'encrypt', 'encrypt_verify_incoming', 'encrypt_verify_outgoing', 'disable_keyring_file',
  'retry_interval', 'retry_max', 'retry_join_wan', 'start_join_wan', 'retry_interval_wan', 'retry_max_wan',
  'rejoin_after_leave', 'gossip_lan', 'gossip_wan', 'watches',
  'service', 'services', 'check', 'checks', 'enable_local_script_checks',
  'domain', 'alt_domain', 'recursors', 'dns_config',
  'disable_coordinates', 'sync_coordinate_interval_min', 'sync_coordinate_rate_target', 'coordinate_update_period',
  'coordinate_update_batch_size', 'coordinate_update_max_batches', 'http_config', 'performance', 'acl',
  'telemetry', 'autopilot', 'enable_debug',
  ...TLS_TOP_LEVEL_KEYS,
])
const acceptedConsulKeys = new Set([
  'addresses', 'advertise_addr_wan', 'check_update_interval',
  'connect', 'leave_on_terminate',
  'log_file', 'node_meta', 'primary_datacenter', 'raft_protocol', 'raft_snapshot_interval',
  'raft_trailing_logs', 'reconnect_timeout', 'skip_leave_on_interrupt', 'translate_wan_addrs',
  'disable_update_check',
  'segment', 'serf_lan', 'serf_wan', 'enable_syslog', 'syslog_facility', 'pid_file', 'disable_host_node_id',
])
const supportedPorts = new Set(['http', 'https', 'grpc_tls', 'dns', 'server', 'serf_lan', 'serf_wan'])
const acceptedPorts = new Set(['grpc', 'sidecar_min_port', 'sidecar_max_port', 'expose_min_port', 'expose_max_port'])
const supportedLimits = new Set(['kv_max_value_size', 'txn_max_req_len'])
const acceptedPerformance = new Set(['raft_multiplier', 'leave_drain_time', 'grpc_keepalive_interval', 'grpc_keepalive_timeout'])
const acceptedUiConfig = new Set(['metrics_provider', 'metrics_provider_files', 'metrics_provider_options_json', 'metrics_proxy', 'dashboard_url_templates'])

/**
 * Reads `-config-file` paths and every *.json and *.hcl in each `-config-dir` (one order, by name,
 * the formats mixed), as Consul does; HCL with Consul's semantics (hcl-config.ts). A
 * `-config-file` that names a directory is read as one, as Consul's sourcesFromPath does.
 */
export function readConfigFiles(files: readonly string[], dirs: readonly string[]): Array<{path: string; raw: RawConfig}> {
  const isDir = (path: string): boolean => {
    try {
      return statSync(path).isDirectory()
    } catch {
      return false // readConfigFile reports the missing or unreadable file by name
    }
  }
  const paths = files.filter((file) => !isDir(file))
  for (const dir of [...files.filter(isDir), ...dirs]) {
    let names: string[]
    try {
      names = readdirSync(dir).filter((name) => name.endsWith('.json') || name.endsWith('.hcl')).sort()
    } catch (error) {
      throw new ConfigError([`Error reading config dir ${dir}: ${(error as Error).message}`])
    }
    for (const name of names) {
      const path = join(dir, name)
      let isFile: boolean
      try {
        isFile = statSync(path).isFile() // follows a symlink; a dangling one is reported by name
      } catch (error) {
        throw new ConfigError([`Error reading ${path}: ${(error as Error).message}`])
      }
      if (isFile) paths.push(path)
    }
  }
  return paths.map((path) => ({path, raw: readConfigFile(path)}))
}

/**
 * The agent's config from its files, directories and flags, as `coord agent` builds it at start and
 * on reload, and `coord validate` checks it: later sources win, problems name the file that set the key.
 */
export function loadConfig(opts: {files: readonly string[]; dirs: readonly string[]; fromFlags: RawConfig; dev: boolean; warn?: (msg: string) => void}): AgentConfig {
  const files = readConfigFiles(opts.files, opts.dirs)
  const raw = mergeRaw(...files.map((f) => f.raw), opts.fromFlags)
  // The flags (path '') have no file to name.
  const sources = keySources([...files, {path: '', raw: opts.fromFlags}])
  return buildConfig(raw, {dev: opts.dev, configFiles: files.map((f) => f.path), warn: opts.warn, sources})
}

function readConfigFile(path: string): RawConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError([`Error reading ${path}: ${(error as Error).message}`])
  }
  if (path.endsWith('.hcl')) {
    try {
      return parseHclConfig(text)
    } catch (error) {
      throw new ConfigError([`Error parsing ${path}: ${(error as Error).message}`])
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigError([`Error parsing ${path}: ${(error as Error).message}`])
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`Error parsing ${path}: the top level must be a JSON object`])
  }
  return parsed as RawConfig
}

// Definitions add up across files, as in Consul: two files with a `service` each give two services.
const appendedKeys = new Set(['service', 'services', 'check', 'checks', 'watches'])

/** Later sources win; nested objects (ports, limits) merge key by key; definition lists append. */
export function mergeRaw(...sources: RawConfig[]): RawConfig {
  const out: RawConfig = {}
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      const prior = out[key]
      if (appendedKeys.has(key) && prior !== undefined) out[key] = [...asList(prior), ...asList(value)]
      else out[key] = isPlainObject(prior) && isPlainObject(value) ? {...prior, ...value} : value
    }
  }
  return out
}

/**
 * Which config file set each key (and each key of a nested block such as `ports.http`), so a problem
 * can name the file to fix. Later sources win as in mergeRaw; definition lists collect every file
 * that added to them. A source with path '' (the command-line flags) has no file to name.
 */
export function keySources(sources: ReadonlyArray<{path: string; raw: RawConfig}>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const {path, raw} of sources) {
    for (const [key, value] of Object.entries(raw)) {
      if (appendedKeys.has(key)) {
        // `service` and `services` end up in one list, reported as services[i] (checks likewise).
        const list = key === 'service' ? 'services' : key === 'check' ? 'checks' : key
        out.set(list, [...new Set([...(out.get(list) ?? []), path])])
        continue
      }
      out.set(key, [path])
      if (isPlainObject(value)) for (const inner of Object.keys(value)) out.set(`${key}.${inner}`, [path])
    }
  }
  return out
}

/** Prefixes a problem with the file(s) that set its key: "/etc/coord/a.json: ports.http: expected ...". */
function labelProblem(problem: string, sources: ReadonlyMap<string, string[]>): string {
  const match = /^(?:invalid config key )?([a-z_]+)(?:\.([a-z_]+))?/.exec(problem)
  if (!match) return problem
  const [, outer, inner] = match
  const key = outer === 'check' ? 'checks' : outer === 'service' ? 'services' : outer
  const files = (sources.get(`${key}.${inner}`) ?? sources.get(key) ?? []).filter((path) => path !== '')
  return files.length > 0 ? `${files.join(', ')}: ${problem}` : problem
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value]
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Validates merged raw config and builds the frozen AgentConfig. `warn` receives keys coord accepts
 * from Consul configs but does not act on yet.
 */
export function buildConfig(raw: RawConfig, opts: {dev: boolean; configFiles?: string[]; warn?: (msg: string) => void; sources?: ReadonlyMap<string, string[]>}): AgentConfig {
  const problems: string[] = []
  const warn = opts.warn ?? (() => {})
  for (const key of Object.keys(raw)) {
    if (supportedKeys.has(key)) continue
    if (acceptedConsulKeys.has(key)) warn(`config key "${key}" is accepted but not yet acted on by coord`)
    else problems.push(`invalid config key ${key}`)
  }
  problems.push(...refusedSecurityKeys(raw))
  const read = new FieldReader(raw, problems)
  const dev = opts.dev
  const server = read.bool('server', dev)
  const bootstrap = read.bool('bootstrap', dev)
  const ports = read.object('ports', supportedPorts, acceptedPorts, warn)
  const limits = read.object('limits', supportedLimits, new Set(), warn)
  const uiConfig = read.object('ui_config', new Set(['enabled', 'dir', 'content_path']), acceptedUiConfig, warn)
  const uiReader = new FieldReader(uiConfig, problems, 'ui_config.')
  const portOf = (name: string, fallback: number) => new FieldReader(ports, problems, 'ports.').port(name, fallback)
  const limitReader = new FieldReader(limits, problems, 'limits.')
  const performanceReader = new FieldReader(read.object('performance', new Set(['rpc_hold_timeout']), acceptedPerformance, warn), problems, 'performance.')
  const kvMaxValueSize = limitReader.positiveInt('kv_max_value_size', 512 * 1024)
  const bindAddr = read.string('bind_addr', dev ? '127.0.0.1' : '0.0.0.0')
  const gossipLan = readGossipTiming(read.object('gossip_lan', gossipTimingKeys, new Set(), warn), 'gossip_lan', 'lan', problems)
  const gossipWan = readGossipTiming(read.object('gossip_wan', gossipTimingKeys, new Set(), warn), 'gossip_wan', 'wan', problems)
  const config: AgentConfig = {
    dev,
    server,
    bootstrap,
    bootstrapExpect: read.nonNegativeInt('bootstrap_expect', 0),
    dataDir: read.string('data_dir', ''),
    nodeName: read.string('node_name', hostname()),
    nodeId: read.string('node_id', ''),
    datacenter: read.string('datacenter', 'dc1').toLowerCase(),
    bindAddr,
    advertiseAddr: read.string('advertise_addr', bindAddr === '0.0.0.0' ? '127.0.0.1' : bindAddr),
    clientAddrs: read.string('client_addr', '127.0.0.1').split(/\s+/).filter(Boolean),
    ports: {
      http: portOf('http', 8500), https: portOf('https', -1), dns: portOf('dns', 8600), server: portOf('server', 8300),
      serfLan: portOf('serf_lan', 8301), serfWan: portOf('serf_wan', 8302),
    },
    logLevel: read.logLevel('log_level', dev ? 'debug' : 'info'),
    logJson: read.bool('log_json', false),
    // ui_config.enabled is Consul's current spelling of `ui`; the metrics and dashboard keys are accepted (coord shows no metrics).
    ui: uiConfig.enabled !== undefined ? uiReader.bool('enabled', dev) : read.bool('ui', dev),
    uiDir: uiReader.string('dir', ''),
    uiContentPath: uiContentPath(uiReader.string('content_path', '')),
    enableScriptChecks: read.bool('enable_script_checks', false),
    enableLocalScriptChecks: read.bool('enable_local_script_checks', false),
    ...readDefinitions(raw, problems),
    disableRemoteExec: read.bool('disable_remote_exec', true),
    sessionTtlMinMs: read.duration('session_ttl_min', 10_000),
    kvMaxValueSize,
    txnMaxReqLen: Math.max(kvMaxValueSize, limitReader.positiveInt('txn_max_req_len', 512 * 1024)),
    txnMaxOps: 64,
    snapshotThreshold: read.positiveInt('raft_snapshot_threshold', 16384),
    configFiles: opts.configFiles ?? [],
    retryJoin: [...read.stringList('retry_join'), ...read.stringList('start_join')].map((address) => withDefaultPort(address, 8300)),
    watches: parseWatches(raw.watches, problems),
    startJoin: read.stringList('start_join').map((address) => withDefaultPort(address, 8300)),
    // Consul waits 30s between attempts; coord 1s: a gossip join costs one TCP exchange per seed,
    // and agents started together (coord dev cluster, a fleet rebooting) then meet within a second.
    retryIntervalMs: read.duration('retry_interval', 1000),
    retryMax: read.nonNegativeInt('retry_max', 0),
    retryJoinWan: read.stringList('retry_join_wan'),
    startJoinWan: read.stringList('start_join_wan'),
    retryIntervalWanMs: read.duration('retry_interval_wan', 1000),
    retryMaxWan: read.nonNegativeInt('retry_max_wan', 0),
    rejoinAfterLeave: read.bool('rejoin_after_leave', false),
    gossipLan,
    gossipWan,
    encrypt: read.string('encrypt', '').trim(),
    encryptVerifyIncoming: read.bool('encrypt_verify_incoming', true),
    encryptVerifyOutgoing: read.bool('encrypt_verify_outgoing', true),
    disableKeyringFile: read.bool('disable_keyring_file', false),
    dns: parseDnsConfig(raw, problems, warn),
    http: parseHttpConfig(read.object('http_config', HTTP_CONFIG_KEYS, HTTP_CONFIG_ACCEPTED, warn), problems),
    acl: parseAclConfig(read.object('acl', ACL_KEYS, ACL_ACCEPTED, warn), problems),
    coordinates: {
      disabled: read.bool('disable_coordinates', false),
      syncIntervalMinMs: read.duration('sync_coordinate_interval_min', 15_000),
      syncRateTarget: read.positiveInt('sync_coordinate_rate_target', 64),
      updatePeriodMs: read.duration('coordinate_update_period', 5_000),
      updateBatchSize: read.positiveInt('coordinate_update_batch_size', 128),
      updateMaxBatches: read.positiveInt('coordinate_update_max_batches', 5),
    },
    tls: {settings: readTlsSettings(raw, problems)},
    // As Consul (agent.go: only a value > 0 replaces the default), 0 means the default.
    rpcHoldTimeoutMs: performanceReader.duration('rpc_hold_timeout', DEFAULT_RPC_HOLD_TIMEOUT_MS) || DEFAULT_RPC_HOLD_TIMEOUT_MS,
    telemetry: parseTelemetryConfig(read.object('telemetry', TELEMETRY_KEYS, TELEMETRY_ACCEPTED, warn), problems),
    autopilot: parseAutopilotConfig(read.object('autopilot', AUTOPILOT_KEYS, AUTOPILOT_ACCEPTED, warn), problems),
    enableDebug: read.bool('enable_debug', false),
  }
  // gRPC TLS promises encryption coord does not serve: refused, not ignored.
  if (portOf('grpc_tls', -1) >= 0) problems.push('ports.grpc_tls: coord serves no gRPC listener; remove it or set -1')
  if (config.encrypt !== '') {
    try {
      validateGossipKey(config.encrypt)
    } catch (error) {
      problems.push(`encrypt has invalid key: ${(error as Error).message.replace(/^gossip key #1 /, 'the key ')}`)
    }
  }
  if (config.retryIntervalMs === 0) problems.push('retry_interval: must be greater than zero')
  if (config.retryIntervalWanMs === 0) problems.push('retry_interval_wan: must be greater than zero')
  if (config.coordinates.syncIntervalMinMs === 0) problems.push('sync_coordinate_interval_min: must be greater than zero')
  if (config.coordinates.updatePeriodMs === 0) problems.push('coordinate_update_period: must be greater than zero')
  if (!dev && config.dataDir === '') problems.push('data_dir: must be set unless -dev is given (use -data-dir=PATH)')
  // Without -server the agent runs as a client (no Raft): bootstrapping is a server's business.
  if (!config.server && config.bootstrap) problems.push("bootstrap: 'bootstrap = true' requires 'server = true'")
  if (!config.server && config.bootstrapExpect > 0) problems.push("bootstrap_expect: 'bootstrap_expect > 0' requires 'server = true'")
  if (!config.server && config.ports.serfLan === -1) problems.push('ports.serf_lan: a client agent finds its servers through LAN gossip; it cannot be disabled (-1) without server mode')
  if (config.nodeName === '') problems.push('node_name: must not be empty')
  const httpsTls = config.tls.settings.https
  if (config.ports.https >= 0 && (httpsTls.certFile === '' || httpsTls.keyFile === '')) {
    problems.push('ports.https: the HTTPS listener needs a certificate: set cert_file and key_file (tls.defaults or tls.https)')
  }
  if (config.ports.https > 0 && config.ports.https === config.ports.http) problems.push(`ports.https: ${config.ports.https} is also ports.http`)
  if (config.clientAddrs.length === 0) problems.push('client_addr: needs at least one address')
  problems.push(...uiChecks(config))
  problems.push(...crossChecks(config))
  // The certificate files are read only once the settings are sound, so each problem is about one file.
  if (problems.length === 0) {
    try {
      const tls = config.tls as {settings: TlsSettings; https?: TlsMaterial; rpc?: TlsMaterial}
      if (config.ports.https >= 0) tls.https = loadTlsMaterial(tls.settings.https)
      if (rpcTlsEnabled(tls.settings)) tls.rpc = loadTlsMaterial(tls.settings.internalRpc)
    } catch (error) {
      if (!(error instanceof TlsFileError)) throw error
      problems.push(error.message)
    }
  }
  if (problems.length > 0) throw new ConfigError(opts.sources ? problems.map((p) => labelProblem(p, opts.sources!)) : problems)
  return Object.freeze(config)
}

/** Consul's UIPathBuilder: '' → '/ui/', otherwise the path trimmed of slashes and wrapped in exactly one on each side. */
export function uiContentPath(raw: string): string {
  if (raw === '') return '/ui/'
  const trimmed = raw.replace(/^\/+|\/+$/g, '')
  return trimmed === '' ? '/' : `/${trimmed}/`
}

/** The UI keys Consul's builder refuses together, and what coord refuses so the UI cannot shadow the API or serve nothing. */
function uiChecks(config: AgentConfig): string[] {
  const problems: string[] = []
  // In -dev the UI is on by default, so -ui-dir there simply replaces the built-in assets (as Consul).
  if (!config.dev && config.ui && config.uiDir !== '') {
    problems.push('ui_config.dir: both ui_config.enabled and ui_config.dir (or -ui and -ui-dir) were specified, please provide only one: ui_config.dir serves your own web UI files, ui_config.enabled the built-in one')
  }
  const path = config.uiContentPath
  if (path === '/' || path === '/v1/' || path.startsWith('/v1/')) problems.push(`ui_config.content_path: ${JSON.stringify(path)} would hide the HTTP API; choose a path such as "/ui/"`)
  else if (/[\s"'<>\\?#%]/.test(path)) problems.push(`ui_config.content_path: ${JSON.stringify(path)} may hold only URL path characters (no spaces, quotes, <, >, \\, ?, # or %)`)
  if (config.uiDir !== '') {
    let isDir = false
    try { isDir = statSync(config.uiDir).isDirectory() } catch { isDir = false }
    if (!isDir) problems.push(`ui_config.dir: ${JSON.stringify(config.uiDir)} is not a readable directory`)
  }
  return problems
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Consul's builder rules that a field reader cannot see alone: names, addresses, the bootstrap modes
 * and the data dir's kind. Caught here, a bad value fails the start (or a reload) with the key named,
 * instead of surfacing later as a listener error or a node other agents cannot reach.
 */
function crossChecks(config: AgentConfig): string[] {
  const problems: string[] = []
  if (!/^[a-z0-9_-]+$/.test(config.datacenter)) problems.push(`datacenter: can only contain lowercase alphanumeric, - or _ characters, got ${JSON.stringify(config.datacenter)}`)
  if (config.nodeId !== '' && !UUID.test(config.nodeId)) problems.push(`node_id: expected a UUID such as "adf4238a-882b-9ddc-4a9d-5b6758e4159e", got ${JSON.stringify(config.nodeId)}`)
  if (isIP(config.bindAddr) === 0) problems.push(`bind_addr: must be an IP address, got ${JSON.stringify(config.bindAddr)}`)
  if (isIP(config.advertiseAddr) === 0 && config.advertiseAddr !== config.bindAddr) problems.push(`advertise_addr: must be an IP address, got ${JSON.stringify(config.advertiseAddr)}`)
  const badClient = config.clientAddrs.find((address) => isIP(address) === 0)
  if (badClient !== undefined) problems.push(`client_addr: must be IP addresses separated by spaces, got ${JSON.stringify(badClient)}`)
  // bootstrap_expect = 1 is -bootstrap (as Consul's builder turns it); more conflicts with a lone start.
  if (config.bootstrapExpect > 1 && config.dev) problems.push("bootstrap_expect: 'bootstrap_expect > 0' not allowed in dev mode")
  else if (config.bootstrapExpect > 1 && config.bootstrap) problems.push("bootstrap_expect: 'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive")
  if (config.dataDir !== '') {
    try {
      if (!statSync(config.dataDir).isDirectory()) problems.push(`data_dir: ${JSON.stringify(config.dataDir)} is not a directory`)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') problems.push(`data_dir: cannot use ${JSON.stringify(config.dataDir)}: ${(error as Error).message}`)
    }
  }
  return problems
}

function readDefinitions(raw: RawConfig, problems: string[]): {services: ParsedService[]; checks: CheckDefinition[]} {
  try {
    const defs = definitionsFromConfig(raw)
    // Config-file script checks need one of the two switches (checked here so a bad file fails
    // before anything starts, and a reload with one is refused whole).
    const scriptsAllowed = raw.enable_script_checks === true || raw.enable_script_checks === 'true' ||
      raw.enable_local_script_checks === true || raw.enable_local_script_checks === 'true'
    const all = [...defs.checks, ...defs.services.flatMap((s) => s.checks)]
    const script = all.find((c) => checkKind(c) === 'script')
    if (script && !scriptsAllowed) problems.push(`check "${script.CheckID}": ${SCRIPTS_DISABLED}`)
    return defs
  } catch (error) {
    problems.push((error as Error).message)
    return {services: [], checks: []}
  }
}

/** "10.0.0.1" → "10.0.0.1:8300"; "[::1]" → "[::1]:8300"; addresses with a port stay as they are. */
export function withDefaultPort(address: string, port: number): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address
  if (address.includes(':') && !address.startsWith('[')) return `[${address}]:${port}`
  return `${address}:${port}`
}

class FieldReader {
  constructor(private readonly raw: Record<string, unknown>, private readonly problems: string[], private readonly prefix = '') {}

  private get(key: string): unknown {
    return this.raw[key]
  }

  private fail(key: string, want: string, value: unknown): void {
    this.problems.push(`${this.prefix}${key}: expected ${want}, got ${JSON.stringify(value)}`)
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.get(key)
    if (value === undefined) return fallback
    if (typeof value === 'boolean') return value
    if (value === 'true' || value === 'false') return value === 'true'
    this.fail(key, 'true or false', value)
    return fallback
  }

  string(key: string, fallback: string): string {
    const value = this.get(key)
    if (value === undefined) return fallback
    if (typeof value === 'string') return value
    this.fail(key, 'a string', value)
    return fallback
  }

  int(key: string, fallback: number, min: number, max: number, want: string): number {
    const value = this.get(key)
    if (value === undefined) return fallback
    const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
    if (typeof number === 'number' && Number.isInteger(number) && number >= min && number <= max) return number
    this.fail(key, want, value)
    return fallback
  }

  nonNegativeInt(key: string, fallback: number): number {
    return this.int(key, fallback, 0, Number.MAX_SAFE_INTEGER, 'a non-negative integer')
  }

  positiveInt(key: string, fallback: number): number {
    return this.int(key, fallback, 1, Number.MAX_SAFE_INTEGER, 'a positive integer')
  }

  /** Ports 0 (pick a free one; used by tests) to 65535; -1 disables, as in Consul. */
  port(key: string, fallback: number): number {
    return this.int(key, fallback, -1, 65535, 'a port number (-1 to disable)')
  }

  duration(key: string, fallback: number): number {
    const value = this.get(key)
    if (value === undefined) return fallback
    try {
      if (typeof value !== 'string') throw new Error('not a string')
      const ms = parseDuration(value)
      if (ms < 0) throw new Error('negative')
      return ms
    } catch {
      this.fail(key, 'a duration such as "10s"', value)
      return fallback
    }
  }

  stringList(key: string): string[] {
    const value = this.get(key)
    if (value === undefined) return []
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[]
    if (typeof value === 'string') return [value]
    this.fail(key, 'a list of addresses', value)
    return []
  }

  logLevel(key: string, fallback: LogLevel): LogLevel {
    const value = this.get(key)
    if (value === undefined) return fallback
    const level = typeof value === 'string' ? parseLogLevel(value) : undefined
    if (level) return level
    this.fail(key, 'one of trace, debug, info, warn, error', value)
    return fallback
  }

  object(key: string, supported: ReadonlySet<string>, accepted: ReadonlySet<string>, warn: (msg: string) => void): Record<string, unknown> {
    const value = this.get(key)
    if (value === undefined) return {}
    if (!isPlainObject(value)) {
      this.fail(key, 'an object', value)
      return {}
    }
    for (const inner of Object.keys(value)) {
      if (supported.has(inner)) continue
      if (accepted.has(inner)) warn(`config key "${key}.${inner}" is accepted but not yet acted on by coord`)
      else this.problems.push(`invalid config key ${key}.${inner}`)
    }
    return value
  }
}
