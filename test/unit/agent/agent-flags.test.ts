// Every flag of `consul agent` (hashicorp/consul agent/config/flags.go, AddFlags) is a flag of
// `coord agent`: mapped to a config key the schema reads, read by the config loader, or refused
// with a reason. None falls through to Go's generic "flag provided but not defined".
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import Agent from '../../../src/commands/agent.js'
import {AGENT_FLAG_KEYS, REFUSED_FLAGS, nodeMetaFromFlags, rawConfigFromFlags} from '../../../src/lib/agent/flags-config.js'
import {specOf} from '../../../src/lib/agent/config-schema.js'

/** Consul's agent flags, in the order AddFlags adds them. */
const CONSUL_AGENT_FLAGS = [
  'advertise', 'advertise-wan', 'bind', 'server-port', 'bootstrap', 'bootstrap-expect', 'client', 'check_output_max_size',
  'config-dir', 'config-file', 'config-format', 'data-dir', 'datacenter', 'default-query-time', 'dev', 'disable-host-node-id',
  'disable-keyring-file', 'dns-port', 'domain', 'alt-domain', 'enable-script-checks', 'enable-local-script-checks',
  'allow-write-http-from', 'encrypt', 'grpc-port', 'grpc-tls-port', 'http-port', 'https-port', 'join', 'join-wan', 'log-level',
  'log-json', 'log-file', 'log-rotate-bytes', 'log-rotate-duration', 'log-rotate-max-files', 'max-query-time', 'node', 'node-id',
  'node-meta', 'non-voting-server', 'read-replica', 'pid-file', 'protocol', 'raft-protocol', 'recursor', 'primary-gateway',
  'rejoin', 'auto-reload-config', 'retry-interval', 'retry-interval-wan', 'retry-join', 'retry-join-wan', 'retry-max',
  'retry-max-wan', 'serf-lan-allowed-cidrs', 'serf-wan-allowed-cidrs', 'serf-lan-bind', 'serf-lan-port', 'segment',
  'serf-wan-bind', 'serf-wan-port', 'server', 'syslog', 'ui', 'ui-content-path', 'ui-dir', 'hcl',
]
/** Read by the loader itself rather than turned into a key. */
const LOADER_FLAGS = new Set(['config-dir', 'config-file', 'config-format', 'hcl', 'dev'])

describe('coord agent flags', () => {
  it("defines every consul agent flag, and each is a schema key, a loader flag or a refusal with a reason", () => {
    for (const flag of CONSUL_AGENT_FLAGS) {
      assert.ok(flag in Agent.flags, `-${flag} is not a flag of coord agent`)
      const key = AGENT_FLAG_KEYS[flag]
      const refusal = REFUSED_FLAGS[flag]
      assert.ok(LOADER_FLAGS.has(flag) || key !== undefined || refusal !== undefined, `-${flag} is neither mapped nor refused`)
      if (key !== undefined) assert.ok(specOf(key) !== undefined, `-${flag} maps to ${key}, which config-schema.ts does not know`)
      if (refusal !== undefined) assert.ok(refusal.length > 20 && !refusal.includes('\n'), `-${flag}: a one-line reason`)
    }
    // coord's own additions are mapped to schema keys too.
    for (const [flag, key] of Object.entries(AGENT_FLAG_KEYS)) assert.ok(specOf(key) !== undefined, `-${flag} → ${key}`)
  })

  it('-node-meta key:value pairs become node_meta; a pair without a colon is an error', () => {
    assert.deepEqual(rawConfigFromFlags({'node-meta': ['rack:r1', 'url:http://x:1']}, new Set(['node-meta'])), {node_meta: {rack: 'r1', url: 'http://x:1'}})
    assert.throws(() => nodeMetaFromFlags(['rack']), /invalid value "rack" for flag -node-meta: the format is key:value/)
  })
})
