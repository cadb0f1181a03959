// `coord agent` flags → Consul's JSON config keys, so flags and config files merge through one
// path (config.ts). Only flags the user actually typed are turned into keys: an untyped flag must
// not override a value from a file with its default. Every flag of `consul agent` (Consul's
// agent/config/flags.go) is here: mapped to its key, read by the loader (-config-file, -config-dir,
// -config-format, -hcl, -dev), or refused with the reason (REFUSED_FLAGS).

export type AgentFlagValues = Record<string, unknown>

/** flag name → config key path (dotted for nested blocks such as ports.http). */
export const AGENT_FLAG_KEYS: Readonly<Record<string, string>> = {
  server: 'server', bootstrap: 'bootstrap', 'bootstrap-expect': 'bootstrap_expect', 'data-dir': 'data_dir',
  node: 'node_name', 'node-id': 'node_id', datacenter: 'datacenter', bind: 'bind_addr', advertise: 'advertise_addr',
  client: 'client_addr', 'http-port': 'ports.http', 'https-port': 'ports.https', 'dns-port': 'ports.dns', 'server-port': 'ports.server',
  'serf-lan-port': 'ports.serf_lan', 'serf-wan-port': 'ports.serf_wan', 'log-level': 'log_level', 'log-json': 'log_json',
  ui: 'ui_config.enabled', 'ui-dir': 'ui_config.dir', 'ui-content-path': 'ui_config.content_path', 'enable-script-checks': 'enable_script_checks', 'enable-local-script-checks': 'enable_local_script_checks', domain: 'domain', encrypt: 'encrypt',
  'retry-join': 'retry_join', join: 'start_join', 'retry-interval': 'retry_interval', 'retry-max': 'retry_max',
  rejoin: 'rejoin_after_leave', 'retry-join-wan': 'retry_join_wan', 'join-wan': 'start_join_wan',
  'retry-interval-wan': 'retry_interval_wan', 'retry-max-wan': 'retry_max_wan',
  'disable-remote-exec': 'disable_remote_exec',
  'alt-domain': 'alt_domain', recursor: 'recursors',
  'advertise-wan': 'advertise_addr_wan', 'serf-lan-bind': 'serf_lan', 'serf-wan-bind': 'serf_wan',
  'serf-lan-allowed-cidrs': 'serf_lan_allowed_cidrs', 'serf-wan-allowed-cidrs': 'serf_wan_allowed_cidrs',
  'node-meta': 'node_meta', 'pid-file': 'pid_file', 'log-file': 'log_file', 'log-rotate-bytes': 'log_rotate_bytes',
  'log-rotate-duration': 'log_rotate_duration', 'log-rotate-max-files': 'log_rotate_max_files', syslog: 'enable_syslog',
  'disable-host-node-id': 'disable_host_node_id', 'disable-keyring-file': 'disable_keyring_file',
  'auto-reload-config': 'auto_reload_config', 'primary-datacenter': 'primary_datacenter', 'raft-protocol': 'raft_protocol',
  'allow-write-http-from': 'http_config.allow_write_http_from', check_output_max_size: 'check_output_max_size',
  segment: 'segment',
}

/** Consul agent flags coord does not take, each with the one-line reason `coord agent` gives. */
export const REFUSED_FLAGS: Readonly<Record<string, string>> = {
  'grpc-port': 'coord serves no gRPC API (no Envoy xDS, no Connect): there is no gRPC listener to put on a port',
  'grpc-tls-port': 'coord serves no gRPC API (no Envoy xDS, no Connect): there is no gRPC listener to put on a port',
  protocol: 'coord agents speak one protocol version among themselves; there is no older one to select',
  'primary-gateway': 'coord has no mesh gateways (Connect); federate datacenters with -join-wan / -retry-join-wan',
  'non-voting-server': 'non-voting servers are a Consul Enterprise feature; coord would start a voting server and change the quorum',
  'read-replica': 'read replicas are a Consul Enterprise feature; coord would start a voting server and change the quorum',
  'default-query-time': "coord's blocking queries wait Consul's default 5m unless ?wait= says otherwise; it cannot be changed yet",
  'max-query-time': "coord caps ?wait= at Consul's default 10m; it cannot be changed yet",
}

/** `-node-meta key:value` (repeatable) → node_meta; a value without ':' is an error, as in Consul. */
export function nodeMetaFromFlags(values: readonly string[]): Record<string, string> {
  const meta: Record<string, string> = {}
  for (const pair of values) {
    const colon = pair.indexOf(':')
    if (colon < 0) throw new Error(`invalid value "${pair}" for flag -node-meta: the format is key:value`)
    meta[pair.slice(0, colon)] = pair.slice(colon + 1)
  }
  return meta
}

export function rawConfigFromFlags(values: AgentFlagValues, set: ReadonlySet<string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {}
  for (const [flag, key] of Object.entries(AGENT_FLAG_KEYS)) {
    if (!set.has(flag)) continue
    const value = flag === 'node-meta' ? nodeMetaFromFlags(values[flag] as string[]) : values[flag]
    const [outer, inner] = key.split('.')
    if (inner) raw[outer] = {...(raw[outer] as Record<string, unknown> | undefined), [inner]: value}
    else raw[outer] = value
  }
  return raw
}
