// `coord agent` flags → Consul's JSON config keys, so flags and config files merge through one
// path (config.ts). Only flags the user actually typed are turned into keys: an untyped flag must
// not override a value from a file with its default.

export type AgentFlagValues = Record<string, unknown>

/** flag name → config key path (dotted for nested blocks such as ports.http). */
const flagToKey: Record<string, string> = {
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
}

export function rawConfigFromFlags(values: AgentFlagValues, set: ReadonlySet<string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {}
  for (const [flag, key] of Object.entries(flagToKey)) {
    if (!set.has(flag)) continue
    const [outer, inner] = key.split('.')
    if (inner) raw[outer] = {...(raw[outer] as Record<string, unknown> | undefined), [inner]: values[flag]}
    else raw[outer] = values[flag]
  }
  return raw
}
