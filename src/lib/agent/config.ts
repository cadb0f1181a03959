// Agent configuration: Consul's JSON config keys are the one vocabulary. Command-line flags are
// turned into the same keys, so defaults < config files (in order) < flags merge through one path,
// are validated once (every problem reported, naming the key), and the result is frozen.
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {isIP} from 'node:net'
import {parseDuration} from '../duration.js'
import {parseLogLevel, type LogLevel} from '../logger.js'
import {parseWatches, type WatchDefinition} from './watch-config.js'
import {validateGossipKey} from '../gossip/keyring.js'
import {readGossipTiming, type GossipTiming} from './gossip-timing.js'
import {DefinitionError, SCRIPTS_DISABLED, definitionsFromConfig, type CheckDefinition, type ParsedService} from './definitions.js'
import {parseDnsConfig, type DnsConfig} from './dns-config.js'
import {parseHclConfig} from './hcl-config.js'
import {parseAclConfig, type AclConfig} from './acl-config.js'
import {parseHttpConfig, type HttpConfig} from './http-config.js'
import {readTlsSettings, rpcTlsEnabled, type TlsSettings} from '../tls/config.js'
import {TlsFileError, loadTlsMaterial, type TlsMaterial} from '../tls/material.js'
import {DEFAULT_RPC_HOLD_TIMEOUT_MS} from '../consensus.js'
import {parseTelemetryConfig, type TelemetryConfig} from './telemetry-config.js'
import type {AutopilotSettings} from './autopilot-config.js'
import {CONFIG_SCHEMA, checkKeys, defaultOf, supportedKeys, type DefaultContext, type Schema} from './config-schema.js'
import {Problems, problemText, type ConfigProblem, type KeySources} from './config-problems.js'

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
  /** The acl block (acl-config.ts). */
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
  /** node_meta: the node's catalog meta (and DNS TXT records), Consul's rules checked. */
  readonly nodeMeta: Readonly<Record<string, string>>
  /** advertise_addr_wan / -advertise-wan: the address the WAN pool advertises (default advertise_addr). */
  readonly advertiseAddrWan: string
  /** serf_lan / serf_wan (-serf-lan-bind, -serf-wan-bind): the gossip pools' bind addresses (default bind_addr). */
  readonly serfLanBind: string
  readonly serfWanBind: string
  /** serf_lan_allowed_cidrs / serf_wan_allowed_cidrs: gossip from anywhere else is dropped; [] = from anywhere. */
  readonly serfLanAllowedCidrs: readonly string[]
  readonly serfWanAllowedCidrs: readonly string[]
  /** pid_file: written at start, removed at exit ('' = none). */
  readonly pidFile: string
  /** log_file and its rotation (Consul's naming: the active file keeps its name, archives get -<unix nanos>). */
  readonly logFile: LogFileSettings
  /** auto_reload_config: the config files are watched and a change applied as a reload. */
  readonly autoReloadConfig: boolean
  /** primary_datacenter (default: this datacenter), as /v1/agent/self reports it. */
  readonly primaryDatacenter: string
  /** check_output_max_size: bytes of check output kept (a definition's OutputMaxSize wins). */
  readonly checkOutputMaxSize: number
  /** The merged raw config this was built from: a reload compares it key by key (config-schema.ts reloadChanges). */
  readonly raw: Readonly<RawConfig>
  /** The telemetry block: metrics sinks and names (telemetry-config.ts). */
  readonly telemetry: TelemetryConfig
  /** The autopilot block: what a leader seeds the replicated autopilot configuration with (autopilot-config.ts). */
  readonly autopilot: AutopilotSettings
  /** enable_debug: the agent's CPU and heap profile endpoints (/v1/agent/debug/pprof/*) without ACLs. */
  readonly enableDebug: boolean
}

export interface LogFileSettings {
  /** '' = no log file. A path ending in / is a directory: the file is consul.log in it, as Consul names it. */
  readonly path: string
  /** Rotate once the file holds this many bytes (0: no size limit). */
  readonly rotateBytes: number
  /** Rotate when the file is this old (Consul's default 24h). */
  readonly rotateDurationMs: number
  /** Archives kept: 0 all, -1 none. */
  readonly rotateMaxFiles: number
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
  /** Each problem as printed: the file that set the key (when one did), then the message. */
  readonly problems: string[]
  constructor(readonly records: readonly ConfigProblem[]) {
    const problems = records.map(problemText)
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in the configuration:\n  ${problems.join('\n  ')}`)
    this.problems = problems
  }

  /** A problem that is no key's: a file that cannot be read or parsed (the message names it). */
  static of(message: string): ConfigError {
    return new ConfigError([{file: '', key: '', message}])
  }
}

export {supportedKeys}

/**
 * Reads `-config-file` paths and every *.json and *.hcl in each `-config-dir` (one order, by name,
 * the formats mixed), as Consul does; HCL with Consul's semantics (hcl-config.ts). A
 * `-config-file` that names a directory is read as one, as Consul's sourcesFromPath does.
 */
export function readConfigFiles(files: readonly string[], dirs: readonly string[], format?: ConfigFormat): Array<{path: string; raw: RawConfig}> {
  const isDir = (path: string): boolean => {
    try {
      return statSync(path).isDirectory()
    } catch {
      return false // readConfigFile reports the missing or unreadable file by name
    }
  }
  const paths = files.filter((file) => !isDir(file))
  // As Consul's sourcesFromPath: a named file needs a known extension unless -config-format says how to read it.
  for (const file of paths) {
    if (format === undefined && !file.endsWith('.json') && !file.endsWith('.hcl') && existsSync(file)) {
      throw ConfigError.of(`file ${file} has unknown extension; must be .hcl or .json, or config format must be set`)
    }
  }
  for (const dir of [...files.filter(isDir), ...dirs]) {
    let names: string[]
    try {
      // With -config-format every file is read in that format; else only *.json and *.hcl.
      names = readdirSync(dir).filter((name) => format !== undefined || name.endsWith('.json') || name.endsWith('.hcl')).sort()
    } catch (error) {
      throw ConfigError.of(`Error reading config dir ${dir}: ${(error as Error).message}`)
    }
    for (const name of names) {
      const path = join(dir, name)
      let isFile: boolean
      try {
        isFile = statSync(path).isFile() // follows a symlink; a dangling one is reported by name
      } catch (error) {
        throw ConfigError.of(`Error reading ${path}: ${(error as Error).message}`)
      }
      if (isFile) paths.push(path)
    }
  }
  return paths.map((path) => ({path, raw: readConfigFile(path, format)}))
}

/** -config-format: every config file is read in this format whatever its extension. */
export type ConfigFormat = 'json' | 'hcl'

/**
 * The agent's config from its files, directories and flags, as `coord agent` builds it at start and
 * on reload, and `coord validate` checks it: later sources win, problems name the file that set the key.
 */
export function loadConfig(opts: {files: readonly string[]; dirs: readonly string[]; fromFlags: RawConfig; dev: boolean; warn?: (msg: string) => void; hcl?: readonly string[]; format?: ConfigFormat}): AgentConfig {
  const files = readConfigFiles(opts.files, opts.dirs, opts.format)
  // -hcl fragments come after the flags (they win), named as Consul names them.
  const fragments = (opts.hcl ?? []).map((text, i) => {
    const path = `flags-${i}.hcl`
    try {
      return {path, raw: parseHclConfig(text)}
    } catch (error) {
      throw ConfigError.of(`Error parsing ${path}: ${(error as Error).message}`)
    }
  })
  const raw = mergeRaw(...files.map((f) => f.raw), opts.fromFlags, ...fragments.map((f) => f.raw))
  // The flags (path '') have no file to name.
  const sources = keySources([...files, {path: '', raw: opts.fromFlags}, ...fragments])
  return buildConfig(raw, {dev: opts.dev, configFiles: files.map((f) => f.path), warn: opts.warn, sources})
}

function readConfigFile(path: string, format?: ConfigFormat): RawConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw ConfigError.of(`Error reading ${path}: ${(error as Error).message}`)
  }
  if (format === 'hcl' || (format === undefined && path.endsWith('.hcl'))) {
    try {
      return parseHclConfig(text)
    } catch (error) {
      throw ConfigError.of(`Error parsing ${path}: ${(error as Error).message}`)
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw ConfigError.of(`Error parsing ${path}: ${(error as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw ConfigError.of(`Error parsing ${path}: the top level must be a JSON object`)
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

/** The key that turns on client-certificate checks for the HTTPS API alone, when one does. */
function httpsOnlyVerifyIncoming(raw: RawConfig): string | undefined {
  const on = (value: unknown): boolean => value === true || value === 'true'
  const tls = isPlainObject(raw.tls) ? raw.tls : {}
  const https = isPlainObject(tls.https) ? tls.https : {}
  if (on(https.verify_incoming)) return 'tls.https.verify_incoming'
  return on(raw.verify_incoming_https) ? 'verify_incoming_https' : undefined
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value]
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Validates merged raw config and builds the frozen AgentConfig. `warn` receives keys coord accepts
 * from Consul configs but does not act on yet. The keys, their readers and defaults are
 * config-schema.ts's table; every problem is a record naming its key, labelled with the file that
 * set it from `sources`.
 */
export function buildConfig(raw: RawConfig, opts: {dev: boolean; configFiles?: string[]; warn?: (msg: string) => void; sources?: KeySources}): AgentConfig {
  const problems = new Problems()
  const warn = opts.warn ?? (() => {})
  const dev = opts.dev
  checkKeys(raw, {problem: (key, message) => problems.add(key, message), warn})
  const context: DefaultContext = {dev}
  const read = new FieldReader(raw, problems, context)
  const block = (key: string): FieldReader => new FieldReader(read.object(key), problems, context, `${key}.`, CONFIG_SCHEMA[key].keys)
  const ports = block('ports')
  const limits = block('limits')
  const ui = block('ui_config')
  const performance = block('performance')
  const kvMaxValueSize = limits.value<number>('kv_max_value_size')
  const bindAddr = read.value<string>('bind_addr')
  const advertiseAddr = read.value<string | undefined>('advertise_addr') ?? (bindAddr === '0.0.0.0' ? '127.0.0.1' : bindAddr)
  const gossipLan = readGossipTiming(read.object('gossip_lan'), 'gossip_lan', 'lan', problems)
  const gossipWan = readGossipTiming(read.object('gossip_wan'), 'gossip_wan', 'wan', problems)
  const config: AgentConfig = {
    dev,
    server: read.value('server'),
    bootstrap: read.value('bootstrap'),
    bootstrapExpect: read.value('bootstrap_expect'),
    dataDir: read.value('data_dir'),
    nodeName: read.value('node_name'),
    nodeId: read.value('node_id'),
    datacenter: read.value<string>('datacenter').toLowerCase(),
    bindAddr,
    advertiseAddr,
    clientAddrs: read.value<string>('client_addr').split(/\s+/).filter(Boolean),
    ports: {
      http: ports.value('http'), https: ports.value('https'), dns: ports.value('dns'), server: ports.value('server'),
      serfLan: ports.value('serf_lan'), serfWan: ports.value('serf_wan'),
    },
    logLevel: read.value('log_level'),
    logJson: read.value('log_json'),
    // ui_config.enabled is Consul's current spelling of `ui`; the metrics and dashboard keys are accepted (coord shows no metrics).
    ui: read.object('ui_config').enabled !== undefined ? ui.value('enabled') : read.value('ui'),
    uiDir: ui.value('dir'),
    uiContentPath: uiContentPath(ui.value('content_path')),
    enableScriptChecks: read.value('enable_script_checks'),
    enableLocalScriptChecks: read.value('enable_local_script_checks'),
    ...readDefinitions(raw, problems),
    disableRemoteExec: read.value('disable_remote_exec'),
    sessionTtlMinMs: read.value('session_ttl_min'),
    kvMaxValueSize,
    txnMaxReqLen: Math.max(kvMaxValueSize, limits.value<number>('txn_max_req_len')),
    txnMaxOps: 64,
    snapshotThreshold: read.value('raft_snapshot_threshold'),
    configFiles: opts.configFiles ?? [],
    retryJoin: [...read.value<string[]>('retry_join'), ...read.value<string[]>('start_join')].map((address) => withDefaultPort(address, 8300)),
    watches: parseWatches(raw.watches, problems),
    startJoin: read.value<string[]>('start_join').map((address) => withDefaultPort(address, 8300)),
    // Consul waits 30s between attempts; coord 1s: a gossip join costs one TCP exchange per seed,
    // and agents started together (coord dev cluster, a fleet rebooting) then meet within a second.
    retryIntervalMs: read.value('retry_interval'),
    retryMax: read.value('retry_max'),
    retryJoinWan: read.value('retry_join_wan'),
    startJoinWan: read.value('start_join_wan'),
    retryIntervalWanMs: read.value('retry_interval_wan'),
    retryMaxWan: read.value('retry_max_wan'),
    rejoinAfterLeave: read.value('rejoin_after_leave'),
    gossipLan,
    gossipWan,
    encrypt: read.value<string>('encrypt').trim(),
    encryptVerifyIncoming: read.value('encrypt_verify_incoming'),
    encryptVerifyOutgoing: read.value('encrypt_verify_outgoing'),
    disableKeyringFile: read.value('disable_keyring_file'),
    dns: parseDnsConfig(raw, problems, warn),
    http: parseHttpConfig(read.object('http_config'), problems),
    acl: parseAclConfig(read.object('acl'), problems),
    telemetry: parseTelemetryConfig(read.object('telemetry'), problems),
    autopilot: autopilotSettings(block('autopilot')),
    enableDebug: read.value('enable_debug'),
    coordinates: {
      disabled: read.value('disable_coordinates'),
      syncIntervalMinMs: read.value('sync_coordinate_interval_min'),
      syncRateTarget: read.value('sync_coordinate_rate_target'),
      updatePeriodMs: read.value('coordinate_update_period'),
      updateBatchSize: read.value('coordinate_update_batch_size'),
      updateMaxBatches: read.value('coordinate_update_max_batches'),
    },
    tls: {settings: readTlsSettings(raw, problems)},
    // As Consul (agent.go: only a value > 0 replaces the default), 0 means the default.
    rpcHoldTimeoutMs: performance.value<number>('rpc_hold_timeout') || DEFAULT_RPC_HOLD_TIMEOUT_MS,
    nodeMeta: read.value('node_meta'),
    advertiseAddrWan: read.value<string | undefined>('advertise_addr_wan') ?? advertiseAddr,
    serfLanBind: read.value<string | undefined>('serf_lan') ?? bindAddr,
    serfWanBind: read.value<string | undefined>('serf_wan') ?? bindAddr,
    serfLanAllowedCidrs: read.value('serf_lan_allowed_cidrs'),
    serfWanAllowedCidrs: read.value('serf_wan_allowed_cidrs'),
    pidFile: read.value('pid_file'),
    logFile: {
      path: read.value('log_file'), rotateBytes: read.value('log_rotate_bytes'), rotateDurationMs: read.value('log_rotate_duration'),
      rotateMaxFiles: readRotateMaxFiles(raw.log_rotate_max_files, problems),
    },
    autoReloadConfig: read.value('auto_reload_config'),
    primaryDatacenter: (read.value<string>('primary_datacenter') || read.value<string>('datacenter')).toLowerCase(),
    checkOutputMaxSize: read.value('check_output_max_size'),
    raw,
  }
  nodeMetaChecks(config.nodeMeta, problems)
  for (const key of ['serf_lan_allowed_cidrs', 'serf_wan_allowed_cidrs'] as const) {
    for (const cidr of key === 'serf_lan_allowed_cidrs' ? config.serfLanAllowedCidrs : config.serfWanAllowedCidrs) {
      if (!isCidr(cidr)) problems.add(key, `${key}: invalid CIDR ${JSON.stringify(cidr)}`)
    }
  }
  for (const [key, address] of [['advertise_addr_wan', config.advertiseAddrWan], ['serf_lan', config.serfLanBind], ['serf_wan', config.serfWanBind]] as const) {
    if (raw[key] !== undefined && isIP(address) === 0) problems.add(key, `${key}: must be an IP address, got ${JSON.stringify(address)}`)
  }
  if (read.value<boolean>('enable_syslog')) {
    problems.add('enable_syslog', 'enable_syslog: coord cannot write to syslog: Node.js has no Unix datagram socket to reach /dev/log; use log_file (-log-file), or let journald or your supervisor capture stdout')
  }
  const raftProtocol = read.value<number>('raft_protocol')
  if (raftProtocol !== 3) problems.add('raft_protocol', `raft_protocol: coord speaks Raft protocol 3 only (servers named by node ID), got ${raftProtocol}`)
  if (!read.value<boolean>('disable_host_node_id')) {
    warn('disable_host_node_id = false: coord never derives a node ID from the host; it generates a random one and keeps it in the data dir')
  }
  // gRPC TLS promises encryption coord does not serve: refused, not ignored.
  if (ports.value<number>('grpc_tls') >= 0) problems.add('ports.grpc_tls', 'ports.grpc_tls: coord serves no gRPC listener; remove it or set -1')
  if (config.encrypt !== '') {
    try {
      validateGossipKey(config.encrypt)
    } catch (error) {
      problems.add('encrypt', `encrypt has invalid key: ${(error as Error).message.replace(/^gossip key #1 /, 'the key ')}`)
    }
  }
  if (config.retryIntervalMs === 0) problems.add('retry_interval', 'retry_interval: must be greater than zero')
  if (config.retryIntervalWanMs === 0) problems.add('retry_interval_wan', 'retry_interval_wan: must be greater than zero')
  if (config.coordinates.syncIntervalMinMs === 0) problems.add('sync_coordinate_interval_min', 'sync_coordinate_interval_min: must be greater than zero')
  if (config.coordinates.updatePeriodMs === 0) problems.add('coordinate_update_period', 'coordinate_update_period: must be greater than zero')
  if (!dev && config.dataDir === '') problems.add('data_dir', 'data_dir: must be set unless -dev is given (use -data-dir=PATH)')
  // Without -server the agent runs as a client (no Raft): bootstrapping is a server's business.
  if (!config.server && config.bootstrap) problems.add('bootstrap', "bootstrap: 'bootstrap = true' requires 'server = true'")
  if (!config.server && config.bootstrapExpect > 0) problems.add('bootstrap_expect', "bootstrap_expect: 'bootstrap_expect > 0' requires 'server = true'")
  if (!config.server && config.ports.serfLan === -1) problems.add('ports.serf_lan', 'ports.serf_lan: a client agent finds its servers through LAN gossip; it cannot be disabled (-1) without server mode')
  if (config.nodeName === '') problems.add('node_name', 'node_name: must not be empty')
  const httpsTls = config.tls.settings.https
  if (config.ports.https >= 0 && (httpsTls.certFile === '' || httpsTls.keyFile === '')) {
    problems.add('ports.https', 'ports.https: the HTTPS listener needs a certificate: set cert_file and key_file (tls.defaults or tls.https)')
  }
  if (config.ports.https > 0 && config.ports.https === config.ports.http) problems.add('ports.https', `ports.https: ${config.ports.https} is also ports.http`)
  // Client certificates asked for the HTTPS API alone, with no HTTPS listener: the plain HTTP API
  // checks none, so the setting would protect nothing (the shared verify_incoming serves the RPC port too).
  const httpsVerifyKey = httpsOnlyVerifyIncoming(raw)
  if (config.ports.https < 0 && httpsVerifyKey !== undefined && problems.length === 0) {
    problems.add(httpsVerifyKey, `${httpsVerifyKey}: client certificates are required on HTTPS, but there is no HTTPS listener (set ports.https, e.g. 8501); the plain HTTP API checks none`)
  }
  if (config.clientAddrs.length === 0) problems.add('client_addr', 'client_addr: needs at least one address')
  uiChecks(config, problems)
  crossChecks(config, problems)
  // The certificate files are read only once the settings are sound, so each problem is about one file.
  if (problems.length === 0) {
    try {
      const tls = config.tls as {settings: TlsSettings; https?: TlsMaterial; rpc?: TlsMaterial}
      if (config.ports.https >= 0) tls.https = loadTlsMaterial(tls.settings.https)
      if (rpcTlsEnabled(tls.settings)) tls.rpc = loadTlsMaterial(tls.settings.internalRpc)
    } catch (error) {
      if (!(error instanceof TlsFileError)) throw error
      // The older top-level key when that is what named the file, else the tls block.
      problems.add(raw[error.field] !== undefined ? error.field : 'tls', error.message)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.records(opts.sources))
  return Object.freeze(config)
}


/** log_rotate_max_files: an integer from -1 (keep no archive) up; 0 keeps them all. */
/** The autopilot block, read with the schema's plain readers (its keys and defaults are config-schema.ts's). */
function autopilotSettings(autopilot: FieldReader): AutopilotSettings {
  return {
    cleanupDeadServers: autopilot.value('cleanup_dead_servers'), lastContactThresholdMs: autopilot.value('last_contact_threshold'),
    maxTrailingLogs: autopilot.value('max_trailing_logs'), minQuorum: autopilot.value('min_quorum'), serverStabilizationTimeMs: autopilot.value('server_stabilization_time'),
  }
}

function readRotateMaxFiles(value: unknown, problems: Problems): number {
  if (value === undefined) return 0
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
  if (typeof number === 'number' && Number.isInteger(number) && number >= -1) return number
  problems.add('log_rotate_max_files', `log_rotate_max_files: expected an integer of -1 or more, got ${JSON.stringify(value)}`)
  return 0
}

/** Consul's node meta rules (structs.ValidateNodeMetadata). */
function nodeMetaChecks(meta: Readonly<Record<string, string>>, problems: Problems): void {
  const entries = Object.entries(meta)
  if (entries.length > 64) problems.add('node_meta', 'node_meta: Node metadata cannot contain more than 64 key/value pairs')
  for (const [key, value] of entries) {
    if (key === '') problems.add('node_meta', 'node_meta: Key cannot be blank')
    else if (!/^[a-zA-Z0-9_-]+$/.test(key)) problems.add('node_meta', `node_meta: Key contains invalid characters: ${key}`)
    else if (key.length > 128) problems.add('node_meta', `node_meta: Key is too long (limit: 128 characters): ${key}`)
    else if (key.startsWith('consul-')) problems.add('node_meta', `node_meta: Key prefix 'consul-' is reserved for internal use: ${key}`)
    if (value.length > 512) problems.add('node_meta', `node_meta: Value is too long (limit: 512 characters): ${key}`)
  }
}

function isCidr(cidr: string): boolean {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr)
  const version = match ? isIP(match[1]) : 0
  return match !== null && version !== 0 && Number(match[2]) <= (version === 4 ? 32 : 128)
}

/** Consul's UIPathBuilder: '' → '/ui/', otherwise the path trimmed of slashes and wrapped in exactly one on each side. */
export function uiContentPath(raw: string): string {
  if (raw === '') return '/ui/'
  const trimmed = raw.replace(/^\/+|\/+$/g, '')
  return trimmed === '' ? '/' : `/${trimmed}/`
}

/** The UI keys Consul's builder refuses together, and what coord refuses so the UI cannot shadow the API or serve nothing. */
function uiChecks(config: AgentConfig, problems: Problems): void {
  // In -dev the UI is on by default, so -ui-dir there simply replaces the built-in assets (as Consul).
  if (!config.dev && config.ui && config.uiDir !== '') {
    problems.add('ui_config.dir', 'ui_config.dir: both ui_config.enabled and ui_config.dir (or -ui and -ui-dir) were specified, please provide only one: ui_config.dir serves your own web UI files, ui_config.enabled the built-in one')
  }
  const path = config.uiContentPath
  if (path === '/' || path === '/v1/' || path.startsWith('/v1/')) problems.add('ui_config.content_path', `ui_config.content_path: ${JSON.stringify(path)} would hide the HTTP API; choose a path such as "/ui/"`)
  else if (/[\s"'<>\\?#%]/.test(path)) problems.add('ui_config.content_path', `ui_config.content_path: ${JSON.stringify(path)} may hold only URL path characters (no spaces, quotes, <, >, \\, ?, # or %)`)
  if (config.uiDir !== '') {
    let isDir = false
    try { isDir = statSync(config.uiDir).isDirectory() } catch { isDir = false }
    if (!isDir) problems.add('ui_config.dir', `ui_config.dir: ${JSON.stringify(config.uiDir)} is not a readable directory`)
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Consul's builder rules that a field reader cannot see alone: names, addresses, the bootstrap modes
 * and the data dir's kind. Caught here, a bad value fails the start (or a reload) with the key named,
 * instead of surfacing later as a listener error or a node other agents cannot reach.
 */
function crossChecks(config: AgentConfig, problems: Problems): void {
  if (!/^[a-z0-9_-]+$/.test(config.datacenter)) problems.add('datacenter', `datacenter: can only contain lowercase alphanumeric, - or _ characters, got ${JSON.stringify(config.datacenter)}`)
  if (config.nodeId !== '' && !UUID.test(config.nodeId)) problems.add('node_id', `node_id: expected a UUID such as "adf4238a-882b-9ddc-4a9d-5b6758e4159e", got ${JSON.stringify(config.nodeId)}`)
  if (isIP(config.bindAddr) === 0) problems.add('bind_addr', `bind_addr: must be an IP address, got ${JSON.stringify(config.bindAddr)}`)
  if (isIP(config.advertiseAddr) === 0 && config.advertiseAddr !== config.bindAddr) problems.add('advertise_addr', `advertise_addr: must be an IP address, got ${JSON.stringify(config.advertiseAddr)}`)
  const badClient = config.clientAddrs.find((address) => isIP(address) === 0)
  if (badClient !== undefined) problems.add('client_addr', `client_addr: must be IP addresses separated by spaces, got ${JSON.stringify(badClient)}`)
  // bootstrap_expect = 1 is -bootstrap (as Consul's builder turns it); more conflicts with a lone start.
  if (config.bootstrapExpect > 1 && config.dev) problems.add('bootstrap_expect', "bootstrap_expect: 'bootstrap_expect > 0' not allowed in dev mode")
  else if (config.bootstrapExpect > 1 && config.bootstrap) problems.add('bootstrap_expect', "bootstrap_expect: 'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive")
  if (config.dataDir !== '') {
    try {
      if (!statSync(config.dataDir).isDirectory()) problems.add('data_dir', `data_dir: ${JSON.stringify(config.dataDir)} is not a directory`)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') problems.add('data_dir', `data_dir: cannot use ${JSON.stringify(config.dataDir)}: ${(error as Error).message}`)
    }
  }
}

function readDefinitions(raw: RawConfig, problems: Problems): {services: ParsedService[]; checks: CheckDefinition[]} {
  try {
    const defs = definitionsFromConfig(raw)
    // Config-file script checks need one of the two switches (checked here so a bad file fails
    // before anything starts, and a reload with one is refused whole).
    const scriptsAllowed = raw.enable_script_checks === true || raw.enable_script_checks === 'true' ||
      raw.enable_local_script_checks === true || raw.enable_local_script_checks === 'true'
    const all = [...defs.checks, ...defs.services.flatMap((s) => s.checks)]
    const script = all.find((c) => c.kind === 'script')
    if (script && !scriptsAllowed) problems.add('checks', `check "${script.CheckID}": ${SCRIPTS_DISABLED}`)
    return defs
  } catch (error) {
    problems.add(error instanceof DefinitionError ? error.key : '', (error as Error).message)
    return {services: [], checks: []}
  }
}

/** "10.0.0.1" → "10.0.0.1:8300"; "[::1]" → "[::1]:8300"; addresses with a port stay as they are. */
export function withDefaultPort(address: string, port: number): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address
  if (address.includes(':') && !address.startsWith('[')) return `[${address}]:${port}`
  return `${address}:${port}`
}

/** Reads keys of one config object (the top level or a block) through the schema: the reader and default are the key's. */
class FieldReader {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly problems: Problems,
    private readonly context: DefaultContext,
    private readonly prefix = '',
    private readonly schema: Schema = CONFIG_SCHEMA,
  ) {}

  /** The key's value, read as the schema says, or its default (a wrong value is a problem, and reads as the default). */
  value<T>(key: string): T {
    const spec = this.schema[key]
    if (spec === undefined || spec.read === undefined || spec.read === 'custom') throw new Error(`config-schema.ts: ${this.prefix}${key} has no plain reader`)
    const fallback = defaultOf(spec, this.context)
    const value = this.raw[key]
    if (value === undefined) return fallback as T
    switch (spec.read) {
      case 'bool': return this.bool(key, value, fallback) as T
      case 'string': return this.string(key, value, fallback) as T
      case 'nonNegativeInt': return this.int(key, value, fallback, 0, Number.MAX_SAFE_INTEGER, 'a non-negative integer') as T
      case 'positiveInt': return this.int(key, value, fallback, 1, Number.MAX_SAFE_INTEGER, 'a positive integer') as T
      // Ports 0 (pick a free one; used by tests) to 65535; -1 disables, as in Consul.
      case 'port': return this.int(key, value, fallback, -1, 65535, 'a port number (-1 to disable)') as T
      case 'duration': return this.duration(key, value, fallback) as T
      case 'stringList': return this.stringList(key, value, fallback) as T
      case 'logLevel': return this.logLevel(key, value, fallback) as T
      case 'stringMap': return this.stringMap(key, value, fallback) as T
    }
  }

  /** A block's raw object ({} when absent; a non-object is a problem). Its keys were checked against the schema already. */
  object(key: string): Record<string, unknown> {
    const value = this.raw[key]
    if (value === undefined) return {}
    if (!isPlainObject(value)) {
      this.fail(key, 'an object', value)
      return {}
    }
    return value
  }

  private fail(key: string, want: string, value: unknown): void {
    this.problems.add(`${this.prefix}${key}`, `${this.prefix}${key}: expected ${want}, got ${JSON.stringify(value)}`)
  }

  private bool(key: string, value: unknown, fallback: unknown): unknown {
    if (typeof value === 'boolean') return value
    if (value === 'true' || value === 'false') return value === 'true'
    this.fail(key, 'true or false', value)
    return fallback
  }

  private string(key: string, value: unknown, fallback: unknown): unknown {
    if (typeof value === 'string') return value
    this.fail(key, 'a string', value)
    return fallback
  }

  private int(key: string, value: unknown, fallback: unknown, min: number, max: number, want: string): unknown {
    const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
    if (typeof number === 'number' && Number.isInteger(number) && number >= min && number <= max) return number
    this.fail(key, want, value)
    return fallback
  }

  private duration(key: string, value: unknown, fallback: unknown): unknown {
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

  private stringList(key: string, value: unknown, fallback: unknown): unknown {
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value
    if (typeof value === 'string') return [value]
    this.fail(key, 'a list of addresses', value)
    return fallback
  }

  private stringMap(key: string, value: unknown, fallback: unknown): unknown {
    if (isPlainObject(value) && Object.values(value).every((item) => typeof item === 'string')) return {...value}
    this.fail(key, 'an object of strings', value)
    return fallback
  }

  private logLevel(key: string, value: unknown, fallback: unknown): unknown {
    const level = typeof value === 'string' ? parseLogLevel(value) : undefined
    if (level) return level
    this.fail(key, 'one of trace, debug, info, warn, error', value)
    return fallback
  }
}
