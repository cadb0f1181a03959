// The agent's config keys, one table: every Consul key coord knows, how it is read (the reader and
// its default), whether a reload applies it, and its status:
//   supported  read and acted on;
//   ignored    a Consul key coord accepts with a warning (a Consul config keeps working) and does not act on;
//   refused    a Consul key whose promise coord cannot keep: the start (or the reload) fails, naming it.
// A key that is in no table is a typo and an error, as Consul treats unknown keys. config.ts reads
// the plain keys through this table (FieldReader.value), checks every key of a config against it,
// and a reload compares the keys it cannot apply (reloadChanges). Blocks with a parser of their own
// (dns_config, tls, acl, http_config, gossip_*) point at it; their inner keys come from that parser's
// own list, so a reader and its keys cannot drift apart.
import {hostname} from 'node:os'
import {HTTP_CONFIG_ACCEPTED, HTTP_CONFIG_KEYS} from './http-config.js'
import {ACL_ACCEPTED, ACL_KEYS} from './acl-config.js'
import {TELEMETRY_ACCEPTED, TELEMETRY_KEYS} from './telemetry-config.js'
import {DEFAULT_AUTOPILOT} from './autopilot-config.js'
import {DNS_CONFIG_IGNORED, DNS_CONFIG_KEYS} from './dns-config.js'
import {gossipTimingKeys} from './gossip-timing.js'
import {TLS_TOP_LEVEL_KEYS} from '../tls/config.js'

export type KeyStatus = 'supported' | 'ignored' | 'refused'

/** How a plain key is read (FieldReader's methods); 'custom' keys are read by the module named in `reader`. */
export type ReaderKind = 'bool' | 'string' | 'nonNegativeInt' | 'positiveInt' | 'port' | 'duration' | 'stringList' | 'logLevel' | 'stringMap' | 'custom'

/** What a default may depend on: -dev changes several. */
export interface DefaultContext {
  dev: boolean
}

export interface KeySpec {
  readonly status: KeyStatus
  readonly read?: ReaderKind
  /** The value when the key is absent (a function where it depends on -dev). */
  readonly default?: unknown
  /** A reload (SIGHUP, coord reload, auto_reload_config) applies a change of it; otherwise it waits for a restart. */
  readonly reloadable: boolean
  /** For custom readers: the module that reads the key. */
  readonly reader?: string
  /** Why a key is ignored or refused (said in the warning or the error). */
  readonly reason?: string
  /** A block's keys (ports, limits, ...). */
  readonly keys?: Schema
  /** A block whose inner keys its own reader checks (tls). */
  readonly checksOwnKeys?: boolean
}

export type Schema = Readonly<Record<string, KeySpec>>

const plain = (read: ReaderKind, value: unknown, reloadable = false): KeySpec => ({status: 'supported', read, default: value, reloadable})
const custom = (reader: string, reloadable = false, extra: Partial<KeySpec> = {}): KeySpec => ({status: 'supported', read: 'custom', reader, reloadable, ...extra})
const block = (keys: Schema, reader = 'config.ts', reloadable = false): KeySpec => ({status: 'supported', read: 'custom', reader, reloadable, keys})
const ignored = (reason?: string): KeySpec => ({status: 'ignored', reloadable: true, reason})
const refused = (reason: string): KeySpec => ({status: 'refused', reloadable: false, reason})
const ENTERPRISE = 'a Consul Enterprise feature'
const enterprise = ignored(ENTERPRISE)

/** A block whose keys a module lists beside its reader: supported and accepted-but-ignored. */
function keysOf(supported: Iterable<string>, accepted: Iterable<string> = [], reader: string, reloadable = false): Schema {
  const out: Record<string, KeySpec> = {}
  for (const key of supported) out[key] = custom(reader, reloadable)
  for (const key of accepted) out[key] = ignored()
  return out
}

const ports: Schema = {
  http: plain('port', 8500), https: plain('port', -1), dns: plain('port', 8600), server: plain('port', 8300),
  serf_lan: plain('port', 8301), serf_wan: plain('port', 8302),
  // Refused when ≥ 0 (config.ts): gRPC TLS promises encryption on a listener coord does not serve.
  grpc_tls: plain('port', -1),
  grpc: ignored(), sidecar_min_port: ignored(), sidecar_max_port: ignored(), expose_min_port: ignored(), expose_max_port: ignored(),
}

const limits: Schema = {kv_max_value_size: plain('positiveInt', 512 * 1024), txn_max_req_len: plain('positiveInt', 512 * 1024)}

const uiConfig: Schema = {
  enabled: plain('bool', ({dev}: DefaultContext) => dev, true), dir: plain('string', '', true), content_path: plain('string', '', true),
  metrics_provider: ignored(), metrics_provider_files: ignored(), metrics_provider_options_json: ignored(), metrics_proxy: ignored(), dashboard_url_templates: ignored(),
}

// Read with the plain readers (config.ts); the Enterprise keys are accepted with a warning.
const autopilot: Schema = {
  cleanup_dead_servers: plain('bool', DEFAULT_AUTOPILOT.cleanupDeadServers),
  last_contact_threshold: plain('duration', DEFAULT_AUTOPILOT.lastContactThresholdMs),
  max_trailing_logs: plain('nonNegativeInt', DEFAULT_AUTOPILOT.maxTrailingLogs),
  min_quorum: plain('nonNegativeInt', DEFAULT_AUTOPILOT.minQuorum),
  server_stabilization_time: plain('duration', DEFAULT_AUTOPILOT.serverStabilizationTimeMs),
  redundancy_zone_tag: ignored(), disable_upgrade_migration: ignored(), upgrade_version_tag: ignored(),
}

const performance: Schema = {
  rpc_hold_timeout: plain('duration', 7000),
  raft_multiplier: ignored(), leave_drain_time: ignored(), grpc_keepalive_interval: ignored(), grpc_keepalive_timeout: ignored(),
}

/** Every top-level key. */
export const CONFIG_SCHEMA: Schema = {
  datacenter: plain('string', 'dc1'),
  data_dir: plain('string', ''),
  node_name: plain('string', () => hostname()),
  node_id: plain('string', ''),
  server: plain('bool', ({dev}: DefaultContext) => dev),
  bootstrap: plain('bool', ({dev}: DefaultContext) => dev),
  bootstrap_expect: plain('nonNegativeInt', 0),
  bind_addr: plain('string', ({dev}: DefaultContext) => dev ? '127.0.0.1' : '0.0.0.0'),
  // Default: the bind address, or 127.0.0.1 when that is 0.0.0.0 (config.ts).
  advertise_addr: plain('string', undefined),
  client_addr: plain('string', '127.0.0.1'),
  ports: block(ports),
  limits: block(limits),
  log_level: plain('logLevel', ({dev}: DefaultContext) => dev ? 'debug' : 'info', true),
  log_json: plain('bool', false),
  ui: plain('bool', ({dev}: DefaultContext) => dev, true),
  ui_config: block(uiConfig, 'config.ts', true),
  // The local agent judges registrations against the config a reload gives it.
  enable_script_checks: plain('bool', false, true),
  enable_local_script_checks: plain('bool', false, true),
  disable_remote_exec: plain('bool', true),
  session_ttl_min: plain('duration', 10_000),
  raft_snapshot_threshold: plain('positiveInt', 16384),
  retry_join: plain('stringList', []),
  start_join: plain('stringList', []),
  // Consul waits 30s between attempts; coord 1s (config.ts says why).
  retry_interval: plain('duration', 1000),
  retry_max: plain('nonNegativeInt', 0),
  retry_join_wan: plain('stringList', []),
  start_join_wan: plain('stringList', []),
  retry_interval_wan: plain('duration', 1000),
  retry_max_wan: plain('nonNegativeInt', 0),
  rejoin_after_leave: plain('bool', false),
  encrypt: plain('string', ''),
  encrypt_verify_incoming: plain('bool', true),
  encrypt_verify_outgoing: plain('bool', true),
  disable_keyring_file: plain('bool', false),
  gossip_lan: block(keysOf(gossipTimingKeys, [], 'gossip-timing.ts'), 'gossip-timing.ts'),
  gossip_wan: block(keysOf(gossipTimingKeys, [], 'gossip-timing.ts'), 'gossip-timing.ts'),
  // Definitions: services (with their checks), checks and watches are what a reload is for.
  service: custom('definitions.ts', true),
  services: custom('definitions.ts', true),
  check: custom('definitions.ts', true),
  checks: custom('definitions.ts', true),
  watches: custom('watch-config.ts', true),
  domain: custom('dns-config.ts'),
  alt_domain: custom('dns-config.ts'),
  recursors: custom('dns-config.ts'),
  // dns-config.ts checks the block's keys against the same two lists (its own tests call it alone).
  dns_config: {...block(keysOf(DNS_CONFIG_KEYS, DNS_CONFIG_IGNORED, 'dns-config.ts'), 'dns-config.ts'), checksOwnKeys: true},
  disable_coordinates: plain('bool', false),
  sync_coordinate_interval_min: plain('duration', 15_000),
  sync_coordinate_rate_target: plain('positiveInt', 64),
  coordinate_update_period: plain('duration', 5_000),
  coordinate_update_batch_size: plain('positiveInt', 128),
  coordinate_update_max_batches: plain('positiveInt', 5),
  http_config: block(keysOf(HTTP_CONFIG_KEYS, HTTP_CONFIG_ACCEPTED, 'http-config.ts'), 'http-config.ts'),
  performance: block(performance),
  // Acted on: the authorizer on every route and DNS, client agents resolving through servers (acl-config.ts).
  acl: block(keysOf(ACL_KEYS, ACL_ACCEPTED, 'acl-config.ts'), 'acl-config.ts'),
  // TLS: both of Consul's forms, acted on (tls/config.ts readTlsSettings; a bad file refuses the start); certificates re-read on reload.
  ...Object.fromEntries([...TLS_TOP_LEVEL_KEYS].map((key) => [key, custom('tls/config.ts', true, key === 'tls' ? {checksOwnKeys: true} : {})])),

  // The node's own record: node_meta lands in the catalog (anti-entropy) and in DNS TXT answers.
  node_meta: plain('stringMap', {}),
  advertise_addr_wan: plain('string', undefined),
  // The serf pools' bind addresses (Consul's -serf-lan-bind / -serf-wan-bind); default bind_addr.
  serf_lan: plain('string', undefined),
  serf_wan: plain('string', undefined),
  // Gossip from other networks is dropped (memberlist's CIDRsAllowed): protection, so a bad CIDR refuses the start.
  serf_lan_allowed_cidrs: plain('stringList', []),
  serf_wan_allowed_cidrs: plain('stringList', []),
  pid_file: plain('string', ''),
  log_file: plain('string', ''),
  log_rotate_bytes: plain('nonNegativeInt', 0),
  log_rotate_duration: plain('duration', 24 * 3600 * 1000),
  // 0 keeps every archive, -1 none (Consul's log_rotate_max_files); read in config.ts.
  log_rotate_max_files: custom('config.ts'),
  // Refused when true (config.ts): Node has no Unix datagram socket to reach /dev/log.
  enable_syslog: plain('bool', false),
  syslog_facility: ignored(),
  // coord always makes a random node ID (never one from the host): true is its only behaviour.
  disable_host_node_id: plain('bool', true),
  // Config files watched; a change is applied as `coord reload` would (runtime/config-watch.ts).
  auto_reload_config: plain('bool', false),
  primary_datacenter: plain('string', ''),
  // Only Raft protocol 3 (server IDs), the one coord speaks; others are refused (config.ts).
  raft_protocol: plain('positiveInt', 3),
  check_output_max_size: plain('positiveInt', 4096, true),
  // Metrics sinks and names (telemetry-config.ts), autopilot's seed (autopilot-config.ts's settings), the profile endpoints.
  telemetry: block(keysOf(TELEMETRY_KEYS, TELEMETRY_ACCEPTED, 'telemetry-config.ts'), 'telemetry-config.ts'),
  autopilot: block(autopilot),
  enable_debug: plain('bool', false),

  // Accepted and not acted on: nothing in them protects anything.
  addresses: ignored(), check_update_interval: ignored(),
  connect: ignored(), leave_on_terminate: ignored(),
  raft_snapshot_interval: ignored(), raft_trailing_logs: ignored(),
  reconnect_timeout: ignored(), skip_leave_on_interrupt: ignored(), translate_wan_addrs: ignored(),
  disable_update_check: ignored(), default_query_time: ignored(), max_query_time: ignored(),
  // Consul Enterprise keys: a warning, never fatal (a shared config keeps starting).
  segment: enterprise, segments: enterprise, partition: enterprise, audit: enterprise, license_path: enterprise,
  namespace: enterprise, redundancy_zone_tag: enterprise, non_voting_server: refused('a non-voting server is a Consul Enterprise feature; coord would start a voting one, changing the quorum: remove it'),
  read_replica: refused('read replicas are a Consul Enterprise feature; coord would start a voting server, changing the quorum: remove it'),
}

/** The top-level keys coord reads and acts on. */
export const supportedKeys: ReadonlySet<string> = new Set(Object.entries(CONFIG_SCHEMA).filter(([, spec]) => spec.status === 'supported').map(([key]) => key))

/** A key's spec by its dotted path (`ports.http`), or undefined. */
export function specOf(path: string, schema: Schema = CONFIG_SCHEMA): KeySpec | undefined {
  const [outer, ...rest] = path.split('.')
  const spec = schema[outer]
  if (spec === undefined || rest.length === 0) return spec
  return spec.keys ? specOf(rest.join('.'), spec.keys) : undefined
}

/** The default of a plain key. */
export function defaultOf(spec: KeySpec, context: DefaultContext): unknown {
  return typeof spec.default === 'function' ? (spec.default as (c: DefaultContext) => unknown)(context) : spec.default
}

/**
 * Checks a config's keys (and its blocks' keys, one level down) against the table: an unknown key
 * is a problem, an ignored one a warning, a refused one a problem with its reason.
 */
export function checkKeys(raw: Record<string, unknown>, report: {problem(key: string, message: string): void; warn(message: string): void}, schema: Schema = CONFIG_SCHEMA, prefix = ''): void {
  for (const [key, value] of Object.entries(raw)) {
    const path = `${prefix}${key}`
    const spec = schema[key]
    if (spec === undefined) report.problem(path, `invalid config key ${path}`)
    else if (spec.status === 'ignored') report.warn(spec.reason ? `config key "${path}" is ignored: ${spec.reason}` : `config key "${path}" is accepted but not yet acted on by coord`)
    else if (spec.status === 'refused') report.problem(path, `${path}: ${spec.reason}`)
    else if (spec.keys && !spec.checksOwnKeys && isPlainObject(value)) checkKeys(value, report, spec.keys, `${path}.`)
  }
}

/**
 * The keys (dotted, one level into blocks) whose value differs between two raw configs and that a
 * reload does not apply: they take effect at the next restart.
 */
export function reloadChanges(previous: Record<string, unknown>, next: Record<string, unknown>, schema: Schema = CONFIG_SCHEMA, prefix = ''): string[] {
  const changed: string[] = []
  for (const key of new Set([...Object.keys(previous), ...Object.keys(next)])) {
    const spec = schema[key]
    if (spec === undefined || spec.status !== 'supported') continue
    const [a, b] = [previous[key], next[key]]
    if (JSON.stringify(a) === JSON.stringify(b)) continue
    if (spec.keys && !spec.checksOwnKeys && (isPlainObject(a) || a === undefined) && (isPlainObject(b) || b === undefined)) {
      changed.push(...reloadChanges((a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>, spec.keys, `${prefix}${key}.`))
    } else if (!spec.reloadable) {
      changed.push(`${prefix}${key}`)
    }
  }
  return changed
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
