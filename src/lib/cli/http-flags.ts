// The shared HTTP client flags and their environment variables (Consul docs: commands#http-api-options). Every variable is also
// read as COORD_<NAME>, which wins over CONSUL_<NAME>; an explicit flag wins over both.
import type {ClientConfig} from '../api/client.js'
import {boolFlag, parseBool, stringFlag} from './flags.js'

/** -http-addr, -token, TLS: every command that talks to an agent (Consul docs: commands#http-api-options). */
export const clientFlags = {
  'http-addr': stringFlag({description: 'The address and port of the Consul HTTP agent. The value can be an IP address or DNS address, but it must also include the port. This can also be specified via the CONSUL_HTTP_ADDR environment variable. The default value is http://127.0.0.1:8500. The scheme can also be set to HTTPS by setting the environment variable CONSUL_HTTP_SSL=true.', helpValue: '<address>'}),
  token: stringFlag({description: 'ACL token to use in the request. This can also be specified via the CONSUL_HTTP_TOKEN environment variable. If unspecified, the query will default to the token of the Consul agent at the HTTP address.', helpValue: '<value>'}),
  'token-file': stringFlag({description: 'File containing the ACL token to use in the request instead of one specified via the -token argument or CONSUL_HTTP_TOKEN environment variable. This can also be specified via the CONSUL_HTTP_TOKEN_FILE environment variable.', helpValue: '<value>'}),
  'ca-file': stringFlag({description: 'Path to a CA file to use for TLS when communicating with Consul. This can also be specified via the CONSUL_CACERT environment variable.', helpValue: '<value>'}),
  'ca-path': stringFlag({description: 'Path to a directory of CA certificates to use for TLS when communicating with Consul. This can also be specified via the CONSUL_CAPATH environment variable.', helpValue: '<value>'}),
  'client-cert': stringFlag({description: 'Path to a client cert file to use for TLS when \'verify_incoming\' is enabled. This can also be specified via the CONSUL_CLIENT_CERT environment variable.', helpValue: '<value>'}),
  'client-key': stringFlag({description: 'Path to a client key file to use for TLS when \'verify_incoming\' is enabled. This can also be specified via the CONSUL_CLIENT_KEY environment variable.', helpValue: '<value>'}),
  'tls-server-name': stringFlag({description: 'The server name to use as the SNI host when connecting via TLS. This can also be specified via the CONSUL_TLS_SERVER_NAME environment variable.', helpValue: '<value>'}),
  partition: stringFlag({description: 'Enterprise admin partition (accepted; coord has only the default partition).', hidden: true, helpValue: '<default>'}),
}

/** -datacenter, -stale: commands that read catalog or KV (Consul docs: commands#http-api-options). */
export const serverFlags = {
  datacenter: stringFlag({description: 'Name of the datacenter to query. If unspecified, this will default to the datacenter of the queried agent.', helpValue: '<value>'}),
  stale: boolFlag({description: 'Permit any Consul server (non-leader) to respond to this request. This allows for lower latency and higher throughput, but can result in stale data. This option has no effect on non-read operations. The default value is false.'}),
  namespace: stringFlag({description: 'Enterprise namespace (accepted; coord has only the default namespace).', hidden: true, helpValue: '<default>'}),
}

export type ClientFlagValues = {[K in keyof typeof clientFlags]: string} & Partial<{datacenter: string; stale: boolean}>
export type Env = Record<string, string | undefined>

/** COORD_<name> if set and non-empty, else CONSUL_<name> if set and non-empty. */
export function envValue(env: Env, name: string): string | undefined {
  const coord = env[`COORD_${name}`]
  if (coord !== undefined && coord !== '') return coord
  const consul = env[`CONSUL_${name}`]
  return consul !== undefined && consul !== '' ? consul : undefined
}

/** Flag (when given) > COORD_ env > CONSUL_ env > default. Returns warnings for ignored env values. */
export function resolveClientConfig(flags: ClientFlagValues, set: ReadonlySet<string>, env: Env): {config: ClientConfig; warnings: string[]} {
  const warnings: string[] = []
  const pick = (flag: keyof typeof clientFlags, envName: string): string | undefined =>
    set.has(flag) ? flags[flag] : envValue(env, envName)
  const envBool = (name: string): boolean | undefined => {
    const raw = envValue(env, name)
    if (raw === undefined) return undefined
    try {
      return parseBool(raw)
    } catch {
      warnings.push(`[WARN] Could not parse CONSUL_${name}: ${raw}`)
      return undefined
    }
  }
  const config: ClientConfig = {
    address: pick('http-addr', 'HTTP_ADDR'),
    useTls: envBool('HTTP_SSL'),
    token: pick('token', 'HTTP_TOKEN'),
    tokenFile: pick('token-file', 'HTTP_TOKEN_FILE'),
    httpAuth: envValue(env, 'HTTP_AUTH'),
    caFile: pick('ca-file', 'CACERT'),
    caPath: pick('ca-path', 'CAPATH'),
    clientCert: pick('client-cert', 'CLIENT_CERT'),
    clientKey: pick('client-key', 'CLIENT_KEY'),
    tlsServerName: pick('tls-server-name', 'TLS_SERVER_NAME'),
    tlsVerify: envBool('HTTP_SSL_VERIFY'),
    datacenter: flags.datacenter || undefined,
  }
  for (const key of Object.keys(config) as Array<keyof ClientConfig>) if (config[key] === undefined) delete config[key]
  return {config, warnings}
}
